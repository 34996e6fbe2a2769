// The canvas's nodes: the notes and frames behind the operator nodes. React Flow gets them in
// one list; its changes are split again, the annotations' to the annotations, the operator
// nodes' to the graph (so an annotation never reaches the graph, validation, the plan or a run).
import type { NodeChange } from "@xyflow/react";
import { useCallback, useMemo, useRef } from "react";
import { useEditor, useEditorApi } from "../context";
import type { OpNode } from "../graph";
import type { EditorStore } from "../store";
import { splitChanges, type AnnotationNode } from "./annotations";
import { FrameDragTracker } from "./frameDrag";

export type CanvasNode = OpNode | AnnotationNode;

const selectAnnotations = (s: EditorStore) => s.annotations;

export function useAnnotationLayer(opNodes: OpNode[]): {
  nodes: CanvasNode[];
  onNodesChange: (changes: NodeChange<CanvasNode>[]) => void;
} {
  const store = useEditorApi();
  const annotations = useEditor(selectAnnotations);
  const tracker = useRef<FrameDragTracker | null>(null);
  tracker.current ??= new FrameDragTracker();

  // Frames first, then notes, then the operator nodes: the DOM order their layers need.
  const nodes = useMemo<CanvasNode[]>(
    () => (annotations.length ? [...annotations, ...opNodes] : opNodes),
    [annotations, opNodes],
  );

  const onNodesChange = useCallback(
    (changes: NodeChange<CanvasNode>[]) => {
      const s = store.getState();
      const split = splitChanges<AnnotationNode, OpNode>(changes);
      let { annotations: ann, operators: ops } = split;
      if (ann.length) {
        const carried = splitChanges<AnnotationNode, OpNode>(
          tracker.current!.followers(changes as NodeChange[], s.nodes, s.annotations) as NodeChange<CanvasNode>[],
        );
        ann = [...ann, ...carried.annotations];
        ops = [...ops, ...carried.operators];
        s.onAnnotationsChange(ann);
      }
      if (ops.length) store.getState().onNodesChange(ops);
    },
    [store],
  );

  return { nodes, onNodesChange };
}
