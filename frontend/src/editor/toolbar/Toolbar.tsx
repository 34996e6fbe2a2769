import { getNodesBounds, useReactFlow } from "@xyflow/react";
import {
  ArrowLeft,
  ChartLine,
  Download,
  History,
  LayoutGrid,
  Loader2,
  Play,
  Redo2,
  Rocket,
  Save,
  Square,
  Undo2,
  Upload,
} from "lucide-react";
import { useRef, useState } from "react";
import { navigate } from "../../lib/router";
import { Link } from "../../pages/common";
import { cancelRun, exportGraph, importGraphFile, savePipeline, startRun } from "../actions";
import { useEditor, useEditorApi } from "../context";
import { READABLE_ZOOM, viewportFor } from "../layout";
import { isRunActive } from "../runState";
import type { EditorStore } from "../store";
import { PipelineName } from "./PipelineName";
import { useRunBlocker } from "../NodeRunActions";
import { RunMenu } from "./RunMenu";
import { PlanSummary, RunChip, ValidityChip } from "./StatusChips";

const selectCanUndo = (s: EditorStore) => s.history.past.length > 0;
const selectCanRedo = (s: EditorStore) => s.history.future.length > 0;

export function Toolbar({ onHistory }: { onHistory: () => void }) {
  const store = useEditorApi();
  const dirty = useEditor((s) => s.dirty);
  const saving = useEditor((s) => s.saving);
  const canUndo = useEditor(selectCanUndo);
  const canRedo = useEditor(selectCanRedo);
  const run = useEditor((s) => s.run);
  const pipelineId = useEditor((s) => s.pipelineId);
  const active = isRunActive(run);
  const [starting, setStarting] = useState(false);
  const blocked = useRunBlocker();
  const fileRef = useRef<HTMLInputElement>(null);
  const { setViewport, getNodes } = useReactFlow();

  const layout = () => {
    const sizes: Record<string, { width: number; height: number }> = {};
    for (const n of getNodes()) {
      if (n.measured?.width && n.measured?.height) {
        sizes[n.id] = { width: n.measured.width, height: n.measured.height };
      }
    }
    store.getState().autoLayout(sizes);
    // The whole graph if it fits at a readable zoom, else its start at that zoom: never so far
    // out that the nodes' text cannot be read.
    window.setTimeout(() => {
      const rect = document.querySelector(".canvas")?.getBoundingClientRect();
      const nodes = getNodes();
      if (!rect || !nodes.length) return;
      const view = viewportFor(getNodesBounds(nodes), rect, { pad: 40, minZoom: READABLE_ZOOM });
      void setViewport(view, { duration: 300 });
    }, 30);
  };

  const run_ = async (opts: { force?: boolean; fullRefresh?: boolean } = {}) => {
    setStarting(true);
    try {
      await startRun(store, opts);
    } finally {
      setStarting(false);
    }
  };

  return (
    <div className="toolbar" role="toolbar" aria-label="Pipeline">
      <button className="icon-btn" title="Back to pipelines" aria-label="Back to pipelines" onClick={() => navigate("/pipelines")}>
        <ArrowLeft size={17} />
      </button>
      <PipelineName />
      <span
        className={`save-state${dirty ? " unsaved" : ""}`}
        data-testid="save-state"
        title={dirty ? "Unsaved changes (Ctrl+S to save)" : "All changes saved"}
      >
        {saving ? "Saving…" : dirty ? "Unsaved changes" : "Saved"}
      </span>
      <ValidityChip />
      <div className="spacer" />
      <div className="btn-group">
        <button className="icon-btn" title="Undo (Ctrl+Z)" aria-label="Undo" disabled={!canUndo} onClick={() => store.getState().undo()}>
          <Undo2 size={16} />
        </button>
        <button className="icon-btn" title="Redo (Ctrl+Shift+Z)" aria-label="Redo" disabled={!canRedo} onClick={() => store.getState().redo()}>
          <Redo2 size={16} />
        </button>
      </div>
      <div className="btn-group">
        <button className="icon-btn" title="Auto-layout" aria-label="Auto-layout" onClick={layout}>
          <LayoutGrid size={16} />
        </button>
        <button className="icon-btn" title="Import JSON" aria-label="Import JSON" onClick={() => fileRef.current?.click()}>
          <Upload size={16} />
        </button>
        <button className="icon-btn" title="Export JSON" aria-label="Export JSON" onClick={() => exportGraph(store)}>
          <Download size={16} />
        </button>
        <button className="icon-btn" title="Version history" aria-label="Version history" onClick={onHistory}>
          <History size={16} />
        </button>
        <input
          ref={fileRef}
          type="file"
          accept="application/json,.json"
          hidden
          data-testid="import-file"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void importGraphFile(store, f);
            e.target.value = "";
          }}
        />
      </div>
      <div className="btn-group">
        <Link
          to={`/pipelines/${pipelineId}/dashboard`}
          className="icon-btn"
          title="Dashboard: runs, durations, schedules and webhook"
          aria-label="Dashboard"
        >
          <ChartLine size={16} />
        </Link>
        <Link to={`/pipelines/${pipelineId}/deploy`} className="icon-btn" title="Deploy: serve predictions" aria-label="Deploy">
          <Rocket size={16} />
        </Link>
      </div>
      {run && (
        <Link to={`/runs/${run.id}`} className="run-chip-link" title="Open the last run" aria-label="Open the last run">
          <RunChip />
        </Link>
      )}
      <button className="btn" onClick={() => void savePipeline(store)} disabled={saving || !dirty} title="Save (Ctrl+S)">
        <Save size={15} /> Save
      </button>
      {active ? (
        <button className="btn btn-danger" onClick={() => void cancelRun(store)} title="Cancel the run">
          <Square size={13} fill="currentColor" /> Cancel
        </button>
      ) : (
        <>
          <PlanSummary />
          <div className="run-split">
            <button className="btn btn-primary" onClick={() => void run_()} disabled={starting || !!blocked} title={blocked ?? (dirty ? "Save and run" : "Run the pipeline")}>
              {starting ? <Loader2 size={15} className="spin" /> : <Play size={15} fill="currentColor" />} Run
            </button>
            <RunMenu
              disabled={starting}
              onForce={() => void run_({ force: true })}
              onFullRefresh={() => void run_({ fullRefresh: true })}
            />
          </div>
        </>
      )}
    </div>
  );
}
