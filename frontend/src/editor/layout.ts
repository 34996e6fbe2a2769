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

type Rect = { x: number; y: number; width: number; height: number };
export type Viewport = { x: number; y: number; zoom: number };

/** Below this zoom a node's text is too small to read: auto-layout pans rather than go lower. */
export const READABLE_ZOOM = 0.6;

/**
 * A viewport showing `bounds` (flow coordinates) in a `width` × `height` pane with `pad` pixels
 * around it: centred at the zoom that fits (at most `maxZoom`); when that zoom would be under
 * `minZoom`, at `minZoom` with the graph's start (its left edge; pipelines flow left to right)
 * in view and its middle row centred.
 */
export function viewportFor(
  bounds: Rect,
  pane: { width: number; height: number },
  opts: { pad?: number; minZoom?: number; maxZoom?: number } = {},
): Viewport {
  const { pad = 48, minZoom = 0.2, maxZoom = 1 } = opts;
  const w = Math.max(1, bounds.width);
  const h = Math.max(1, bounds.height);
  const fit = Math.min(maxZoom, (pane.width - 2 * pad) / w, (pane.height - 2 * pad) / h);
  if (fit >= minZoom) {
    return {
      x: (pane.width - w * fit) / 2 - bounds.x * fit,
      y: (pane.height - h * fit) / 2 - bounds.y * fit,
      zoom: fit,
    };
  }
  const zoom = minZoom;
  return { x: pad - bounds.x * zoom, y: (pane.height - h * zoom) / 2 - bounds.y * zoom, zoom };
}

/**
 * The smallest change to `view` that brings `bounds` wholly into the pane (with `pad`): none when
 * it is in view; a pan when it fits at the current zoom; otherwise the fitting zoom, centred.
 */
export function keepInView(
  bounds: Rect,
  view: Viewport,
  pane: { width: number; height: number },
  pad = 24,
): Viewport | null {
  const z = view.zoom;
  const left = bounds.x * z + view.x;
  const top = bounds.y * z + view.y;
  const right = left + bounds.width * z;
  const bottom = top + bounds.height * z;
  const inside = left >= pad - 0.5 && top >= pad - 0.5 && right <= pane.width - pad + 0.5 && bottom <= pane.height - pad + 0.5;
  if (inside) return null;
  const fitsW = bounds.width * z <= pane.width - 2 * pad;
  const fitsH = bounds.height * z <= pane.height - 2 * pad;
  if (!fitsW || !fitsH) return viewportFor(bounds, pane, { pad, maxZoom: z, minZoom: 0 });
  const shift = (lo: number, hi: number, size: number) =>
    lo < pad ? pad - lo : hi > size - pad ? size - pad - hi : 0;
  return { x: view.x + shift(left, right, pane.width), y: view.y + shift(top, bottom, pane.height), zoom: z };
}

/** Where a pasted group goes so that its first (top-left) node is centred on `pointer`. */
export function pasteOffset(
  nodes: readonly { position: Point }[],
  pointer: Point,
  size = DEFAULT_NODE_SIZE,
): Point {
  if (!nodes.length) return { x: 0, y: 0 };
  const minX = Math.min(...nodes.map((n) => n.position.x));
  const minY = Math.min(...nodes.map((n) => n.position.y));
  return {
    x: Math.round(pointer.x - size.width / 2 - minX),
    y: Math.round(pointer.y - size.height / 2 - minY),
  };
}

/** The corners the minimap may sit in, in the order it tries them. */
export const MINIMAP_CORNERS = ["bottom-right", "top-right", "top-left"] as const;
export type Corner = (typeof MINIMAP_CORNERS)[number];

/**
 * The first corner where a `box`-sized minimap (with `margin` from the pane's edges) covers
 * none of `nodes` (screen rectangles in the pane); null when every corner has one.
 */
export function freeCorner(
  nodes: readonly Rect[],
  pane: { width: number; height: number },
  box: { width: number; height: number },
  margin = 15,
  gap = 6,
): Corner | null {
  for (const corner of MINIMAP_CORNERS) {
    const x = corner.endsWith("right") ? pane.width - margin - box.width : margin;
    const y = corner.startsWith("bottom") ? pane.height - margin - box.height : margin;
    const hit = nodes.some(
      (n) =>
        n.x < x + box.width + gap && n.x + n.width + gap > x && n.y < y + box.height + gap && n.y + n.height + gap > y,
    );
    if (!hit) return corner;
  }
  return null;
}
