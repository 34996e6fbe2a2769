// Pure helpers between the API's graph JSON and React Flow's nodes/edges. No React here.
import type { Edge, Node } from "@xyflow/react";
import type { Graph, GraphEdge, GraphNode, OperatorSpec } from "../api/types";

export type OpNodeData = {
  operator: string;
  params: Record<string, unknown>;
  label?: string;
  /** Params a pipeline calling this one may set: param → the name callers see. */
  exposed?: Record<string, string>;
};
export type OpNode = Node<OpNodeData, "operator">;
export type FlowEdge = Edge;

export const NODE_TYPE = "operator" as const;

export function edgeId(e: GraphEdge): string {
  return `${e.source}:${e.source_port}->${e.target}:${e.target_port}`;
}

export function graphNodeToFlow(n: GraphNode, exposed?: Record<string, string>): OpNode {
  const data: OpNodeData =
    n.label !== undefined
      ? { operator: n.operator, params: n.params ?? {}, label: n.label }
      : { operator: n.operator, params: n.params ?? {} };
  if (exposed && Object.keys(exposed).length) data.exposed = exposed;
  return {
    id: n.id,
    type: NODE_TYPE,
    position: { x: n.position?.x ?? 0, y: n.position?.y ?? 0 },
    data,
  };
}

/** A graph's exposed params by node: {node: {param: name}}. */
function exposedByNode(graph: Graph): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const e of graph.exposed ?? []) (out[e.node] ??= {})[e.param] = e.name;
  return out;
}

/** The nodes' exposed params as the graph lists them (by name; absent when none). */
function exposedOf(nodes: readonly OpNode[]): Pick<Graph, "exposed"> {
  const exposed = nodes
    .flatMap((n) => Object.entries(n.data.exposed ?? {}).map(([param, name]) => ({ name, node: n.id, param })))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return exposed.length ? { exposed } : {};
}

export function graphEdgeToFlow(e: GraphEdge): FlowEdge {
  return {
    id: edgeId(e),
    source: e.source,
    sourceHandle: e.source_port,
    target: e.target,
    targetHandle: e.target_port,
  };
}

/** API graph → React Flow nodes and edges. */
export function toFlow(graph: Graph): { nodes: OpNode[]; edges: FlowEdge[] } {
  const exposed = exposedByNode(graph);
  return {
    nodes: graph.nodes.map((n) => graphNodeToFlow(n, exposed[n.id])),
    edges: graph.edges.map(graphEdgeToFlow),
  };
}

/** React Flow nodes and edges → API graph (positions rounded; UI-only state dropped). */
export function toGraph(nodes: readonly OpNode[], edges: readonly FlowEdge[]): Graph {
  return {
    nodes: nodes.map((n) => ({
      id: n.id,
      operator: n.data.operator,
      params: n.data.params,
      position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
      ...(n.data.label !== undefined ? { label: n.data.label } : {}),
    })),
    edges: edges.map((e) => ({
      source: e.source,
      source_port: e.sourceHandle ?? "",
      target: e.target,
      target_port: e.targetHandle ?? "",
    })),
    ...exposedOf(nodes),
  };
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as Record<string, unknown>).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** A stable string for comparing graphs (key order and edge order don't matter). */
export function canonicalGraph(graph: Graph, opts: { positions?: boolean } = {}): string {
  const positions = opts.positions ?? true;
  const nodes = [...graph.nodes]
    .map((n) => ({
      id: n.id,
      operator: n.operator,
      params: n.params ?? {},
      label: n.label ?? "",
      ...(positions
        ? { position: { x: Math.round(n.position?.x ?? 0), y: Math.round(n.position?.y ?? 0) } }
        : {}),
    }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const edges = graph.edges.map(edgeId).sort();
  const exposed = graph.exposed?.length ? { exposed: graph.exposed.map((e) => `${e.name}=${e.node}.${e.param}`).sort() } : {};
  return JSON.stringify(sortKeys({ nodes, edges, ...exposed }));
}

export function graphsEqual(a: Graph, b: Graph): boolean {
  return canonicalGraph(a) === canonicalGraph(b);
}

/** The smallest "nN" id above all existing "nN" ids. */
export function newNodeId(existing: Iterable<string>): string {
  let max = 0;
  for (const id of existing) {
    const m = /^n(\d+)$/.exec(id);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return `n${max + 1}`;
}

/** Several fresh ids at once (for paste/duplicate). */
export function newNodeIds(existing: Iterable<string>, count: number): string[] {
  const taken = new Set(existing);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = newNodeId(taken);
    taken.add(id);
    out.push(id);
  }
  return out;
}

/**
 * Copies of `nodes` (and the edges among them) with fresh ids, moved by `offset`.
 * Edges to nodes outside the selection are dropped.
 */
export function cloneSubgraph(
  sub: Graph,
  existingIds: Iterable<string>,
  offset: { x: number; y: number },
): Graph {
  const ids = newNodeIds(existingIds, sub.nodes.length);
  const map = new Map(sub.nodes.map((n, i) => [n.id, ids[i]]));
  return {
    nodes: sub.nodes.map((n) => ({
      id: map.get(n.id)!,
      operator: n.operator,
      params: structuredClone(n.params ?? {}),
      ...(n.label !== undefined ? { label: n.label } : {}),
      position: { x: n.position.x + offset.x, y: n.position.y + offset.y },
    })),
    edges: sub.edges
      .filter((e) => map.has(e.source) && map.has(e.target))
      .map((e) => ({ ...e, source: map.get(e.source)!, target: map.get(e.target)! })),
  };
}

/** The part of `graph` made of `nodeIds` and the edges among them. */
export function subgraph(graph: Graph, nodeIds: ReadonlySet<string>): Graph {
  return {
    nodes: graph.nodes.filter((n) => nodeIds.has(n.id)),
    edges: graph.edges.filter((e) => nodeIds.has(e.source) && nodeIds.has(e.target)),
  };
}

export class GraphFormatError extends Error {}

/** Checks the shape of an imported JSON graph (not its semantics: the server does that). */
export function parseGraph(raw: unknown): Graph {
  const obj = raw && typeof raw === "object" ? (raw as Record<string, unknown>) : null;
  // Accept an exported pipeline ({name, graph}) as well as a bare graph.
  const g = obj && "graph" in obj && obj.graph && typeof obj.graph === "object" ? obj.graph : obj;
  if (!g || typeof g !== "object") throw new GraphFormatError("The file is not a graph.");
  const { nodes, edges } = g as { nodes?: unknown; edges?: unknown };
  if (!Array.isArray(nodes)) throw new GraphFormatError('The graph has no "nodes" list.');
  const edgeList = edges === undefined ? [] : edges;
  if (!Array.isArray(edgeList)) throw new GraphFormatError('"edges" must be a list.');
  const seen = new Set<string>();
  const outNodes: GraphNode[] = nodes.map((n, i) => {
    if (!n || typeof n !== "object") throw new GraphFormatError(`Node ${i} is not an object.`);
    const { id, operator, params, position, label } = n as Record<string, unknown>;
    if (typeof id !== "string" || !id) throw new GraphFormatError(`Node ${i} has no id.`);
    if (seen.has(id)) throw new GraphFormatError(`Two nodes have the id "${id}".`);
    seen.add(id);
    if (typeof operator !== "string") throw new GraphFormatError(`Node ${id} has no operator.`);
    const pos = (position ?? {}) as { x?: unknown; y?: unknown };
    return {
      id,
      operator,
      params: params && typeof params === "object" ? (params as Record<string, unknown>) : {},
      ...(typeof label === "string" ? { label } : {}),
      position: {
        x: typeof pos.x === "number" ? pos.x : i * 260,
        y: typeof pos.y === "number" ? pos.y : 0,
      },
    };
  });
  const outEdges: GraphEdge[] = edgeList.map((e, i) => {
    const { source, source_port, target, target_port } = (e ?? {}) as Record<string, unknown>;
    if (
      typeof source !== "string" ||
      typeof target !== "string" ||
      typeof source_port !== "string" ||
      typeof target_port !== "string"
    ) {
      throw new GraphFormatError(`Edge ${i} needs source, source_port, target and target_port.`);
    }
    if (!seen.has(source) || !seen.has(target)) {
      throw new GraphFormatError(`Edge ${i} refers to a node that does not exist.`);
    }
    return { source, source_port, target, target_port };
  });
  return { nodes: outNodes, edges: outEdges };
}

export function emptyGraph(): Graph {
  return { nodes: [], edges: [] };
}

export type Catalogue = Record<string, OperatorSpec>;

export function catalogueOf(ops: readonly OperatorSpec[]): Catalogue {
  const out: Catalogue = {};
  for (const op of ops) out[op.name] = op;
  return out;
}
