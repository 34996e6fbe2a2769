// A pipeline version drawn read-only, each node coloured by how it did in a run.
import {
  Background,
  BackgroundVariant,
  Controls,
  Handle,
  Position,
  ReactFlow,
  type Edge,
  type Node,
  type NodeProps,
} from "@xyflow/react";
import { Database as Cached } from "lucide-react";
import { memo, useMemo } from "react";
import type { Graph, NodeRun, NodeStatus, OperatorSpec, PortSpec } from "../../api/types";
import { CALL } from "../../editor/calls";
import { layoutGraph } from "../../editor/layout";
import { formatDuration, formatNumber } from "../../lib/format";
import { OperatorIcon } from "../../ui/OperatorIcon";
import { StatusBadge } from "../../ui/StatusBadge";
import { pushdownBadge } from "../../lib/pushdown";

type RunNodeData = {
  label: string;
  sub: string;
  spec?: OperatorSpec;
  run?: NodeRun;
};
type RunNode = Node<RunNodeData, "runNode">;

function RunNodeView({ id, data, selected }: NodeProps<RunNode>) {
  const { spec, run } = data;
  const status = run?.status;
  return (
    <div
      className={[
        "op-node",
        "run-graph-node",
        `cat-${spec?.category ?? "transform"}`,
        status ? `run-${status}` : "",
        selected ? "selected" : "",
        status === "failed" ? "has-error" : "",
      ].join(" ")}
      data-testid="run-graph-node"
      data-node-id={id}
      data-status={status ?? ""}
    >
      <div className="op-node-header">
        <span className="op-node-icon">
          <OperatorIcon name={spec?.icon} category={spec?.category} size={15} />
        </span>
        <div className="op-node-title">
          <div className="op-node-label">{data.label}</div>
          <div className="op-node-sub">{data.sub}</div>
        </div>
        {status && status !== "pending" && <StatusBadge status={status} compact />}
      </div>
      {/* Handles only anchor the edges; nothing connects here. */}
      {(spec?.inputs ?? [{ name: "in" }]).map((p, i, all) => (
        <Handle
          key={`in-${p.name}`}
          type="target"
          id={p.name}
          position={Position.Left}
          isConnectable={false}
          className="run-graph-handle"
          style={{ top: `${((i + 1) / (all.length + 1)) * 100}%` }}
        />
      ))}
      {(spec?.outputs ?? [{ name: "out" }]).map((p, i, all) => (
        <Handle
          key={`out-${p.name}`}
          type="source"
          id={p.name}
          position={Position.Right}
          isConnectable={false}
          className="run-graph-handle"
          style={{ top: `${((i + 1) / (all.length + 1)) * 100}%` }}
        />
      ))}
      <div className={`op-node-status status-text-${status ?? "pending"}`}>
        <NodeLine run={run} />
      </div>
    </div>
  );
}

function NodeLine({ run }: { run?: NodeRun }) {
  if (!run) return <span className="muted">Not in this run</span>;
  switch (run.status) {
    case "succeeded":
      return (
        <span>
          {run.rows_out !== null && run.rows_out !== undefined ? `${formatNumber(run.rows_out)} rows` : "Done"}
          {typeof run.duration_ms === "number" && !run.cached ? ` · ${formatDuration(run.duration_ms)}` : ""}
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
    case "failed":
      return <span>Failed{run.error_field ? ` · ${run.error_field}` : ""}</span>;
    case "running":
      return <span>Running…</span>;
    case "queued":
      return <span>Queued</span>;
    case "waiting":
      return <span>Awaiting approval</span>;
    case "skipped":
      return <span>Skipped</span>;
    case "cancelled":
      return <span>Cancelled</span>;
    default:
      return <span>Waiting for inputs</span>;
  }
}

const nodeTypes = { runNode: memo(RunNodeView) };
const FIT_VIEW = { padding: 0.12, maxZoom: 1 } as const;
const PRO = { hideAttribution: true } as const;

function positions(graph: Graph): Record<string, { x: number; y: number }> {
  const distinct = new Set(graph.nodes.map((n) => `${n.position?.x ?? 0},${n.position?.y ?? 0}`));
  if (graph.nodes.length > 1 && distinct.size === 1) return layoutGraph(graph);
  return Object.fromEntries(graph.nodes.map((n) => [n.id, { x: n.position?.x ?? 0, y: n.position?.y ?? 0 }]));
}

export function RunGraph({
  graph,
  nodeRuns,
  operators,
  selected,
  onSelect,
  height = 300,
}: {
  graph: Graph;
  nodeRuns: Record<string, NodeRun>;
  operators: Record<string, OperatorSpec>;
  selected: string | null;
  onSelect: (nodeId: string) => void;
  height?: number;
}) {
  const pos = useMemo(() => positions(graph), [graph]);
  const nodes = useMemo<RunNode[]>(
    () =>
      graph.nodes.map((n) => {
        const spec = n.operator === CALL ? edgePorts(graph, n.id, operators[n.operator]) : operators[n.operator];
        return {
          id: n.id,
          type: "runNode",
          position: pos[n.id] ?? { x: 0, y: 0 },
          selected: n.id === selected,
          draggable: false,
          connectable: false,
          data: {
            label: n.label || spec?.label || n.operator,
            sub: n.label && spec ? `${spec.label} · ${n.id}` : n.id,
            spec,
            run: nodeRuns[n.id],
          },
        };
      }),
    [graph, operators, pos, nodeRuns, selected],
  );
  const edges = useMemo<Edge[]>(
    () =>
      graph.edges.map((e) => {
        const src = nodeRuns[e.source]?.status;
        const dst = nodeRuns[e.target]?.status;
        const known = operators[graph.nodes.find((n) => n.id === e.source)?.operator ?? ""];
        const knownT = operators[graph.nodes.find((n) => n.id === e.target)?.operator ?? ""];
        return {
          id: `${e.source}:${e.source_port}->${e.target}:${e.target_port}`,
          source: e.source,
          target: e.target,
          sourceHandle: known ? e.source_port : "out",
          targetHandle: knownT ? e.target_port : "in",
          className: edgeClass(src, dst),
          animated: dst === "running",
          focusable: false,
          selectable: false,
        };
      }),
    [graph, nodeRuns, operators],
  );

  return (
    <div className="run-graph" style={{ height }} data-testid="run-graph">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable
        edgesFocusable={false}
        zoomOnScroll={false}
        preventScrolling={false}
        panOnScroll={false}
        zoomOnDoubleClick={false}
        fitView
        fitViewOptions={FIT_VIEW}
        minZoom={0.2}
        maxZoom={1.5}
        proOptions={PRO}
        onNodeClick={(_, n) => onSelect(n.id)}
      >
        <Background variant={BackgroundVariant.Dots} gap={18} size={1} color="#d9dde3" />
        <Controls showInteractive={false} position="bottom-right" />
      </ReactFlow>
    </div>
  );
}

function edgeClass(src?: NodeStatus, dst?: NodeStatus): string {
  if (dst === "failed") return "edge-failed";
  if (src === "succeeded" && dst && dst !== "pending" && dst !== "skipped") return "edge-done";
  return "";
}

/** A node calling a pipeline has the called pipeline's ports: as drawn here, the ports its
 * edges use. */
function edgePorts(graph: Graph, id: string, call: OperatorSpec | undefined): OperatorSpec | undefined {
  if (!call) return undefined;
  const port = (name: string): PortSpec => ({ name, type: "table", label: name, optional: false });
  const names = (list: string[]) => [...new Set(list)].map(port);
  return {
    ...call,
    inputs: names(graph.edges.filter((e) => e.target === id).map((e) => e.target_port)),
    outputs: names(graph.edges.filter((e) => e.source === id).map((e) => e.source_port)),
  };
}
