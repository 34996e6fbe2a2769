import { describe, expect, it } from "vitest";
import type { Run } from "../api/types";
import { applyRunEvent, mergeLogs } from "./runEvents";

const base: Run = {
  id: "r",
  status: "running",
  started_at: null,
  finished_at: null,
  error: "",
  duration_ms: null,
  rows_processed: 0,
  waiting_node: null,
  pipeline: "p",
  workspace: "w",
  trigger: "manual",
  created_at: "2026-03-10T12:00:00Z",
  pipeline_name: "Iris",
  version: "abc",
  created_by: null,
  datasets: {},
  force: false,
  full_refresh: false,
  replay_of: null,
  seq: 3,
  nodes: [
    {
      node_id: "a",
      operator: "x",
      status: "running",
      attempts: 1,
      queued_at: null,
      started_at: null,
      finished_at: null,
      duration_ms: null,
      rows_out: null,
      cached: false,
      error: "",
      error_field: "",
      logs: ["one"],
      outputs: {},
      files: [],
      source: null,
    },
  ],
};

describe("applyRunEvent", () => {
  it("applies events in order and keeps what run events do not carry", () => {
    let r = applyRunEvent(base, { type: "log", seq: 4, node_id: "a", lines: ["one", "two"] });
    expect(r.run?.nodes[0].logs).toEqual(["one", "two"]);
    r = applyRunEvent(r.run, { type: "node", seq: 5, node: { ...base.nodes[0], status: "succeeded", rows_out: 5 } });
    expect(r.run?.nodes[0]).toMatchObject({ status: "succeeded", rows_out: 5 });
    r = applyRunEvent(r.run, { type: "run", seq: 6, run: { id: "r", status: "succeeded", duration_ms: 10 } });
    expect(r.run).toMatchObject({ status: "succeeded", duration_ms: 10, pipeline_name: "Iris", version: "abc", seq: 6 });
    expect(r.resync).toBe(false);
  });

  it("asks for a resync on a gap and ignores duplicates", () => {
    expect(applyRunEvent(base, { type: "run", seq: 5, run: { id: "r", status: "failed" } })).toEqual({ run: base, resync: true });
    expect(applyRunEvent(base, { type: "run", seq: 3, run: { id: "r", status: "failed" } })).toEqual({ run: base, resync: false });
    expect(applyRunEvent(null, { type: "run", seq: 1, run: { id: "r" } }).resync).toBe(true);
  });

  it("takes a snapshot whole", () => {
    const snap = { ...base, status: "succeeded" as const };
    expect(applyRunEvent(base, { type: "snapshot", seq: 9, run: snap }).run).toEqual({ ...snap, seq: 9 });
  });
});

describe("mergeLogs", () => {
  it("accepts the whole log or only new lines", () => {
    expect(mergeLogs(["a"], ["a", "b"])).toEqual(["a", "b"]);
    expect(mergeLogs(["a"], ["b"])).toEqual(["a", "b"]);
    expect(mergeLogs([], ["a"])).toEqual(["a"]);
  });
});
