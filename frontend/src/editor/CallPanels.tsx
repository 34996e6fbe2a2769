// The side panel's parts for reuse: a node calling a pipeline (its version and exposed params,
// "Expand"), a node's params exposed to callers, and "Make sub-pipeline" on a selection.
import { useQuery } from "@tanstack/react-query";
import { ExternalLink, Loader2, Network, Ungroup } from "lucide-react";
import { useMemo, useState } from "react";
import type { StoreApi } from "zustand";
import { api, errorMessage } from "../api/client";
import { queryClient, queryKeys } from "../api/queryClient";
import type { GraphError, OperatorSpec } from "../api/types";
import { formatDateTime } from "../lib/format";
import { Link } from "../pages/common";
import { toast } from "../ui/toast";
import { CALL, LATEST, callParams, callShape } from "./calls";
import { useEditor, useEditorApi } from "./context";
import { ParamsForm, type FormContext } from "./params/ParamsForm";
import { versionsQuery } from "./queries";
import { fieldErrors } from "./errors";
import { deriveFields, type Path } from "./schemaForm";
import type { EditorStore } from "./store";

/** Replace a calling node by the called pipeline's nodes: one undo step, not saved. */
export async function expandCall(store: StoreApi<EditorStore>, nodeId: string): Promise<void> {
  const s = store.getState();
  try {
    const graph = await api.expandCall(s.pipelineId, s.getGraph(), nodeId);
    store.getState().replaceGraph(graph);
    toast("Expanded: the called pipeline's nodes are back in this one. Undo puts the call back.", "success");
  } catch (err) {
    toast(errorMessage(err), "error");
  }
}

/** The selection saved as a new pipeline, replaced here by a node calling it (one undo step). */
export async function makeSubpipeline(store: StoreApi<EditorStore>, ids: string[], name: string): Promise<boolean> {
  const s = store.getState();
  try {
    const made = await api.makeSubpipeline(s.pipelineId, s.getGraph(), ids, name);
    store.getState().replaceGraph(made.graph);
    const call = made.graph.nodes.find((n) => n.operator === CALL && n.params.pipeline === made.pipeline.id);
    if (call) store.getState().selectOnly([call.id]);
    void queryClient.invalidateQueries({ queryKey: queryKeys.pipelines.all });
    toast(`"${made.pipeline.name}" was saved as a pipeline; this one calls it. Save to keep the change.`, "success");
    return true;
  } catch (err) {
    toast(errorMessage(err), "error");
    return false;
  }
}

export function CallSettings({
  nodeId,
  params,
  errors,
}: {
  nodeId: string;
  params: Record<string, unknown>;
  errors: GraphError[] | undefined;
}) {
  const store = useEditorApi();
  const validated = useEditor((s) => s.calls[nodeId]);
  const callables = useEditor((s) => s.callables);
  const call = callParams(params);
  const shape = callShape({ params }, validated, callables);
  const name = validated?.name ?? callables.find((c) => c.id === call.pipeline)?.name ?? "the called pipeline";
  const versions = useQuery({ ...versionsQuery(call.pipeline), enabled: !!call.pipeline });
  const list = versions.data ?? [];
  const exposed = useMemo(() => validated?.params ?? callables.find((c) => c.id === call.pipeline)?.params ?? [], [
    validated,
    callables,
    call.pipeline,
  ]);
  const op = useMemo<OperatorSpec>(
    () =>
      ({
        name: CALL,
        label: name,
        category: "pipeline",
        inputs: [],
        outputs: [],
        params_schema: {
          type: "object",
          properties: Object.fromEntries(
            exposed.map((p) => [p.name, { ...(p.schema ?? {}), title: p.name, default: p.default }]),
          ),
        },
      }) as unknown as OperatorSpec,
    [exposed, name],
  );
  const fields = useMemo(() => deriveFields(op.params_schema), [op]);
  const errs = useMemo(() => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(fieldErrors(errors))) out[k.replace(/^params\./, "")] = v;
    return out;
  }, [errors]);
  const values = useMemo(
    () => ({ ...Object.fromEntries(exposed.map((p) => [p.name, p.default])), ...call.params }),
    [exposed, call.params],
  );
  const ctx = useMemo<FormContext>(
    () => ({
      op,
      columns: {},
      errors: errs,
      params: values,
      onChange: (path: Path, value: unknown) => store.getState().setParam(nodeId, ["params", ...path], value),
    }),
    [op, errs, values, store, nodeId],
  );
  const total = list.length;
  return (
    <div className="call-settings" data-testid="call-settings">
      <div className="field">
        <label className="field-label" htmlFor={`version-${nodeId}`}>
          Version of {name}
        </label>
        <select
          id={`version-${nodeId}`}
          value={call.version}
          onChange={(e) => store.getState().setParam(nodeId, ["version"], e.target.value)}
        >
          <option value={LATEST}>Always the latest version</option>
          {list.map((v, i) => (
            <option key={v.hash} value={v.hash}>
              v{total - i}
              {v.current ? " (current)" : ""} · {formatDateTime(v.created_at)}
            </option>
          ))}
          {call.version !== LATEST && !list.some((v) => v.hash === call.version) && (
            <option value={call.version}>{versions.isLoading ? "Loading versions…" : `${call.version.slice(0, 12)}…`}</option>
          )}
        </select>
        <p className="field-hint">
          {call.version === LATEST
            ? `Each run calls ${name} as it is then: its changes reach this pipeline without a new version here.`
            : `Pinned: ${name} may change, this pipeline keeps calling this version (its runs and cache stay exact).`}
        </p>
      </div>
      {shape && (
        <p className="muted small">
          In: {shape.inputs.map((p) => p.name).join(", ") || "none"} · Out:{" "}
          {shape.outputs.map((p) => p.name).join(", ") || "none"}
        </p>
      )}
      {fields.length > 0 ? (
        <ParamsForm fields={fields} params={values} ctx={ctx} />
      ) : (
        <p className="muted small">{name} exposes no params.</p>
      )}
      <div className="button-row">
        {call.pipeline && (
          <Link to={`/pipelines/${call.pipeline}`} className="btn btn-sm" title={`Open ${name} in the editor`}>
            <ExternalLink size={14} /> Open
          </Link>
        )}
        <button className="btn btn-sm" onClick={() => void expandCall(store, nodeId)} title="Put the called nodes in this pipeline">
          <Ungroup size={14} /> Expand
        </button>
      </div>
    </div>
  );
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,39}$/;

/** Which of a node's params a pipeline calling this one may set, and under which name. */
export function ExposeParams({ nodeId, op }: { nodeId: string; op: OperatorSpec }) {
  const store = useEditorApi();
  const exposed = useEditor((s) => s.nodes.find((n) => n.id === nodeId)?.data.exposed);
  const names = Object.keys(op.params_schema.properties ?? {});
  const [param, setParam] = useState("");
  const [alias, setAlias] = useState("");
  if (!names.length) return null;
  const entries = Object.entries(exposed ?? {});
  const valid = NAME.test(alias) && !!param;
  return (
    <details className="expose-params" open={entries.length > 0}>
      <summary className="section-title">Params callers can set</summary>
      {entries.length > 0 && (
        <ul className="expose-list">
          {entries.map(([p, n]) => (
            <li key={p}>
              <code>{n}</code> sets <code>{p}</code>
              <button className="btn btn-xs btn-ghost" onClick={() => store.getState().setExposed(nodeId, p, null)}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="expose-add">
        <select aria-label="Param to expose" value={param} onChange={(e) => setParam(e.target.value)}>
          <option value="">Param…</option>
          {names.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        <input
          aria-label="Name callers see"
          placeholder="name"
          value={alias}
          maxLength={40}
          onChange={(e) => setAlias(e.target.value)}
        />
        <button
          className="btn btn-sm"
          disabled={!valid}
          title={valid ? "Pipelines calling this one can set it" : "A name: a letter or _, then letters, digits or _"}
          onClick={() => {
            store.getState().setExposed(nodeId, param, alias);
            setAlias("");
            setParam("");
          }}
        >
          Expose
        </button>
      </div>
    </details>
  );
}

export function MakeSubpipeline({ ids }: { ids: string[] }) {
  const store = useEditorApi();
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setBusy(true);
    const ok = await makeSubpipeline(store, ids, name.trim());
    setBusy(false);
    if (ok) setName("");
  };
  return (
    <form
      className="make-subpipeline"
      onSubmit={(e) => {
        e.preventDefault();
        if (name.trim()) void submit();
      }}
    >
      <h3 className="section-title">Reuse</h3>
      <div className="field">
        <label className="field-label" htmlFor="subpipeline-name">
          New pipeline's name
        </label>
        <input
          id="subpipeline-name"
          value={name}
          maxLength={200}
          placeholder="e.g. Clean orders"
          onChange={(e) => setName(e.target.value)}
        />
      </div>
      <button className="btn btn-sm" type="submit" disabled={!name.trim() || busy}>
        {busy ? <Loader2 size={14} className="spin" /> : <Network size={14} />} Make sub-pipeline
      </button>
      <p className="field-hint">
        The selected nodes become a pipeline of their own, with inputs and outputs where edges cross the selection; a
        node calling it takes their place.
      </p>
    </form>
  );
}
