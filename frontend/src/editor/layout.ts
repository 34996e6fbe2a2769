// Auto-layout with dagre: left-to-right layers.
import dagre from "@dagrejs/dagre";
import type { Graph } from "../api/types";

export const DEFAULT_NODE_SIZE = { width: 204, height: 96 };

export function layoutGraph(
  graph: Graph,
  sizes: Record<string, { width: number; height: number }> = {},
): Record<string, { x: number; y: number }> {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 40, ranksep: 90, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) {
    const size = sizes[n.id] ?? DEFAULT_NODE_SIZE;
    g.setNode(n.id, { width: size.width, height: size.height });
  }
  for (const e of graph.edges) g.setEdge(e.source, e.target);
  dagre.layout(g);
  const out: Record<string, { x: number; y: number }> = {};
  for (const n of graph.nodes) {
    const p = g.node(n.id);
    const size = sizes[n.id] ?? DEFAULT_NODE_SIZE;
    // dagre gives centres; React Flow wants top-left corners.
    out[n.id] = { x: Math.round(p.x - size.width / 2), y: Math.round(p.y - size.height / 2) };
  }
  return out;
}
