// One pipeline over time: success rate and duration, its last runs, its slowest nodes, and how
// it is started (schedules, webhook).
import { ChartLine, History, Pencil, Play, Rocket, Timer } from "lucide-react";
import { useQuery } from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";
import { api, errorMessage } from "../../api/client";
import type { RunRow, RunStats } from "../../api/types";
import { formatDateTime, formatDuration, formatNumber } from "../../lib/format";
import { navigate } from "../../lib/router";
import { useSession } from "../../lib/session";
import { statusLabel } from "../../ui/StatusBadge";
import { toast } from "../../ui/toast";
import { Chart } from "../charts/Chart";
import { durationOption, runsPerDayOption } from "../charts/options";
import { Breadcrumbs, Card, Hint, Link, LiveIndicator, PageError, SkeletonBlock, Stat, formatPercent } from "../common";
import { pipelineQuery, useOperators, useStartRun } from "../../api/queries";
import { queryKeys } from "../../api/queryClient";
import { useDebounced, useDocumentTitle } from "../hooks";
import { useWorkspaceRuns } from "../live";
import { SchedulesPanel } from "./SchedulesPanel";
import { WebhookPanel } from "./WebhookPanel";
import "./pipeline-dashboard.css";

const STRIP = 30;

export function PipelineDashboardPage({ pipelineId }: { pipelineId: string }) {
  const workspaceId = useSession((s) => s.workspaceId);
  const pipelineQ = useQuery(pipelineQuery(pipelineId));
  const pipeline = pipelineQ.data ?? null;
  const notFound = pipelineQ.error ? errorMessage(pipelineQ.error) : null;
  const dashboard = useQuery({
    queryKey: [...queryKeys.runs.all, "dashboard", pipelineId],
    queryFn: async () => {
      const [stats, page] = await Promise.all([
        api.runStats({ days: 30, pipeline: pipelineId }),
        api.runs(`pipeline=${encodeURIComponent(pipelineId)}&page_size=${STRIP}`),
      ]);
      return { stats, recent: page.results };
    },
  });
  const stats = dashboard.data?.stats ?? null;
  const recent = dashboard.data?.recent ?? null;
  const error = dashboard.error ? errorMessage(dashboard.error) : null;
  const { refetch } = dashboard;
  const load = useCallback(() => void refetch(), [refetch]);
  const startRun = useStartRun();
  const [starting, setStarting] = useState(false);
  const operators = useOperators();
  useDocumentTitle(pipeline ? `${pipeline.name} · Dashboard` : "Dashboard");

  const refresh = useDebounced(load, 800);
  const live = useWorkspaceRuns(
    pipeline ? String(pipeline.workspace) : workspaceId,
    (run) => run.pipeline === pipelineId && refresh(),
    (reconnect) => reconnect && load(),
  );

  const runNow = async () => {
    setStarting(true);
    try {
      const run = await startRun.mutateAsync({ pipeline: pipelineId });
      toast("Run started.", "success");
      navigate(`/runs/${run.id}`);
    } catch (err) {
      toast(`Could not start a run: ${errorMessage(err)}`, "error");
      setStarting(false);
    }
  };

  if (notFound) {
    return (
      <div className="page">
        <div className="empty-state">
          <h2>Pipeline not available</h2>
          <p className="muted">{notFound}</p>
          <Link to="/pipelines" className="btn btn-primary">
            Back to pipelines
          </Link>
        </div>
      </div>
    );
  }

  const none = stats !== null && stats.total === 0 && recent !== null && recent.length === 0;

  return (
    <div className="page dashboard-page">
      <Breadcrumbs
        items={[
          { label: "Pipelines", to: "/pipelines" },
          { label: pipeline?.name ?? "…", to: `/pipelines/${pipelineId}` },
          { label: "Dashboard" },
        ]}
      />
      <div className="page-header">
        <div>
          <h1>{pipeline?.name ?? <span className="skeleton-text" />}</h1>
          <p className="muted">{pipeline?.description || "Runs, durations and triggers of this pipeline"}</p>
        </div>
        <div className="page-actions">
          <LiveIndicator state={live} />
          <Link to={`/runs?pipeline=${pipelineId}`} className="btn">
            <History size={14} /> Runs
          </Link>
          <Link to={`/pipelines/${pipelineId}/deploy`} className="btn">
            <Rocket size={14} /> Deploy
          </Link>
          <Link to={`/pipelines/${pipelineId}`} className="btn">
            <Pencil size={14} /> Editor
          </Link>
          <button className="btn btn-primary" onClick={runNow} disabled={starting}>
            <Play size={14} /> Run now
          </button>
        </div>
      </div>

      {error && <PageError message={`Could not load the statistics: ${error}`} onRetry={load} />}

      <div className="stat-row stat-row-5">
        {stats ? (
          <>
            <Stat label="Runs (30 d)" value={formatNumber(stats.total)} sub={`${formatNumber(stats.by_status.failed)} failed`} testId="stat-total" />
            <Stat
              label="Success rate"
              value={formatPercent(stats.success_rate)}
              tone={stats.success_rate === null ? undefined : stats.success_rate < 0.9 ? "warn" : "success"}
              sub={`${formatNumber(stats.by_status.succeeded)} of ${formatNumber(stats.by_status.succeeded + stats.by_status.failed)} finished`}
            />
            <Stat label="Median duration" value={stats.duration_ms.p50 !== null ? formatDuration(stats.duration_ms.p50) : "–"} sub="p50 of finished runs" />
            <Stat label="Slow runs" value={stats.duration_ms.p95 !== null ? formatDuration(stats.duration_ms.p95) : "–"} sub="p95 duration" />
            <Stat label="Rows processed" value={formatNumber(stats.rows_processed)} sub="over 30 days" />
          </>
        ) : (
          [0, 1, 2, 3, 4].map((i) => <div key={i} className="stat stat-skeleton" aria-busy="true" />)
        )}
      </div>

      <Card
        title="Last runs"
        subtitle="Oldest to newest; click a cell to open the run"
        testId="run-strip"
        action={
          <Link to={`/runs?pipeline=${pipelineId}`} className="card-link">
            All runs of this pipeline
          </Link>
        }
      >
        {recent === null ? (
          <SkeletonBlock height={36} />
        ) : none ? (
          <Hint icon={<Play size={18} />} title="This pipeline has not run yet">
            Press <strong>Run now</strong>, or add a schedule below. Each run adds a cell here, green
            for success and red for failure.
          </Hint>
        ) : (
          <RunStrip runs={recent} />
        )}
      </Card>

      <div className="grid-2 dashboard-charts">
        <Card title="Success rate" subtitle="Runs per day, last 30 days">
          {stats ? (
            <Chart option={runsPerDayOption(stats.per_day, 30)} height={210} label="Runs and success rate per day" />
          ) : (
            <SkeletonBlock height={210} />
          )}
        </Card>
        <Card title="Duration trend" subtitle="Mean run duration per day, with p50 and p95">
          {stats ? (
            stats.per_day.some((d) => d.mean_duration_ms !== null) ? (
              <Chart option={durationOption(stats.per_day, 30, stats.duration_ms)} height={210} label="Mean run duration per day" />
            ) : (
              <div className="chart-empty" style={{ height: 210 }}>
                <Hint icon={<Timer size={18} />} title="No finished runs yet" />
              </div>
            )
          ) : (
            <SkeletonBlock height={210} />
          )}
        </Card>
      </div>

      <div className="grid-2">
        <Card title={<><ChartLine size={15} /> Slowest nodes</>} subtitle="Mean time executing, over the last 30 days" flush testId="slowest-nodes">
          {!stats ? (
            <SkeletonBlock height={150} />
          ) : !stats.slowest_nodes?.length ? (
            <Hint icon={<Timer size={18} />} title="Nothing measured yet">
              After a run, the nodes that take longest show here — the place to look first when the
              pipeline gets slow.
            </Hint>
          ) : (
            <SlowNodes stats={stats} labels={Object.fromEntries(
              (pipeline?.graph.nodes ?? []).map((n) => [n.id, n.label || operators[n.operator]?.label || n.operator]),
            )} />
          )}
        </Card>
        <WebhookPanel pipelineId={pipelineId} enabled={!!pipeline?.webhook_enabled} />
      </div>

      <SchedulesPanel pipelineId={pipelineId} />
    </div>
  );
}

function RunStrip({ runs }: { runs: RunRow[] }) {
  const cells = useMemo(() => {
    const ordered = [...runs].reverse();
    return [...Array(Math.max(0, STRIP - ordered.length)).fill(null), ...ordered] as (RunRow | null)[];
  }, [runs]);
  return (
    <div className="run-strip" role="list" aria-label="Last runs, oldest first">
      {cells.map((r, i) =>
        r ? (
          <Link
            key={r.id}
            to={`/runs/${r.id}`}
            role="listitem"
            className={`run-cell run-cell-${r.status}`}
            data-testid="run-cell"
            data-status={r.status}
            title={`${statusLabel(r.status)} · ${formatDateTime(r.created_at)}${r.duration_ms !== null ? ` · ${formatDuration(r.duration_ms)}` : ""}`}
            aria-label={`${statusLabel(r.status)} run of ${formatDateTime(r.created_at)}`}
          />
        ) : (
          <span key={`empty-${i}`} className="run-cell run-cell-empty" aria-hidden="true" />
        ),
      )}
    </div>
  );
}

function SlowNodes({ stats, labels }: { stats: RunStats; labels: Record<string, string> }) {
  const nodes = stats.slowest_nodes ?? [];
  const top = Math.max(...nodes.map((n) => n.mean_ms), 1);
  return (
    <table className="grid-table fixed-table" aria-label="Slowest nodes">
      <thead>
        <tr>
          <th>Node</th>
          <th style={{ width: "32%" }}>Mean</th>
          <th className="num" style={{ width: "86px" }}>Max</th>
          <th className="num" style={{ width: "64px" }}>Runs</th>
        </tr>
      </thead>
      <tbody>
        {nodes.map((n) => (
          <tr key={n.node_id} data-testid="slow-node">
            <td>
              <div className="cell-stack">
                <span className="node-name">{labels[n.node_id] ?? n.node_id}</span>
                <span className="muted small mono ellipsis" title={`${n.node_id} · ${n.operator}`}>
                  {n.node_id} · {n.operator}
                </span>
              </div>
            </td>
            <td>
              <div className="inline-bar">
                <span className="inline-bar-track">
                  <span className="inline-bar-fill" style={{ width: `${(n.mean_ms / top) * 100}%` }} />
                </span>
                <span className="inline-bar-value">{formatDuration(n.mean_ms)}</span>
              </div>
            </td>
            <td className="num">{formatDuration(n.max_ms)}</td>
            <td className="num">{formatNumber(n.runs)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
