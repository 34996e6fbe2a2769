import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import type { StoreApi } from "zustand";
import { api } from "../../api/client";
import { queryKeys } from "../../api/queryClient";
import type { EditorStore } from "../store";

/** The pipelines this one can call, for the palette's "Pipelines": fetched on opening and
 * whenever the pipelines change (one made by "Make sub-pipeline", one saved in another tab). */
export function useCallables(store: StoreApi<EditorStore>): void {
  const pipelineId = store.getState().pipelineId;
  const found = useQuery({
    queryKey: [...queryKeys.pipelines.all, "callable", pipelineId],
    queryFn: ({ signal }) => api.callablePipelines(pipelineId, signal),
    staleTime: 10_000,
  });
  useEffect(() => {
    if (found.data) store.getState().setCallables(found.data);
  }, [store, found.data]);
}
