// One run: the version that ran, drawn read-only and coloured by outcome; its timeline; each
// node's output, logs and error; the models it registered; what its actions sent. Live.
import {
  AlertTriangle,
  BrainCircuit,
  ChartLine,
  Download,
  Hand,
  Pencil,
  RotateCcw,
  Square,
  Zap,
} from "lucide-react";
import { useCallback, useEffect, useMemo, useState } from "react";
import { api, errorMessage, outputUrl } from "../../api/client";
import { ACTIVE_STATES, type Graph, type ModelVersion, type NodeRun, type OperatorSpec, type Pipeline, type Run } from "../../api/types";
import { elapsed, formatDateTime, formatDuration, formatNumber, plural, timeAgo } from "../../lib/format";
import { navigate, useSearch } from "../../lib/router";
import { useNow } from "../../lib/useNow";
import { ConfirmDialog } from "../../ui/Modal";
import { StatusBadge } from "../../ui/StatusBadge";
import { toast } from "../../ui/toast";
import { resultsPort, summarizeResults, type ResultsSummary } from "./actionResults";
import {
  Breadcrumbs,
  Card,
  Link,
  LiveIndicator,
  PageError,
  SkeletonBlock,
  formatMetric,
  shortHash,
  triggerLabel,
} from "../common";
import { Gantt } from "./Gantt";
import { useOperators } from "../../api/queries";
import { useDocumentTitle } from "../hooks";
import { useLiveRun } from "../live";
import { NodePanel } from "./NodePanel";
import { RunGraph } from "./RunGraph";

function nodeLabel(id: string, graph: Graph | null, ops: Record<string, OperatorSpec>, operator?: string): string {
  const spec = graph?.nodes.find((n) => n.id === id);
  if (spec?.label) return spec.label;
  const op = ops[spec?.operator ?? operator ?? ""];
  return op ? `${op.label} · ${id}` : id;
}

export function RunDetailPage({ runId }: { runId: string }) {
  const { run, error, state, setRun, reload } = useLiveRun(runId);
  const operators = useOperators();
  const search = useSearch();
  const [graph, setGraph] = useState<Graph | null>(null);
  const [graphNote, setGraphNote] = useState<string | null>(null);
  const [pipeline, setPipeline] = useState<Pipeline | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const selectedParam = new URLSearchParams(search).get("node");
  const [selected, setSelected] = useState<string | null>(selectedParam);
  useDocumentTitle(run ? `${run.pipeline_name ?? "Run"} · run ${shortHash(run.id)}` : "Run");

  const pipelineId = run?.pipeline;
  const version = run?.version;
  useEffect(() => {
    if (!pipelineId || !version) return;
    let alive = true;
    api
      .versions(pipelineId)
      .then((list) => {
        if (!alive) return;
        const v = list.find((x) => x.hash === version);
        if (v) {
          setGraph(v.graph);
          setGraphNote(null);
        } else {
          setGraphNote("The version that ran is no longer stored; the nodes are drawn without their links.");
        }
      })
      .catch((err) => alive && setGraphNote(`Could not load the pipeline version: ${errorMessage(err)}`));
    api
      .pipeline(pipelineId)
      .then((p) => alive && setPipeline(p))
      .catch(() => {});
    return () => {
      alive = false;
    };
  }, [pipelineId, version]);

  // Without the stored version, lay out the run's own nodes.
  const drawn: Graph | null = useMemo(() => {
    if (graph) return graph;
    if (!graphNote || !run) return null;
    return {
      nodes: run.nodes.map((n) => ({ id: n.node_id, operator: n.operator, params: {}, position: { x: 0, y: 0 } })),
      edges: [],
    };
  }, [graph, graphNote, run]);

  const nodeRuns = useMemo(() => {
    const out: Record<string, NodeRun> = {};
    for (const n of run?.nodes ?? []) out[n.node_id] = n;
    return out;
  }, [run?.nodes]);

  const labels = useMemo(() => {
    const out: Record<string, string> = {};
    for (const n of run?.nodes ?? []) out[n.node_id] = nodeLabel(n.node_id, graph, operators, n.operator);
    return out;
  }, [run?.nodes, graph, operators]);

  const failedNode = run?.nodes.find((n) => n.status === "failed") ?? null;
  const waitingNode = run?.nodes.find((n) => n.status === "waiting") ?? null;

  // The node shown below: the one asked for, else what needs attention, else the first.
  const current = selected && nodeRuns[selected] ? selected : failedNode?.node_id ?? waitingNode?.node_id ?? run?.nodes[0]?.node_id ?? null;
  const select = useCallback(
    (id: string) => {
      setSelected(id);
      const q = new URLSearchParams(location.search);
      q.set("node", id);
      navigate(`${location.pathname}?${q.toString()}`, { replace: true });
      document.getElementById("node-detail")?.scrollIntoView({ block: "nearest", behavior: "smooth" });
    },
    [],
  );

  const active = !!run && ACTIVE_STATES.has(run.status);
  const now = useNow(active && run?.status === "running");

  const rerun = async (force: boolean) => {
    if (!run) return;
    setBusy(true);
    try {
      const next = await api.startRun(run.pipeline, force);
      toast("Started a new run.", "success");
      navigate(`/runs/${next.id}`);
    } catch (err) {
      toast(`Could not start a run: ${errorMessage(err)}`, "error");
    } finally {
      setBusy(false);
    }
  };

  const cancel = async () => {
    if (!run) return;
    setBusy(true);
    try {
      setRun(await api.cancelRun(run.id));
      toast("Run cancelled.", "success");
    } catch (err) {
      toast(`Could not cancel: ${errorMessage(err)}`, "error");
    } finally {
      setBusy(false);
      setConfirmCancel(false);
    }
  };

  const decide = async (node: string, approve: boolean) => {
    if (!run) return;
    setBusy(true);
    try {
      setRun(await (approve ? api.approveNode(run.id, node) : api.rejectNode(run.id, node)));
      toast(approve ? "Approved: the action is sending." : "Rejected: nothing was sent.", "success");
    } catch (err) {
      toast(`Could not ${approve ? "approve" : "reject"}: ${errorMessage(err)}`, "error");
    } finally {
      setBusy(false);
    }
  };

  if (error && !run) {
    return (
      <div className="page">
        <Breadcrumbs items={[{ label: "Runs", to: "/runs" }, { label: shortHash(runId) }]} />
        <div className="empty-state">
          <div className="empty-icon">
            <AlertTriangle size={28} />
          </div>
          <h2>Run not available</h2>
          <p className="muted">{error}</p>
          <Link to="/runs" className="btn btn-primary">
            Back to runs
          </Link>
        </div>
      </div>
    );
  }

  const duration =
    run?.duration_ms ?? (run?.status === "running" && run.started_at ? elapsed(run.started_at, null, now) : null);
  const versionChanged = !!pipeline && !!run && pipeline.version !== run.version;
  const actionNodes = (run?.nodes ?? []).filter(
    (n) => operators[n.operator]?.category === "action" && resultsPort(n.outputs),
  );

  return (
    <div className="page page-wide run-page">
      <Breadcrumbs
        items={[
          { label: "Runs", to: "/runs" },
          ...(run
            ? [
                { label: run.pipeline_name ?? "Pipeline", to: `/runs?pipeline=${run.pipeline}` },
                { label: `run ${shortHash(run.id)}` },
              ]
            : []),
        ]}
      />
      <div className="page-header run-header">
        <div className="run-title">
          <h1>
            {run ? run.pipeline_name ?? "Run" : <span className="skeleton-text" />}
            {run && (
              <span data-testid="run-status" data-status={run.status}>
                <StatusBadge status={run.status} />
              </span>
            )}
          </h1>
        </div>
        <div className="page-actions">
          <LiveIndicator state={state} />
          {run && (
            <>
              <Link to={`/pipelines/${run.pipeline}/dashboard`} className="btn" title="Success rate, durations, schedules">
                <ChartLine size={14} /> Dashboard
              </Link>
              <Link to={`/pipelines/${run.pipeline}`} className="btn" title="Open the pipeline in the editor">
                <Pencil size={14} /> Editor
              </Link>
              {active ? (
                <button className="btn btn-danger-ghost" onClick={() => setConfirmCancel(true)} disabled={busy}>
                  <Square size={14} /> Cancel run
                </button>
              ) : failedNode ? (
                <>
                  <button
                    className="btn"
                    onClick={() => rerun(true)}
                    disabled={busy}
                    title="Recompute every node, ignoring cached outputs"
                  >
                    Re-run all
                  </button>
                  <button
                    className="btn btn-primary"
                    onClick={() => rerun(false)}
                    disabled={busy}
                    title={`Nodes that succeeded reuse their cached outputs; ${failedNode.node_id} and what follows it run again${versionChanged ? " (with the pipeline's current version)" : ""}.`}
                  >
                    <RotateCcw size={14} /> Re-run from {failedNode.node_id}
                  </button>
                </>
              ) : (
                <button
                  className="btn btn-primary"
                  onClick={() => rerun(false)}
                  disabled={busy}
                  title={versionChanged ? "Runs the pipeline's current version" : "Run the pipeline again; unchanged nodes reuse cached outputs"}
                >
                  <RotateCcw size={14} /> Re-run
                </button>
              )}
            </>
          )}
        </div>
      </div>
      <div className="page-header-sub run-sub">
        {run ? (
          <>
            <span className="mono">run {shortHash(run.id)}</span>
            <span className="title-sep">·</span>
            <span>
              version <code className="hash" title={run.version}>{shortHash(run.version)}</code>
              {versionChanged && <span className="tag" title="The pipeline has changed since this run">older version</span>}
            </span>
            <span className="title-sep">·</span>
            <span>
              {triggerLabel(run.trigger)}
              {run.created_by ? ` by ${run.created_by}` : ""}
            </span>
            <span className="title-sep">·</span>
            <span title={formatDateTime(run.started_at ?? run.created_at)}>
              {run.started_at ? "started" : "created"} {timeAgo(run.started_at ?? run.created_at)}
            </span>
            {duration !== null && (
              <>
                <span className="title-sep">·</span>
                <span data-testid="run-duration">{formatDuration(duration)}</span>
              </>
            )}
            {run.rows_processed > 0 && (
              <>
                <span className="title-sep">·</span>
                <span>{plural(run.rows_processed, "row")} processed</span>
              </>
            )}
          </>
        ) : (
          <span>Loading…</span>
        )}
      </div>

      {run?.status === "failed" && (
        <div className="banner banner-error" role="alert" data-testid="run-error">
          <AlertTriangle size={16} />
          <span>
            {failedNode ? (
              <>
                <strong>{labels[failedNode.node_id] ?? failedNode.node_id}</strong> failed: {failedNode.error || run.error}
              </>
            ) : (
              run.error || "The run failed."
            )}
          </span>
          {failedNode && current !== failedNode.node_id && (
            <button className="btn btn-sm" onClick={() => select(failedNode.node_id)}>
              Show node
            </button>
          )}
        </div>
      )}
      {waitingNode && (
        <div className="banner banner-warn" role="status">
          <Hand size={16} />
          <span>
            <strong>{labels[waitingNode.node_id] ?? waitingNode.node_id}</strong> is waiting for approval before it
            sends anything.
          </span>
          <button className="btn btn-sm" onClick={() => decide(waitingNode.node_id, false)} disabled={busy}>
            Reject
          </button>
          <button className="btn btn-sm btn-primary" onClick={() => decide(waitingNode.node_id, true)} disabled={busy}>
            Approve
          </button>
        </div>
      )}
      {versionChanged && run && !active && (
        <p className="muted small version-note">
          This run used version <code>{shortHash(run.version)}</code>; the pipeline is now at{" "}
          <code>{shortHash(pipeline?.version)}</code>. A re-run runs the current version.
        </p>
      )}
      {error && run && <PageError message={error} onRetry={reload} />}

      <Card
        title="Pipeline as it ran"
        subtitle={graphNote ?? (run ? `${plural(run.nodes.length, "node")} · click a node for its output, logs and errors` : undefined)}
        flush
      >
        {drawn && run ? (
          <RunGraph graph={drawn} nodeRuns={nodeRuns} operators={operators} selected={current} onSelect={select} height={300} />
        ) : (
          <SkeletonBlock height={300} />
        )}
      </Card>

      <Card title="Timeline" subtitle="Per node: time waiting in the queue, then time executing">
        {run ? (
          <Gantt
            nodes={run.nodes}
            runStart={run.started_at ?? run.created_at}
            runEnd={run.finished_at}
            active={active}
            operators={operators}
            labels={labels}
            selected={current}
            onSelect={select}
          />
        ) : (
          <SkeletonBlock height={180} />
        )}
      </Card>

      <div className="run-lower" id="node-detail">
        <Card title="Nodes" flush className="run-nodes-card">
          {run ? (
            <NodeTable nodes={run.nodes} labels={labels} selected={current} onSelect={select} />
          ) : (
            <SkeletonBlock height={200} />
          )}
        </Card>
        <Card className="run-node-card" flush>
          {run && current && nodeRuns[current] ? (
            <NodePanel
              runId={run.id}
              node={nodeRuns[current]}
              spec={operators[nodeRuns[current].operator]}
              label={labels[current] ?? current}
              busy={busy}
              onApprove={() => decide(current, true)}
              onReject={() => decide(current, false)}
            />
          ) : (
            <SkeletonBlock height={240} />
          )}
        </Card>
      </div>

      {run && actionNodes.length > 0 && (
        <div className="stack action-stack">
          {actionNodes.map((n) => (
            <ActionResults key={n.node_id} run={run} node={n} label={labels[n.node_id] ?? n.node_id} />
          ))}
        </div>
      )}

      {run && <ModelsProduced run={run} />}

      {confirmCancel && (
        <ConfirmDialog
          title="Cancel this run?"
          message="Nodes that are queued or running stop; nodes that finished keep their outputs."
          confirmLabel="Cancel run"
          danger
          busy={busy}
          onConfirm={cancel}
          onCancel={() => setConfirmCancel(false)}
        />
      )}
    </div>
  );
}

function NodeTable({
  nodes,
  labels,
  selected,
  onSelect,
}: {
  nodes: NodeRun[];
  labels: Record<string, string>;
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  return (
    <table className="grid-table node-table" aria-label="Nodes of this run">
      <thead>
        <tr>
          <th>Node</th>
          <th>Status</th>
          <th className="num">Rows</th>
          <th className="num">Time</th>
        </tr>
      </thead>
      <tbody>
        {nodes.map((n) => (
          <tr
            key={n.node_id}
            className={`clickable${n.node_id === selected ? " row-selected" : ""}`}
            tabIndex={0}
            data-testid="node-row"
            data-node-id={n.node_id}
            data-status={n.status}
            onClick={() => onSelect(n.node_id)}
            onKeyDown={(e) => e.key === "Enter" && onSelect(n.node_id)}
          >
            <td>
              <div className="cell-stack">
                <span className="node-name">{labels[n.node_id] ?? n.node_id}</span>
                {n.status === "failed" && n.error ? (
                  <span className="cell-error" title={n.error}>
                    {n.error}
                  </span>
                ) : (
                  <span className="muted small mono">{n.operator}</span>
                )}
              </div>
            </td>
            <td>
              <StatusBadge status={n.status} compact />
              {n.cached && <span className="op-cached" title="Reused a cached output">cached</span>}
            </td>
            <td className="num">{n.rows_out !== null && n.rows_out !== undefined ? formatNumber(n.rows_out) : "–"}</td>
            <td className="num">{typeof n.duration_ms === "number" ? formatDuration(n.duration_ms) : "–"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const RESULT_LABEL = { sent: "Sent", failed: "Failed", skipped: "Skipped", dry_run: "Dry run" } as const;

function ActionResults({ run, node, label }: { run: Run; node: NodeRun; label: string }) {
  const port = resultsPort(node.outputs)!;
  const [summary, setSummary] = useState<ResultsSummary | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (node.status !== "succeeded" && node.status !== "waiting") return;
    const ctl = new AbortController();
    api
      .preview(run.id, node.node_id, port, 500, ctl.signal)
      .then((p) => setSummary(summarizeResults(p)))
      .catch((err) => !ctl.signal.aborted && setError(errorMessage(err)));
    return () => ctl.abort();
  }, [run.id, node.node_id, node.status, port]);

  return (
    <Card
      testId="action-results"
      title={
        <>
          <Zap size={15} className="cat-action-icon" /> {label}
          <span className="muted small">{port === "preview" ? "what it would send" : "what it sent"}</span>
        </>
      }
      action={
        <a className="btn btn-sm" href={outputUrl(run.id, node.node_id, port, "csv")} download>
          <Download size={14} /> Results CSV
        </a>
      }
    >
      {error ? (
        <p className="field-error">{error}</p>
      ) : !summary ? (
        <SkeletonBlock height={70} />
      ) : (
        <>
          <div className="result-counts">
            {(Object.keys(RESULT_LABEL) as (keyof typeof RESULT_LABEL)[]).map((k) => (
              <div key={k} className={`result-count result-${k}`} data-testid={`result-${k}`}>
                <span className="result-count-value">{formatNumber(summary.counts[k])}</span>
                <span className="result-count-label">{RESULT_LABEL[k]}</span>
              </div>
            ))}
            {summary.read < summary.total && (
              <p className="muted small">
                Counted over the first {formatNumber(summary.read)} of {plural(summary.total, "record")}; download the CSV for all.
              </p>
            )}
          </div>
          {summary.failed.length > 0 ? (
            <table className="grid-table failed-records" aria-label="Failed records">
              <thead>
                <tr>
                  <th style={{ width: "30%" }}>Record</th>
                  <th>Reason</th>
                </tr>
              </thead>
              <tbody>
                {summary.failed.slice(0, 20).map((f, i) => (
                  <tr key={`${f.key}-${i}`}>
                    <td className="mono">{f.key || "(no key)"}</td>
                    <td className="cell-error-wrap">{f.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="muted small">No record failed.</p>
          )}
          {summary.failed.length > 20 && (
            <p className="muted small">{formatNumber(summary.failed.length - 20)} more failed records are in the CSV.</p>
          )}
        </>
      )}
    </Card>
  );
}

function ModelsProduced({ run }: { run: Run }) {
  const [versions, setVersions] = useState<{ modelId: string; name: string; v: ModelVersion }[] | null>(null);
  const done = !ACTIVE_STATES.has(run.status);
  useEffect(() => {
    if (!done) return;
    let alive = true;
    api
      .models()
      .then(async (models) => {
        // Only this pipeline's models can hold versions of this run.
        const mine = models.filter((m) => m.latest?.pipeline === run.pipeline || m.latest?.run === run.id);
        const details = await Promise.all(mine.map((m) => api.model(m.id).catch(() => null)));
        const found = details.flatMap((d) =>
          d ? d.versions.filter((v) => v.run === run.id).map((v) => ({ modelId: d.id, name: d.name, v })) : [],
        );
        if (alive) setVersions(found);
      })
      .catch(() => alive && setVersions([]));
    return () => {
      alive = false;
    };
  }, [done, run.id, run.pipeline]);

  if (!done || !versions || versions.length === 0) return null;
  return (
    <Card title={<><BrainCircuit size={15} /> Models registered by this run</>} flush testId="run-models">
      <ul className="run-list">
        {versions.map(({ modelId, name, v }) => (
          <li key={`${modelId}-${v.version}`}>
            <Link to={`/models/${modelId}/versions/${v.version}`} className="run-list-item">
              <span className="icon-chip">
                <BrainCircuit size={14} />
              </span>
              <span className="run-list-main">
                <span className="run-list-name">
                  {name} v{v.version}
                </span>
                <span className="muted small">
                  {v.algorithm} · {Object.entries(v.metrics).slice(0, 3).map(([k, x]) => `${k} ${formatMetric(x)}`).join(" · ")}
                </span>
              </span>
              <span className="tags">
                {v.aliases.map((a) => (
                  <span key={a} className="tag tag-primary">
                    {a}
                  </span>
                ))}
              </span>
            </Link>
          </li>
        ))}
      </ul>
    </Card>
  );
}
