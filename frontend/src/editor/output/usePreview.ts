import { useEffect, useState } from "react";
import { api, errorMessage } from "../../api/client";
import type { Preview } from "../../api/types";

const previewCache = new Map<string, Preview>();

/** The preview of one output port of a finished node (none for models). */
export function usePreview(runId: string, nodeId: string, port: string, ready: boolean, isModel: boolean) {
  const key = `${runId}:${nodeId}:${port}`;
  const [state, setState] = useState<{ key: string; preview: Preview | null; error: string | null; loading: boolean }>(
    () => ({ key, preview: previewCache.get(key) ?? null, error: null, loading: false }),
  );
  useEffect(() => {
    if (!ready || isModel || !port) {
      setState({ key, preview: null, error: null, loading: false });
      return;
    }
    const cached = previewCache.get(key);
    if (cached) {
      setState({ key, preview: cached, error: null, loading: false });
      return;
    }
    let live = true;
    setState({ key, preview: null, error: null, loading: true });
    api
      .preview(runId, nodeId, port)
      .then((p) => {
        previewCache.set(key, p);
        if (live) setState({ key, preview: p, error: null, loading: false });
      })
      .catch((err) => live && setState({ key, preview: null, error: errorMessage(err), loading: false }));
    return () => {
      live = false;
    };
  }, [key, ready, isModel, runId, nodeId, port]);
  return state.key === key ? state : { key, preview: null, error: null, loading: ready && !isModel };
}
