// The overview's lists: a running run, the upcoming schedules, the recent models.
import { AlarmClock } from "lucide-react";
import { useMemo } from "react";
import type { ModelSummary, RunRow } from "../../api/types";
import { elapsed, formatDateTime, formatDuration, timeAgo } from "../../lib/format";
import { useNow } from "../../lib/useNow";
import { StatusBadge } from "../../ui/StatusBadge";
import { Link, formatMetric, headlineMetric, timeUntil } from "../common";
import { formatInZone } from "../cron";

import type { Upcoming } from "./useOverview";

export function ActiveRun({ run, name }: { run: RunRow; name?: string }) {
  const now = useNow(run.status === "running");
  const waiting = run.waiting_node;
  return (
    <li data-testid="active-item" data-waiting={waiting ?? undefined}>
      {/* A run waiting for approval opens on the node that waits. */}
      <Link to={waiting ? `/runs/${run.id}?node=${encodeURIComponent(waiting)}` : `/runs/${run.id}`} className="run-list-item">
        <StatusBadge status={waiting ? "waiting" : run.status} compact />
        <span className="run-list-main">
          <span className="run-list-name">{name ?? "Pipeline"}</span>
          <span className={waiting ? "small approval-note" : "muted small"}>
            {waiting
              ? `Waiting for your approval · go to ${waiting}`
              : run.status === "running"
              ? `Running for ${formatDuration(elapsed(run.started_at, null, now)) || "0 s"}`
              : run.status === "pending"
                ? "Waiting for a free slot"
                : "Queued"}
          </span>
        </span>
        <span className="run-list-meta muted small">{timeAgo(run.created_at)}</span>
      </Link>
    </li>
  );
}

export function UpcomingList({ items }: { items: Upcoming[] }) {
  const now = useNow(true, 30_000);
  return (
    <ul className="run-list">
      {items.map(({ schedule, pipeline, at }) => (
        <li key={schedule.id} data-testid="upcoming-item">
          <Link to={`/pipelines/${pipeline.id}/dashboard`} className="run-list-item">
            <span className="icon-chip">
              <AlarmClock size={14} />
            </span>
            <span className="run-list-main">
              <span className="run-list-name">{pipeline.name}</span>
              <span className="muted small">
                <code>{schedule.cron}</code> · {schedule.timezone}
              </span>
            </span>
            <span className="run-list-meta small" title={formatDateTime(at)}>
              <strong>{timeUntil(at, now)}</strong>
              <span className="muted">{formatInZone(at, schedule.timezone)}</span>
            </span>
          </Link>
        </li>
      ))}
    </ul>
  );
}

export function RecentModels({ models }: { models: ModelSummary[] }) {
  const recent = useMemo(
    () =>
      models
        .filter((m) => m.latest)
        .sort((a, b) => Date.parse(b.latest!.created_at) - Date.parse(a.latest!.created_at))
        .slice(0, 6),
    [models],
  );
  return (
    <table className="grid-table" aria-label="Recent model versions">
      <thead>
        <tr>
          <th>Model</th>
          <th>Version</th>
          <th>Metric</th>
          <th>Aliases</th>
          <th>Registered</th>
        </tr>
      </thead>
      <tbody>
        {recent.map((m) => {
          const v = m.latest!;
          const metric = headlineMetric(v.metrics);
          return (
            <tr key={m.id} data-testid="recent-model">
              <td>
                <Link to={`/models/${m.id}`} className="strong-link">
                  {m.name}
                </Link>
              </td>
              <td>
                <Link to={`/models/${m.id}/versions/${v.version}`}>v{v.version}</Link>
                <span className="muted small"> of {m.version_count}</span>
              </td>
              <td className="muted">
                {metric ? (
                  <>
                    {metric[0]} <strong className="metric-inline">{formatMetric(metric[1])}</strong>
                  </>
                ) : (
                  "–"
                )}
              </td>
              <td>
                {Object.entries(m.aliases).length
                  ? Object.entries(m.aliases).map(([alias, n]) => (
                      <span key={alias} className={`tag ${alias === "production" ? "tag-primary" : ""}`} title={`${alias} → v${n}`}>
                        {alias} v{n}
                      </span>
                    ))
                  : <span className="muted small">–</span>}
              </td>
              <td className="muted small" title={formatDateTime(v.created_at)}>
                {timeAgo(v.created_at)}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
