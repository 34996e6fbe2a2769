// The editor's server state through the app's one TanStack Query cache (api/queries.ts holds the
// shared queries and mutations; these are the ones only the editor reads).
import {
  MutationObserver,
  queryOptions,
  type MutationObserverOptions,
  type QueryClient,
} from "@tanstack/react-query";
import { api, http, unwrap } from "../api/client";
import { queryClient, queryKeys } from "../api/queryClient";
import type { Run } from "../api/types";

/** "upstream": run up to here (the node and its ancestors); "node": the node alone. */
export type RunScope = "upstream" | "node";

export interface PartialRun {
  pipeline: string;
  target: string;
  scope: RunScope;
  force?: boolean;
}

/**
 * Start a partial run: the target and its ancestors, or the target alone on its inputs' cached
 * outputs (refused with a 400 naming the inputs that have none). Like a full run it changes the
 * run lists and the pipeline's last run.
 */
export const startPartialRunMutation = (qc: QueryClient) => ({
  mutationFn: (v: PartialRun) =>
    unwrap(
      http.POST("/api/pipelines/{pipeline_id}/runs/", {
        params: { path: { pipeline_id: v.pipeline } },
        body: { target: v.target, scope: v.scope, ...(v.force ? { force: true } : {}) },
      }),
    ).then((r) => r as unknown as Run),
  onSuccess: () => {
    void qc.invalidateQueries({ queryKey: queryKeys.runs.all });
    void qc.invalidateQueries({ queryKey: queryKeys.pipelines.all });
  },
});

/**
 * The preview of one output port of a run's node. A finished node's output never changes, so
 * it is kept outside "runs": starting or cancelling a run must not fetch every preview again.
 */
export const previewQuery = (runId: string, nodeId: string, port: string) =>
  queryOptions({
    queryKey: ["previews", runId, nodeId, port] as const,
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

/**
 * A run ended: refresh what it changed. Its model nodes registered new model versions (the
 * registered-model picker offers them at once), and the run lists and the pipelines' last run
 * moved on.
 */
export function invalidateAfterRun(qc: QueryClient): Promise<unknown> {
  return Promise.all(
    [queryKeys.models.all, queryKeys.runs.all, queryKeys.pipelines.all].map((queryKey) =>
      qc.invalidateQueries({ queryKey }),
    ),
  );
}

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
 * Run a mutation outside React (the editor's actions take the store, not hooks), in the app's
 * query cache like any other: its function, then its invalidation.
 */
export function mutate<R, V>(
  factory: (qc: QueryClient) => MutationObserverOptions<R, Error, V>,
  variables: V,
): Promise<R> {
  return new MutationObserver(queryClient, factory(queryClient)).mutate(variables);
}
