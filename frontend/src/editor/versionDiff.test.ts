import { describe, expect, it } from "vitest";
import type { Graph, VersionDiff } from "../api/types";
import { CATALOGUE } from "./testFixtures";
import { defaultPair, describeDiff, formatValue, summarize, summaryParts, versionName } from "./versionDiff";

const OLD: Graph = {
  nodes: [
    { id: "n1", operator: "connector.sample", params: { dataset: "iris" }, position: { x: 0, y: 0 } },
    { id: "n2", operator: "transform.filter", params: { limit: 10 }, position: { x: 260, y: 0 } },
    { id: "n3", operator: "model.predict", params: {}, position: { x: 520, y: 0 }, label: "Score" },
  ],
  edges: [{ source: "n1", source_port: "table", target: "n2", target_port: "table" }],
};

const NEW: Graph = {
  nodes: [
    { id: "n1", operator: "connector.sample", params: { dataset: "wine" }, position: { x: 0, y: 40 } },
    { id: "n2", operator: "transform.filter", params: { limit: 20, column: "a" }, position: { x: 260, y: 0 }, label: "Top rows" },
    { id: "n4", operator: "transform.filter", params: {}, position: { x: 520, y: 0 } },
  ],
  edges: [
    { source: "n1", source_port: "table", target: "n2", target_port: "table" },
    { source: "n2", source_port: "table", target: "n4", target_port: "table" },
  ],
};

const NONE: VersionDiff = {
  nodes_added: [],
  nodes_removed: [],
  operators_changed: {},
  labels_changed: {},
  params_changed: {},
  edges_added: [],
  edges_removed: [],
  moved: [],
};

const DIFF: VersionDiff = {
  ...NONE,
  nodes_added: ["n4"],
  nodes_removed: ["n3"],
  labels_changed: { n2: { old: "", new: "Top rows" } },
  params_changed: {
    n1: { dataset: { old: "iris", new: "wine" } },
    n2: { column: { old: null, new: "a" }, limit: { old: 10, new: 20 } },
  },
  edges_added: [{ source: "n2", source_port: "table", target: "n4", target_port: "table" }],
  moved: ["n1"],
};

describe("describeDiff", () => {
  const view = describeDiff(DIFF, OLD, NEW, CATALOGUE);

  it("names added nodes from the new graph and removed ones from the old", () => {
    const [added, removed] = view.nodes;
    expect(added).toMatchObject({ kind: "added", node: { id: "n4", title: "Filter rows", operator: "transform.filter" } });
    expect(removed).toMatchObject({ kind: "removed", node: { id: "n3", title: "Score", operatorLabel: "Predict" } });
  });

  it("lists each changed param as old and new, a rename as the names the canvas showed", () => {
    const changed = view.nodes.filter((n) => n.kind === "changed");
    expect(changed.map((n) => n.node.id)).toEqual(["n1", "n2"]);
    expect(changed[0].fields.map((f) => `${f.field}: ${f.old} → ${f.new}`)).toEqual(["dataset: iris → wine"]);
    expect(changed[1].node.title).toBe("Top rows");
    expect(changed[1].fields.map((f) => `${f.field}: ${f.old} → ${f.new}`)).toEqual([
      "name: Filter rows → Top rows",
      "column: not set → a",
      "limit: 10 → 20",
    ]);
    expect(changed[1].fields[1]).toMatchObject({ oldUnset: true, newUnset: false });
  });

  it("names both ends of a changed connection", () => {
    expect(view.edges).toEqual([
      {
        kind: "added",
        source: expect.objectContaining({ id: "n2", title: "Top rows" }),
        sourcePort: "table",
        target: expect.objectContaining({ id: "n4", title: "Filter rows" }),
        targetPort: "table",
      },
    ]);
  });

  it("keeps a node the catalogue no longer has, by its operator name", () => {
    const gone: Graph = { nodes: [{ id: "x", operator: "old.thing", params: {}, position: { x: 0, y: 0 } }], edges: [] };
    const v = describeDiff({ ...NONE, nodes_removed: ["x"] }, gone, { nodes: [], edges: [] }, CATALOGUE);
    expect(v.nodes[0].node).toMatchObject({ title: "old.thing", operatorLabel: "old.thing" });
  });
});

describe("summarize", () => {
  it("sums the diff up in one line", () => {
    expect(summarize(describeDiff(DIFF, OLD, NEW, CATALOGUE))).toBe(
      "1 node added · 1 node removed · 2 nodes changed · 1 connection added · 1 node moved",
    );
  });

  it("counts each kind of change apart, tagged for its colour", () => {
    expect(summaryParts(describeDiff(DIFF, OLD, NEW, CATALOGUE)).map((p) => p.kind)).toEqual([
      "added",
      "removed",
      "changed",
      "added",
      "moved",
    ]);
    expect(summaryParts(describeDiff(NONE, OLD, OLD, CATALOGUE))).toEqual([]);
  });

  it("says when there is no difference", () => {
    expect(summarize(describeDiff(NONE, OLD, OLD, CATALOGUE))).toBe("No differences");
  });
});

describe("formatValue", () => {
  it("shows values as a user typed them, and unset ones as not set", () => {
    expect(formatValue(0.3)).toBe("0.3");
    expect(formatValue(false)).toBe("false");
    expect(formatValue("iris")).toBe("iris");
    expect(formatValue("")).toBe('""');
    expect(formatValue(null)).toBe("not set");
    expect(formatValue(["a", "b", 1])).toBe("[a, b, 1]");
    expect(formatValue({ column: "a", op: "==" })).toBe('{"column":"a","op":"=="}');
  });

  it("cuts a long value short, and keeps it whole for the tooltip", () => {
    const long = formatValue("x".repeat(200));
    expect(long).toHaveLength(80);
    expect(long.endsWith("…")).toBe(true);
    const diff = { ...NONE, params_changed: { n1: { dataset: { old: "iris", new: "y".repeat(200) } } } };
    const [field] = describeDiff(diff, OLD, OLD, CATALOGUE).nodes[0].fields;
    expect(field.new).toHaveLength(80);
    expect(field.newFull).toBe("y".repeat(200));
  });
});

describe("versions", () => {
  const versions = [{ hash: "ccc" }, { hash: "bbb" }, { hash: "aaa" }];

  it("numbers versions from the oldest", () => {
    expect(versions.map((v) => versionName(versions, v.hash))).toEqual(["v3", "v2", "v1"]);
  });

  it("compares a version with the current one, and the current one with the one before it", () => {
    expect(defaultPair(versions, "aaa", "bbb")).toEqual({ a: "aaa", b: "bbb" });
    expect(defaultPair(versions, "bbb", "bbb")).toEqual({ a: "aaa", b: "bbb" });
    expect(defaultPair(versions, "aaa", "aaa")).toEqual({ a: "bbb", b: "aaa" });
    expect(defaultPair(versions, "bbb", null)).toEqual({ a: "bbb", b: "ccc" });
  });
});
