import { BookmarkPlus, ChartLine, Copy, Pencil, Plus, Search, Trash2, Workflow } from "lucide-react";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { errorMessage } from "../../api/client";
import {
  useCreatePipeline,
  useDeletePipeline,
  usePipelines,
  useSaveTemplate,
  useUpdatePipeline,
  useWorkspaceId,
} from "../../api/queries";
import { queryKeys } from "../../api/queryClient";
import type { Pipeline } from "../../api/types";
import { formatDateTime, plural, timeAgo } from "../../lib/format";
import { navigate } from "../../lib/router";
import { Link } from "../common";
import { ConfirmDialog, Modal } from "../../ui/Modal";
import { StatusBadge } from "../../ui/StatusBadge";
import { toast } from "../../ui/toast";
import { NewPipelineDialog } from "./TemplateGallery";

type Dialog =
  | { kind: "create" }
  | { kind: "rename"; pipeline: Pipeline }
  | { kind: "template"; pipeline: Pipeline }
  | { kind: "delete"; pipeline: Pipeline }
  | null;

export function matchesQuery(p: Pick<Pipeline, "name" | "description">, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  return `${p.name} ${p.description ?? ""}`.toLowerCase().includes(q);
}

export function PipelinesPage() {
  const workspaceId = useWorkspaceId();
  const qc = useQueryClient();
  const { pipelines, error, reload: load } = usePipelines(workspaceId);
  // Show a change at once; the mutation then refetches the list.
  const setPipelines = (update: (list: Pipeline[] | null) => Pipeline[]) =>
    qc.setQueryData<Pipeline[]>(queryKeys.pipelines.list(workspaceId), (list) => update(list ?? null));
  const createPipeline = useCreatePipeline();
  const updatePipeline = useUpdatePipeline();
  const deletePipeline = useDeletePipeline();
  const saveTemplate = useSaveTemplate();
  const [query, setQuery] = useState("");
  // "/pipelines?new=1" (from the overview's first-run prompt) opens the create dialog.
  const [dialog, setDialog] = useState<Dialog>(() =>
    new URLSearchParams(location.search).get("new") ? { kind: "create" } : null,
  );

  useEffect(() => {
    if (new URLSearchParams(location.search).get("new")) navigate("/pipelines", { replace: true });
  }, []);
  const [busy, setBusy] = useState(false);


  const visible = useMemo(
    () =>
      (pipelines ?? [])
        .filter((p) => matchesQuery(p, query))
        .sort((a, b) => Date.parse(b.updated_at) - Date.parse(a.updated_at)),
    [pipelines, query],
  );

  const duplicate = async (p: Pipeline) => {
    try {
      const copy = await createPipeline.mutateAsync({
        name: `${p.name} (copy)`,
        description: p.description,
        graph: p.graph,
      });
      setPipelines((list) => [copy, ...(list ?? [])]);
      toast(`Duplicated as “${copy.name}”.`, "success");
    } catch (err) {
      toast(`Could not duplicate: ${errorMessage(err)}`, "error");
    }
  };

  const remove = async (p: Pipeline) => {
    setBusy(true);
    try {
      await deletePipeline.mutateAsync(p.id);
      setPipelines((list) => (list ?? []).filter((x) => x.id !== p.id));
      toast(`Deleted “${p.name}”.`, "success");
      setDialog(null);
    } catch (err) {
      toast(`Could not delete: ${errorMessage(err)}`, "error");
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page pipelines-page">
      <div className="page-header">
        <div>
          <h1>Pipelines</h1>
          <p className="muted">
            {pipelines ? plural(pipelines.length, "pipeline") : "Loading…"}
          </p>
        </div>
        <div className="page-actions">
          <label className="search">
            <Search size={14} aria-hidden="true" />
            <input
              type="search"
              placeholder="Search pipelines"
              aria-label="Search pipelines"
              value={query}
              onChange={(e) => setQuery(e.target.value)}
            />
          </label>
          <button className="btn btn-primary" onClick={() => setDialog({ kind: "create" })}>
            <Plus size={16} /> New pipeline
          </button>
        </div>
      </div>

      {error && (
        <div className="banner banner-error" role="alert">
          Could not load pipelines: {error}{" "}
          <button className="btn btn-sm" onClick={load}>
            Retry
          </button>
        </div>
      )}

      {pipelines === null && !error ? (
        <div className="pipeline-table skeleton-table" aria-busy="true">
          {[0, 1, 2].map((i) => (
            <div key={i} className="skeleton-row" />
          ))}
        </div>
      ) : pipelines && pipelines.length === 0 ? (
        <div className="empty-state">
          <div className="empty-icon">
            <Workflow size={28} />
          </div>
          <h2>No pipelines yet</h2>
          <p className="muted">
            A pipeline reads data, transforms it, trains models and acts on the results.
          </p>
          <button className="btn btn-primary" onClick={() => setDialog({ kind: "create" })}>
            <Plus size={16} /> Create your first pipeline
          </button>
        </div>
      ) : pipelines ? (
        <div className="pipeline-table" role="table" aria-label="Pipelines">
          <div className="pipeline-row pipeline-head" role="row">
            <span role="columnheader">Name</span>
            <span role="columnheader">Nodes</span>
            <span role="columnheader">Last run</span>
            <span role="columnheader">Updated</span>
            <span role="columnheader" className="sr-only">
              Actions
            </span>
          </div>
          {visible.length === 0 && (
            <div className="pipeline-empty muted">No pipeline matches “{query}”.</div>
          )}
          {visible.map((p) => (
            <div
              key={p.id}
              className="pipeline-row"
              role="row"
              data-testid="pipeline-row"
              tabIndex={0}
              onClick={() => navigate(`/pipelines/${p.id}`)}
              onKeyDown={(e) => {
                if (e.key === "Enter" && e.target === e.currentTarget) navigate(`/pipelines/${p.id}`);
              }}
            >
              <span role="cell" className="pipeline-name-cell">
                <a
                  href={`/pipelines/${p.id}`}
                  className="pipeline-name"
                  onClick={(e) => {
                    e.preventDefault();
                    e.stopPropagation();
                    navigate(`/pipelines/${p.id}`);
                  }}
                >
                  {p.name}
                </a>
                {p.description && <span className="pipeline-desc">{p.description}</span>}
              </span>
              <span role="cell" className="muted">
                {p.graph?.nodes?.length ?? 0}
              </span>
              <span role="cell">
                {p.last_run ? (
                  <Link
                    to={`/runs/${p.last_run.id}`}
                    className="last-run"
                    title={`Open this run (${formatDateTime(p.last_run.created_at)})`}
                  >
                    <StatusBadge status={p.last_run.status} />
                    <span className="muted small">{timeAgo(p.last_run.created_at)}</span>
                  </Link>
                ) : (
                  <span className="muted small">Never run</span>
                )}
              </span>
              <span role="cell" className="muted small" title={formatDateTime(p.updated_at)}>
                {timeAgo(p.updated_at)}
              </span>
              <span role="cell" className="row-actions" onClick={(e) => e.stopPropagation()}>
                <button
                  className="icon-btn"
                  title="Dashboard: runs, schedules, webhook"
                  aria-label={`Dashboard of ${p.name}`}
                  onClick={() => navigate(`/pipelines/${p.id}/dashboard`)}
                >
                  <ChartLine size={15} />
                </button>
                <button
                  className="icon-btn"
                  title="Rename"
                  aria-label={`Rename ${p.name}`}
                  onClick={() => setDialog({ kind: "rename", pipeline: p })}
                >
                  <Pencil size={15} />
                </button>
                <button
                  className="icon-btn"
                  title="Make a template of it: New pipeline offers it"
                  aria-label={`Make a template of ${p.name}`}
                  onClick={() => setDialog({ kind: "template", pipeline: p })}
                >
                  <BookmarkPlus size={15} />
                </button>
                <button
                  className="icon-btn"
                  title="Duplicate"
                  aria-label={`Duplicate ${p.name}`}
                  onClick={() => duplicate(p)}
                >
                  <Copy size={15} />
                </button>
                <button
                  className="icon-btn icon-btn-danger"
                  title="Delete"
                  aria-label={`Delete ${p.name}`}
                  onClick={() => setDialog({ kind: "delete", pipeline: p })}
                >
                  <Trash2 size={15} />
                </button>
              </span>
            </div>
          ))}
        </div>
      ) : null}

      {dialog?.kind === "create" && (
        <NewPipelineDialog
          takenNames={(pipelines ?? []).map((p) => p.name)}
          onCancel={() => setDialog(null)}
          onCreated={(p) => {
            setDialog(null);
            navigate(`/pipelines/${p.id}`);
          }}
        />
      )}
      {dialog?.kind === "template" && (
        <PipelineForm
          title="Make a template"
          submitLabel="Save template"
          initialName={dialog.pipeline.name}
          initialDescription={dialog.pipeline.description}
          onCancel={() => setDialog(null)}
          onSubmit={async (name, description) => {
            const t = await saveTemplate.mutateAsync({ pipeline: dialog.pipeline.id, name, description });
            setDialog(null);
            toast(`Saved “${t.name}” as a template: New pipeline offers it.`, "success");
          }}
        />
      )}
      {dialog?.kind === "rename" && (
        <PipelineForm
          title="Rename pipeline"
          submitLabel="Save"
          initialName={dialog.pipeline.name}
          initialDescription={dialog.pipeline.description}
          onCancel={() => setDialog(null)}
          onSubmit={async (name, description) => {
            const p = await updatePipeline.mutateAsync({ id: dialog.pipeline.id, name, description });
            setPipelines((list) => (list ?? []).map((x) => (x.id === p.id ? p : x)));
            setDialog(null);
          }}
        />
      )}
      {dialog?.kind === "delete" && (
        <ConfirmDialog
          title="Delete pipeline?"
          message={
            <>
              <strong>{dialog.pipeline.name}</strong> and its version history and runs will be
              deleted. This cannot be undone.
            </>
          }
          confirmLabel="Delete"
          danger
          busy={busy}
          onConfirm={() => remove(dialog.pipeline)}
          onCancel={() => setDialog(null)}
        />
      )}
    </div>
  );
}

export function PipelineForm({
  title,
  submitLabel,
  initialName = "",
  initialDescription = "",
  onSubmit,
  onCancel,
}: {
  title: string;
  submitLabel: string;
  initialName?: string;
  initialDescription?: string;
  onSubmit: (name: string, description: string) => Promise<void>;
  onCancel: () => void;
}) {
  const [name, setName] = useState(initialName);
  const [description, setDescription] = useState(initialDescription);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) {
      setError("Give the pipeline a name.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onSubmit(name.trim(), description.trim());
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };

  return (
    <Modal
      title={title}
      onClose={onCancel}
      footer={
        <>
          <button className="btn" type="button" onClick={onCancel}>
            Cancel
          </button>
          <button className="btn btn-primary" type="submit" form="pipeline-form" disabled={busy}>
            {submitLabel}
          </button>
        </>
      }
    >
      <form id="pipeline-form" onSubmit={submit} className="form-stack">
        <label className="field">
          <span className="field-label">Name</span>
          <input
            autoFocus
            value={name}
            maxLength={200}
            onChange={(e) => setName(e.target.value)}
            aria-invalid={!!error}
          />
        </label>
        <label className="field">
          <span className="field-label">
            Description <span className="muted">(optional)</span>
          </span>
          <textarea
            rows={3}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
        </label>
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
      </form>
    </Modal>
  );
}
