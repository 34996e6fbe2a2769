import { AlertCircle, CheckCircle2, Copy, Keyboard, Loader2, Trash2 } from "lucide-react";
import { useCallback, useMemo } from "react";
import { useShallow } from "zustand/react/shallow";
import type { GraphError } from "../api/types";
import { formatDateTime } from "../lib/format";
import { Link } from "../pages/common";
import { CATEGORY_LABEL, OperatorIcon } from "../ui/OperatorIcon";
import { StatusBadge } from "../ui/StatusBadge";
import { CALL } from "./calls";
import { CallSettings, ExposeParams, MakeSubpipeline } from "./CallPanels";
import { columnsByPort, mergeSchemas, runSchemas } from "./columns";
import { useEditor, useEditorApi } from "./context";
import { toGraph } from "./graph";
import { ParamsForm, type FormContext } from "./params/ParamsForm";
import { SourceSample } from "./params/SourceSample";
import { deriveFields, paramPathOf, pathKey, type FormField, type Path } from "./schemaForm";
import { fieldErrors, selectIssueLabels } from "./errors";
import type { EditorStore } from "./store";

const selectSelectedIds = (s: EditorStore) =>
  s.nodes
    .filter((n) => n.selected)
    .map((n) => n.id)
    .join(",");

/** Every param path a form renders (for telling which errors have no field to sit on). */
function renderedPaths(fields: readonly FormField[], params: unknown, prefix: Path = []): Set<string> {
  const out = new Set<string>();
  for (const f of fields) {
    const p = [...prefix, f.key];
    out.add(pathKey(p));
    const v = (params as Record<string, unknown> | undefined)?.[f.key];
    if (f.kind === "objects" && Array.isArray(v)) {
      v.forEach((item, i) => {
        for (const s of renderedPaths(f.fields ?? [], item, [...p, i])) out.add(s);
      });
    } else if (f.kind === "object") {
      for (const s of renderedPaths(f.fields ?? [], v, p)) out.add(s);
    }
  }
  return out;
}

function NodeInspector({ nodeId }: { nodeId: string }) {
  const store = useEditorApi();
  // The node's data, not the node: a drag moves the node on every frame, its data stays put.
  const data = useEditor((s) => s.nodes.find((n) => n.id === nodeId)?.data);
  const op = useEditor((s) => (data ? s.catalogue[data.operator] : undefined));
  const edges = useEditor((s) => s.edges);
  const validated = useEditor((s) => s.schemas);
  const run = useEditor((s) => s.run);
  const schemas = useMemo(
    () => (run ? mergeSchemas(runSchemas(run.nodes), validated) : validated),
    [run, validated],
  );
  const errors = useEditor((s) => s.errorsByNode[nodeId]);
  const nodeRun = useEditor((s) => s.nodeRuns[nodeId]);

  const fields = useMemo(() => (op ? deriveFields(op.params_schema) : []), [op]);
  const columns = useMemo(
    () => (op ? columnsByPort(nodeId, op.inputs, toGraph([], edges).edges, schemas) : {}),
    [op, nodeId, edges, schemas],
  );
  const errs = useMemo(() => {
    const out = fieldErrors(errors);
    // A run that failed on a param shows its message on that field too.
    if (nodeRun?.status === "failed" && nodeRun.error_field && nodeRun.error) {
      const p = paramPathOf(nodeRun.error_field) ?? nodeRun.error_field;
      if (!(p in out)) out[p] = nodeRun.error;
    }
    return out;
  }, [errors, nodeRun]);
  const onChange = useCallback(
    (path: Path, value: unknown) => store.getState().setParam(nodeId, path, value),
    [store, nodeId],
  );
  const params_ = data?.params;
  const ctx = useMemo<FormContext | null>(
    () => (op ? { op, columns, errors: errs, onChange, params: params_ } : null),
    [op, columns, errs, onChange, params_],
  );

  if (!data) return null;
  const params = data.params ?? {};
  const shown = renderedPaths(fields, params);
  const loose = (errors ?? []).filter((e) => {
    const p = paramPathOf(e.field);
    // A calling node's exposed params have their own form (CallSettings), errors included.
    if (data.operator === CALL && p?.startsWith("params.")) return false;
    return p === null || !shown.has(p);
  });

  return (
    <div className="inspector" data-testid="inspector">
      <div className="inspector-head">
        <span className={`inspector-icon cat-${op?.category ?? "transform"}`}>
          <OperatorIcon name={op?.icon} category={op?.category} size={18} />
        </span>
        <div className="inspector-title">
          <h2>{data.label || op?.label || data.operator}</h2>
          <p className="muted small">
            {op ? CATEGORY_LABEL[op.category].replace(/s$/, "") : "Unknown operator"} · {nodeId}
          </p>
        </div>
        <div className="inspector-actions">
          <button
            className="icon-btn"
            title="Duplicate (Ctrl+D)"
            aria-label="Duplicate node"
            onClick={() => {
              store.getState().selectOnly([nodeId]);
              store.getState().duplicateSelection();
            }}
          >
            <Copy size={15} />
          </button>
          <button
            className="icon-btn icon-btn-danger"
            title="Delete (Del)"
            aria-label="Delete node"
            onClick={() => store.getState().deleteNodes([nodeId])}
          >
            <Trash2 size={15} />
          </button>
        </div>
      </div>
      {op?.description && <p className="inspector-desc">{op.description}</p>}
      {nodeRun && nodeRun.status !== "pending" && (
        <div className="inspector-run">
          <StatusBadge status={nodeRun.status} />
          {nodeRun.error && (
            // A cancelled node (a rejection, a cancel) is no error of the node's: neutral.
            <span className={nodeRun.status === "cancelled" ? "inspector-run-note" : "inspector-run-error"}>
              {nodeRun.error}
            </span>
          )}
        </div>
      )}
      {loose.length > 0 && (
        <ul className="error-list" role="alert">
          {loose.map((e, i) => (
            <li key={i}>
              <AlertCircle size={14} />
              <span>
                {e.field && paramPathOf(e.field) ? <code>{paramPathOf(e.field)}</code> : null} {e.message}
              </span>
            </li>
          ))}
        </ul>
      )}
      <h3 className="section-title">Settings</h3>
      <div className="field label-field">
        <label className="field-label" htmlFor={`label-${nodeId}`}>
          Label
        </label>
        <input
          id={`label-${nodeId}`}
          value={data.label ?? ""}
          placeholder={op?.label ?? data.operator}
          maxLength={120}
          onChange={(e) => store.getState().setLabel(nodeId, e.target.value)}
        />
      </div>
      {op && data.operator === CALL ? (
        <CallSettings nodeId={nodeId} params={params} errors={errors} />
      ) : op && ctx ? (
        <>
          <ParamsForm fields={fields} params={params} ctx={ctx} />
          <ExposeParams nodeId={nodeId} op={op} />
        </>
      ) : (
        <p className="muted small">This operator is not installed on the server.</p>
      )}
      {op?.samples && <SourceSample nodeId={nodeId} op={op} params={params} />}
    </div>
  );
}

function IssueItem({ e, label }: { e: GraphError; label?: string }) {
  const store = useEditorApi();
  return (
    <li>
      <button
        className="issue"
        disabled={!e.node}
        onClick={() => e.node && store.getState().selectOnly([e.node])}
      >
        <AlertCircle size={14} />
        <span>
          {label && <strong>{label}: </strong>}
          {e.message}
        </span>
      </button>
    </li>
  );
}

function Overview() {
  const name = useEditor((s) => s.name);
  const description = useEditor((s) => s.description);
  const count = useEditor((s) => s.nodes.length);
  const edgeCount = useEditor((s) => s.edges.length);
  const errors = useEditor((s) => s.errors);
  const validating = useEditor((s) => s.validating);
  const validated = useEditor((s) => s.validatedKey !== null);
  // Only the labels of the nodes with issues: not the node list, which changes on every drag frame.
  const issueLabels = useEditor(useShallow(selectIssueLabels));
  const run = useEditor((s) => s.run);
  return (
    <div className="overview">
      <h2 className="overview-name">{name}</h2>
      {description && <p className="muted">{description}</p>}
      <p className="muted small">
        {count} node{count === 1 ? "" : "s"} · {edgeCount} connection{edgeCount === 1 ? "" : "s"}
      </p>
      <h3 className="section-title">
        Checks
        {validating && <Loader2 size={13} className="spin muted" aria-label="Checking" />}
      </h3>
      {errors.length ? (
        <ul className="issue-list">
          {errors.map((e, i) => (
            <IssueItem key={i} e={e} label={issueLabels[i]} />
          ))}
        </ul>
      ) : validated && count ? (
        <p className="ok-line">
          <CheckCircle2 size={14} /> The pipeline is valid.
        </p>
      ) : (
        <p className="muted small">{count ? "Checking…" : "Add operators to get started."}</p>
      )}
      {run && (
        <>
          <h3 className="section-title">Last run</h3>
          <Link to={`/runs/${run.id}`} className="overview-run" title="Open the run">
            <StatusBadge status={run.status} />
            <span className="muted small">{formatDateTime(run.created_at)}</span>
          </Link>
          {run.error && <p className={run.status === "cancelled" ? "muted small" : "field-error"}>{run.error}</p>}
        </>
      )}
      <h3 className="section-title">
        <Keyboard size={13} /> Shortcuts
      </h3>
      <dl className="shortcuts">
        <dt>Save</dt>
        <dd>
          <kbd>Ctrl</kbd> <kbd>S</kbd>
        </dd>
        <dt>Undo / redo</dt>
        <dd>
          <kbd>Ctrl</kbd> <kbd>Z</kbd> / <kbd>Ctrl</kbd> <kbd>Shift</kbd> <kbd>Z</kbd>
        </dd>
        <dt>Copy / paste</dt>
        <dd>
          <kbd>Ctrl</kbd> <kbd>C</kbd> / <kbd>Ctrl</kbd> <kbd>V</kbd>
        </dd>
        <dt>Duplicate</dt>
        <dd>
          <kbd>Ctrl</kbd> <kbd>D</kbd>
        </dd>
        <dt>Delete</dt>
        <dd>
          <kbd>Del</kbd>
        </dd>
        <dt>Multi-select</dt>
        <dd>
          <kbd>Shift</kbd> drag, <kbd>Ctrl</kbd> click
        </dd>
      </dl>
    </div>
  );
}

export function SidePanel() {
  const selected = useEditor(selectSelectedIds);
  const ids = selected ? selected.split(",") : [];
  return (
    <aside className="side-panel" aria-label="Details">
      {ids.length === 1 ? (
        <NodeInspector key={ids[0]} nodeId={ids[0]} />
      ) : ids.length > 1 ? (
        <MultiSelection ids={ids} />
      ) : (
        <Overview />
      )}
    </aside>
  );
}

function MultiSelection({ ids }: { ids: string[] }) {
  const store = useEditorApi();
  return (
    <div className="overview">
      <h2 className="overview-name">{ids.length} nodes selected</h2>
      <p className="muted small">{ids.join(", ")}</p>
      <div className="button-row">
        <button className="btn btn-sm" onClick={() => store.getState().duplicateSelection()}>
          <Copy size={14} /> Duplicate
        </button>
        <button className="btn btn-sm btn-danger-ghost" onClick={() => store.getState().deleteSelected()}>
          <Trash2 size={14} /> Delete
        </button>
      </div>
      <MakeSubpipeline ids={ids} />
    </div>
  );
}
