import { Check, ChevronDown, ChevronUp, Hand, Loader2, X } from "lucide-react";
import { useEffect, useMemo, useState } from "react";
import { api, errorMessage } from "../api/client";
import type { Column, NodeRun, OperatorSpec, Preview } from "../api/types";
import { elapsed, formatCell, formatDuration, formatNumber } from "../lib/format";
import { useNow } from "../lib/useNow";
import { DownloadLinks, OutputFiles, PortSwitch, PreviewTable } from "../ui/OutputParts";
import { StatusBadge } from "../ui/StatusBadge";
import { TabList, type TabItem } from "../ui/TabList";
import { toast } from "../ui/toast";
import { useEditor } from "./context";
import type { EditorStore } from "./store";

type View = "data" | "stats" | "logs" | "files";

const selectSingle = (s: EditorStore) => {
  let found: string | null = null;
  for (const n of s.nodes) {
    if (n.selected) {
      if (found) return null;
      found = n.id;
    }
  }
  return found;
};

const previewCache = new Map<string, Preview>();

/** Is a port a model's metrics table? */
export function isMetricsPort(op: OperatorSpec | undefined, port: string): boolean {
  return !!op && op.category === "model" && /metric|score|evaluat/i.test(port);
}

/** pandas dtypes ("int64", "float64", "object") → the schema's types ("int", "float", "str"). */
export function normalType(t: string): string {
  const x = t.toLowerCase();
  if (/^(u?int|int)/.test(x)) return "int";
  if (/float|double|decimal/.test(x)) return "float";
  if (/bool/.test(x)) return "bool";
  if (/date|time/.test(x)) return "datetime";
  return x === "int" || x === "float" ? x : "str";
}

export interface MetricCard {
  label: string;
  /** One value per row label ("train", "test"), or a single value under "". */
  values: { label: string; value: unknown }[];
}

/**
 * A small metrics table as cards: one row → one card per column; a few rows with a text
 * column naming them (train/test) → one card per numeric column, with a value per row.
 */
export function metricsOf(p: Preview): MetricCard[] | null {
  if (!p.rows.length) return null;
  const types = p.columns.map((c) => normalType(c.type));
  if (p.rows.length === 1) {
    return p.columns.map((c, i) => ({ label: c.name, values: [{ label: "", value: p.rows[0][i] }] }));
  }
  const textCol = types.findIndex((t) => t === "str");
  if (textCol < 0 || p.rows.length > 8) return null;
  const cards: MetricCard[] = [];
  types.forEach((t, i) => {
    if (i === textCol || (t !== "float" && t !== "int")) return;
    cards.push({
      label: p.columns[i].name,
      values: p.rows.map((r) => ({ label: String(r[textCol]), value: r[i] })),
    });
  });
  return cards.length ? cards : null;
}

function fmtMetric(v: unknown): string {
  if (typeof v === "number" && !Number.isInteger(v)) return v.toFixed(4);
  return formatCell(v);
}

function StatsTable({ preview, schema }: { preview: Preview | null; schema: Column[] | null }) {
  const stats = preview?.stats ?? [];
  const cols = preview?.columns ?? schema ?? [];
  return (
    <div className="table-scroll">
      <table className="data-table stats-table">
        <thead>
          <tr>
            <th>Column</th>
            <th>Type</th>
            <th className="num">Nulls</th>
            <th className="num">Distinct</th>
            <th className="num">Min</th>
            <th className="num">Max</th>
            <th className="num">Mean</th>
          </tr>
        </thead>
        <tbody>
          {cols.map((c) => {
            const s = stats.find((x) => x.name === c.name);
            return (
              <tr key={c.name}>
                <td>{c.name}</td>
                <td>
                  <span className="type-pill">{c.type}</span>
                </td>
                <td className="num">{formatCell(s?.nulls)}</td>
                <td className="num">{formatCell(s?.distinct)}</td>
                <td className="num">{formatCell(s?.min)}</td>
                <td className="num">{formatCell(s?.max)}</td>
                <td className="num">{formatCell(s?.mean)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function usePreview(runId: string | number, nodeId: string, port: string, ready: boolean, isModel: boolean) {
  const key = `${runId}:${nodeId}:${port}`;
  const [state, setState] = useState<{ key: string; preview: Preview | null; error: string | null; loading: boolean }>(
    () => ({ key, preview: previewCache.get(key) ?? null, error: null, loading: false }),
  );
  useEffect(() => {
    if (!ready || isModel || !port) {
      setState({ key, preview: null, error: null, loading: false });
      return;
    }
    const cached = previewCache.get(key);
    if (cached) {
      setState({ key, preview: cached, error: null, loading: false });
      return;
    }
    let live = true;
    setState({ key, preview: null, error: null, loading: true });
    api
      .preview(runId, nodeId, port)
      .then((p) => {
        previewCache.set(key, p);
        if (live) setState({ key, preview: p, error: null, loading: false });
      })
      .catch((err) => live && setState({ key, preview: null, error: errorMessage(err), loading: false }));
    return () => {
      live = false;
    };
  }, [key, ready, isModel, runId, nodeId, port]);
  return state.key === key ? state : { key, preview: null, error: null, loading: ready && !isModel };
}

function NodeOutput({ nodeRun, op, runId }: { nodeRun: NodeRun; op: OperatorSpec | undefined; runId: string | number }) {
  const ports = useMemo(() => {
    const declared = op?.outputs.map((p) => p.name) ?? [];
    const produced = Object.keys(nodeRun.outputs ?? {});
    return [...declared, ...produced.filter((p) => !declared.includes(p))];
  }, [op, nodeRun.outputs]);
  const waiting = nodeRun.status === "waiting";
  const [port, setPort] = useState(waiting && ports.includes("preview") ? "preview" : (ports[0] ?? ""));
  const [deciding, setDeciding] = useState(false);
  const [view, setView] = useState<View>("data");
  const activePort = ports.includes(port) ? port : (ports[0] ?? "");
  const out = nodeRun.outputs?.[activePort];
  const portSpec = op?.outputs.find((p) => p.name === activePort);
  const isModel = out?.kind === "model" || portSpec?.type === "model";
  const ready = (nodeRun.status === "succeeded" || waiting) && !!out;
  const decide = async (approve: boolean) => {
    setDeciding(true);
    try {
      const run = approve
        ? await api.approveNode(runId, nodeRun.node_id)
        : await api.rejectNode(runId, nodeRun.node_id);
      void run;
      toast(approve ? "Approved: the action runs now." : "Rejected: nothing was sent.", approve ? "success" : "info");
    } catch (err) {
      toast(`Could not ${approve ? "approve" : "reject"}: ${errorMessage(err)}`, "error");
    } finally {
      setDeciding(false);
    }
  };
  const { preview, error, loading } = usePreview(runId, nodeRun.node_id, activePort, ready, isModel);
  const metrics = preview && isMetricsPort(op, activePort) ? metricsOf(preview) : null;

  const tabs: TabItem<View>[] = [
    { id: "data", label: isModel ? "Summary" : metrics ? "Metrics" : "Data" },
    { id: "stats", label: "Schema & stats" },
    { id: "logs", label: "Logs", count: nodeRun.logs?.length || undefined },
  ];
  if (nodeRun.files?.length) tabs.push({ id: "files", label: "Files", count: nodeRun.files.length });
  const activeView = tabs.some((t) => t.id === view) ? view : "data";

  return (
    <div className="output">
      <div className="output-toolbar">
        <PortSwitch
          ports={ports.map((p) => ({ id: p, label: op?.outputs.find((x) => x.name === p)?.label ?? p }))}
          active={activePort}
          onSelect={setPort}
        />
        <TabList label="Output view" items={tabs} active={activeView} onSelect={setView} />
        <div className="spacer" />
        {ready && !isModel && <DownloadLinks runId={runId} nodeId={nodeRun.node_id} port={activePort} />}
      </div>
      <div className="output-body">
        {waiting && (
          <div className="banner banner-warn approval" role="status">
            <Hand size={16} />
            <span>
              <strong>This action is waiting for approval.</strong> Check what it will send below, then
              approve it or reject it.
            </span>
            <button className="btn btn-sm btn-primary" disabled={deciding} onClick={() => void decide(true)}>
              <Check size={14} /> Approve
            </button>
            <button className="btn btn-sm" disabled={deciding} onClick={() => void decide(false)}>
              <X size={14} /> Reject
            </button>
          </div>
        )}
        {nodeRun.status === "failed" && nodeRun.error && (
          <div className="banner banner-error output-error" role="alert">
            {nodeRun.error}
          </div>
        )}
        {activeView === "data" &&
          (!ready ? (
            <p className="muted output-note">
              {nodeRun.status === "running" || nodeRun.status === "queued"
                ? "The output appears here when the node finishes."
                : nodeRun.status === "skipped"
                  ? "This node was skipped because a node before it failed."
                  : nodeRun.status === "failed"
                    ? "No output: the node failed."
                    : "No output."}
            </p>
          ) : isModel ? (
            <div className="model-card">
              <p>
                <strong>Trained model.</strong>{" "}
                <span className="muted">
                  {out?.schema?.length ? `Trained on ${out.schema.length} columns:` : ""}
                </span>
              </p>
              {out?.schema && (
                <div className="chips">
                  {out.schema.map((c) => (
                    <span className="chip" key={c.name}>
                      {c.name} <span className="col-type">{c.type}</span>
                    </span>
                  ))}
                </div>
              )}
            </div>
          ) : loading ? (
            <p className="muted output-note">
              <Loader2 size={14} className="spin" /> Loading preview…
            </p>
          ) : error ? (
            <p className="field-error output-note">Could not load the preview: {error}</p>
          ) : preview ? (
            metrics ? (
              <div className="metrics" data-testid="metrics">
                {metrics.map((m) => {
                  const [main, ...rest] = [...m.values].reverse();
                  return (
                    <div className="metric" key={m.label}>
                      <span className="metric-label">{m.label}</span>
                      <span className="metric-value">
                        {fmtMetric(main.value)}
                        {main.label && <span className="metric-of">{main.label}</span>}
                      </span>
                      {rest.reverse().map((v) => (
                        <span className="metric-other" key={v.label}>
                          {v.label} {fmtMetric(v.value)}
                        </span>
                      ))}
                    </div>
                  );
                })}
              </div>
            ) : (
              <>
                <div className="table-scroll">
                  <PreviewTable preview={preview} />
                </div>
                <p className="muted small table-foot">
                  Showing {formatNumber(preview.rows.length)} of {formatNumber(preview.total_rows)} rows
                </p>
              </>
            )
          ) : (
            <p className="muted output-note">No output on this port.</p>
          ))}
        {activeView === "stats" &&
          (preview || out?.schema ? (
            <StatsTable preview={preview} schema={out?.schema ?? null} />
          ) : (
            <p className="muted output-note">No schema yet.</p>
          ))}
        {activeView === "logs" &&
          (nodeRun.logs?.length ? (
            <pre className="logs">{nodeRun.logs.join("\n")}</pre>
          ) : (
            <p className="muted output-note">No log lines.</p>
          ))}
        {activeView === "files" && <OutputFiles files={nodeRun.files} />}
      </div>
    </div>
  );
}

function NodeRunMeta({ nodeRun }: { nodeRun: NodeRun }) {
  const now = useNow(nodeRun.status === "running");
  const took =
    nodeRun.finished_at && typeof nodeRun.duration_ms === "number"
      ? formatDuration(nodeRun.duration_ms)
      : nodeRun.started_at
        ? formatDuration(elapsed(nodeRun.started_at, nodeRun.finished_at, now))
        : "";
  return (
    <span className="drawer-meta">
      <StatusBadge status={nodeRun.status} />
      <span className="muted small">
        {took}
        {nodeRun.rows_out !== null && nodeRun.rows_out !== undefined && `${took ? " · " : ""}${formatNumber(nodeRun.rows_out)} rows out`}
        {nodeRun.cached && " · cached"}
      </span>
    </span>
  );
}

export function OutputDrawer({ open, onToggle }: { open: boolean; onToggle: () => void }) {
  const selected = useEditor(selectSingle);
  const run = useEditor((s) => s.run);
  const nodeRun = useEditor((s) => (selected ? s.nodeRuns[selected] : undefined));
  const op = useEditor((s) => {
    const n = selected ? s.nodes.find((x) => x.id === selected) : undefined;
    return n ? s.catalogue[n.data.operator] : undefined;
  });
  const label = useEditor((s) => (selected ? s.nodes.find((x) => x.id === selected)?.data.label : undefined));
  if (!run) return null;
  const expanded = open && !!selected;
  const title = selected ? `${label || op?.label || "Node"} · ${selected}` : "Output";
  return (
    <section className={`drawer${expanded ? " drawer-open" : ""}`} aria-label="Node output" data-testid="output-drawer">
      <button className="drawer-head" onClick={onToggle} aria-expanded={expanded} disabled={!selected}>
        {selected ? expanded ? <ChevronDown size={14} /> : <ChevronUp size={14} /> : null}
        <span className="drawer-title">{title}</span>
        {!selected && <span className="muted small">Select a node to see its output from the last run</span>}
        {nodeRun && <NodeRunMeta nodeRun={nodeRun} />}
      </button>
      {expanded && (
        <div className="drawer-body">
          {nodeRun ? (
            <NodeOutput key={`${run.id}:${selected}`} nodeRun={nodeRun} op={op} runId={run.id} />
          ) : (
            <p className="muted output-note">
              This node was not part of the last run. Run the pipeline to see its output.
            </p>
          )}
        </div>
      )}
    </section>
  );
}
