// What the toolbar reports: the graph's validity, the current run, what the next run recomputes.
import { AlertCircle, CheckCircle2, CircleDashed, Loader2 } from "lucide-react";
import { elapsed, formatDuration } from "../../lib/format";
import { useNow } from "../../lib/useNow";
import { StatusBadge } from "../../ui/StatusBadge";
import { useEditor, useEditorApi } from "../context";
import { runBlocker } from "../NodeRunActions";
import { planSummary, planSummaryText } from "../plan";
import { isRunActive, runProgress } from "../runState";

export function ValidityChip() {
  const empty = useEditor((s) => s.nodes.length === 0);
  const errors = useEditor((s) => s.errors.length);
  const validating = useEditor((s) => s.validating);
  const validated = useEditor((s) => s.validatedKey !== null);
  const store = useEditorApi();
  if (empty) {
    // Nothing is wrong, but nothing would run either: not "Valid".
    return (
      <span className="chip-status muted" data-testid="validity" title="The pipeline has no nodes yet">
        <CircleDashed size={13} /> Empty: add a node to start
      </span>
    );
  }
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

export function RunChip() {
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

/**
 * "3 of 7 nodes will run": what the next run recomputes, the rest reusing cached outputs; or why
 * the pipeline cannot run.
 */
export function PlanSummary() {
  const statuses = useEditor((s) => (isRunActive(s.run) ? null : s.planStatus));
  // Beside the disabled Run button, why it is (an empty pipeline says so in its validity chip).
  const blocked = useEditor((s) => (isRunActive(s.run) || !s.nodes.length ? null : runBlocker(s)));
  const summary = planSummary(statuses);
  if (blocked) {
    return (
      <span className="run-blocked" data-testid="run-blocked" title={blocked}>
        {blocked}
      </span>
    );
  }
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
