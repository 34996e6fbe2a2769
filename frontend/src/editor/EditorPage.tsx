import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import { AlertTriangle, Loader2 } from "lucide-react";
import { useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useCallback, useState } from "react";
import type { StoreApi } from "zustand";
import { api, errorMessage, getApiWorkspace } from "../api/client";
import { operatorsQuery, pipelineQuery } from "../api/queries";
import { queryKeys } from "../api/queryClient";
import type { Graph } from "../api/types";
import { timeAgo } from "../lib/format";
import { navigate } from "../lib/router";
import { useSession } from "../lib/session";
import { toast } from "../ui/toast";
import { Canvas } from "./Canvas";
import { EditorProvider, useEditorApi } from "./context";
import { clearDraft, loadDraft, type Draft } from "./drafts";
import { canonicalGraph, catalogueOf } from "./graph";
import { DEFAULT_NODE_SIZE } from "./layout";
import { useDraftAndLeaveGuard } from "./hooks/useDraftAndLeaveGuard";
import { usePlan } from "./hooks/usePlan";
import { useRunSocket } from "./hooks/useRunSocket";
import { useShortcuts } from "./hooks/useShortcuts";
import { useValidation } from "./hooks/useValidation";
import { OutputDrawer } from "./output/OutputDrawer";
import { Palette } from "./Palette";
import { SidePanel } from "./SidePanel";
import { createEditorStore, type EditorStore } from "./store";
import { RunProgressBar } from "./toolbar/RunProgressBar";
import { Toolbar } from "./toolbar/Toolbar";
import { VersionsDialog } from "./VersionsDialog";

type Loaded = { store: StoreApi<EditorStore>; draft: Draft | null };

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
  const differs = draft && canonicalGraph(draft.graph) !== canonicalGraph(pipeline.graph);
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

export function EditorPage({ pipelineId }: { pipelineId: string }) {
  const qc = useQueryClient();
  const opened = useQuery({
    // Not under "pipelines": saving invalidates those, and must not reopen the editor.
    queryKey: ["editor", pipelineId],
    queryFn: () => openPipeline(qc, pipelineId),
    staleTime: Infinity,
    gcTime: 0,
    retry: false,
    structuralSharing: false,
  });
  const state = opened.data ?? null;
  const error = opened.error
    ? { message: errorMessage(opened.error), status: (opened.error as { status?: number }).status }
    : null;

  if (error) {
    return (
      <div className="empty-state">
        <AlertTriangle size={28} className="muted" />
        <h2>{error.status === 404 ? "Pipeline not found" : "Could not open the pipeline"}</h2>
        <p className="muted">{error.message}</p>
        <button className="btn btn-primary" onClick={() => navigate("/pipelines")}>
          Back to pipelines
        </button>
      </div>
    );
  }
  if (!state) {
    return (
      <div className="page-loading">
        <Loader2 size={20} className="spin" /> Opening pipeline…
      </div>
    );
  }
  return (
    <EditorProvider store={state.store}>
      <ReactFlowProvider>
        <EditorBody initialDraft={state.draft} />
      </ReactFlowProvider>
    </EditorProvider>
  );
}

function DraftBanner({ draft, onDone }: { draft: Draft; onDone: () => void }) {
  const store = useEditorApi();
  const version = store.getState().version;
  const stale = draft.baseVersion && draft.baseVersion !== version;
  return (
    <div className="banner banner-warn draft-banner" role="status" data-testid="draft-banner">
      <span>
        <strong>Unsaved changes found.</strong> You edited this pipeline {timeAgo(draft.savedAt)} without saving.
        {stale ? " The pipeline has been saved since then; restoring replaces that version's graph." : ""}
      </span>
      <button
        className="btn btn-sm btn-primary"
        onClick={() => {
          store.getState().replaceGraph(draft.graph as Graph);
          onDone();
          toast("Draft restored. Save to keep it.", "success");
        }}
      >
        Restore draft
      </button>
      <button
        className="btn btn-sm"
        onClick={() => {
          clearDraft(store.getState().pipelineId);
          onDone();
        }}
      >
        Discard
      </button>
    </div>
  );
}

function EditorBody({ initialDraft }: { initialDraft: Draft | null }) {
  const store = useEditorApi();
  const [draft, setDraft] = useState(initialDraft);
  const [showHistory, setShowHistory] = useState(false);
  const [drawerOpen, setDrawerOpen] = useState(true);
  const { screenToFlowPosition, getViewport, setCenter } = useReactFlow();

  useValidation(store);
  usePlan(store);
  useDraftAndLeaveGuard(store, draft !== null);
  useRunSocket(store);
  useShortcuts(store, { disabled: showHistory });

  const addAt = useCallback(
    (operator: string, pos: { x: number; y: number }) => {
      store.getState().addNode(operator, pos);
    },
    [store],
  );

  const addOperator = useCallback(
    (operator: string) => {
      const s = store.getState();
      const W = DEFAULT_NODE_SIZE.width;
      const H = DEFAULT_NODE_SIZE.height + 14;
      const overlaps = (p: { x: number; y: number }) =>
        s.nodes.some((n) => {
          const w = n.measured?.width ?? W;
          const h = n.measured?.height ?? H;
          return (
            p.x < n.position.x + w + 24 &&
            p.x + W + 24 > n.position.x &&
            p.y < n.position.y + h + 24 &&
            p.y + H + 24 > n.position.y
          );
        });
      const freeSpot = (start: { x: number; y: number }) => {
        for (let k = 0; k < 40; k++) {
          const dy = Math.ceil(k / 2) * (H + 40) * (k % 2 ? 1 : -1);
          const p = { x: start.x, y: start.y + dy };
          if (!overlaps(p)) return p;
        }
        return start;
      };
      const selected = s.nodes.filter((n) => n.selected);
      let pos: { x: number; y: number };
      let id: string | null;
      if (selected.length === 1) {
        const from = selected[0];
        pos = freeSpot({ x: from.position.x + (from.measured?.width ?? W) + 80, y: from.position.y });
        id = s.addNode(operator, pos, { from: from.id });
      } else {
        const rect = document.querySelector(".canvas")?.getBoundingClientRect();
        const centre = rect
          ? screenToFlowPosition({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 })
          : { x: 0, y: 0 };
        pos = freeSpot({ x: Math.round(centre.x - W / 2), y: Math.round(centre.y - H / 2) });
        id = s.addNode(operator, pos);
      }
      if (!id) return;
      // Bring the new node into view if it landed outside.
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

  return (
    <div className="editor">
      <Toolbar onHistory={() => setShowHistory(true)} />
      <RunProgressBar />
      <div className="editor-body">
        <Palette onAdd={addOperator} />
        <div className="editor-center">
          {draft && <DraftBanner draft={draft} onDone={() => setDraft(null)} />}
          <Canvas onAddAt={addAt} />
          <OutputDrawer open={drawerOpen} onToggle={() => setDrawerOpen((o) => !o)} />
        </div>
        <SidePanel />
      </div>
      {showHistory && <VersionsDialog onClose={() => setShowHistory(false)} />}
    </div>
  );
}
