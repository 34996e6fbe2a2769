// The landing page: what happened in the workspace today, what is running, what comes next.
import {
  AlarmClock,
  ArrowRight,
  BrainCircuit,
  CheckCircle2,
  Plus,
  Workflow,
} from "lucide-react";
import { useQuery } from "@tanstack/react-query";
import { useCallback } from "react";
import { errorMessage } from "../../api/client";
import { formatDateTime, formatDuration, formatNumber, timeAgo } from "../../lib/format";
import { navigate } from "../../lib/router";
import { useSession } from "../../lib/session";
import { StatusBadge } from "../../ui/StatusBadge";
import { Chart } from "../charts/Chart";
import { runsPerDayOption } from "../charts/options";
import { Card, Hint, Link, LiveIndicator, PageError, SkeletonBlock, Stat, formatPercent } from "../common";
import { usePipelines } from "../../api/queries";
import { queryKeys } from "../../api/queryClient";
import { useDebounced, useDocumentTitle } from "../hooks";
import { useWorkspaceRuns } from "../live";
import "./overview.css";

import { loadOverview, useUpcoming } from "./useOverview";
import { ActiveRun, RecentModels, UpcomingList } from "./parts";

export function OverviewPage() {
  const workspaceId = useSession((s) => s.workspaceId);
  const workspace = useSession((s) => s.workspaces.find((w) => String(w.id) === s.workspaceId));
  const { pipelines, byId } = usePipelines(workspaceId);
  useDocumentTitle("Overview");
  const overview = useQuery({ queryKey: [...queryKeys.runs.all, "overview", workspaceId], queryFn: loadOverview });
  const data = overview.data ?? null;
  const error = overview.error ? errorMessage(overview.error) : null;
  const { refetch } = overview;
  const load = useCallback(() => void refetch(), [refetch]);
  const schedules = useUpcoming(pipelines, workspaceId);

  const hasPipelines = pipelines === null || pipelines.length > 0;
  const refresh = useDebounced(load, 700);
  const live = useWorkspaceRuns(workspaceId, refresh, (reconnect) => reconnect && load());

  return (
    <div className="page overview-page">
      <div className="page-header">
        <div>
          <h1>Overview</h1>
          <p className="muted">
            {workspace?.name ?? "Workspace"} · the last 24 hours at a glance
          </p>
        </div>
        <div className="page-actions">
          <LiveIndicator state={live} />
          {hasPipelines && (
            <Link to="/runs" className="btn">
              All runs <ArrowRight size={14} />
            </Link>
          )}
        </div>
      </div>

      {error && <PageError message={`Could not load the overview: ${error}`} onRetry={load} />}

      {!hasPipelines ? (
        <div className="empty-state">
          <div className="empty-icon">
            <Workflow size={28} />
          </div>
          <h2>Welcome to {workspace?.name ?? "Datagran"}</h2>
          <p className="muted">
            Nothing has run here yet. Build a pipeline: read a dataset, transform it, train a model
            and act on its predictions. Runs, failures, schedules and models then show up here.
          </p>
          <button className="btn btn-primary" onClick={() => navigate("/pipelines?new=1")}>
            <Plus size={16} /> Create your first pipeline
          </button>
        </div>
      ) : (
        <>
          <div className="stat-row">
            {data ? (
              <>
                <Stat
                  label="Runs today"
                  testId="stat-runs-today"
                  value={formatNumber(data.today.total)}
                  sub={`${formatNumber(data.today.by_status.succeeded)} succeeded · last 24 h`}
                  to="/runs"
                />
                <Stat
                  label="Failures (24 h)"
                  testId="stat-failures"
                  value={formatNumber(data.today.by_status.failed)}
                  tone={data.today.by_status.failed ? "danger" : undefined}
                  sub={data.today.by_status.failed ? "Needs a look" : "All clear"}
                  to="/runs?status=failed"
                />
                <Stat
                  label="Running now"
                  testId="stat-running"
                  value={`${data.active.length}${data.activeMore ? "+" : ""}`}
                  tone={data.active.length ? "info" : undefined}
                  sub={
                    data.active.length
                      ? `${data.active.filter((r) => r.status === "running").length} running · ${
                          data.active.filter((r) => r.status !== "running").length
                        } waiting`
                      : "Idle"
                  }
                  to="/runs?status=pending,queued,running"
                />
                <Stat
                  label="Success rate (30 d)"
                  value={formatPercent(data.month.success_rate)}
                  tone={
                    data.month.success_rate !== null && data.month.success_rate < 0.9 ? "warn" : undefined
                  }
                  sub={
                    data.month.duration_ms.p50 !== null
                      ? `${formatNumber(data.month.total)} runs · p50 ${formatDuration(data.month.duration_ms.p50)}`
                      : `${formatNumber(data.month.total)} runs`
                  }
                />
              </>
            ) : (
              [0, 1, 2, 3].map((i) => <div key={i} className="stat stat-skeleton" aria-busy="true" />)
            )}
          </div>

          <div className="grid-2">
            <Card
              title="Failures in the last 24 h"
              testId="failures-card"
              flush
              action={
                data?.failures.length ? (
                  <Link to="/runs?status=failed" className="card-link">
                    View all
                  </Link>
                ) : null
              }
            >
              {!data ? (
                <SkeletonBlock height={150} />
              ) : data.failures.length === 0 ? (
                <Hint icon={<CheckCircle2 size={18} />} title="No failures in the last 24 hours">
                  Failed runs show up here with their error, linked to the node that failed.
                </Hint>
              ) : (
                <ul className="run-list">
                  {data.failures.map((r) => (
                    <li key={r.id} data-testid="failure-item">
                      <Link to={`/runs/${r.id}`} className="run-list-item">
                        <StatusBadge status="failed" compact />
                        <span className="run-list-main">
                          <span className="run-list-name">
                            {r.pipeline_name ?? byId[r.pipeline]?.name ?? "Pipeline"}
                          </span>
                          <span className="run-list-error" title={r.error}>
                            {r.error || "Failed"}
                          </span>
                        </span>
                        <span className="run-list-meta muted small" title={formatDateTime(r.created_at)}>
                          {timeAgo(r.finished_at ?? r.created_at)}
                        </span>
                      </Link>
                    </li>
                  ))}
                  {data.failuresMore && (
                    <li className="run-list-more">
                      <Link to="/runs?status=failed">More failures…</Link>
                    </li>
                  )}
                </ul>
              )}
            </Card>

            <Card
              title="Running now"
              testId="running-card"
              flush
              action={
                data?.active.length ? (
                  <Link to="/runs?status=pending,queued,running" className="card-link">
                    View all
                  </Link>
                ) : null
              }
            >
              {!data ? (
                <SkeletonBlock height={150} />
              ) : data.active.length === 0 ? (
                <Hint icon={<Workflow size={18} />} title="Nothing is running">
                  Start a run from a pipeline’s editor, or give it a schedule on its dashboard.
                </Hint>
              ) : (
                <ul className="run-list">
                  {data.active.map((r) => (
                    <ActiveRun key={r.id} run={r} name={r.pipeline_name ?? byId[r.pipeline]?.name} />
                  ))}
                </ul>
              )}
            </Card>

            <Card
              title="Runs, last 30 days"
              subtitle={
                data
                  ? `${formatNumber(data.month.total)} runs · ${formatNumber(data.month.rows_processed)} rows processed`
                  : undefined
              }
            >
              {data ? (
                data.month.total ? (
                  <Chart option={runsPerDayOption(data.month.per_day, 30)} height={200} label="Runs per day, last 30 days" />
                ) : (
                  <div style={{ height: 200 }} className="chart-empty">
                    <Hint title="No runs in the last 30 days">
                      Open a pipeline and press Run; each run is counted here by day.
                    </Hint>
                  </div>
                )
              ) : (
                <SkeletonBlock height={200} />
              )}
            </Card>

            <Card title="Next scheduled runs" testId="schedules-card" flush>
              {schedules === null ? (
                <SkeletonBlock height={150} />
              ) : schedules.length === 0 ? (
                <Hint icon={<AlarmClock size={18} />} title="No schedules">
                  Open a pipeline’s dashboard to run it on a cron schedule
                  {pipelines && pipelines[0] ? (
                    <>
                      {" "}
                      — for example{" "}
                      <Link to={`/pipelines/${pipelines[0].id}/dashboard`}>{pipelines[0].name}</Link>
                    </>
                  ) : null}
                  .
                </Hint>
              ) : (
                <UpcomingList items={schedules.slice(0, 6)} />
              )}
            </Card>
          </div>

          <Card title="Recently registered model versions" testId="models-card" flush action={
            data?.models.length ? (
              <Link to="/models" className="card-link">
                All models
              </Link>
            ) : null
          }>
            {!data ? (
              <SkeletonBlock height={120} />
            ) : data.models.length === 0 ? (
              <Hint icon={<BrainCircuit size={18} />} title="No models yet">
                A pipeline with a Train node registers a new model version every time it runs. You can
                also <Link to="/models">import a scikit-learn model</Link>.
              </Hint>
            ) : (
              <RecentModels models={data.models} />
            )}
          </Card>
        </>
      )}
    </div>
  );
}
