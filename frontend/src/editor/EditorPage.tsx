import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import { AlertTriangle, Loader2 } from "lucide-react";
import { useCallback, useRef, useState } from "react";
import { errorMessage } from "../api/client";
import type { Graph } from "../api/types";
import { timeAgo } from "../lib/format";
import { navigate } from "../lib/router";
import { toast } from "../ui/toast";
import { Canvas, type PointerRef } from "./Canvas";
import { EditorProvider, useEditorApi } from "./context";
import { clearDraft, type Draft } from "./drafts";
import { parseAnnotations } from "./annotations/annotations";
import { useAddOperator } from "./hooks/useAddOperator";
import { useCallables } from "./hooks/useCallables";
import { useDraftAndLeaveGuard } from "./hooks/useDraftAndLeaveGuard";
import { usePlan } from "./hooks/usePlan";
import { useRunSocket } from "./hooks/useRunSocket";
import { useShortcuts } from "./hooks/useShortcuts";
import { useValidation } from "./hooks/useValidation";
import { useOpenPipeline } from "./openPipeline";
import { OutputDrawer } from "./output/OutputDrawer";
import { Palette } from "./Palette";
import { SidePanel } from "./SidePanel";
import { RunProgressBar } from "./toolbar/RunProgressBar";
import { Toolbar } from "./toolbar/Toolbar";
import { VersionsDialog } from "./VersionsDialog";

export function EditorPage({ pipelineId }: { pipelineId: string }) {
  const opened = useOpenPipeline(pipelineId);
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
          if (draft.annotations) store.getState().setAnnotations(parseAnnotations(draft.annotations), { record: false });
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

  useValidation(store);
  useCallables(store);
  usePlan(store);
  useDraftAndLeaveGuard(store, draft !== null);
  useRunSocket(store);
  // Where the pointer is over the canvas: paste and duplicate land there.
  const pointerRef: PointerRef = useRef(null);
  const { screenToFlowPosition } = useReactFlow();
  const pointerAt = useCallback(
    () => (pointerRef.current ? screenToFlowPosition(pointerRef.current) : null),
    [screenToFlowPosition],
  );
  useShortcuts(store, { disabled: showHistory, pointerAt });

  const addAt = useCallback(
    (operator: string, pos: { x: number; y: number }) => {
      store.getState().addNode(operator, pos);
    },
    [store],
  );

  const addOperator = useAddOperator(store);

  return (
    <div className="editor">
      <Toolbar onHistory={() => setShowHistory(true)} />
      <RunProgressBar onShowNode={() => setDrawerOpen(true)} />
      <div className="editor-body">
        <Palette onAdd={addOperator} />
        <div className="editor-center">
          {draft && <DraftBanner draft={draft} onDone={() => setDraft(null)} />}
          <Canvas onAddAt={addAt} pointerRef={pointerRef} />
          <OutputDrawer open={drawerOpen} onToggle={() => setDrawerOpen((o) => !o)} />
        </div>
        <SidePanel />
      </div>
      {showHistory && <VersionsDialog onClose={() => setShowHistory(false)} />}
    </div>
  );
}
