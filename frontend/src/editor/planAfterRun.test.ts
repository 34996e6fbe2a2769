import { describe, expect, it } from "vitest";
import type { Graph, NodeRun, Run } from "../api/types";
import { planAfterRun, makePlan, reusableNodes, type PlanStatus } from "./plan";
import { createEditorStore } from "./store";
import { CATALOGUE, pipeline } from "./testFixtures";

const node = (id: string, operator: string) => ({ id, operator, params: {}, position: { x: 0, y: 0 } });
const edge = (source: string, target: string) => ({ source, source_port: "table", target, target_port: "table" });

// data → a → b → c, and data → d.
const GRAPH: Graph = {
  nodes: [node("data", "connector.sample"), node("a", "transform.filter"), node("b", "transform.filter"),
    node("c", "transform.filter"), node("d", "transform.filter")],
  edges: [edge("data", "a"), edge("a", "b"), edge("b", "c"), edge("data", "d")],
};
const ALL_RUN: Record<string, PlanStatus> = { data: "run", a: "run", b: "run", c: "run", d: "run" };

const nodeRun = (id: string, status: NodeRun["status"]): NodeRun => ({
  node_id: id, operator: "x", status, attempts: 1, queued_at: null, started_at: null, finished_at: null,
  duration_ms: null, rows_out: null, cached: false, error: "", error_field: "", logs: [], outputs: {}, files: [],
  source: null,
});

const run = (status: Run["status"], nodes: [string, NodeRun["status"]][], seq = 5): Run => ({
  id: "r1", pipeline: "p1", version: "v", status, created_at: "2026-01-01T00:00:00Z",
  started_at: "2026-01-01T00:00:01Z", finished_at: null, error: "", duration_ms: null, rows_processed: 0,
  waiting_node: null,
  workspace: "w1", trigger: "manual", pipeline_name: "Test", created_by: null, datasets: {}, force: false,
  full_refresh: false,
  replay_of: null, seq, nodes: nodes.map(([id, s]) => nodeRun(id, s)),
});

describe("the plan after a run", () => {
  it("is known from the run: what it computed is cached, what failed runs, the rest keeps its plan", () => {
    const plan = makePlan({ ...ALL_RUN, d: "cached" }, GRAPH);
    const ended = run("failed", [["data", "succeeded"], ["a", "succeeded"], ["b", "failed"], ["c", "skipped"]]);
    expect(planAfterRun(plan, ended, reusableNodes(GRAPH, CATALOGUE)).nodes).toEqual({
      data: "cached", a: "cached", b: "run", c: "run", d: "cached",
    });
  });

  it("a node whose output is not kept runs again, and so does everything it feeds", () => {
    const catalogue = { ...CATALOGUE, "connector.sample": { ...CATALOGUE["connector.sample"], cacheable: false } };
    expect(reusableNodes(GRAPH, catalogue)).toEqual(new Set());
    const noA = { ...CATALOGUE, "transform.filter": { ...CATALOGUE["transform.filter"], cacheable: false } };
    expect(reusableNodes(GRAPH, noA)).toEqual(new Set(["data"]));
  });

  it("the store switches to it in the same update that ends the run, never showing the old plan", () => {
    const store = createEditorStore({ pipeline: pipeline(GRAPH), catalogue: CATALOGUE });
    store.getState().setPlan({ ...ALL_RUN }, GRAPH);
    store.getState().setRun(run("running", [["data", "succeeded"], ["a", "succeeded"]], 4));
    const seen: (Record<string, PlanStatus> | null)[] = [];
    store.subscribe((s) => {
      if (s.run?.status === "succeeded") seen.push(s.planStatus);
    });
    const { nodes: _, ...summary } = run("succeeded", []);
    store.getState().applyRunMessage({ type: "run", seq: 5, run: summary } as never);
    // Only "data" and "a" were in this (partial) run; the message kept its nodes.
    expect(seen[0]).toEqual({ data: "cached", a: "cached", b: "run", c: "run", d: "run" });
  });

  it("a run the editor opens on, already over, leaves the plan to the server", () => {
    const store = createEditorStore({ pipeline: pipeline(GRAPH), catalogue: CATALOGUE });
    store.getState().setPlan({ ...ALL_RUN }, GRAPH);
    store.getState().setRun(run("succeeded", [["data", "succeeded"]]));
    expect(store.getState().planStatus).toEqual(ALL_RUN);
  });

  it("a node edited while the run went on still runs", () => {
    const store = createEditorStore({ pipeline: pipeline(GRAPH), catalogue: CATALOGUE });
    store.getState().setPlan({ ...ALL_RUN }, GRAPH);
    store.getState().setRun(run("running", [["data", "running"], ["a", "pending"]], 4));
    store.getState().setParam("a", ["limit"], 3);
    store.getState().setRun(run("succeeded", [["data", "succeeded"], ["a", "succeeded"]]));
    expect(store.getState().planStatus).toEqual({ ...ALL_RUN, data: "cached" });
  });
});
