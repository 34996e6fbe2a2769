import { useReactFlow } from "@xyflow/react";
import { useCallback } from "react";
import type { StoreApi } from "zustand";
import { freeSpot, NEW_NODE_SIZE } from "../layout";
import type { EditorStore } from "../store";

/**
 * Add an operator from the palette: beside the selected node (and connected to it), or in the
 * middle of the view, wherever there is room; then bring it into view if it landed outside.
 */
export function useAddOperator(store: StoreApi<EditorStore>): (operator: string) => void {
  const { screenToFlowPosition, getViewport, setCenter } = useReactFlow();
  return useCallback(
    (operator: string) => {
      const s = store.getState();
      const { width: W, height: H } = NEW_NODE_SIZE;
      const selected = s.nodes.filter((n) => n.selected);
      let pos: { x: number; y: number };
      let id: string | null;
      if (selected.length === 1) {
        const from = selected[0];
        pos = freeSpot(s.nodes, { x: from.position.x + (from.measured?.width ?? W) + 80, y: from.position.y });
        id = s.addNode(operator, pos, { from: from.id });
      } else {
        const rect = document.querySelector(".canvas")?.getBoundingClientRect();
        const centre = rect
          ? screenToFlowPosition({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 })
          : { x: 0, y: 0 };
        pos = freeSpot(s.nodes, { x: Math.round(centre.x - W / 2), y: Math.round(centre.y - H / 2) });
        id = s.addNode(operator, pos);
      }
      if (!id) return;
      const rect = document.querySelector(".canvas")?.getBoundingClientRect();
      if (rect) {
        const { x, y, zoom } = getViewport();
        const sx = pos.x * zoom + x;
        const sy = pos.y * zoom + y;
        if (sx < 0 || sy < 0 || sx + W * zoom > rect.width || sy + H * zoom > rect.height) {
          void setCenter(pos.x + W / 2, pos.y + H / 2, { zoom, duration: 250 });
        }
      }
    },
    [store, screenToFlowPosition, getViewport, setCenter],
  );
}
