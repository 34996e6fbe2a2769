import { useEffect, useRef } from "react";
import type { StoreApi } from "zustand";
import { addNavigationGuard } from "../../lib/router";
import { clearDraft, saveDraft } from "../drafts";
import type { EditorStore } from "../store";

/** Keep unsaved edits in localStorage; warn before leaving with unsaved changes. */
export function useDraftAndLeaveGuard(store: StoreApi<EditorStore>, paused: boolean): void {
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  useEffect(() => {
    let timer = 0;
    const write = () => {
      const s = store.getState();
      if (pausedRef.current) return;
      if (s.dirty) saveDraft(s.pipelineId, s.getGraph(), s.version, s.getAnnotations());
      else clearDraft(s.pipelineId);
    };
    const unsub = store.subscribe((s, prev) => {
      if (s.graphKey === prev.graphKey && s.annotationsKey === prev.annotationsKey && s.dirty === prev.dirty) return;
      window.clearTimeout(timer);
      timer = window.setTimeout(write, 500);
    });
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (!store.getState().dirty) return;
      write();
      e.preventDefault();
      e.returnValue = "";
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    const unguard = addNavigationGuard(() => store.getState().dirty);
    return () => {
      unsub();
      window.clearTimeout(timer);
      write();
      window.removeEventListener("beforeunload", onBeforeUnload);
      unguard();
    };
  }, [store]);
}
