import { Handle, Position, type NodeProps } from "@xyflow/react";
import { AlertTriangle, ChevronDown, ChevronRight, Database as Cached } from "lucide-react";
import { memo, useMemo, useRef, useState } from "react";
import { useShallow } from "zustand/react/shallow";
import type { NodeRun, NodeStatus, PortSpec } from "../api/types";
import { elapsed, formatDuration, formatNumber } from "../lib/format";
import { pushdownBadge } from "../lib/pushdown";
import { useNow } from "../lib/useNow";
import { OperatorIcon } from "../ui/OperatorIcon";
import { StatusBadge } from "../ui/StatusBadge";
import { CALL, LATEST, SEP, callParams, callPorts, callProgress, callShape, innerRuns, versionLabel } from "./calls";
import { useEditor } from "./context";
import type { OpNode } from "./graph";
import type { PlanStatus } from "./plan";
import { NodeContextMenu, NodeRunBar } from "./NodeRunActions";
import { isRunActive } from "./runState";
import type { EditorStore } from "./store";
import "./editor.css";

/** Everything a node shows from the editor store, in one subscription per node. */
function selectNodeView(s: EditorStore, id: string, operator: string) {
  // A node calling a pipeline: its ports are the called pipeline's, its status that of the
  // nodes it expanded into (primitives, so the shallow comparison holds between updates).
  const calling = operator === CALL;
  const progress = calling ? callProgress(innerRuns(s.nodeRuns, id)) : undefined;
  return {
    op: s.catalogue[operator],
    call: calling ? s.calls[id] : undefined,
    callables: calling ? s.callables : undefined,
    callStatus: progress?.status,
    callDone: progress?.done ?? 0,
    callTotal: progress?.total ?? 0,
    run: s.nodeRuns[id] as NodeRun | undefined,
    errors: s.errorsByNode[id],
    // What the next run does with this node; not shown while a run is under way.
    plan: (isRunActive(s.run) ? undefined : s.planStatus?.[id]) as PlanStatus | undefined,
  };
}

function PlanBadge({ plan }: { plan: PlanStatus }) {
  return plan === "cached" ? (
    <span className="op-plan op-plan-cached" title="The next run reuses this node's cached output">
      cached
    </span>
  ) : (
    <span className="op-plan op-plan-run" title="The next run computes this node">
      will run
    </span>
  );
}

function Port({ port, kind }: { port: PortSpec; kind: "in" | "out" }) {
  return (
    <div className={`op-port op-port-${kind}`} data-port={port.name}>
      <Handle
        type={kind === "in" ? "target" : "source"}
        position={kind === "in" ? Position.Left : Position.Right}
        id={port.name}
        className={`op-handle op-handle-${port.type}`}
        title={`${port.label || port.name} (${port.type}${port.optional ? ", optional" : ""})`}
      />
      <span className="op-port-label">
        {port.label || port.name}
        {port.optional && <span className="op-port-opt">?</span>}
      </span>
    </div>
  );
}

function RunLine({ run }: { run: NodeRun }) {
  const now = useNow(run.status === "running");
  switch (run.status) {
    case "running":
      return (
        <span>
          Running · {formatDuration(elapsed(run.started_at, null, now)) || "0 s"}
        </span>
      );
    case "succeeded":
      return (
        <span>
          {run.rows_out !== null && run.rows_out !== undefined
            ? `${formatNumber(run.rows_out)} rows`
            : "Done"}
          {typeof run.duration_ms === "number"
            ? ` · ${formatDuration(run.duration_ms)}`
            : run.started_at && run.finished_at
              ? ` · ${formatDuration(elapsed(run.started_at, run.finished_at))}`
              : ""}
          {run.cached && (
            <span className="op-cached" title="Reused a cached result">
              <Cached size={10} /> cached
            </span>
          )}
          {pushdownBadge(run) && (
            <span className="op-cached" title="Ran inside the source's database" data-testid="pushdown-badge">
              <Cached size={10} /> {pushdownBadge(run)}
            </span>
          )}
        </span>
      );
    case "queued":
      return <span>Queued</span>;
    case "skipped":
      return <span>Skipped</span>;
    case "cancelled":
      return <span>Cancelled</span>;
    case "failed":
      return <span>Failed</span>;
    case "waiting":
      return <span>Awaiting approval · open to review</span>;
    default:
      return <span>Waiting</span>;
  }
}

/** A calling node's nodes in the run, folded by default: each one's status as it runs. */
function CalledNodes({ id }: { id: string }) {
  // One string, so the node re-renders only when a called node's status changes.
  const key = useEditor((s) => innerRuns(s.nodeRuns, id).map((r) => `${r.node_id}\t${r.status}`).join("\n"));
  const [open, setOpen] = useState(false);
  const rows = key ? key.split("\n").map((line) => line.split("\t") as [string, NodeStatus]) : [];
  return (
    <div className="op-called nodrag" data-testid="called-nodes">
      <button
        type="button"
        className="op-called-toggle"
        aria-expanded={open}
        onClick={(e) => {
          e.stopPropagation();
          setOpen((o) => !o);
        }}
      >
        {open ? <ChevronDown size={12} /> : <ChevronRight size={12} />} Called nodes
      </button>
      {open && (
        <ul className="op-called-list">
          {rows.map(([nodeId, status]) => (
            <li key={nodeId} data-node-id={nodeId} data-status={status}>
              <StatusBadge status={status} compact /> {nodeId.slice(id.length + SEP.length)}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function OperatorNodeImpl({ id, data, selected }: NodeProps<OpNode>) {
  const { op: catalogued, call, callables, callStatus, callDone, callTotal, run, errors, plan } = useEditor(
    useShallow((s: EditorStore) => selectNodeView(s, id, data.operator)),
  );
  const op = useMemo(
    () => (catalogued && data.operator === CALL ? { ...catalogued, ...callPorts(callShape(data, call, callables ?? [])) } : catalogued),
    [catalogued, data, call, callables],
  );
  const category = op?.category ?? "transform";
  const status = run?.status ?? callStatus;
  const firstError = run?.status === "failed" && run.error ? run.error : errors?.[0]?.message;
  // The run bar is mounted only while it can be seen: a node that is not pointed at nor selected
  // subscribes to nothing more.
  const [hovered, setHovered] = useState(false);
  const ref = useRef<HTMLDivElement>(null);

  return (
    <div
      ref={ref}
      onPointerEnter={() => setHovered(true)}
      onPointerLeave={() => setHovered(false)}
      className={[
        "op-node",
        `cat-${category}`,
        status ? `run-${status}` : "",
        selected ? "selected" : "",
        errors?.length || status === "failed" ? "has-error" : "",
        op ? "" : "unknown",
      ].join(" ")}
      data-testid="op-node"
      data-node-id={id}
      data-status={status ?? ""}
      data-plan={plan ?? ""}
    >
      {plan && <PlanBadge plan={plan} />}
      {(hovered || selected) && <NodeRunBar id={id} />}
      <NodeContextMenu id={id} nodeRef={ref} />
      {/* What a big graph's node shows when zoomed far out (see FAR_ZOOM in Canvas). */}
      <div className="op-node-far" aria-hidden="true">
        {data.label || op?.label || data.operator}
      </div>
      <div className="op-node-header">
        <span className="op-node-icon">
          <OperatorIcon name={op?.icon} category={op?.category} size={15} />
        </span>
        <div className="op-node-title">
          <div className="op-node-label" title={op?.description}>
            {data.label || op?.label || data.operator}
          </div>
          <div className="op-node-sub">{data.label && op ? `${op.label} · ${id}` : id}</div>
        </div>
        {status && status !== "pending" && <StatusBadge status={status} compact />}
        {!status && errors?.length ? (
          <span className="op-node-warn" title={errors.map((e) => e.message).join("\n")}>
            <AlertTriangle size={14} />
          </span>
        ) : null}
      </div>
      {op ? (
        (op.inputs.length > 0 || op.outputs.length > 0) && (
          <div className="op-node-ports">
            <div className="op-node-col">
              {op.inputs.map((p) => (
                <Port key={p.name} port={p} kind="in" />
              ))}
            </div>
            <div className="op-node-col op-node-col-out">
              {op.outputs.map((p) => (
                <Port key={p.name} port={p} kind="out" />
              ))}
            </div>
          </div>
        )
      ) : (
        <div className="op-node-error">Unknown operator “{data.operator}”</div>
      )}
      {run && run.status !== "pending" && (
        <div className={`op-node-status status-text-${run.status}`}>
          <RunLine run={run} />
        </div>
      )}
      {!run && callStatus && callStatus !== "pending" && (
        <div className={`op-node-status status-text-${callStatus}`} data-testid="call-progress">
          {callDone} of {callTotal} called nodes done
        </div>
      )}
      {callTotal > 0 && <CalledNodes id={id} />}
      {data.operator === CALL && call && (
        <div className="op-node-call muted small" title="The version this node calls">
          {versionLabel(call, callParams(data.params).version === LATEST)}
        </div>
      )}
      {firstError && (
        <div className="op-node-error" title={firstError}>
          {firstError}
        </div>
      )}
    </div>
  );
}

export const OperatorNode = memo(OperatorNodeImpl);
