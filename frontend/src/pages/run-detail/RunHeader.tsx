// The run page's header: title and status, the run's actions, and one line of facts.
import { ChartLine, Pencil, RotateCcw, Square } from "lucide-react";
import type { NodeRun, Run } from "../../api/types";
import { formatDateTime, formatDuration, plural, timeAgo } from "../../lib/format";
import { StatusBadge } from "../../ui/StatusBadge";
import { Link, LiveIndicator, shortHash, triggerLabel, type LiveState } from "../common";

export function RunHeader({
  run,
  live,
  active,
  failedNode,
  busy,
  versionChanged,
  duration,
  onRerun,
  onCancel,
}: {
  run: Run | null;
  live: LiveState;
  active: boolean;
  failedNode: NodeRun | null;
  busy: boolean;
  versionChanged: boolean;
  duration: number | null;
  onRerun: (force: boolean) => void;
  onCancel: () => void;
}) {
  return (
    <>
    <div className="page-header run-header">
      <div className="run-title">
        <h1>
          {run ? run.pipeline_name ?? "Run" : <span className="skeleton-text" />}
          {run && (
            <span data-testid="run-status" data-status={run.status}>
              <StatusBadge status={run.status} />
            </span>
          )}
        </h1>
      </div>
      <div className="page-actions">
        <LiveIndicator state={live} />
        {run && (
          <>
            <Link to={`/pipelines/${run.pipeline}/dashboard`} className="btn" title="Success rate, durations, schedules">
              <ChartLine size={14} /> Dashboard
            </Link>
            <Link to={`/pipelines/${run.pipeline}`} className="btn" title="Open the pipeline in the editor">
              <Pencil size={14} /> Editor
            </Link>
            {active ? (
              <button className="btn btn-danger-ghost" onClick={onCancel} disabled={busy}>
                <Square size={14} /> Cancel run
              </button>
            ) : failedNode ? (
              <>
                <button
                  className="btn"
                  onClick={() => onRerun(true)}
                  disabled={busy}
                  title="Recompute every node, ignoring cached outputs"
                >
                  Re-run all
                </button>
                <button
                  className="btn btn-primary"
                  onClick={() => onRerun(false)}
                  disabled={busy}
                  title={`Nodes that succeeded reuse their cached outputs; ${failedNode.node_id} and what follows it run again${versionChanged ? " (with the pipeline's current version)" : ""}.`}
                >
                  <RotateCcw size={14} /> Re-run from {failedNode.node_id}
                </button>
              </>
            ) : (
              <button
                className="btn btn-primary"
                onClick={() => onRerun(false)}
                disabled={busy}
                title={versionChanged ? "Runs the pipeline's current version" : "Run the pipeline again; unchanged nodes reuse cached outputs"}
              >
                <RotateCcw size={14} /> Re-run
              </button>
            )}
          </>
        )}
      </div>
    </div>
    <div className="page-header-sub run-sub">
      {run ? (
        <>
          <span className="mono">run {shortHash(run.id)}</span>
          <span className="title-sep">·</span>
          <span>
            version <code className="hash" title={run.version}>{shortHash(run.version)}</code>
            {versionChanged && <span className="tag" title="The pipeline has changed since this run">older version</span>}
          </span>
          <span className="title-sep">·</span>
          <span>
            {triggerLabel(run.trigger)}
            {run.created_by ? ` by ${run.created_by}` : ""}
          </span>
          {run.full_refresh && (
            <span
              className="tag tag-primary"
              data-testid="run-full-refresh"
              title="Sources read everything again from the start; cursors started over."
            >
              Full refresh
            </span>
          )}
          <span className="title-sep">·</span>
          <span title={formatDateTime(run.started_at ?? run.created_at)}>
            {run.started_at ? "started" : "created"} {timeAgo(run.started_at ?? run.created_at)}
          </span>
          {duration !== null && (
            <>
              <span className="title-sep">·</span>
              <span data-testid="run-duration">{formatDuration(duration)}</span>
            </>
          )}
          {!!run.rows_processed && (
            <>
              <span className="title-sep">·</span>
              <span>{plural(run.rows_processed, "row")} processed</span>
            </>
          )}
        </>
      ) : (
        <span>Loading…</span>
      )}
    </div>
    </>
  );
}
