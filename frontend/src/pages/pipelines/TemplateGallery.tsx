// "New pipeline": a name, and what to start from: a blank canvas, a built-in template or one
// of the workspace's own templates, each a card with its picture, what it needs and how it
// starts. Creating opens the new pipeline in the editor.
import { FilePlus2, Trash2, Webhook, CalendarClock, Plug, Upload } from "lucide-react";
import { useMemo, useState, type FormEvent, type ReactNode } from "react";
import { errorMessage } from "../../api/client";
import {
  useConnectionsQuery,
  useCreatePipeline,
  useDeleteTemplate,
  useInstantiateTemplate,
  useTemplatesQuery,
} from "../../api/queries";
import type { Pipeline, Template } from "../../api/types";
import { Modal } from "../../ui/Modal";
import { toast } from "../../ui/toast";
import { formatDateTime, timeAgo } from "../../lib/format";
import { Link } from "../common";
import { GraphThumbnail } from "./GraphThumbnail";
import { chooseConnections, connectionsFor, describeTrigger, uniqueName } from "./gallery";
import "./pipelines.css";

const BLANK = "";

export function NewPipelineDialog({
  takenNames,
  onCancel,
  onCreated,
}: {
  takenNames: readonly string[];
  onCancel: () => void;
  onCreated: (pipeline: Pipeline) => void;
}) {
  const templatesQ = useTemplatesQuery();
  const connectionsQ = useConnectionsQuery();
  const createPipeline = useCreatePipeline();
  const instantiate = useInstantiateTemplate();
  const deleteTemplate = useDeleteTemplate();
  const templates = useMemo(() => templatesQ.data ?? [], [templatesQ.data]);
  const [selected, setSelected] = useState<string>(BLANK);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  // A name or description the user typed is theirs: choosing a card no longer replaces it.
  const [typed, setTyped] = useState({ name: false, description: false });
  const [picked, setPicked] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [deleting, setDeleting] = useState<Template | null>(null);

  const template = templates.find((t) => t.id === selected) ?? null;
  const connections = connectionsQ.data ?? [];
  const { chosen, missing } = template
    ? chooseConnections(template, connections, picked)
    : { chosen: {}, missing: [] };

  const choose = (t: Template | null) => {
    setSelected(t?.id ?? BLANK);
    setError(null);
    if (!typed.name) setName(t ? uniqueName(t.name, takenNames) : "");
    if (!typed.description) setDescription(t?.description ?? "");
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) {
      setError("Give the pipeline a name.");
      return;
    }
    if (template && missing.length) {
      setError(`Add a ${missing[0].label} connection first (under Connections).`);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const pipeline = template
        ? await instantiate.mutateAsync({
            template: template.id,
            body: { name: name.trim(), description: description.trim(), connections: chosen },
          })
        : await createPipeline.mutateAsync({ name: name.trim(), description: description.trim() });
      onCreated(pipeline);
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };

  const remove = async (t: Template) => {
    try {
      await deleteTemplate.mutateAsync(t.id);
      if (selected === t.id) choose(null);
      toast(`Deleted the template “${t.name}”.`, "success");
    } catch (err) {
      toast(`Could not delete the template: ${errorMessage(err)}`, "error");
    } finally {
      setDeleting(null);
    }
  };

  const builtins = templates.filter((t) => t.kind === "builtin");
  const own = templates.filter((t) => t.kind === "workspace");

  return (
    <Modal
      title="New pipeline"
      width={920}
      onClose={onCancel}
      footer={
        <>
          <button className="btn" type="button" onClick={onCancel}>
            Cancel
          </button>
          <button
            className="btn btn-primary"
            type="submit"
            form="pipeline-form"
            disabled={busy || (!!template && missing.length > 0)}
          >
            {template ? "Create from template" : "Create"}
          </button>
        </>
      }
    >
      <form id="pipeline-form" onSubmit={submit} className="form-stack new-pipeline-form">
        <div className="new-pipeline-fields">
          <label className="field">
            <span className="field-label">Name</span>
            <input
              autoFocus
              value={name}
              maxLength={200}
              onChange={(e) => {
                setName(e.target.value);
                setTyped((t) => ({ ...t, name: true }));
              }}
              aria-invalid={!!error}
            />
          </label>
          <label className="field">
            <span className="field-label">
              Description <span className="muted">(optional)</span>
            </span>
            <textarea
              rows={2}
              value={description}
              onChange={(e) => {
                setDescription(e.target.value);
                setTyped((t) => ({ ...t, description: true }));
              }}
            />
          </label>
        </div>
        {template && template.needs.length > 0 && (
          <div className="template-needs" data-testid="template-needs">
            {template.needs.map((need) => {
              const options = connectionsFor(need, connections);
              return options.length === 0 ? (
                <p key={need.kind} className="field-error" role="alert">
                  “{template.name}” needs a {need.label} connection and this workspace has none:{" "}
                  <Link to="/connections">add one under Connections</Link>.
                </p>
              ) : (
                <label key={need.kind} className="field field-inline">
                  <span className="field-label">{need.label} connection</span>
                  <select
                    value={chosen[need.kind] ?? ""}
                    onChange={(e) => setPicked((p) => ({ ...p, [need.kind]: e.target.value }))}
                  >
                    {options.map((c) => (
                      <option key={c.id} value={c.id}>
                        {c.name}
                      </option>
                    ))}
                  </select>
                </label>
              );
            })}
          </div>
        )}
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        <div className="template-gallery" role="radiogroup" aria-label="Start from">
          <TemplateCard selected={selected === BLANK} onChoose={() => choose(null)} name="Blank pipeline">
            <div className="template-blank" aria-hidden="true">
              <FilePlus2 size={28} />
            </div>
            <span className="template-desc muted">An empty canvas: drag the first node onto it.</span>
          </TemplateCard>
          {builtins.map((t) => (
            <TemplateCard key={t.id} template={t} selected={selected === t.id} onChoose={() => choose(t)} name={t.name} />
          ))}
          {templatesQ.isPending && <div className="template-card template-loading muted">Loading templates…</div>}
          {templatesQ.error && (
            <p className="field-error template-wide" role="alert">
              Could not load the templates: {errorMessage(templatesQ.error)}
            </p>
          )}
          {own.length > 0 && <h3 className="template-section template-wide">This workspace's templates</h3>}
          {own.map((t) => (
            <TemplateCard
              key={t.id}
              template={t}
              selected={selected === t.id}
              onChoose={() => choose(t)}
              name={t.name}
              confirming={deleting?.id === t.id}
              onDelete={() => setDeleting(t)}
              onConfirmDelete={() => void remove(t)}
              onKeep={() => setDeleting(null)}
            />
          ))}
        </div>
      </form>
    </Modal>
  );
}

function TemplateCard({
  template,
  name,
  selected,
  onChoose,
  onDelete,
  confirming,
  onConfirmDelete,
  onKeep,
  children,
}: {
  template?: Template;
  name: string;
  selected: boolean;
  onChoose: () => void;
  onDelete?: () => void;
  confirming?: boolean;
  onConfirmDelete?: () => void;
  onKeep?: () => void;
  children?: ReactNode;
}) {
  const trigger = template ? describeTrigger(template.trigger) : null;
  const descId = `template-desc-${template?.id ?? "blank"}`;
  return (
    <div
      className={`template-card${selected ? " template-card-selected" : ""}`}
      data-testid="template-card"
      data-template={template?.id ?? "blank"}
    >
      <button
        type="button"
        role="radio"
        aria-checked={selected}
        aria-label={name}
        aria-describedby={descId}
        className="template-choice"
        onClick={onChoose}
      >
        {template ? (
          <>
            <GraphThumbnail graph={template.graph} label={`The graph of ${template.name}`} />
            <span className="template-name">{template.name}</span>
            <span className="template-desc muted" id={descId} title={template.description}>
              {template.description}
            </span>
            <span className="template-meta">
              {template.kind === "builtin" && template.needs.length === 0 && template.datasets.length === 0 && (
                <span className="template-chip">Runs on the sample data</span>
              )}
              {template.kind === "workspace" && (
                <span className="template-chip" title={formatDateTime(template.created_at)}>
                  Saved{template.created_by ? ` by ${template.created_by}` : ""} {timeAgo(template.created_at)}
                </span>
              )}
              {template.needs.map((n) => (
                <span key={n.kind} className="template-chip" title={`Needs a ${n.label} connection`}>
                  <Plug size={12} aria-hidden="true" /> {n.label}
                </span>
              ))}
              {template.datasets.map((d) => (
                <span key={d} className="template-chip" title={`Reads the newest version of your upload ${d}`}>
                  <Upload size={12} aria-hidden="true" /> {d}
                </span>
              ))}
              {trigger && (
                <span className="template-chip" title={trigger}>
                  {template.trigger?.kind === "webhook" ? (
                    <Webhook size={12} aria-hidden="true" />
                  ) : (
                    <CalendarClock size={12} aria-hidden="true" />
                  )}{" "}
                  {template.trigger?.kind === "webhook" ? "Webhook" : "Scheduled"}
                </span>
              )}
            </span>
          </>
        ) : (
          <span className="template-name">{name}</span>
        )}
        {!template && <span id={descId}>{children}</span>}
      </button>
      {confirming && (
        <div className="template-confirm" role="group" aria-label={`Delete template ${name}?`}>
          <span>Delete this template? Pipelines made from it stay.</span>
          <button type="button" className="btn btn-sm btn-danger" onClick={onConfirmDelete}>
            Delete
          </button>
          <button type="button" className="btn btn-sm" onClick={onKeep}>
            Keep
          </button>
        </div>
      )}
      {onDelete && !confirming && (
        <button
          type="button"
          className="icon-btn icon-btn-danger template-delete"
          title="Delete this template"
          aria-label={`Delete template ${name}`}
          onClick={onDelete}
        >
          <Trash2 size={14} />
        </button>
      )}
    </div>
  );
}
