import { describe, expect, it } from "vitest";
import type { Graph } from "../api/types";
import {
  makePlan,
  nodeSignatures,
  planSummary,
  planSummaryText,
  projectPlan,
  type PlanStatus,
} from "./plan";
import { selectIssueLabels } from "./errors";
import { isDragFrame } from "./graphActions";
import { createEditorStore } from "./store";
import { CATALOGUE, pipeline } from "./testFixtures";

const node = (id: string, operator: string, params: Record<string, unknown> = {}, x = 0) => ({
  id,
  operator,
  params,
  position: { x, y: 0 },
});
const edge = (source: string, target: string, source_port = "table", target_port = "table") => ({
  source,
  source_port,
  target,
  target_port,
});

// data → a → b → c, and data → d (a fan).
const GRAPH: Graph = {
  nodes: [
    node("data", "connector.sample", { dataset: "iris" }),
    node("a", "transform.filter", { column: "x", limit: 1 }),
    node("b", "transform.filter", { column: "y" }),
    node("c", "transform.filter", {}),
    node("d", "transform.filter", {}),
  ],
  edges: [edge("data", "a"), edge("a", "b"), edge("b", "c"), edge("data", "d")],
};
const ALL_CACHED: Record<string, PlanStatus> = { data: "cached", a: "cached", b: "cached", c: "cached", d: "cached" };

function withParams(g: Graph, id: string, params: Record<string, unknown>): Graph {
  return { ...g, nodes: g.nodes.map((n) => (n.id === id ? { ...n, params } : n)) };
}

describe("run plan projection", () => {
  it("keeps the server's answer for an unchanged graph", () => {
    const plan = makePlan({ ...ALL_CACHED, d: "run" }, GRAPH);
    expect(projectPlan(plan, GRAPH)).toEqual({ ...ALL_CACHED, d: "run" });
  });

  it("an edited node and everything downstream of it will run", () => {
    const plan = makePlan(ALL_CACHED, GRAPH);
    expect(projectPlan(plan, withParams(GRAPH, "a", { column: "x", limit: 2 }))).toEqual({
      data: "cached",
      a: "run",
      b: "run",
      c: "run",
      d: "cached",
    });
    // Editing the source reaches both branches.
    expect(projectPlan(plan, withParams(GRAPH, "data", { dataset: "wine" }))).toEqual({
      data: "run",
      a: "run",
      b: "run",
      c: "run",
      d: "run",
    });
  });

  it("ignores moves, labels and the order of params", () => {
    const plan = makePlan(ALL_CACHED, GRAPH);
    const moved: Graph = {
      ...GRAPH,
      nodes: GRAPH.nodes.map((n) =>
        n.id === "a" ? { ...n, label: "Big ones", position: { x: 500, y: 80 }, params: { limit: 1, column: "x" } } : n,
      ),
    };
    expect(projectPlan(plan, moved)).toEqual(ALL_CACHED);
  });

  it("a rewired input, a new node and what follows them will run", () => {
    const plan = makePlan(ALL_CACHED, GRAPH);
    const rewired: Graph = { ...GRAPH, edges: [edge("data", "a"), edge("d", "b"), edge("b", "c"), edge("data", "d")] };
    expect(projectPlan(plan, rewired)).toEqual({ data: "cached", a: "cached", b: "run", c: "run", d: "cached" });
    const grown: Graph = {
      nodes: [...GRAPH.nodes, node("e", "transform.filter")],
      edges: [...GRAPH.edges, edge("c", "e")],
    };
    expect(projectPlan(plan, grown)).toEqual({ ...ALL_CACHED, e: "run" });
    // A deleted node simply drops out.
    const smaller: Graph = { nodes: GRAPH.nodes.filter((n) => n.id !== "c"), edges: GRAPH.edges.slice(0, 2).concat(GRAPH.edges[3]) };
    expect(projectPlan(plan, smaller)).toEqual({ data: "cached", a: "cached", b: "cached", d: "cached" });
  });

  it("signatures tell apart what feeds each input", () => {
    const s = nodeSignatures(GRAPH);
    expect(s.a).not.toBe(s.b);
    const t = nodeSignatures({ ...GRAPH, edges: [edge("data", "a", "table", "other"), ...GRAPH.edges.slice(1)] });
    expect(t.a).not.toBe(s.a);
    expect(t.b).toBe(s.b);
  });

  it("summarises as 'n of m nodes will run'", () => {
    expect(planSummary(null)).toBeNull();
    const s = planSummary({ a: "run", b: "cached", c: "run" });
    expect(s).toEqual({ run: 2, cached: 1, total: 3 });
    expect(planSummaryText(s!)).toBe("2 of 3 nodes will run");
    expect(planSummaryText({ run: 1, cached: 0, total: 1 })).toBe("1 of 1 node will run");
    expect(planSummaryText({ run: 0, cached: 7, total: 7 })).toBe("0 of 7 nodes will run");
  });
});

describe("the store's plan", () => {
  it("projects the plan as the graph changes, and drops it on request", () => {
    const store = createEditorStore({ pipeline: pipeline(GRAPH), catalogue: CATALOGUE });
    expect(store.getState().planStatus).toBeNull();
    store.getState().setPlan({ ...ALL_CACHED }, GRAPH);
    expect(store.getState().planStatus).toEqual(ALL_CACHED);

    store.getState().setParam("b", ["column"], "z");
    expect(store.getState().planStatus).toEqual({ ...ALL_CACHED, b: "run", c: "run" });
    // The server's newer answer for the edited graph wins.
    store.getState().setPlan({ ...ALL_CACHED, b: "run", c: "cached" }, store.getState().getGraph());
    expect(store.getState().planStatus).toEqual({ ...ALL_CACHED, b: "run", c: "cached" });

    store.getState().setPlan(null);
    expect(store.getState().planStatus).toBeNull();
  });

  it("an answer for an older graph is projected onto the current one", () => {
    const store = createEditorStore({ pipeline: pipeline(GRAPH), catalogue: CATALOGUE });
    store.getState().setParam("a", ["limit"], 5);
    store.getState().setPlan({ ...ALL_CACHED }, GRAPH); // asked before the edit
    expect(store.getState().planStatus).toEqual({ ...ALL_CACHED, a: "run", b: "run", c: "run" });
  });
});

describe("dragging", () => {
  it("tells drag frames from the drag's end and from other changes", () => {
    expect(isDragFrame([{ type: "position", id: "a", position: { x: 1, y: 2 }, dragging: true }])).toBe(true);
    expect(isDragFrame([{ type: "position", id: "a", position: { x: 1, y: 2 }, dragging: false }])).toBe(false);
    expect(isDragFrame([{ type: "position", id: "a", dragging: true }])).toBe(false);
    expect(isDragFrame([{ type: "select", id: "a", selected: true }])).toBe(false);
    expect(isDragFrame([])).toBe(false);
  });

  it("moves nodes on every frame but brings the graph keys up to date only when the drag ends", () => {
    const store = createEditorStore({ pipeline: pipeline(GRAPH), catalogue: CATALOGUE });
    const { graphKey, semanticKey } = store.getState();
    store.getState().setPlan({ ...ALL_CACHED }, GRAPH);
    const plan = store.getState().planStatus;
    for (let x = 1; x <= 5; x++) {
      store.getState().onNodesChange([{ type: "position", id: "a", position: { x: x * 10, y: 0 }, dragging: true }]);
      expect(store.getState().nodes.find((n) => n.id === "a")!.position).toEqual({ x: x * 10, y: 0 });
      expect(store.getState().graphKey).toBe(graphKey);
      expect(store.getState().dragging).toBe(true);
      expect(store.getState().dirty).toBe(false);
    }
    store.getState().onNodesChange([{ type: "position", id: "a", position: { x: 60, y: 0 }, dragging: false }]);
    const s = store.getState();
    expect(s.dragging).toBe(false);
    expect(s.graphKey).not.toBe(graphKey);
    expect(s.semanticKey).toBe(semanticKey);
    expect(s.dirty).toBe(true);
    expect(s.getGraph().nodes.find((n) => n.id === "a")!.position).toEqual({ x: 60, y: 0 });
    // A move changes no meaning: the plan stays as it was (same object).
    expect(s.planStatus).toBe(plan);
  });

  it("a drag's moves are one undo step", () => {
    const store = createEditorStore({ pipeline: pipeline(GRAPH), catalogue: CATALOGUE });
    store.getState().commit(); // what Canvas does on drag start
    for (let x = 1; x <= 3; x++) {
      store.getState().onNodesChange([{ type: "position", id: "a", position: { x, y: 0 }, dragging: true }]);
    }
    store.getState().onNodesChange([{ type: "position", id: "a", position: { x: 3, y: 0 }, dragging: false }]);
    store.getState().undo();
    expect(store.getState().nodes.find((n) => n.id === "a")!.position).toEqual({ x: 0, y: 0 });
    expect(store.getState().dirty).toBe(false);
  });
});

describe("issue labels", () => {
  it("names the node of each issue without depending on the node list's identity", () => {
    const store = createEditorStore({ pipeline: pipeline(GRAPH), catalogue: CATALOGUE });
    store.getState().setLabel("b", "Keep y");
    store.getState().setErrors([
      { node: "a", field: "params.column", message: "bad" },
      { node: null, field: null, message: "graph-wide" },
      { node: "b", field: null, message: "worse" },
      { node: "gone", field: null, message: "stale" },
    ]);
    expect(selectIssueLabels(store.getState())).toEqual([
      "Filter rows (a)",
      undefined,
      "Keep y (b)",
      "gone",
    ]);
  });
});
