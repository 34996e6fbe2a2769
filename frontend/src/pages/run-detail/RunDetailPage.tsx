// One run: the version that ran, drawn read-only and coloured by outcome; its timeline; each
// node's output, logs and error; the models it registered; what its actions sent. Live.
import { AlertTriangle, Ban, Hand } from "lucide-react";
import { useCallback, useMemo, useState } from "react";
import { useOperators } from "../../api/queries";
import { ACTIVE_STATES, type Graph, type NodeRun, type OperatorSpec } from "../../api/types";
import { plural } from "../../lib/format";
import { navigate, useSearch } from "../../lib/router";
import { useNow } from "../../lib/useNow";
import { ConfirmDialog } from "../../ui/Modal";
import { Breadcrumbs, Card, Link, PageError, SkeletonBlock, shortHash } from "../common";
import { useDocumentTitle } from "../hooks";
import { useLiveRun } from "../live";
import { CALL, SEP, callProgress, innerRuns } from "../../editor/calls";
import { ActionResults } from "./ActionResults";
import { resultsPort } from "./actionResults";
import { Gantt } from "./Gantt";
import { runDuration } from "./gantt";
import { ModelsProduced } from "./ModelsProduced";
import { NodePanel } from "./NodePanel";
import { NodeTable } from "./NodeTable";
import { RunGraph } from "./RunGraph";
import { RunHeader } from "./RunHeader";
import { useRunActions } from "./useRunActions";
import { useRunGraph } from "./useRunGraph";
import "./run-detail.css";

function nodeLabel(id: string, graph: Graph | null, ops: Record<string, OperatorSpec>, operator?: string): string {
  const spec = graph?.nodes.find((n) => n.id === id);
  if (spec?.label) return spec.label;
  const op = ops[spec?.operator ?? operator ?? ""];
  // A called pipeline's node ("n7.top"): named by its own id, its call shown around it.
  const own = spec ? id : id.slice(id.lastIndexOf(SEP) + 1);
  return op ? `${op.label} · ${own}` : own;
}

export function RunDetailPage({ runId }: { runId: string }) {
  const { run, error, state, setRun, reload } = useLiveRun(runId);
  const operators = useOperators();
  const search = useSearch();
  const [confirmCancel, setConfirmCancel] = useState(false);
  const selectedParam = new URLSearchParams(search).get("node");
  const [selected, setSelected] = useState<string | null>(selectedParam);
  useDocumentTitle(run ? `${run.pipeline_name ?? "Run"} · run ${shortHash(run.id)}` : "Run");

  const { graph, drawn, graphNote, pipeline } = useRunGraph(run);

  const nodeRuns = useMemo(() => {
    const out: Record<string, NodeRun> = {};
    for (const n of run?.nodes ?? []) out[n.node_id] = n;
    return out;
  }, [run?.nodes]);
  // On the graph, a node that called a pipeline shows the status of the nodes it expanded into.
  const drawnRuns = useMemo(() => {
    const out = { ...nodeRuns };
    for (const path of Object.keys(run?.calls ?? {})) {
      if (path.includes(SEP) || out[path]) continue;
      const progress = callProgress(innerRuns(nodeRuns, path));
      if (progress.status) out[path] = { node_id: path, operator: CALL, status: progress.status } as NodeRun;
    }
    return out;
  }, [nodeRuns, run?.calls]);

  const labels = useMemo(() => {
    const out: Record<string, string> = {};
    for (const n of run?.nodes ?? []) out[n.node_id] = nodeLabel(n.node_id, graph, operators, n.operator);
    return out;
  }, [run?.nodes, graph, operators]);

  const failedNode = run?.nodes.find((n) => n.status === "failed") ?? null;
  const waitingNode = run?.nodes.find((n) => n.status === "waiting") ?? null;

  // The node shown below: the one asked for, else what needs attention, else the first.
  // A node that called a pipeline: the first node it expanded into.
  const chosen = selected && !nodeRuns[selected] ? innerRuns(nodeRuns, selected)[0]?.node_id ?? selected : selected;
  const current = chosen && nodeRuns[chosen] ? chosen : failedNode?.node_id ?? waitingNode?.node_id ?? run?.nodes[0]?.node_id ?? null;
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

  const { busy, rerun, cancel: cancelRun, decide } = useRunActions(run, setRun);
  const cancel = () => cancelRun(() => setConfirmCancel(false));

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

  // The timeline's own span: header and timeline never disagree on how long the run took.
  const duration = run ? runDuration(run, now) : null;
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
      <RunHeader
        run={run}
        live={state}
        active={active}
        failedNode={failedNode}
        busy={busy}
        versionChanged={versionChanged}
        duration={duration}
        onRerun={rerun}
        onCancel={() => setConfirmCancel(true)}
      />
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
      {run?.status === "cancelled" && run.error && (
        <div className="banner banner-muted" role="status" data-testid="run-cancelled-note">
          <Ban size={16} />
          <span>{run.error}</span>
        </div>
      )}
      {waitingNode && (
        <div className="banner banner-warn" role="status" data-testid="run-waiting">
          <Hand size={16} />
          <span>
            <strong>Waiting for your approval:</strong> {labels[waitingNode.node_id] ?? waitingNode.node_id} sends
            nothing until you approve what it will send.
          </span>
          {current !== waitingNode.node_id && (
            <button className="btn btn-sm" onClick={() => select(waitingNode.node_id)}>
              Go to node
            </button>
          )}
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
          <RunGraph graph={drawn} nodeRuns={drawnRuns} operators={operators} selected={current} onSelect={select} height={300} />
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
            <NodeTable nodes={run.nodes} labels={labels} selected={current} onSelect={select} calls={run.calls} />
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
              labels={labels}
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
