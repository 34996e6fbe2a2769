// Every run of the workspace: filters in the URL, server-side sort, cursor pages, live rows.
import type { SortingState } from "@tanstack/react-table";
import { History, RefreshCw, Search, X } from "lucide-react";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api, errorMessage } from "../../api/client";
import { elapsed, formatDateTime, formatDuration, formatNumber, plural, timeAgo } from "../../lib/format";
import { navigate, useSearch } from "../../lib/router";
import { useSession } from "../../lib/session";
import { useNow } from "../../lib/useNow";
import { StatusBadge, statusLabel } from "../../ui/StatusBadge";
import { RUN_STATES, TRIGGERS, type LiveRunRow, type RunStatus } from "../../api/types";
import { DataTable, type Col } from "../DataTable";
import { formatShortDateTime, Link, LiveIndicator, PageError, shortHash, triggerLabel } from "../common";
import { usePipelines } from "../../api/queries";
import { useDocumentTitle } from "../hooks";
import { useWorkspaceRuns } from "../live";
import {
  EMPTY_FILTERS,
  filtersFromSearch,
  filtersToApiQuery,
  filtersToSearch,
  hasFilters,
  mergeRunEvent,
  type Ordering,
  type RunFilters,
} from "./runsQuery";

const PAGE_SIZE = 50;

function sortingOf(ordering: Ordering): SortingState {
  const desc = ordering.startsWith("-");
  return [{ id: ordering.replace(/^-/, ""), desc }];
}

function orderingOf(sorting: SortingState): Ordering {
  const s = sorting[0];
  if (!s) return "-created_at";
  const id = s.id === "duration_ms" ? "duration_ms" : "created_at";
  return (s.desc ? `-${id}` : id) as Ordering;
}

function Duration({ run }: { run: LiveRunRow }) {
  const live = run.status === "running";
  const now = useNow(live);
  if (run.duration_ms !== null && run.duration_ms !== undefined) return <>{formatDuration(run.duration_ms)}</>;
  if (live && run.started_at) return <span className="live-figure">{formatDuration(elapsed(run.started_at, null, now)) || "0 s"}</span>;
  return <span className="muted">–</span>;
}

export function RunsPage() {
  const workspaceId = useSession((s) => s.workspaceId);
  const search = useSearch();
  const filters = useMemo(() => filtersFromSearch(search), [search]);
  const apiQuery = useMemo(() => filtersToApiQuery(filters, PAGE_SIZE), [filters]);
  const { pipelines, byId } = usePipelines(workspaceId);
  const [runs, setRuns] = useState<LiveRunRow[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [missed, setMissed] = useState(0);
  const [fresh, setFresh] = useState<Set<string>>(() => new Set());
  const [searchText, setSearchText] = useState(filters.search);
  const request = useRef(0);
  useDocumentTitle("Runs");

  const setFilters = useCallback((f: RunFilters) => {
    navigate(`/runs${filtersToSearch(f)}`, { replace: true });
  }, []);

  const load = useCallback(() => {
    const id = ++request.current;
    setLoading(true);
    api
      .runs(apiQuery)
      .then((page) => {
        if (id !== request.current) return;
        setRuns(page.results);
        setNext(page.next);
        setError(null);
        setMissed(0);
      })
      .catch((err) => {
        if (id === request.current) setError(errorMessage(err));
      })
      .finally(() => {
        if (id === request.current) setLoading(false);
      });
  }, [apiQuery]);

  useEffect(load, [load]);

  // The search box writes to the URL after a pause in typing.
  useEffect(() => setSearchText(filters.search), [filters.search]);
  useEffect(() => {
    if (searchText === filters.search) return;
    const t = window.setTimeout(() => setFilters({ ...filters, search: searchText }), 300);
    return () => window.clearTimeout(t);
  }, [searchText, filters, setFilters]);

  const loadMore = () => {
    if (!next) return;
    const id = request.current;
    setLoadingMore(true);
    api
      .runsPage(next)
      .then((page) => {
        if (id !== request.current) return;
        setRuns((list) => {
          const have = new Set((list ?? []).map((r) => r.id));
          return [...(list ?? []), ...page.results.filter((r) => !have.has(r.id))];
        });
        setNext(page.next);
      })
      .catch((err) => setError(errorMessage(err)))
      .finally(() => setLoadingMore(false));
  };

  const state = useRef({ filters, next, byId, runs });
  state.current = { filters, next, byId, runs };

  const onRun = useCallback((event: LiveRunRow) => {
    const { filters: f, next: more, byId: names, runs: list } = state.current;
    if (!list) return;
    const out = mergeRunEvent(list, event, f, { hasMore: !!more, pipelineName: names[event.pipeline]?.name });
    if (out.missed) setMissed((n) => n + 1);
    if (out.runs === list) return;
    state.current.runs = out.runs;
    setRuns(out.runs);
    const id = out.added;
    if (!id) return;
    setFresh((set) => new Set(set).add(id));
    window.setTimeout(
      () =>
        setFresh((set) => {
          const n = new Set(set);
          n.delete(id);
          return n;
        }),
      2500,
    );
    // The event carries run-level fields only: fetch the name, version and user once.
    api
      .run(id)
      .then((full) =>
        setRuns((rows) =>
          rows?.map((r) =>
            r.id === id
              ? { ...r, pipeline_name: full.pipeline_name, version: full.version, created_by: full.created_by }
              : r,
          ) ?? rows,
        ),
      )
      .catch(() => {});
  }, []);

  const live = useWorkspaceRuns(workspaceId, onRun, () => load());

  const columns = useMemo<Col<LiveRunRow>[]>(
    () => [
      {
        id: "status",
        header: "Status",
        enableSorting: false,
        meta: { width: "130px" },
        cell: ({ row }) => <StatusBadge status={row.original.status} />,
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

  const filtered = hasFilters(filters);
  const toggleStatus = (s: RunStatus) =>
    setFilters({
      ...filters,
      status: filters.status.includes(s) ? filters.status.filter((x) => x !== s) : [...filters.status, s],
    });

  return (
    <div className="page runs-page">
      <div className="page-header">
        <div>
          <h1>Runs</h1>
          <p className="muted">
            {runs ? `${plural(runs.length, "run")}${next ? " loaded" : ""}${filtered ? " matching the filters" : ""}` : "Loading…"}
          </p>
        </div>
        <div className="page-actions">
          <LiveIndicator state={live} />
          <label className="search">
            <Search size={14} aria-hidden="true" />
            <input
              type="search"
              placeholder="Search by pipeline name"
              aria-label="Search runs by pipeline name"
              value={searchText}
              onChange={(e) => setSearchText(e.target.value)}
            />
          </label>
        </div>
      </div>

      <div className="filter-bar" role="group" aria-label="Filters">
        <div className="chips" role="group" aria-label="Status">
          {RUN_STATES.map((s) => (
            <button
              key={s}
              type="button"
              className={`chip chip-status-${s}${filters.status.includes(s) ? " chip-on" : ""}`}
              aria-pressed={filters.status.includes(s)}
              onClick={() => toggleStatus(s)}
            >
              {statusLabel(s)}
            </button>
          ))}
        </div>
        <div className="filter-fields">
          <select
            aria-label="Pipeline"
            value={filters.pipeline}
            onChange={(e) => setFilters({ ...filters, pipeline: e.target.value })}
          >
            <option value="">All pipelines</option>
            {(pipelines ?? []).map((p) => (
              <option key={p.id} value={String(p.id)}>
                {p.name}
              </option>
            ))}
            {filters.pipeline && pipelines && !byId[filters.pipeline] && (
              <option value={filters.pipeline}>Another pipeline</option>
            )}
          </select>
          <select
            aria-label="Trigger"
            value={filters.trigger}
            onChange={(e) => setFilters({ ...filters, trigger: e.target.value })}
          >
            <option value="">Any trigger</option>
            {TRIGGERS.map((t) => (
              <option key={t} value={t}>
                {triggerLabel(t)}
              </option>
            ))}
          </select>
          <label className="date-field">
            <span>From</span>
            <input
              type="date"
              aria-label="From date"
              value={filters.since}
              max={filters.until || undefined}
              onChange={(e) => setFilters({ ...filters, since: e.target.value })}
            />
          </label>
          <label className="date-field">
            <span>To</span>
            <input
              type="date"
              aria-label="To date"
              value={filters.until}
              min={filters.since || undefined}
              onChange={(e) => setFilters({ ...filters, until: e.target.value })}
            />
          </label>
          <button
            type="button"
            className="btn btn-sm btn-ghost-dark"
            disabled={!filtered}
            onClick={() => {
              setSearchText("");
              setFilters({ ...EMPTY_FILTERS, ordering: filters.ordering });
            }}
          >
            <X size={14} /> Clear
          </button>
        </div>
      </div>

      {error && <PageError message={`Could not load runs: ${error}`} onRetry={load} />}
      {missed > 0 && (
        <div className="banner banner-info" role="status">
          <span>
            {plural(missed, "run")} changed that this sort order cannot place live.
          </span>
          <button className="btn btn-sm" onClick={load}>
            <RefreshCw size={14} /> Refresh
          </button>
        </div>
      )}

      {runs === null ? (
        <div className="pipeline-table skeleton-table" aria-busy="true">
          {[0, 1, 2, 3, 4].map((i) => (
            <div key={i} className="skeleton-row" />
          ))}
        </div>
      ) : runs.length === 0 && !filtered ? (
        <div className="empty-state">
          <div className="empty-icon">
            <History size={28} />
          </div>
          <h2>No runs yet</h2>
          <p className="muted">
            A run executes a pipeline once. Open a pipeline and press <strong>Run</strong>, or put it on
            a schedule from its dashboard; runs appear here as they start.
          </p>
          <Link to="/pipelines" className="btn btn-primary">
            Go to pipelines
          </Link>
        </div>
      ) : (
        <div className={loading ? "table-card is-loading" : "table-card"}>
          <DataTable
            label="Runs"
            columns={columns}
            data={runs}
            getRowId={(r) => r.id}
            sorting={sortingOf(filters.ordering)}
            onSortingChange={(s) => setFilters({ ...filters, ordering: orderingOf(s) })}
            onRowClick={(r) => navigate(`/runs/${r.id}`)}
            rowProps={(r) => ({
              "data-testid": "run-row",
              "data-run-id": r.id,
              "data-status": r.status,
              className: fresh.has(r.id) ? "row-new" : "",
            })}
            empty={
              <div className="table-empty">
                <p>No run matches these filters.</p>
                <button
                  className="btn btn-sm"
                  onClick={() => {
                    setSearchText("");
                    setFilters(EMPTY_FILTERS);
                  }}
                >
                  Clear filters
                </button>
              </div>
            }
            footer={
              runs.length > 0 ? (
                <div className="table-footer">
                  <span className="muted small">
                    {next ? `Showing the first ${formatNumber(runs.length)}` : `All ${plural(runs.length, "run")}`}
                  </span>
                  {next && (
                    <button className="btn btn-sm" onClick={loadMore} disabled={loadingMore}>
                      {loadingMore ? "Loading…" : `Load ${PAGE_SIZE} more`}
                    </button>
                  )}
                </div>
              ) : null
            }
          />
        </div>
      )}
    </div>
  );
}

