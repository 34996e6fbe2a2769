// Every run of the workspace: filters in the URL, server-side sort, cursor pages, live rows.
import type { SortingState } from "@tanstack/react-table";
import { History, RefreshCw, Search, X } from "lucide-react";
import { useCallback, useEffect, useMemo, useState } from "react";
import { formatNumber, plural } from "../../lib/format";
import { navigate, useSearch } from "../../lib/router";
import { useSession } from "../../lib/session";
import { statusLabel } from "../../ui/StatusBadge";
import { RUN_STATES, TRIGGERS, type RunStatus } from "../../api/types";
import { DataTable } from "../DataTable";
import { Link, LiveIndicator, PageError, triggerLabel } from "../common";
import { usePipelines } from "../../api/queries";
import { useDocumentTitle } from "../hooks";
import { EMPTY_FILTERS, filtersFromSearch, filtersToApiQuery, filtersToSearch, hasFilters, type Ordering, type RunFilters } from "./runsQuery";
import { useRunColumns } from "./columns";
import { useRunsList } from "./useRunsList";

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


export function RunsPage() {
  const workspaceId = useSession((s) => s.workspaceId);
  const search = useSearch();
  const filters = useMemo(() => filtersFromSearch(search), [search]);
  const apiQuery = useMemo(() => filtersToApiQuery(filters, PAGE_SIZE), [filters]);
  const { pipelines, byId } = usePipelines(workspaceId);
  const [searchText, setSearchText] = useState(filters.search);
  useDocumentTitle("Runs");

  const setFilters = useCallback((f: RunFilters) => {
    navigate(`/runs${filtersToSearch(f)}`, { replace: true });
  }, []);


  // The search box writes to the URL after a pause in typing.
  useEffect(() => setSearchText(filters.search), [filters.search]);
  useEffect(() => {
    if (searchText === filters.search) return;
    const t = window.setTimeout(() => setFilters({ ...filters, search: searchText }), 300);
    return () => window.clearTimeout(t);
  }, [searchText, filters, setFilters]);

  const { runs, next, loading, loadingMore, error, missed, fresh, live, load, loadMore } = useRunsList(
    workspaceId,
    filters,
    apiQuery,
    byId,
  );
  const columns = useRunColumns(byId);

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

