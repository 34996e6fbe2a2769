import { describe, expect, it } from "vitest";
import type { NodeRun } from "../../api/types";
import { computeGantt, runDuration, tickLabel, ticks } from "./gantt";

const node = (over: Partial<NodeRun>): NodeRun => ({
  node_id: "n",
  operator: "op",
  status: "succeeded",
  attempts: 1,
  duration_ms: null,
  error_field: "",
  queued_at: null,
  started_at: null,
  finished_at: null,
  rows_out: null,
  cached: false,
  error: "",
  logs: [],
  outputs: {},
  files: [],
  source: null,
  ...over,
});

const T0 = Date.parse("2026-03-10T12:00:00Z");
const at = (ms: number) => new Date(T0 + ms).toISOString();

describe("computeGantt", () => {
  it("separates the queue from execution, as shares of the run", () => {
    const g = computeGantt([
      node({ node_id: "a", queued_at: at(0), started_at: at(100), finished_at: at(500) }),
      node({ node_id: "b", queued_at: at(500), started_at: at(600), finished_at: at(1000) }),
    ]);
    expect(g.span).toBe(1000);
    expect(g.rows.map((r) => r.node_id)).toEqual(["a", "b"]);
    expect(g.rows[0].wait).toEqual({ left: 0, width: 10, ms: 100 });
    expect(g.rows[0].exec).toEqual({ left: 10, width: 40, ms: 400 });
    expect(g.rows[1].wait).toEqual({ left: 50, width: 10, ms: 100 });
    expect(g.rows[1].exec).toEqual({ left: 60, width: 40, ms: 400 });
  });

  it("gives every finished node one execution bar, ordered by when it started", () => {
    const g = computeGantt([
      node({ node_id: "late", queued_at: at(300), started_at: at(300), finished_at: at(400) }),
      node({ node_id: "early", queued_at: at(0), started_at: at(0), finished_at: at(300) }),
      node({ node_id: "reused", cached: true, started_at: at(0), finished_at: at(0) }),
    ]);
    expect(g.rows.map((r) => r.node_id)).toEqual(["early", "reused", "late"]);
    expect(g.rows.every((r) => r.exec !== null)).toBe(true);
    expect(g.rows[0].wait).toBeNull(); // no time in the queue
    expect(g.rows[1]).toMatchObject({ cached: true, wait: null });
  });

  it("grows open bars with the clock and leaves unscheduled nodes empty", () => {
    const g = computeGantt(
      [
        node({ node_id: "a", queued_at: at(0), started_at: at(0), finished_at: at(200) }),
        node({ node_id: "b", status: "running", queued_at: at(200), started_at: at(300) }),
        node({ node_id: "c", status: "queued", queued_at: at(200) }),
        node({ node_id: "d", status: "pending" }),
      ],
      { now: T0 + 1000 },
    );
    expect(g.span).toBe(1000);
    const byId = Object.fromEntries(g.rows.map((r) => [r.node_id, r]));
    expect(byId.b.exec).toEqual({ left: 30, width: 70, ms: 700 });
    expect(byId.b.live).toBe(true);
    expect(byId.c.wait).toEqual({ left: 20, width: 80, ms: 800 });
    expect(byId.c.exec).toBeNull();
    expect(byId.d.wait).toBeNull();
    expect(byId.d.exec).toBeNull();
    expect(g.rows[g.rows.length - 1].node_id).toBe("d");
  });

  it("measures from the run's start when it is earlier", () => {
    const g = computeGantt([node({ queued_at: at(500), started_at: at(500), finished_at: at(1000) })], {
      runStart: at(0),
    });
    expect(g.rows[0].exec).toEqual({ left: 50, width: 50, ms: 500 });
  });
});

describe("runDuration", () => {
  it("is the span the timeline draws, queue included (a failed run said 27 ms over a 58 ms timeline)", () => {
    const nodes = [
      node({ node_id: "a", queued_at: at(0), started_at: at(31), finished_at: at(40) }),
      node({ node_id: "b", status: "failed", queued_at: at(41), started_at: at(41), finished_at: at(58) }),
    ];
    const run = { status: "failed", nodes, started_at: at(31), finished_at: at(58) };
    expect(runDuration(run)).toBe(58);
    expect(computeGantt(nodes, { runStart: run.started_at, runEnd: run.finished_at }).span).toBe(58);
  });

  it("is unknown before the run starts", () => {
    expect(runDuration({ status: "queued", nodes: [node({ queued_at: at(0), status: "queued" })], started_at: null, finished_at: null })).toBeNull();
  });
});

describe("ticks", () => {
  it("picks round steps", () => {
    expect(ticks(900).map((t) => t.label)).toEqual(["0", "200 ms", "400 ms", "600 ms", "800 ms"]);
    expect(ticks(2800).map((t) => t.label)).toEqual(["0", "0.5 s", "1 s", "1.5 s", "2 s", "2.5 s"]);
    expect(ticks(9000).map((t) => t.label)).toEqual(["0", "2 s", "4 s", "6 s", "8 s"]);
    expect(ticks(9000)[1].left).toBeCloseTo((2000 / 9000) * 100);
    expect(tickLabel(90_000, 30_000)).toBe("90 s");
    expect(tickLabel(150_000, 30_000)).toBe("150 s");
    expect(tickLabel(7_200_000, 3_600_000)).toBe("2 h");
  });
});
