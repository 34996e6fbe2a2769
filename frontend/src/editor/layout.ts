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

type Point = { x: number; y: number };
type Placed = { position: Point; measured?: { width?: number; height?: number } };

/** The size a node being added is given room for (its label may wrap to a second line). */
export const NEW_NODE_SIZE = { width: DEFAULT_NODE_SIZE.width, height: DEFAULT_NODE_SIZE.height + 14 };

/**
 * Where a new node fits near `start` without overlapping another (24px apart): `start`, then
 * alternately below and above it, one row at a time; `start` when 40 tries find no room.
 */
export function freeSpot(nodes: readonly Placed[], start: Point): Point {
  const { width: W, height: H } = NEW_NODE_SIZE;
  const overlaps = (p: Point) =>
    nodes.some((n) => {
      const w = n.measured?.width ?? W;
      const h = n.measured?.height ?? H;
      return (
        p.x < n.position.x + w + 24 &&
        p.x + W + 24 > n.position.x &&
        p.y < n.position.y + h + 24 &&
        p.y + H + 24 > n.position.y
      );
    });
  for (let k = 0; k < 40; k++) {
    const dy = Math.ceil(k / 2) * (H + 40) * (k % 2 ? 1 : -1);
    const p = { x: start.x, y: start.y + dy };
    if (!overlaps(p)) return p;
  }
  return start;
}
