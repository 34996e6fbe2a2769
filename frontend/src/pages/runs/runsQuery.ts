// The runs page's filters: the URL's query string ⇄ filters ⇄ the API's query string, and how
// a live run event changes the loaded list. Pure; no React.
import { RUN_STATES, type LiveRunRow, type RunStatus } from "../../api/types";

export type Ordering = "-created_at" | "created_at" | "-duration_ms" | "duration_ms";
export const ORDERINGS: Ordering[] = ["-created_at", "created_at", "-duration_ms", "duration_ms"];

export interface RunFilters {
  status: RunStatus[];
  pipeline: string;
  trigger: string;
  /** Local calendar days, "YYYY-MM-DD"; both inclusive. */
  since: string;
  until: string;
  search: string;
  ordering: Ordering;
}

export const EMPTY_FILTERS: RunFilters = {
  status: [],
  pipeline: "",
  trigger: "",
  since: "",
  until: "",
  search: "",
  ordering: "-created_at",
};

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Filters from the page URL's query string; anything malformed is dropped. */
export function filtersFromSearch(search: string): RunFilters {
  const q = new URLSearchParams(search);
  const status = (q.get("status") ?? "")
    .split(",")
    .filter((s): s is RunStatus => (RUN_STATES as string[]).includes(s));
  const ordering = q.get("ordering") ?? "";
  const day = (name: string) => {
    const v = q.get(name) ?? "";
    return DAY.test(v) ? v : "";
  };
  return {
    status: RUN_STATES.filter((s) => status.includes(s)),
    pipeline: q.get("pipeline") ?? "",
    trigger: q.get("trigger") ?? "",
    since: day("since"),
    until: day("until"),
    search: q.get("search") ?? "",
    ordering: (ORDERINGS as string[]).includes(ordering) ? (ordering as Ordering) : "-created_at",
  };
}

/** Filters → the page URL's query string ("" when nothing is set); defaults are left out. */
export function filtersToSearch(f: RunFilters): string {
  const q = new URLSearchParams();
  if (f.status.length) q.set("status", f.status.join(","));
  if (f.pipeline) q.set("pipeline", f.pipeline);
  if (f.trigger) q.set("trigger", f.trigger);
  if (f.since) q.set("since", f.since);
  if (f.until) q.set("until", f.until);
  if (f.search.trim()) q.set("search", f.search.trim());
  if (f.ordering !== "-created_at") q.set("ordering", f.ordering);
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** Local midnight of a "YYYY-MM-DD" day, `plusDays` later, as an ISO instant. */
export function localDayStart(day: string, plusDays = 0): string {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y, m - 1, d + plusDays).toISOString();
}

/** Filters → the query string of GET /api/runs/ (without the workspace). */
export function filtersToApiQuery(f: RunFilters, pageSize = 50): string {
  const q = new URLSearchParams();
  if (f.status.length) q.set("status", f.status.join(","));
  if (f.pipeline) q.set("pipeline", f.pipeline);
  if (f.trigger) q.set("trigger", f.trigger);
  // The API's since is inclusive and until exclusive: the day after `until` starts the gap.
  if (f.since) q.set("since", localDayStart(f.since));
  if (f.until) q.set("until", localDayStart(f.until, 1));
  if (f.search.trim()) q.set("search", f.search.trim());
  q.set("ordering", f.ordering);
  q.set("page_size", String(pageSize));
  return q.toString();
}

export function hasFilters(f: RunFilters): boolean {
  return !!(f.status.length || f.pipeline || f.trigger || f.since || f.until || f.search.trim());
}

/** Whether a run belongs in the list these filters ask for. */
export function runMatches(run: LiveRunRow, f: RunFilters, pipelineName?: string): boolean {
  if (f.status.length && !f.status.includes(run.status)) return false;
  if (f.pipeline && run.pipeline !== f.pipeline) return false;
  if (f.trigger && run.trigger !== f.trigger) return false;
  const created = Date.parse(run.created_at ?? "");
  if (f.since && created < Date.parse(localDayStart(f.since))) return false;
  if (f.until && created >= Date.parse(localDayStart(f.until, 1))) return false;
  const search = f.search.trim().toLowerCase();
  if (search) {
    const name = (run.pipeline_name ?? pipelineName ?? "").toLowerCase();
    if (!name.includes(search)) return false;
  }
  return true;
}

export interface LiveMerge {
  runs: LiveRunRow[];
  /** The event was for a run the list does not show and cannot place (another sort order). */
  missed: boolean;
  /** The id of a run the event added to the list, if any. */
  added: string | null;
}

/**
 * Apply a run-level event to the loaded list. A known run takes the new fields (and keeps the
 * ones only the list carries: name, version, user). An unknown run that matches the filters
 * goes where the order puts it, when that place is within what is loaded; otherwise the
 * caller is told it missed one.
 */
export function mergeRunEvent(
  runs: LiveRunRow[],
  event: LiveRunRow,
  f: RunFilters,
  opts: { hasMore: boolean; pipelineName?: string },
): LiveMerge {
  const idx = runs.findIndex((r) => r.id === event.id);
  if (idx >= 0) {
    const merged = { ...runs[idx], ...stripUndefined(event) };
    return { runs: runs.map((r, i) => (i === idx ? merged : r)), missed: false, added: null };
  }
  const row: LiveRunRow = { ...event, pipeline_name: event.pipeline_name ?? opts.pipelineName };
  if (!runMatches(row, f, opts.pipelineName)) return { runs, missed: false, added: null };
  if (f.ordering === "-created_at" || f.ordering === "created_at") {
    const t = Date.parse(row.created_at ?? "");
    const desc = f.ordering === "-created_at";
    const at = runs.findIndex((r) => {
      const c = Date.parse(r.created_at ?? "");
      return desc ? c < t : c > t;
    });
    if (at === -1) {
      // It belongs after everything loaded: only place it when nothing more is to come.
      if (opts.hasMore) return { runs, missed: !desc, added: null };
      return { runs: [...runs, row], missed: false, added: row.id };
    }
    return { runs: [...runs.slice(0, at), row, ...runs.slice(at)], missed: false, added: row.id };
  }
  return { runs, missed: true, added: null };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
