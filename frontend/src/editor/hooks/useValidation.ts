import { useEffect } from "react";
import type { StoreApi } from "zustand";
import { api } from "../../api/client";
import type { EditorStore } from "../store";

/** Validate the graph (debounced) whenever its meaning changes, or when asked to. */
export function useValidation(store: StoreApi<EditorStore>, delay = 400): void {
  useEffect(() => {
    let timer = 0;
    let ctrl: AbortController | null = null;
    const validate = () => {
      const s = store.getState();
      const key = s.semanticKey;
      ctrl?.abort();
      ctrl = new AbortController();
      s.setValidating(true);
      api
        .validate(s.pipelineId, s.getGraph(), ctrl.signal)
        .then((res) => {
          if (store.getState().semanticKey === key) store.getState().setValidation(res, key);
        })
        .catch((err) => {
          if (err instanceof DOMException && err.name === "AbortError") return;
          store.getState().setValidating(false);
          console.warn("validate failed", err);
        });
    };
    validate();
    const unsub = store.subscribe((s, prev) => {
      if (s.semanticKey === prev.semanticKey && s.validationRequest === prev.validationRequest) return;
      window.clearTimeout(timer);
      timer = window.setTimeout(validate, delay);
    });
    return () => {
      unsub();
      window.clearTimeout(timer);
      ctrl?.abort();
    };
  }, [store, delay]);
}
