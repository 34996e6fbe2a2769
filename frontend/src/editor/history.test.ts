import { describe, expect, it } from "vitest";
import { CATALOGUE, pipeline } from "./testFixtures";
import { canRedo, canUndo, emptyHistory, record, redo, undo } from "./history";
import { createEditorStore } from "./store";

describe("history (pure)", () => {
  it("undoes and redoes snapshots in order", () => {
    let h = emptyHistory<number>();
    let present = 0;
    h = record(h, present);
    present = 1;
    h = record(h, present);
    present = 2;
    expect(canUndo(h)).toBe(true);
    expect(canRedo(h)).toBe(false);

    let r = undo(h, present)!;
    expect(r.present).toBe(1);
    r = undo(r.history, r.present)!;
    expect(r.present).toBe(0);
    expect(undo(r.history, r.present)).toBeNull();

    r = redo(r.history, r.present)!;
    expect(r.present).toBe(1);
    r = redo(r.history, r.present)!;
    expect(r.present).toBe(2);
    expect(redo(r.history, r.present)).toBeNull();
  });

  it("forgets the redo stack on a new edit", () => {
    let h = record(emptyHistory<string>(), "a");
    const r = undo(h, "b")!;
    expect(canRedo(r.history)).toBe(true);
    h = record(r.history, r.present);
    expect(canRedo(h)).toBe(false);
  });

  it("keeps at most `limit` snapshots", () => {
    let h = emptyHistory<number>();
    for (let i = 0; i < 10; i++) h = record(h, i, 3);
    expect(h.past).toEqual([7, 8, 9]);
  });
});

describe("editor store undo/redo", () => {
  it("undoes and redoes adding, connecting and deleting nodes", () => {
    const store = createEditorStore({ pipeline: pipeline(), catalogue: CATALOGUE });
    const s = () => store.getState();
    const a = s().addNode("connector.sample", { x: 0, y: 0 })!;
    const b = s().addNode("transform.filter", { x: 300, y: 0 })!;
    expect(s().connect({ source: a, sourceHandle: "table", target: b, targetHandle: "table" }).ok).toBe(true);
    expect(s().edges).toHaveLength(1);
    expect(s().dirty).toBe(true);

    s().undo(); // the connection
    expect(s().edges).toHaveLength(0);
    expect(s().nodes).toHaveLength(2);
    s().undo(); // node b
    expect(s().nodes.map((n) => n.id)).toEqual([a]);
    s().undo(); // node a
    expect(s().nodes).toHaveLength(0);
    expect(s().dirty).toBe(false);

    s().redo();
    s().redo();
    s().redo();
    expect(s().nodes).toHaveLength(2);
    expect(s().edges).toHaveLength(1);

    s().selectOnly([a]);
    s().deleteSelected();
    expect(s().nodes.map((n) => n.id)).toEqual([b]);
    expect(s().edges).toHaveLength(0); // the edge went with its node
    s().undo();
    expect(s().nodes).toHaveLength(2);
    expect(s().edges).toHaveLength(1);
  });

  it("merges quick edits of the same field into one undo step", () => {
    const store = createEditorStore({ pipeline: pipeline(), catalogue: CATALOGUE });
    const s = () => store.getState();
    const id = s().addNode("transform.filter", { x: 0, y: 0 })!;
    s().setParam(id, ["column"], "a");
    s().setParam(id, ["column"], "ab");
    s().setParam(id, ["column"], "abc");
    expect(s().nodes[0].data.params.column).toBe("abc");
    s().undo();
    expect(s().nodes[0].data.params.column).toBeUndefined();
    expect(s().nodes).toHaveLength(1);
    s().redo();
    expect(s().nodes[0].data.params.column).toBe("abc");
  });

  it("a new edit after undo clears redo; undoing back to the saved graph is clean", () => {
    const saved = {
      nodes: [{ id: "n1", operator: "connector.sample", params: { dataset: "iris" }, position: { x: 0, y: 0 } }],
      edges: [],
    };
    const store = createEditorStore({ pipeline: pipeline(saved), catalogue: CATALOGUE });
    const s = () => store.getState();
    expect(s().dirty).toBe(false);
    s().setParam("n1", ["dataset"], "wine");
    expect(s().dirty).toBe(true);
    s().undo();
    expect(s().dirty).toBe(false);
    expect(s().history.future).toHaveLength(1);
    s().addNode("transform.filter", { x: 10, y: 10 });
    expect(s().history.future).toHaveLength(0);
  });

  it("paste and duplicate give fresh ids and keep inner edges", () => {
    const store = createEditorStore({ pipeline: pipeline(), catalogue: CATALOGUE });
    const s = () => store.getState();
    const a = s().addNode("connector.sample", { x: 0, y: 0 })!;
    const b = s().addNode("transform.filter", { x: 300, y: 0 })!;
    s().connect({ source: a, sourceHandle: "table", target: b, targetHandle: "table" });
    s().selectAll();
    const ids = s().duplicateSelection();
    expect(ids).toHaveLength(2);
    expect(ids).not.toContain(a);
    expect(s().nodes).toHaveLength(4);
    expect(s().edges).toHaveLength(2);
    expect(s().nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(ids);
    s().undo();
    expect(s().nodes).toHaveLength(2);
  });

  it("paste lands at the pointer; duplicate without one lands beside, not on top", () => {
    const store = createEditorStore({ pipeline: pipeline(), catalogue: CATALOGUE });
    const s = () => store.getState();
    const a = s().addNode("connector.sample", { x: 0, y: 0 })!;
    s().selectOnly([a]);
    const [atPointer] = s().paste(s().copySelection()!, { x: 800, y: 400 });
    const pos = (id: string) => s().nodes.find((n) => n.id === id)!.position;
    expect(pos(atPointer)).toEqual({ x: 800 - 102, y: 400 - 48 });
    s().selectOnly([a]);
    const [beside] = s().duplicateSelection();
    const p = pos(beside);
    const overlaps = Math.abs(p.x - 0) < 204 + 24 && Math.abs(p.y - 0) < 96 + 24;
    expect(overlaps).toBe(false);
  });

  it("auto-layout is one undoable step", () => {
    const store = createEditorStore({ pipeline: pipeline(), catalogue: CATALOGUE });
    const s = () => store.getState();
    const a = s().addNode("connector.sample", { x: 500, y: 500 })!;
    const b = s().addNode("transform.filter", { x: 0, y: 0 })!;
    s().connect({ source: a, sourceHandle: "table", target: b, targetHandle: "table" });
    s().autoLayout();
    const pa = s().nodes.find((n) => n.id === a)!.position;
    const pb = s().nodes.find((n) => n.id === b)!.position;
    expect(pa.x).toBeLessThan(pb.x); // left to right
    s().undo();
    expect(s().nodes.find((n) => n.id === a)!.position).toEqual({ x: 500, y: 500 });
  });
});
