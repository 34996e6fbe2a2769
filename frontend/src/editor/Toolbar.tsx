import { useReactFlow } from "@xyflow/react";
import {
  AlertCircle,
  ArrowLeft,
  CheckCircle2,
  ChevronDown,
  Download,
  History,
  LayoutGrid,
  Loader2,
  Play,
  Redo2,
  RotateCcw,
  Save,
  Square,
  Undo2,
  Upload,
} from "lucide-react";
import { useEffect, useRef, useState } from "react";
import { errorMessage } from "../api/client";
import { useUpdatePipeline } from "../api/queries";
import { elapsed, formatDuration } from "../lib/format";
import { navigate } from "../lib/router";
import { useNow } from "../lib/useNow";
import { StatusBadge } from "../ui/StatusBadge";
import { toast } from "../ui/toast";
import { cancelRun, exportGraph, importGraphFile, savePipeline, startRun } from "./actions";
import { useEditor, useEditorApi } from "./context";
import { planSummary, planSummaryText } from "./plan";
import { isRunActive, runProgress } from "./runState";
import type { EditorStore } from "./store";

const selectCanUndo = (s: EditorStore) => s.history.past.length > 0;
const selectCanRedo = (s: EditorStore) => s.history.future.length > 0;

function PipelineName() {
  const store = useEditorApi();
  const name = useEditor((s) => s.name);
  const rename = useUpdatePipeline();
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(name);

  const commit = async () => {
    setEditing(false);
    const next = text.trim();
    if (!next || next === name) return;
    const prev = name;
    store.getState().setMeta({ name: next });
    try {
      await rename.mutateAsync({ id: store.getState().pipelineId, name: next });
    } catch (err) {
      store.getState().setMeta({ name: prev });
      toast(`Could not rename: ${errorMessage(err)}`, "error");
    }
  };

  if (editing) {
    return (
      <input
        className="name-input"
        autoFocus
        value={text}
        aria-label="Pipeline name"
        maxLength={200}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === "Enter") (e.target as HTMLInputElement).blur();
          if (e.key === "Escape") {
            setText(name);
            setEditing(false);
          }
        }}
      />
    );
  }
  return (
    <button
      className="name-button"
      title="Rename"
      onClick={() => {
        setText(name);
        setEditing(true);
      }}
    >
      {name}
    </button>
  );
}

function ValidityChip() {
  const errors = useEditor((s) => s.errors.length);
  const validating = useEditor((s) => s.validating);
  const validated = useEditor((s) => s.validatedKey !== null);
  const store = useEditorApi();
  if (errors) {
    return (
      <button
        className="chip-status chip-error"
        onClick={() => store.getState().selectOnly([])}
        title="Show the problems"
      >
        <AlertCircle size={13} /> {errors} issue{errors === 1 ? "" : "s"}
      </button>
    );
  }
  if (validating || !validated) {
    return (
      <span className="chip-status muted">
        <Loader2 size={13} className="spin" /> Checking
      </span>
    );
  }
  return (
    <span className="chip-status chip-ok">
      <CheckCircle2 size={13} /> Valid
    </span>
  );
}

function RunChip() {
  const run = useEditor((s) => s.run);
  const socket = useEditor((s) => s.socket);
  const active = isRunActive(run);
  const now = useNow(active);
  if (!run) return null;
  const p = runProgress(run);
  const took = elapsed(run.started_at ?? run.created_at, active ? null : run.finished_at, now);
  return (
    <span className="run-chip" data-testid="run-status" data-status={run.status} data-run-id={String(run.id)}>
      <StatusBadge status={run.status} />
      <span className="muted small">
        {p.total ? `${p.done}/${p.total}` : ""}
        {isFinite(took) && took >= 0 ? ` · ${formatDuration(took)}` : ""}
        {active && socket === "reconnecting" ? " · reconnecting…" : ""}
      </span>
    </span>
  );
}

export function Toolbar({ onHistory }: { onHistory: () => void }) {
  const store = useEditorApi();
  const dirty = useEditor((s) => s.dirty);
  const saving = useEditor((s) => s.saving);
  const canUndo = useEditor(selectCanUndo);
  const canRedo = useEditor(selectCanRedo);
  const run = useEditor((s) => s.run);
  const active = isRunActive(run);
  const [starting, setStarting] = useState(false);
  const fileRef = useRef<HTMLInputElement>(null);
  const { fitView, getNodes } = useReactFlow();

  const layout = () => {
    const sizes: Record<string, { width: number; height: number }> = {};
    for (const n of getNodes()) {
      if (n.measured?.width && n.measured?.height) {
        sizes[n.id] = { width: n.measured.width, height: n.measured.height };
      }
    }
    store.getState().autoLayout(sizes);
    window.setTimeout(() => void fitView({ padding: 0.25, maxZoom: 1, duration: 300 }), 30);
  };

  const run_ = async (opts: { force?: boolean } = {}) => {
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
      <RunChip />
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
            <button className="btn btn-primary" onClick={() => void run_()} disabled={starting} title={dirty ? "Save and run" : "Run the pipeline"}>
              {starting ? <Loader2 size={15} className="spin" /> : <Play size={15} fill="currentColor" />} Run
            </button>
            <RunMenu disabled={starting} onForce={() => void run_({ force: true })} />
          </div>
        </>
      )}
    </div>
  );
}

/** "3 of 7 nodes will run": what the next run recomputes, the rest reusing cached outputs. */
function PlanSummary() {
  const statuses = useEditor((s) => (isRunActive(s.run) ? null : s.planStatus));
  const summary = planSummary(statuses);
  if (!summary || !summary.total) return null;
  return (
    <span
      className="plan-summary"
      data-testid="plan-summary"
      title={`${summary.cached} node${summary.cached === 1 ? "" : "s"} reuse a cached output`}
    >
      {planSummaryText(summary)}
    </span>
  );
}

/** The Run button's other option: a run that recomputes every node. */
function RunMenu({ disabled, onForce }: { disabled: boolean; onForce: () => void }) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const onDown = (e: PointerEvent) => {
      if (!ref.current?.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "Escape") return;
      e.stopPropagation(); // closes the menu only, not the canvas selection too
      setOpen(false);
    };
    document.addEventListener("pointerdown", onDown);
    document.addEventListener("keydown", onKey);
    ref.current?.querySelector<HTMLElement>("[role=menuitem]")?.focus();
    return () => {
      document.removeEventListener("pointerdown", onDown);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);
  return (
    <div ref={ref} style={{ display: "contents" }}>
      <button
        className="btn btn-primary run-more"
        aria-label="More run options"
        aria-haspopup="menu"
        aria-expanded={open}
        title="More run options"
        disabled={disabled}
        onClick={() => setOpen((o) => !o)}
      >
        <ChevronDown size={14} />
      </button>
      {open && (
        <div className="run-menu" role="menu" aria-label="Run options">
          <button
            role="menuitem"
            onClick={() => {
              setOpen(false);
              onForce();
            }}
          >
            <span>
              <RotateCcw size={13} /> Force re-run
            </span>
            <small>Recompute every node, ignoring cached outputs</small>
          </button>
        </div>
      )}
    </div>
  );
}

export function RunProgressBar() {
  const run = useEditor((s) => s.run);
  if (!run) return <div className="progress progress-idle" />;
  const p = runProgress(run);
  const active = isRunActive(run);
  return (
    <div
      className={`progress progress-${run.status}`}
      role="progressbar"
      aria-label="Run progress"
      aria-valuemin={0}
      aria-valuemax={p.total}
      aria-valuenow={p.done}
    >
      <div className={`progress-fill${active ? " progress-active" : ""}`} style={{ width: `${Math.max(active ? 3 : 0, p.fraction * 100)}%` }} />
    </div>
  );
}
