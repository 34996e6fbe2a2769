import { describe, expect, it } from "vitest";
import type { NodeRun, Run } from "../api/types";
import { applyRunMessage, isRunActive, runProgress } from "./runState";

const node = (id: string, status: NodeRun["status"], extra: Partial<NodeRun> = {}): NodeRun => ({
  node_id: id,
  operator: "x",
  status,
  attempts: 1,
  queued_at: null,
  started_at: null,
  finished_at: null,
  duration_ms: null,
  rows_out: null,
  cached: false,
  error: "",
  error_field: "",
  logs: [],
  outputs: {},
  files: [],
  source: null,
  ...extra,
});

const RUN: Run = {
  id: "r1",
  pipeline: "p1",
  version: "v",
  status: "running",
  created_at: "2026-01-01T00:00:00Z",
  started_at: "2026-01-01T00:00:01Z",
  finished_at: null,
  error: "",
  duration_ms: null,
  rows_processed: 0,
  waiting_node: null,
  workspace: "w1",
  trigger: "manual",
  pipeline_name: "Test",
  created_by: null,
  datasets: {},
  force: false,
  full_refresh: false,
  replay_of: null,
  seq: 3,
  nodes: [node("a", "running"), node("b", "pending")],
};

describe("run messages", () => {
  it("takes a snapshot whatever came before", () => {
    const r = applyRunMessage(null, { type: "snapshot", seq: 3, run: RUN });
    expect(r).toEqual({ run: RUN, resync: false });
  });

  it("applies node, log and run messages in order", () => {
    let run: Run | null = RUN;
    run = applyRunMessage(run, { type: "node", seq: 4, node: node("a", "succeeded", { rows_out: 10 }) }).run;
    run = applyRunMessage(run, { type: "log", seq: 5, node_id: "b", lines: ["hello"] }).run;
    run = applyRunMessage(run, {
      type: "run",
      seq: 6,
      run: { id: "r1", status: "succeeded", started_at: RUN.started_at, finished_at: "2026-01-01T00:00:09Z", error: "" },
    }).run;
    expect(run!.seq).toBe(6);
    expect(run!.nodes[0]).toMatchObject({ status: "succeeded", rows_out: 10 });
    expect(run!.nodes[1].logs).toEqual(["hello"]);
    expect(run!.status).toBe("succeeded");
    expect(isRunActive(run)).toBe(false);
  });

  it("asks for a resync on a gap, and ignores stale duplicates", () => {
    const gap = applyRunMessage(RUN, { type: "node", seq: 5, node: node("a", "failed") });
    expect(gap.resync).toBe(true);
    expect(gap.run).toBe(RUN);
    const dup = applyRunMessage(RUN, { type: "node", seq: 3, node: node("a", "failed") });
    expect(dup).toEqual({ run: RUN, resync: false });
    expect(applyRunMessage(null, { type: "log", seq: 1, node_id: "a", lines: [] }).resync).toBe(true);
  });

  it("measures progress over finished nodes", () => {
    expect(runProgress(RUN)).toEqual({ done: 0, total: 2, fraction: 0 });
    const half = { ...RUN, nodes: [node("a", "succeeded"), node("b", "running")] };
    expect(runProgress(half)).toEqual({ done: 1, total: 2, fraction: 0.5 });
  });

  it("counts only the nodes that finished their work of a cancelled run", () => {
    const cancelled = {
      ...RUN,
      status: "cancelled" as const,
      nodes: [node("a", "succeeded"), node("b", "succeeded"), node("c", "cancelled"), node("d", "skipped")],
    };
    expect(runProgress(cancelled)).toEqual({ done: 2, total: 4, fraction: 1 });
  });
});
