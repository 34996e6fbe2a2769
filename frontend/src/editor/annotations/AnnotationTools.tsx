// The canvas's Note and Frame tools. A note lands in the middle of the view, open for writing;
// a frame goes around the selected operator nodes, or in the middle of the view.
import { Panel, useReactFlow } from "@xyflow/react";
import { Frame, StickyNote } from "lucide-react";
import { useCallback } from "react";
import { toast } from "../../ui/toast";
import { useEditorApi } from "../context";
import { DEFAULT_NODE_SIZE } from "../layout";
import {
  DEFAULT_SIZE,
  frameAround,
  freeRect,
  MAX_ANNOTATIONS,
  rectOf,
  type AnnotationKind,
} from "./annotations";

export function AnnotationTools() {
  const store = useEditorApi();
  const { screenToFlowPosition } = useReactFlow();

  const add = useCallback(
    (kind: AnnotationKind) => {
      const s = store.getState();
      const selected = s.nodes.filter((n) => n.selected);
      const around = kind === "frame" ? frameAround(selected.map((n) => rectOf(n, DEFAULT_NODE_SIZE))) : null;
      let at: { x: number; y: number };
      let size = DEFAULT_SIZE[kind];
      if (around) {
        at = { x: around.x, y: around.y };
        size = { width: around.width, height: around.height };
      } else {
        const rect = document.querySelector("[data-testid=canvas]")?.getBoundingClientRect();
        const centre = rect
          ? screenToFlowPosition({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 })
          : { x: 0, y: 0 };
        at = { x: centre.x - size.width / 2, y: centre.y - size.height / 2 };
        if (kind === "note") {
          // Where it covers no operator node (it would hide behind it) and no other note.
          const taken = [
            ...s.nodes.map((n) => rectOf(n, DEFAULT_NODE_SIZE)),
            ...s.annotations.filter((a) => a.type !== "frame").map((a) => rectOf(a)),
          ];
          at = freeRect(at, size, taken);
        } else {
          // A frame is a background: only not exactly on another one.
          const corners = new Set(s.annotations.map((a) => `${Math.round(a.position.x)},${Math.round(a.position.y)}`));
          for (let i = 0; i < 20 && corners.has(`${Math.round(at.x)},${Math.round(at.y)}`); i++) {
            at = { x: at.x + 32, y: at.y + 32 };
          }
        }
      }
      const id = s.addAnnotation(kind, at, size);
      if (!id) toast(`A pipeline holds at most ${MAX_ANNOTATIONS} notes and frames.`, "error");
    },
    [store, screenToFlowPosition],
  );

  return (
    <Panel position="bottom-center" className="ann-tools" role="toolbar" aria-label="Annotations">
      <button
        type="button"
        className="ann-tool"
        onClick={() => add("note")}
        title="Add a sticky note (saved with the pipeline, not part of the graph)"
      >
        <StickyNote size={15} /> Note
      </button>
      <button
        type="button"
        className="ann-tool"
        onClick={() => add("frame")}
        title="Add a coloured frame (around the selected nodes, if any); dragging it moves what is in it"
      >
        <Frame size={15} /> Frame
      </button>
    </Panel>
  );
}
