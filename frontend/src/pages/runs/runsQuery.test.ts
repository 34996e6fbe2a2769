import { describe, expect, it } from "vitest";
import type { LiveRunRow } from "../../api/types";
import {
  EMPTY_FILTERS,
  filtersFromSearch,
  filtersToApiQuery,
  filtersToSearch,
  hasFilters,
  localDayStart,
  mergeRunEvent,
  runMatches,
  type RunFilters,
} from "./runsQuery";

const run = (over: Partial<LiveRunRow> = {}): LiveRunRow => ({
  id: "r1",
  status: "queued",
  started_at: null,
  finished_at: null,
  error: "",
  duration_ms: null,
  rows_processed: 0,
  pipeline: "p1",
  workspace: "w1",
  trigger: "manual",
  created_at: "2026-03-10T12:00:00Z",
  waiting_node: null,
  full_refresh: false,
  ...over,
});

describe("filters ⇄ URL", () => {
  it("round-trips every filter", () => {
    const f: RunFilters = {
      status: ["running", "failed"],
      pipeline: "p1",
      trigger: "schedule",
      since: "2026-03-01",
      until: "2026-03-31",
      search: "churn",
      ordering: "-duration_ms",
    };
    expect(filtersFromSearch(filtersToSearch(f))).toEqual(f);
  });

  it("leaves defaults out and drops malformed values", () => {
    expect(filtersToSearch(EMPTY_FILTERS)).toBe("");
    const f = filtersFromSearch("?status=failed,bogus&since=yesterday&ordering=name");
    expect(f.status).toEqual(["failed"]);
    expect(f.since).toBe("");
    expect(f.ordering).toBe("-created_at");
    expect(hasFilters(f)).toBe(true);
    expect(hasFilters(EMPTY_FILTERS)).toBe(false);
  });

  it("keeps statuses in a stable order", () => {
    expect(filtersFromSearch("?status=failed,queued").status).toEqual(["queued", "failed"]);
  });
});

describe("filters → API query", () => {
  it("sends statuses as a comma list, days as local instants, until inclusive", () => {
    const q = new URLSearchParams(
      filtersToApiQuery({ ...EMPTY_FILTERS, status: ["queued", "running"], since: "2026-03-01", until: "2026-03-05" }, 30),
    );
    expect(q.get("status")).toBe("queued,running");
    expect(q.get("since")).toBe(new Date(2026, 2, 1).toISOString());
    expect(q.get("until")).toBe(new Date(2026, 2, 6).toISOString());
    expect(q.get("ordering")).toBe("-created_at");
    expect(q.get("page_size")).toBe("30");
    expect(q.has("pipeline")).toBe(false);
  });

  it("trims the search", () => {
    const q = new URLSearchParams(filtersToApiQuery({ ...EMPTY_FILTERS, search: "  iris " }));
    expect(q.get("search")).toBe("iris");
  });

  it("rolls days over month ends", () => {
    expect(localDayStart("2026-01-31", 1)).toBe(new Date(2026, 1, 1).toISOString());
  });
});

describe("live events", () => {
  it("matches filters like the server", () => {
    const r = run({ status: "failed", trigger: "api", pipeline_name: "Iris classifier" });
    expect(runMatches(r, EMPTY_FILTERS)).toBe(true);
    expect(runMatches(r, { ...EMPTY_FILTERS, status: ["succeeded"] })).toBe(false);
    expect(runMatches(r, { ...EMPTY_FILTERS, trigger: "manual" })).toBe(false);
    expect(runMatches(r, { ...EMPTY_FILTERS, pipeline: "p2" })).toBe(false);
    expect(runMatches(r, { ...EMPTY_FILTERS, search: "IRIS" })).toBe(true);
    expect(runMatches(run(), { ...EMPTY_FILTERS, search: "iris" }, "Churn")).toBe(false);
    expect(runMatches(r, { ...EMPTY_FILTERS, since: "2099-01-01" })).toBe(false);
  });

  it("updates a known run in place and keeps list-only fields", () => {
    const list = [run({ id: "a", pipeline_name: "Iris", version: "abc" }), run({ id: "b" })];
    const out = mergeRunEvent(list, run({ id: "a", status: "succeeded", duration_ms: 900 }), EMPTY_FILTERS, { hasMore: false });
    expect(out.runs[0]).toMatchObject({ id: "a", status: "succeeded", duration_ms: 900, pipeline_name: "Iris", version: "abc" });
    expect(out.added).toBeNull();
    expect(out.runs).toHaveLength(2);
  });

  it("puts a new run at the top of the newest-first list", () => {
    const list = [run({ id: "a", created_at: "2026-03-10T12:00:00Z" })];
    const out = mergeRunEvent(list, run({ id: "n", created_at: "2026-03-10T13:00:00Z" }), EMPTY_FILTERS, { hasMore: true, pipelineName: "Iris" });
    expect(out.runs.map((r) => r.id)).toEqual(["n", "a"]);
    expect(out.runs[0].pipeline_name).toBe("Iris");
    expect(out.added).toBe("n");
  });

  it("ignores runs the filters exclude, and reports what it cannot place", () => {
    const list = [run({ id: "a" })];
    const f = { ...EMPTY_FILTERS, status: ["failed" as const] };
    expect(mergeRunEvent(list, run({ id: "n" }), f, { hasMore: false }).runs).toBe(list);
    const byDuration = { ...EMPTY_FILTERS, ordering: "-duration_ms" as const };
    expect(mergeRunEvent(list, run({ id: "n" }), byDuration, { hasMore: false }).missed).toBe(true);
    const oldestFirst = { ...EMPTY_FILTERS, ordering: "created_at" as const };
    const later = run({ id: "n", created_at: "2026-03-11T00:00:00Z" });
    expect(mergeRunEvent(list, later, oldestFirst, { hasMore: true }).missed).toBe(true);
    expect(mergeRunEvent(list, later, oldestFirst, { hasMore: false }).runs.map((r) => r.id)).toEqual(["a", "n"]);
  });
});
