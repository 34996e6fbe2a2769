// The editor's keyboard shortcuts: save, undo/redo, copy/cut/paste, duplicate, select, delete.
import { useEffect, useRef } from "react";
import type { StoreApi } from "zustand";
import type { Graph } from "../../api/types";
import { toast } from "../../ui/toast";
import { cancelRun, savePipeline } from "../actions";
import { isRunActive } from "../runState";
import type { EditorStore } from "../store";

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = (target as HTMLInputElement).type;
    return !["checkbox", "radio", "button", "submit", "range", "color", "file"].includes(type);
  }
  return false;
}

const CLIPBOARD_KEY = "datagran:clipboard";
let clipboard: Graph | null = null;

type Point = { x: number; y: number };

/**
 * `pointerAt`: where the pointer is on the canvas (flow coordinates), null when it is not over
 * it; paste and duplicate land there.
 */
export function useShortcuts(
  store: StoreApi<EditorStore>,
  opts: { disabled: boolean; pointerAt?: () => Point | null },
): void {
  const disabledRef = useRef(opts.disabled);
  disabledRef.current = opts.disabled;
  const pointerRef = useRef(opts.pointerAt);
  pointerRef.current = opts.pointerAt;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (disabledRef.current) return;
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      const s = store.getState();
      if (mod && key === "s") {
        e.preventDefault();
        void savePipeline(store);
        return;
      }
      if (isTyping(e.target)) return;
      if (document.querySelector(".modal-backdrop")) return;
      if (mod && key === "z") {
        e.preventDefault();
        if (e.shiftKey) s.redo();
        else s.undo();
      } else if (mod && key === "y") {
        e.preventDefault();
        s.redo();
      } else if (mod && key === "c") {
        const sub = s.copySelection();
        if (sub) {
          clipboard = sub;
          try {
            localStorage.setItem(CLIPBOARD_KEY, JSON.stringify(sub));
          } catch {
            /* ignore */
          }
          toast(`Copied ${sub.nodes.length} node${sub.nodes.length === 1 ? "" : "s"}.`, "info", 1500);
        }
      } else if (mod && key === "x") {
        const sub = s.copySelection();
        if (sub) {
          clipboard = sub;
          s.deleteSelected();
        }
      } else if (mod && key === "v") {
        let sub = clipboard;
        if (!sub) {
          try {
            sub = JSON.parse(localStorage.getItem(CLIPBOARD_KEY) ?? "null") as Graph | null;
          } catch {
            sub = null;
          }
        }
        if (sub) {
          e.preventDefault();
          s.paste(sub, pointerRef.current?.() ?? undefined);
        }
      } else if (mod && key === "d") {
        e.preventDefault();
        s.duplicateSelection(pointerRef.current?.() ?? undefined);
      } else if (mod && key === "a") {
        e.preventDefault();
        s.selectAll();
      } else if (!mod && (e.key === "Delete" || e.key === "Backspace")) {
        if (s.deleteSelected()) e.preventDefault();
      } else if (e.key === "Escape") {
        s.selectOnly([]);
      } else if (mod && e.key === "Enter") {
        e.preventDefault();
        if (isRunActive(s.run)) void cancelRun(store);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [store]);
}
