// The editor's server state through the app's one TanStack Query cache (api/queries.ts holds the
// shared queries and mutations; these are the ones only the editor reads).
import { queryOptions, type QueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import { queryKeys } from "../api/queryClient";

/** The preview of one output port of a run's node; a finished node's output never changes. */
export const previewQuery = (runId: string, nodeId: string, port: string) =>
  queryOptions({
    queryKey: [...queryKeys.runs.one(runId), "preview", nodeId, port] as const,
    queryFn: ({ signal }) => api.preview(runId, nodeId, port, 50, signal),
    staleTime: Infinity,
  });

/** A pipeline's saved versions; fetched again whenever the history is opened. */
export const versionsQuery = (pipelineId: string) =>
  queryOptions({
    queryKey: queryKeys.pipelines.versions(pipelineId),
    queryFn: () => api.versions(pipelineId),
    staleTime: 0,
  });

/** What changed between two saved versions (immutable, like the versions themselves). */
export const versionDiffQuery = (pipelineId: string, a: string, b: string) =>
  queryOptions({
    queryKey: [...queryKeys.pipelines.versions(pipelineId), "diff", a, b] as const,
    queryFn: ({ signal }) => api.versionDiff(pipelineId, a, b, signal),
    staleTime: Infinity,
  });

/** Cancel a run; its state changes for the run pages (the editor follows it over its socket). */
export const cancelRunMutation = (qc: QueryClient) => ({
  mutationFn: (runId: string) => api.cancelRun(runId),
  onSuccess: () => {
    void qc.invalidateQueries({ queryKey: queryKeys.runs.all });
  },
});

/** Approve or reject an action node waiting in a run; the run changes. */
export const decideMutation = (qc: QueryClient) => ({
  mutationFn: (v: { runId: string; nodeId: string; approve: boolean }) =>
    v.approve ? api.approveNode(v.runId, v.nodeId) : api.rejectNode(v.runId, v.nodeId),
  onSuccess: (_: unknown, v: { runId: string }) => {
    // Not awaited: the editor follows the run over its socket; this refreshes the other pages.
    void qc.invalidateQueries({ queryKey: queryKeys.runs.one(v.runId) });
  },
});

/**
 * A mutation's options run outside React: the editor's actions take the store, not hooks. The
 * invalidation is started, not awaited: the editor's own state comes from the answer.
 */
export async function runMutation<V, R>(
  opts: { mutationFn: (v: V) => Promise<R>; onSuccess?: (data: R, v: V) => unknown },
  variables: V,
): Promise<R> {
  const data = await opts.mutationFn(variables);
  void opts.onSuccess?.(data, variables);
  return data;
}
