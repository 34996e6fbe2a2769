// The editor store's annotations: notes and frames as React Flow nodes, kept apart from the
// operator nodes (`nodes`), so the graph, validation, the plan and runs never see them. Each
// edit records an undo snapshot (graph and annotations together) first, like the graph's edits.
import { applyNodeChanges, type NodeChange } from "@xyflow/react";
import type { StoreApi } from "zustand/vanilla";
import type { Graph } from "../../api/types";
import type { EditorState, EditorStore } from "../store";
import {
  canonicalAnnotations,
  DEFAULT_COLOR,
  DEFAULT_SIZE,
  fromAnnotationNodes,
  isMidGesture,
  layered,
  MAX_ANNOTATIONS,
  MAX_TEXT,
  newAnnotationId,
  toAnnotationNodes,
  annotationToNode,
  type Annotation,
  type AnnotationKind,
  type AnnotationNode,
} from "./annotations";

/** What undo and redo restore: the graph and the annotations as they were. */
export type Snapshot = Graph & { annotations?: Annotation[] };

export interface AnnotationState {
  /** Notes and frames as React Flow nodes (frames first). */
  annotations: AnnotationNode[];
  /** Canonical form of the annotations now, and as last saved (or loaded). */
  annotationsKey: string;
  savedAnnotationsKey: string;
  /** The React Flow id of the note or frame whose text is being edited. */
  editingAnnotation: string | null;
}

export interface AnnotationActions {
  /** The annotations as the API stores them. */
  getAnnotations(): Annotation[];
  /** The graph and the annotations, for undo. */
  getSnapshot(): Snapshot;
  onAnnotationsChange(changes: NodeChange<AnnotationNode>[]): void;
  /** Add a note or a frame (selected; a note opens for writing); its React Flow id, or null at
   * the limit. */
  addAnnotation(
    kind: AnnotationKind,
    position: { x: number; y: number },
    size?: { width: number; height: number },
  ): string | null;
  setAnnotationText(flowId: string, text: string): void;
  setAnnotationColor(flowId: string, color: string): void;
  deleteAnnotations(flowIds: readonly string[]): void;
  /** Replace every annotation (a restored draft). */
  setAnnotations(list: readonly Annotation[], opts?: { record?: boolean }): void;
  /** Start (a React Flow id) or stop (null) editing a note's or frame's text. */
  editAnnotation(flowId: string | null): void;
}

/** The annotation fields of a new store. */
export function annotationInit(list: readonly Annotation[]): AnnotationState {
  const key = canonicalAnnotations(list);
  return {
    annotations: toAnnotationNodes(list),
    annotationsKey: key,
    savedAnnotationsKey: key,
    editingAnnotation: null,
  };
}

/** The state for `list` in place of the current annotations (undo, redo, a draft). */
export function annotationsReplaced(list: readonly Annotation[]): Pick<AnnotationState, "annotations" | "annotationsKey"> {
  return { annotations: toAnnotationNodes(list), annotationsKey: canonicalAnnotations(list) };
}

/** Whether the editor has unsaved changes: in the graph or in the annotations. */
export function isDirty(s: Pick<EditorState, "graphKey" | "savedKey" | "annotationsKey" | "savedAnnotationsKey">): boolean {
  return s.graphKey !== s.savedKey || s.annotationsKey !== s.savedAnnotationsKey;
}

/** The selected annotations removed (the Delete key), or null when none is selected. */
export function withoutSelectedAnnotations(
  s: EditorStore,
): { state: Pick<AnnotationState, "annotations" | "annotationsKey">; count: number } | null {
  const kept = s.annotations.filter((a) => !a.selected);
  const count = s.annotations.length - kept.length;
  if (!count) return null;
  return { state: { annotations: kept, annotationsKey: canonicalAnnotations(fromAnnotationNodes(kept)) }, count };
}

export function annotationActions(
  set: StoreApi<EditorStore>["setState"],
  get: () => EditorStore,
): AnnotationActions {
  /** Set the annotation nodes and what follows from them (the key, dirty). */
  const setAnnotationNodes = (annotations: AnnotationNode[], extra: Partial<EditorState> = {}) => {
    const annotationsKey = canonicalAnnotations(fromAnnotationNodes(annotations));
    set({
      annotations,
      annotationsKey,
      dirty: isDirty({ ...get(), annotationsKey }),
      ...extra,
    });
  };

  const update = (flowId: string, f: (n: AnnotationNode) => AnnotationNode) =>
    get().annotations.map((n) => (n.id === flowId ? f(n) : n));

  return {
    getAnnotations: () => fromAnnotationNodes(get().annotations),

    getSnapshot: () => ({ ...get().getGraph(), annotations: get().getAnnotations() }),

    onAnnotationsChange: (changes) => {
      const structural = changes.some((c) => c.type === "remove" || c.type === "add");
      if (structural) get().commit();
      const annotations = layered(applyNodeChanges(changes, get().annotations));
      if (!structural && isMidGesture(changes as NodeChange[])) {
        // Mid-drag or mid-resize: the key and dirty follow at the gesture's end.
        set({ annotations });
        return;
      }
      const removed = changes.some((c) => c.type === "remove" && c.id === get().editingAnnotation);
      setAnnotationNodes(annotations, removed ? { editingAnnotation: null } : {});
    },

    addAnnotation: (kind, position, size) => {
      const current = get().annotations;
      if (current.length >= MAX_ANNOTATIONS) return null;
      get().commit();
      const id = newAnnotationId(current.map((n) => n.id), kind);
      const node = annotationToNode({
        id,
        kind,
        text: "",
        position: { x: Math.round(position.x), y: Math.round(position.y) },
        size: size ?? DEFAULT_SIZE[kind],
        color: DEFAULT_COLOR[kind],
      });
      node.selected = true;
      const others = current.map((n) => (n.selected ? { ...n, selected: false } : n));
      const nodes = get().nodes.map((n) => (n.selected ? { ...n, selected: false } : n));
      setAnnotationNodes(layered([...others, node]), {
        nodes,
        editingAnnotation: kind === "note" ? node.id : null,
      });
      return node.id;
    },

    setAnnotationText: (flowId, text) => {
      const node = get().annotations.find((n) => n.id === flowId);
      if (!node) return;
      const next = text.slice(0, MAX_TEXT);
      if (next === node.data.text) return;
      // Typing is one undo step (calls within a second of each other merge).
      get().commit(`annotation-text:${flowId}`);
      setAnnotationNodes(update(flowId, (n) => ({ ...n, data: { ...n.data, text: next } }) as AnnotationNode));
    },

    setAnnotationColor: (flowId, color) => {
      const node = get().annotations.find((n) => n.id === flowId);
      if (!node || node.data.color === color) return;
      get().commit();
      setAnnotationNodes(update(flowId, (n) => ({ ...n, data: { ...n.data, color } }) as AnnotationNode));
    },

    deleteAnnotations: (flowIds) => {
      const drop = new Set(flowIds);
      const kept = get().annotations.filter((n) => !drop.has(n.id));
      if (kept.length === get().annotations.length) return;
      get().commit();
      const editing = get().editingAnnotation;
      setAnnotationNodes(kept, editing && drop.has(editing) ? { editingAnnotation: null } : {});
    },

    setAnnotations: (list, opts = {}) => {
      if (opts.record ?? true) get().commit();
      setAnnotationNodes(toAnnotationNodes(list), { editingAnnotation: null });
    },

    editAnnotation: (flowId) => {
      if (flowId !== null && !get().annotations.some((n) => n.id === flowId)) return;
      if (get().editingAnnotation !== flowId) set({ editingAnnotation: flowId });
    },
  };
}
