import { useEffect } from "react";
import type { StoreApi } from "zustand";
import { api } from "../../api/client";
import { graphErrorsOf } from "../actions";
import { isRunActive } from "../runState";
import type { EditorStore } from "../store";

/**
 * Ask the server what a run would reuse and what it would recompute (debounced): when the graph
 * has validated without errors (so after each change of meaning), and at once when a run ends
 * (the store has by then derived the plan from the run's events). Between an edit and the
 * answer, the store projects the last plan onto the edited graph.
 */
export function usePlan(store: StoreApi<EditorStore>, delay = 250): void {
  useEffect(() => {
    let timer = 0;
    let ctrl: AbortController | null = null;
    const plan = () => {
      const s = store.getState();
      if (isRunActive(s.run)) return; // planned again when it ends
      if (!s.nodes.length) {
        if (s.plan) s.setPlan(null);
        return;
      }
      // Only a graph the server accepted can be planned; until then the projection stands.
      if (s.validatedKey !== s.semanticKey || s.errors.length) return;
      const graph = s.getGraph();
      ctrl?.abort();
      const mine = (ctrl = new AbortController());
      api
        .plan(s.pipelineId, graph, mine.signal)
        .then((res) => {
          // The store projects it onto whatever the graph has become since.
          if (!mine.signal.aborted) store.getState().setPlan(res.nodes ?? {}, graph);
        })
        .catch((err) => {
          if (err instanceof DOMException && err.name === "AbortError") return;
          if (graphErrorsOf(err)) store.getState().setPlan(null);
          else console.warn("plan failed", err);
        });
    };
    const schedule = () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(plan, delay);
    };
    const unsub = store.subscribe((s, prev) => {
      const validated = s.validatedKey !== prev.validatedKey || s.errors !== prev.errors;
      if (isRunActive(prev.run) && !isRunActive(s.run)) {
        // The store already shows the plan the run's own events imply; confirm it at once,
        // not a debounce later.
        window.clearTimeout(timer);
        plan();
      } else if (validated || s.nodes.length !== prev.nodes.length) schedule();
    });
    schedule();
    return () => {
      unsub();
      window.clearTimeout(timer);
      ctrl?.abort();
    };
  }, [store, delay]);
}
