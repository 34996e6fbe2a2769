// The runs table's columns: status, pipeline and version, trigger, start, duration, rows.
import { useMemo } from "react";
import { elapsed, formatDateTime, formatDuration, timeAgo } from "../../lib/format";
import { useNow } from "../../lib/useNow";
import { StatusBadge } from "../../ui/StatusBadge";
import type { LiveRunRow, Pipeline } from "../../api/types";
import type { Col } from "../DataTable";
import { formatShortDateTime, Link, shortHash, triggerLabel } from "../common";

function Duration({ run }: { run: LiveRunRow }) {
  const live = run.status === "running";
  const now = useNow(live);
  if (run.duration_ms !== null && run.duration_ms !== undefined) return <>{formatDuration(run.duration_ms)}</>;
  if (live && run.started_at) return <span className="live-figure">{formatDuration(elapsed(run.started_at, null, now)) || "0 s"}</span>;
  return <span className="muted">–</span>;
}


export function useRunColumns(byId: Record<string, Pipeline>) {
  return useMemo<Col<LiveRunRow>[]>(
    () => [
      {
        id: "status",
        header: "Status",
        enableSorting: false,
        meta: { width: "130px" },
        cell: ({ row }) =>
          row.original.waiting_node && row.original.status === "running" ? (
            <StatusBadge status="waiting" label="Your approval" title={`Waiting for your approval: ${row.original.waiting_node}`} />
          ) : (
            <StatusBadge status={row.original.status} />
          ),
      },
      {
        id: "pipeline",
        header: "Pipeline",
        enableSorting: false,
        cell: ({ row }) => {
          const r = row.original;
          return (
            <div className="cell-stack">
              <Link to={`/runs/${r.id}`} className="strong-link" onClick={(e) => e.stopPropagation()}>
                {r.pipeline_name ?? byId[r.pipeline]?.name ?? "Pipeline"}
              </Link>
              {r.status === "failed" && r.error ? (
                <span className="cell-error" title={r.error}>
                  {r.error}
                </span>
              ) : r.status === "cancelled" && r.error ? (
                <span className="muted small" title={r.error}>
                  {r.error}
                </span>
              ) : (
                <span className="muted small mono">run {shortHash(r.id)}</span>
              )}
            </div>
          );
        },
      },
      {
        id: "version",
        header: "Version",
        enableSorting: false,
        meta: { width: "96px" },
        cell: ({ row }) =>
          row.original.version ? (
            <code className="hash" title={row.original.version}>
              {shortHash(row.original.version)}
            </code>
          ) : (
            <span className="muted">–</span>
          ),
      },
      {
        id: "trigger",
        header: "Trigger",
        enableSorting: false,
        meta: { width: "96px" },
        cell: ({ row }) => <span className={`trigger trigger-${row.original.trigger}`}>{triggerLabel(row.original.trigger)}</span>,
      },
      {
        id: "created_by",
        header: "By",
        enableSorting: false,
        meta: { width: "96px" },
        cell: ({ row }) => <span className="muted">{row.original.created_by ?? "–"}</span>,
      },
      {
        id: "created_at",
        header: "Started",
        sortDescFirst: true,
        meta: { width: "150px" },
        cell: ({ row }) => {
          const r = row.original;
          const at = r.started_at ?? r.created_at;
          return (
            <span title={formatDateTime(at)} className="cell-stack">
              <span>{timeAgo(at)}</span>
              <span className="muted small nowrap">{formatShortDateTime(at)}</span>
            </span>
          );
        },
      },
      {
        id: "duration_ms",
        header: "Duration",
        sortDescFirst: true,
        meta: { num: true, width: "104px" },
        cell: ({ row }) => <Duration run={row.original} />,
      },
    ],
    [byId],
  );
}
