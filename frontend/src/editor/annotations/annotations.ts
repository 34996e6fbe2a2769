// Sticky notes and coloured frames on the canvas: pure helpers between the API's annotations
// and React Flow's nodes. No React here.
//
// Annotations are not part of the graph: they are saved with the pipeline (PATCH
// {annotations}), outside the graph and its hash, so a note never makes a new version. On the
// canvas they are React Flow nodes of their own types ("note", "frame") whose ids carry a
// prefix no operator node id can have (node ids never contain ":"), kept in the store apart from
// the operator nodes: the graph, validation, the plan and the run never see them.
import type { Node, NodeChange } from "@xyflow/react";

export type AnnotationKind = "note" | "frame";

/** One annotation as the API stores it. */
export interface Annotation {
  id: string;
  kind: AnnotationKind;
  /** A note's text, a frame's title. */
  text: string;
  position: { x: number; y: number };
  size: { width: number; height: number };
  color: string;
}

export type AnnotationData = { text: string; color: string };
export type NoteNode = Node<AnnotationData, "note">;
export type FrameNode = Node<AnnotationData, "frame">;
export type AnnotationNode = NoteNode | FrameNode;

export const NOTE_TYPE = "note" as const;
export const FRAME_TYPE = "frame" as const;
/** React Flow id of an annotation: this prefix, then its id. */
export const ANNOTATION_PREFIX = "annotation:";

// The server's limits (datagran/pipelines/annotations.py).
export const MAX_ANNOTATIONS = 200;
export const MAX_TEXT = 5_000;
export const MIN_SIZE = 20;
export const MAX_SIZE = 20_000;
const MAX_COORD = 1_000_000;
const ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** The canvas's palette: a name (what is stored) → its fill and border. */
export const PALETTE: Record<string, { fill: string; border: string; label: string }> = {
  yellow: { fill: "#fef3c7", border: "#f59e0b", label: "Yellow" },
  orange: { fill: "#ffedd5", border: "#f97316", label: "Orange" },
  pink: { fill: "#fce7f3", border: "#ec4899", label: "Pink" },
  purple: { fill: "#ede9fe", border: "#8b5cf6", label: "Purple" },
  blue: { fill: "#dbeafe", border: "#3b82f6", label: "Blue" },
  green: { fill: "#dcfce7", border: "#22c55e", label: "Green" },
  gray: { fill: "#f1f5f9", border: "#94a3b8", label: "Gray" },
};
export const COLOR_NAMES = Object.keys(PALETTE);

export const DEFAULT_COLOR: Record<AnnotationKind, string> = { note: "yellow", frame: "blue" };
export const DEFAULT_SIZE: Record<AnnotationKind, { width: number; height: number }> = {
  note: { width: 220, height: 140 },
  frame: { width: 560, height: 320 },
};
/** The smallest a note or frame can be made on the canvas. */
export const MIN_CANVAS_SIZE: Record<AnnotationKind, { width: number; height: number }> = {
  note: { width: 120, height: 60 },
  frame: { width: 160, height: 100 },
};

/**
 * Behind operator nodes, frames behind notes. React Flow raises a selected node by 1,000: a
 * selected frame is then level with the notes (which come after it), a selected note with the
 * operator nodes (which come after it too), so neither ever covers an operator node.
 */
export const Z_INDEX: Record<AnnotationKind, number> = { frame: -2000, note: -1000 };

export function flowIdOf(id: string): string {
  return ANNOTATION_PREFIX + id;
}

export function annotationIdOf(flowId: string): string {
  return flowId.startsWith(ANNOTATION_PREFIX) ? flowId.slice(ANNOTATION_PREFIX.length) : flowId;
}

export function isAnnotationId(flowId: string | undefined | null): boolean {
  return !!flowId && flowId.startsWith(ANNOTATION_PREFIX);
}

export function isAnnotationNode(n: { id: string; type?: string }): boolean {
  return isAnnotationId(n.id);
}

/**
 * A stored colour's fill, border and tint (a translucent fill, for frames): a palette name, or
 * #rrggbb (a light tint of it as fill).
 */
export function colorOf(color: string): { fill: string; border: string; tint: string } {
  const named = PALETTE[color] ?? (/^#[0-9a-fA-F]{6}$/.test(color) ? null : PALETTE.yellow);
  if (named) return { fill: named.fill, border: named.border, tint: `${named.fill}b3` };
  return { fill: `${color}33`, border: color, tint: `${color}1f` };
}

/** A note's or frame's colour in the minimap; null for any other node. */
export function minimapColorOf(n: { id: string; data?: unknown }): string | null {
  if (!isAnnotationId(n.id)) return null;
  const color = (n.data as Partial<AnnotationData> | undefined)?.color ?? "";
  return colorOf(color).fill;
}

export function annotationToNode(a: Annotation): AnnotationNode {
  return {
    id: flowIdOf(a.id),
    type: a.kind,
    position: { x: a.position.x, y: a.position.y },
    width: a.size.width,
    height: a.size.height,
    zIndex: Z_INDEX[a.kind],
    data: { text: a.text, color: a.color },
  } as AnnotationNode;
}

export function nodeToAnnotation(n: AnnotationNode): Annotation {
  const kind: AnnotationKind = n.type === FRAME_TYPE ? "frame" : "note";
  return {
    id: annotationIdOf(n.id),
    kind,
    text: n.data.text,
    position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
    size: {
      width: clampSize(n.width ?? n.measured?.width ?? DEFAULT_SIZE[kind].width),
      height: clampSize(n.height ?? n.measured?.height ?? DEFAULT_SIZE[kind].height),
    },
    color: n.data.color,
  };
}

/** Frames first, then notes, each in their own order: the DOM order the layers need. */
export function layered<T extends { type?: string }>(nodes: readonly T[]): T[] {
  return [...nodes.filter((n) => n.type === FRAME_TYPE), ...nodes.filter((n) => n.type !== FRAME_TYPE)];
}

/** Stored annotations → React Flow nodes. */
export function toAnnotationNodes(list: readonly Annotation[]): AnnotationNode[] {
  return layered(list.map(annotationToNode));
}

/** React Flow nodes → annotations to store (positions and sizes rounded). */
export function fromAnnotationNodes(nodes: readonly AnnotationNode[]): Annotation[] {
  return nodes.map(nodeToAnnotation);
}

/** A stable string for comparing annotations (their order does not matter). */
export function canonicalAnnotations(list: readonly Annotation[]): string {
  return JSON.stringify(
    [...list]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((a) => [
        a.id,
        a.kind,
        a.text,
        Math.round(a.position.x),
        Math.round(a.position.y),
        Math.round(a.size.width),
        Math.round(a.size.height),
        a.color.toLowerCase(),
      ]),
  );
}

function clampSize(v: number): number {
  return Math.min(MAX_SIZE, Math.max(MIN_SIZE, Math.round(v)));
}

function num(v: unknown, fallback: number, low: number, high: number): number {
  return typeof v === "number" && Number.isFinite(v) ? Math.min(high, Math.max(low, v)) : fallback;
}

/**
 * Annotations as read from the server or a draft, defensively: what is not an annotation is
 * dropped, numbers are kept within the server's bounds, an unknown colour falls back to the
 * kind's default. Never throws.
 */
export function parseAnnotations(raw: unknown): Annotation[] {
  if (!Array.isArray(raw)) return [];
  const seen = new Set<string>();
  const out: Annotation[] = [];
  for (const item of raw) {
    if (!item || typeof item !== "object") continue;
    const o = item as Record<string, unknown>;
    const { id, kind } = o;
    if (typeof id !== "string" || !ID_RE.test(id) || seen.has(id)) continue;
    if (kind !== "note" && kind !== "frame") continue;
    seen.add(id);
    const pos = (o.position ?? {}) as Record<string, unknown>;
    const size = (o.size ?? {}) as Record<string, unknown>;
    const color = typeof o.color === "string" ? o.color : "";
    out.push({
      id,
      kind,
      text: typeof o.text === "string" ? o.text.slice(0, MAX_TEXT) : "",
      position: { x: num(pos.x, 0, -MAX_COORD, MAX_COORD), y: num(pos.y, 0, -MAX_COORD, MAX_COORD) },
      size: {
        width: num(size.width, DEFAULT_SIZE[kind].width, MIN_SIZE, MAX_SIZE),
        height: num(size.height, DEFAULT_SIZE[kind].height, MIN_SIZE, MAX_SIZE),
      },
      color: PALETTE[color] || /^#[0-9a-fA-F]{6}$/.test(color) ? color.toLowerCase() : DEFAULT_COLOR[kind],
    });
    if (out.length >= MAX_ANNOTATIONS) break;
  }
  return out;
}

/** The smallest "note-N" (or "frame-N") id above all existing ones of that kind. */
export function newAnnotationId(existing: Iterable<string>, kind: AnnotationKind): string {
  let max = 0;
  const re = new RegExp(`^${kind}-(\\d+)$`);
  for (const raw of existing) {
    const m = re.exec(annotationIdOf(raw));
    if (m) max = Math.max(max, Number(m[1]));
  }
  return `${kind}-${max + 1}`;
}

export type Rect = { x: number; y: number; width: number; height: number };

/** Whether `inner` lies wholly within `outer`. */
export function inside(inner: Rect, outer: Rect): boolean {
  return (
    inner.x >= outer.x &&
    inner.y >= outer.y &&
    inner.x + inner.width <= outer.x + outer.width &&
    inner.y + inner.height <= outer.y + outer.height
  );
}

/** A node's rectangle on the canvas (its measured size, else its set size, else `fallback`). */
export function rectOf(
  n: Pick<Node, "position" | "width" | "height" | "measured">,
  fallback = { width: 0, height: 0 },
): Rect {
  return {
    x: n.position.x,
    y: n.position.y,
    width: n.width ?? n.measured?.width ?? fallback.width,
    height: n.height ?? n.measured?.height ?? fallback.height,
  };
}

function overlaps(a: Rect, b: Rect, gap: number): boolean {
  return a.x < b.x + b.width + gap && a.x + a.width + gap > b.x && a.y < b.y + b.height + gap && a.y + a.height + gap > b.y;
}

/**
 * Where a `size` box fits near `start` (its top-left corner) without covering any of `taken`
 * (`gap` apart): `start`, else the nearest free spot on rings of candidates around it; `start`
 * when none is free.
 */
export function freeRect(
  start: { x: number; y: number },
  size: { width: number; height: number },
  taken: readonly Rect[],
  gap = 24,
): { x: number; y: number } {
  const free = (x: number, y: number) => !taken.some((t) => overlaps({ x, y, ...size }, t, gap));
  if (free(start.x, start.y)) return start;
  const stepX = Math.round(size.width / 2 + gap);
  const stepY = Math.round(size.height / 2 + gap);
  for (let ring = 1; ring <= 8; ring++) {
    const spots: { x: number; y: number; d: number }[] = [];
    for (let i = -ring; i <= ring; i++) {
      for (let j = -ring; j <= ring; j++) {
        if (Math.max(Math.abs(i), Math.abs(j)) !== ring) continue;
        const x = start.x + i * stepX;
        const y = start.y + j * stepY;
        spots.push({ x, y, d: Math.hypot(x - start.x, y - start.y) });
      }
    }
    spots.sort((p, q) => p.d - q.d);
    const spot = spots.find((p) => free(p.x, p.y));
    if (spot) return { x: spot.x, y: spot.y };
  }
  return start;
}

/** A frame around `rects`, with room for its title. */
export function frameAround(rects: readonly Rect[], pad = 32, title = 30): Rect | null {
  if (!rects.length) return null;
  const x0 = Math.min(...rects.map((r) => r.x));
  const y0 = Math.min(...rects.map((r) => r.y));
  const x1 = Math.max(...rects.map((r) => r.x + r.width));
  const y1 = Math.max(...rects.map((r) => r.y + r.height));
  return {
    x: Math.round(x0 - pad),
    y: Math.round(y0 - pad - title),
    width: clampSize(x1 - x0 + 2 * pad),
    height: clampSize(y1 - y0 + 2 * pad + title),
  };
}

/** The id a React Flow node change is about. */
export function changeId(c: NodeChange): string {
  return c.type === "add" ? c.item.id : c.id;
}

/** React Flow's node changes split into the annotations' and the operator nodes'. */
export function splitChanges<A extends Node, O extends Node>(
  changes: readonly NodeChange<A | O>[],
): { annotations: NodeChange<A>[]; operators: NodeChange<O>[] } {
  const annotations: NodeChange<A>[] = [];
  const operators: NodeChange<O>[] = [];
  for (const c of changes) {
    if (isAnnotationId(changeId(c as NodeChange))) annotations.push(c as NodeChange<A>);
    else operators.push(c as NodeChange<O>);
  }
  return { annotations, operators };
}

/**
 * Whether React Flow is mid-gesture: a drag (positions with dragging: true) or a resize
 * (dimensions with resizing: true). What the annotations are is settled by the gesture's end.
 */
export function isMidGesture(changes: readonly NodeChange[]): boolean {
  return (
    changes.length > 0 &&
    changes.some(
      (c) => (c.type === "position" && c.dragging === true) || (c.type === "dimensions" && c.resizing === true),
    ) &&
    changes.every(
      (c) =>
        (c.type === "position" && c.dragging !== false) || (c.type === "dimensions" && c.resizing !== false),
    )
  );
}
