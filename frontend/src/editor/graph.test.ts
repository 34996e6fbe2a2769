import { describe, expect, it } from "vitest";
import type { Graph } from "../api/types";
import {
  canonicalGraph,
  cloneSubgraph,
  edgeId,
  graphsEqual,
  newNodeId,
  parseGraph,
  GraphFormatError,
  toFlow,
  toGraph,
} from "./graph";
import { checkConnection, createsCycle } from "./ports";
import { CATALOGUE } from "./testFixtures";

const GRAPH: Graph = {
  nodes: [
    { id: "n1", operator: "connector.sample", params: { dataset: "iris" }, position: { x: 0, y: 10 } },
    {
      id: "n2",
      operator: "transform.filter",
      params: { conditions: [{ column: "a", op: "==", value: 1 }] },
      position: { x: 260, y: 10 },
      label: "Only ones",
    },
  ],
  edges: [{ source: "n1", source_port: "table", target: "n2", target_port: "table" }],
};

describe("graph ↔ React Flow conversion", () => {
  it("round-trips the API graph", () => {
    const flow = toFlow(GRAPH);
    expect(flow.nodes[0]).toMatchObject({ id: "n1", type: "operator", position: { x: 0, y: 10 } });
    expect(flow.nodes[1].data).toEqual({
      operator: "transform.filter",
      params: GRAPH.nodes[1].params,
      label: "Only ones",
    });
    expect(flow.edges[0]).toMatchObject({
      id: edgeId(GRAPH.edges[0]),
      source: "n1",
      sourceHandle: "table",
      target: "n2",
      targetHandle: "table",
    });
    expect(toGraph(flow.nodes, flow.edges)).toEqual(GRAPH);
  });

  it("drops UI state and rounds positions", () => {
    const flow = toFlow(GRAPH);
    const nodes = flow.nodes.map((n) => ({ ...n, selected: true, measured: { width: 1, height: 2 }, position: { x: n.position.x + 0.4, y: n.position.y - 0.6 } }));
    const g = toGraph(nodes, flow.edges);
    expect(g.nodes[0]).toEqual({ id: "n1", operator: "connector.sample", params: { dataset: "iris" }, position: { x: 0, y: 9 } });
  });

  it("compares graphs regardless of key and edge order", () => {
    const shuffled: Graph = {
      nodes: [...GRAPH.nodes].reverse().map((n) => ({ position: n.position, params: n.params, operator: n.operator, id: n.id, label: n.label })),
      edges: [...GRAPH.edges],
    };
    expect(graphsEqual(GRAPH, shuffled)).toBe(true);
    const moved = structuredClone(GRAPH);
    moved.nodes[0].position.x = 5;
    expect(graphsEqual(GRAPH, moved)).toBe(false);
    expect(canonicalGraph(GRAPH, { positions: false })).toBe(canonicalGraph(moved, { positions: false }));
    // A missing label is the same as an empty one (the server fills it in).
    const withEmpty = structuredClone(GRAPH);
    withEmpty.nodes[0].label = "";
    expect(graphsEqual(GRAPH, withEmpty)).toBe(true);
  });

  it("makes fresh node ids", () => {
    expect(newNodeId([])).toBe("n1");
    expect(newNodeId(["n1", "n7", "customers"])).toBe("n8");
  });

  it("clones a subgraph with new ids, offset, and only inner edges", () => {
    const c = cloneSubgraph(GRAPH, ["n1", "n2"], { x: 40, y: 40 });
    expect(c.nodes.map((n) => n.id)).toEqual(["n3", "n4"]);
    expect(c.nodes[0].position).toEqual({ x: 40, y: 50 });
    expect(c.edges).toEqual([{ source: "n3", source_port: "table", target: "n4", target_port: "table" }]);
    const single = cloneSubgraph({ nodes: [GRAPH.nodes[1]], edges: GRAPH.edges }, ["n1", "n2"], { x: 0, y: 0 });
    expect(single.edges).toEqual([]);
  });

  it("parses imported JSON (bare graph or exported pipeline) and rejects bad shapes", () => {
    expect(parseGraph(GRAPH)).toEqual(GRAPH);
    expect(parseGraph({ name: "x", graph: GRAPH })).toEqual(GRAPH);
    expect(() => parseGraph({})).toThrow(GraphFormatError);
    expect(() => parseGraph({ nodes: [{ id: "a", operator: "x" }, { id: "a", operator: "y" }] })).toThrow(/Two nodes/);
    expect(() =>
      parseGraph({ nodes: [{ id: "a", operator: "x" }], edges: [{ source: "a", source_port: "t", target: "b", target_port: "t" }] }),
    ).toThrow(/does not exist/);
  });
});

describe("typed ports", () => {
  const ops: Record<string, string> = { s: "connector.sample", t: "model.train", p: "model.predict", f: "transform.filter" };
  const opOf = (id: string) => ops[id];

  it("accepts matching port types", () => {
    expect(checkConnection({ source: "s", sourceHandle: "table", target: "p", targetHandle: "table" }, opOf, CATALOGUE, [])).toEqual({ ok: true });
    expect(checkConnection({ source: "t", sourceHandle: "model", target: "p", targetHandle: "model" }, opOf, CATALOGUE, [])).toEqual({ ok: true });
  });

  it("refuses mismatched types with a reason", () => {
    const r = checkConnection({ source: "s", sourceHandle: "table", target: "p", targetHandle: "model" }, opOf, CATALOGUE, []);
    expect(r).toEqual({ ok: false, reason: "Cannot connect table output to model input." });
    const r2 = checkConnection({ source: "t", sourceHandle: "model", target: "f", targetHandle: "table" }, opOf, CATALOGUE, []);
    expect(r2).toEqual({ ok: false, reason: "Cannot connect model output to table input." });
  });

  it("refuses self-loops, cycles and duplicates", () => {
    expect(checkConnection({ source: "f", sourceHandle: "table", target: "f", targetHandle: "table" }, opOf, CATALOGUE, []).ok).toBe(false);
    const edges = [{ source: "s", source_port: "table", target: "f", target_port: "table" }];
    expect(createsCycle(edges, "f", "s")).toBe(true);
    expect(createsCycle(edges, "s", "f")).toBe(false);
    const dup = checkConnection({ source: "s", sourceHandle: "table", target: "f", targetHandle: "table" }, opOf, CATALOGUE, edges);
    expect(dup).toEqual({ ok: false, reason: "These ports are already connected." });
  });
});
