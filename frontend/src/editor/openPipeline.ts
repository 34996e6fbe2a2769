// Opening a pipeline in the editor: one query per open page, made into the editor's store.
import { useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import type { StoreApi } from "zustand";
import { api, getApiWorkspace } from "../api/client";
import { operatorsQuery, pipelineQuery } from "../api/queries";
import { queryKeys } from "../api/queryClient";
import { useSession } from "../lib/session";
import { clearDraft, loadDraft, type Draft } from "./drafts";
import { canonicalGraph, catalogueOf } from "./graph";
import { canonicalAnnotations, parseAnnotations } from "./annotations/annotations";
import { createEditorStore, type EditorStore } from "./store";

export type Loaded = { store: StoreApi<EditorStore>; draft: Draft | null };

/**
 * Open a pipeline: its saved graph (always fetched afresh), the operator catalogue (cached for
 * the session) and its last run, made into the editor's store. The store lives as long as the
 * page: the query is never refetched while the page is open and is dropped when it closes.
 */
async function openPipeline(qc: QueryClient, pipelineId: string): Promise<Loaded> {
  const [pipeline, ops] = await Promise.all([
    qc.fetchQuery({ ...pipelineQuery(pipelineId), staleTime: 0 }),
    qc.fetchQuery(operatorsQuery(getApiWorkspace())),
  ]);
  document.title = `${pipeline.name} · Datagran`;
  // Datasets, connections and models are looked up in the pipeline's own workspace.
  const session = useSession.getState();
  const ws = String(pipeline.workspace);
  if (session.workspaceId !== ws && session.workspaces.some((w) => String(w.id) === ws)) {
    session.setWorkspace(ws);
  }
  const store = createEditorStore({ pipeline, catalogue: catalogueOf(ops) });
  const draft = loadDraft(String(pipeline.id));
  const differs =
    draft &&
    (canonicalGraph(draft.graph) !== canonicalGraph(pipeline.graph) ||
      (draft.annotations !== undefined &&
        canonicalAnnotations(parseAnnotations(draft.annotations)) !==
          canonicalAnnotations(parseAnnotations(pipeline.annotations))));
  if (draft && !differs) clearDraft(String(pipeline.id));
  if (pipeline.last_run) {
    try {
      const runId = String(pipeline.last_run.id);
      const run = await qc.fetchQuery({
        queryKey: queryKeys.runs.one(runId),
        queryFn: () => api.run(runId),
        staleTime: 0,
      });
      store.getState().setRun(run);
    } catch {
      /* the editor works without it */
    }
  }
  return { store, draft: differs ? draft : null };
}

/** The opened pipeline, or the error that stopped it (a 404 says the pipeline is gone). */
export function useOpenPipeline(pipelineId: string) {
  const qc = useQueryClient();
  return useQuery({
    // Not under "pipelines": saving invalidates those, and must not reopen the editor.
    queryKey: ["editor", pipelineId],
    queryFn: () => openPipeline(qc, pipelineId),
    staleTime: Infinity,
    gcTime: 0,
    retry: false,
    structuralSharing: false,
  });
}
