// A frame carries what lies in it: dragging a frame moves the operator nodes, notes and frames
// wholly inside it (as they were when the drag began) by as much as the frame.
import type { NodeChange } from "@xyflow/react";
import { DEFAULT_NODE_SIZE } from "../layout";
import { FRAME_TYPE, inside, rectOf, type AnnotationNode } from "./annotations";
import type { OpNode } from "../graph";

export interface FrameDrag {
  start: { x: number; y: number };
  members: { id: string; start: { x: number; y: number } }[];
}

/** What `frame` carries: the nodes wholly inside it, but those in `moving` (already dragged). */
export function frameMembers(
  frame: AnnotationNode,
  ops: readonly OpNode[],
  annotations: readonly AnnotationNode[],
  moving: ReadonlySet<string>,
): FrameDrag {
  const box = rectOf(frame);
  const members: FrameDrag["members"] = [];
  for (const n of [...ops, ...annotations]) {
    if (n.id === frame.id || moving.has(n.id)) continue;
    if (inside(rectOf(n, DEFAULT_NODE_SIZE), box)) members.push({ id: n.id, start: { ...n.position } });
  }
  return { start: { ...frame.position }, members };
}

/** The members' moves for the frame at `at`, with the frame's drag flag. */
export function memberMoves(drag: FrameDrag, at: { x: number; y: number }, dragging: boolean | undefined): NodeChange[] {
  const dx = at.x - drag.start.x;
  const dy = at.y - drag.start.y;
  return drag.members.map((m) => ({
    id: m.id,
    type: "position" as const,
    position: { x: m.start.x + dx, y: m.start.y + dy },
    dragging,
  }));
}

/**
 * Follows frame drags across React Flow's change batches: for each batch, the extra position
 * changes that move what the dragged frames carry. One per editor store.
 */
export class FrameDragTracker {
  private drags = new Map<string, FrameDrag>();

  followers(
    changes: readonly NodeChange[],
    ops: readonly OpNode[],
    annotations: readonly AnnotationNode[],
  ): NodeChange[] {
    const out: NodeChange[] = [];
    let moving: Set<string> | null = null;
    for (const c of changes) {
      if (c.type !== "position" || !c.position) continue;
      let drag = this.drags.get(c.id);
      if (!drag) {
        if (c.dragging !== true) continue;
        const frame = annotations.find((a) => a.id === c.id);
        if (!frame || frame.type !== FRAME_TYPE) continue;
        moving ??= new Set(changes.map((x) => (x.type === "add" ? x.item.id : x.id)));
        drag = frameMembers(frame, ops, annotations, moving);
        this.drags.set(c.id, drag);
      }
      out.push(...memberMoves(drag, c.position, c.dragging));
      if (c.dragging !== true) this.drags.delete(c.id);
    }
    return out;
  }
}
