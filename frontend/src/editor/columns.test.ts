import { describe, expect, it } from "vitest";
import type { GraphEdge, NodeSchemas } from "../api/types";
import { columnsByPort, resolveColumnPort, upstreamColumns } from "./columns";
import { fieldErrors, groupErrors } from "./errors";
import { createEditorStore } from "./store";
import { CATALOGUE, pipeline } from "./testFixtures";

const EDGES: GraphEdge[] = [
  { source: "data", source_port: "table", target: "split", target_port: "table" },
  { source: "split", source_port: "train", target: "train", target_port: "train" },
];

const SCHEMAS: NodeSchemas = {
  data: { table: [{ name: "a", type: "int" }, { name: "label", type: "str" }] },
  split: { train: [{ name: "a", type: "int" }, { name: "label", type: "str" }], test: null },
};

describe("schema propagation to column pickers", () => {
  it("offers the upstream node's output schema on the connected port", () => {
    expect(upstreamColumns("split", "table", EDGES, SCHEMAS)).toEqual({
      state: "known",
      columns: SCHEMAS.data.table,
    });
    // Through the right output port of a multi-output node.
    expect(upstreamColumns("train", "train", EDGES, SCHEMAS)).toEqual({
      state: "known",
      columns: SCHEMAS.split.train,
    });
  });

  it("tells unconnected ports from unknown schemas", () => {
    expect(upstreamColumns("train", "test", EDGES, SCHEMAS)).toEqual({ state: "unconnected" });
    const edges = [...EDGES, { source: "split", source_port: "test", target: "train", target_port: "test" }];
    expect(upstreamColumns("train", "test", edges, SCHEMAS)).toEqual({ state: "unknown" });
    expect(upstreamColumns("split", "table", EDGES, {})).toEqual({ state: "unknown" });
    expect(upstreamColumns("split", "table", EDGES, null)).toEqual({ state: "unknown" });
  });

  it("maps every input port of a node", () => {
    const inputs = [
      { name: "train", type: "table" },
      { name: "test", type: "table" },
    ];
    const cols = columnsByPort("train", inputs, EDGES, SCHEMAS);
    expect(cols.train.state).toBe("known");
    expect(cols.test.state).toBe("unconnected");
  });

  it("resolves x-column-of to a port, falling back to the only table input", () => {
    const one = [{ name: "table", type: "table" }];
    const two = [
      { name: "model", type: "model" },
      { name: "rows", type: "table" },
    ];
    expect(resolveColumnPort("table", one)).toBe("table");
    expect(resolveColumnPort(undefined, one)).toBe("table");
    expect(resolveColumnPort("nope", two)).toBe("rows");
    expect(resolveColumnPort("model", two)).toBe("model");
  });

  it("updates the store's schemas from a validate result, for the graph it was asked about", () => {
    const graph = {
      nodes: [
        { id: "n1", operator: "connector.sample", params: {}, position: { x: 0, y: 0 } },
        { id: "n2", operator: "transform.filter", params: {}, position: { x: 300, y: 0 } },
      ],
      edges: [{ source: "n1", source_port: "table", target: "n2", target_port: "table" }],
    };
    const store = createEditorStore({ pipeline: pipeline(graph), catalogue: CATALOGUE });
    const key = store.getState().semanticKey;
    store.getState().setValidation(
      {
        valid: false,
        errors: [
          { node: "n2", field: "params.column", message: "Column 'x' does not exist." },
          { node: null, field: "edges.0", message: "Bad edge." },
        ],
        schemas: { n1: { table: [{ name: "sepal", type: "float" }] }, n2: { table: null } },
      },
      key,
    );
    const s = store.getState();
    expect(s.validatedKey).toBe(key);
    expect(upstreamColumns("n2", "table", s.getGraph().edges, s.schemas)).toEqual({
      state: "known",
      columns: [{ name: "sepal", type: "float" }],
    });
    expect(Object.keys(s.errorsByNode)).toEqual(["n2"]);
    expect(fieldErrors(s.errorsByNode.n2)).toEqual({ column: "Column 'x' does not exist." });
    // Moving a node does not change what needs validating; editing params does.
    store.getState().onNodesChange([{ type: "position", id: "n1", position: { x: 50, y: 50 } }]);
    expect(store.getState().semanticKey).toBe(key);
    store.getState().setParam("n2", ["column"], "sepal");
    expect(store.getState().semanticKey).not.toBe(key);
  });

  it("groups errors by node", () => {
    expect(
      groupErrors([
        { node: "a", field: null, message: "1" },
        { node: "a", field: "x", message: "2" },
        { node: null, field: null, message: "3" },
      ]),
    ).toEqual({ a: [{ node: "a", field: null, message: "1" }, { node: "a", field: "x", message: "2" }] });
  });
});

describe("schema merging", () => {
  it("keeps last known columns when a node could not be inferred this time", async () => {
    const { mergeSchemas, runSchemas } = await import("./columns");
    const prev = { a: { table: [{ name: "x", type: "int" }] }, b: { out: [{ name: "y", type: "str" }] } };
    const next = { a: { table: null }, b: { out: [{ name: "z", type: "float" }] }, c: { out: null } };
    expect(mergeSchemas(prev, next)).toEqual({
      a: { table: [{ name: "x", type: "int" }] },
      b: { out: [{ name: "z", type: "float" }] },
      c: { out: null },
    });
    expect(
      runSchemas([
        { node_id: "a", outputs: { table: { schema: [{ name: "x", type: "int" }] }, model: { schema: null } } },
      ]),
    ).toEqual({ a: { table: [{ name: "x", type: "int" }] } });
  });

  it("strips the field name from messages shown on that field", () => {
    expect(fieldErrors([{ node: "n", field: "params.target", message: "target: Field required" }])).toEqual({
      target: "Field required",
    });
  });
});
