import type { NodeChange } from "@xyflow/react";
import { describe, expect, it } from "vitest";
import type { Pipeline } from "../../api/types";
import { createEditorStore } from "../store";
import { CATALOGUE, pipeline } from "../testFixtures";
import {
  annotationToNode,
  canonicalAnnotations,
  colorOf,
  flowIdOf,
  frameAround,
  freeRect,
  fromAnnotationNodes,
  isAnnotationId,
  isMidGesture,
  newAnnotationId,
  nodeToAnnotation,
  parseAnnotations,
  splitChanges,
  toAnnotationNodes,
  Z_INDEX,
  type Annotation,
} from "./annotations";
import { FrameDragTracker } from "./frameDrag";

const note: Annotation = {
  id: "note-1",
  kind: "note",
  text: "Read me first",
  position: { x: 10, y: 20 },
  size: { width: 220, height: 140 },
  color: "yellow",
};
const frame: Annotation = {
  id: "frame-1",
  kind: "frame",
  text: "Training",
  position: { x: -40, y: -60 },
  size: { width: 600, height: 300 },
  color: "#10b981",
};

function withAnnotations(annotations: Annotation[], graph?: Pipeline["graph"]): Pipeline {
  return { ...pipeline(graph), annotations };
}

describe("annotations ↔ canvas nodes", () => {
  it("round-trips stored annotations through React Flow nodes", () => {
    const nodes = toAnnotationNodes([note, frame]);
    // Frames come first (drawn first), notes after; both behind operator nodes.
    expect(nodes.map((n) => n.type)).toEqual(["frame", "note"]);
    expect(nodes[0]).toMatchObject({
      id: "annotation:frame-1",
      type: "frame",
      position: { x: -40, y: -60 },
      width: 600,
      height: 300,
      zIndex: Z_INDEX.frame,
      data: { text: "Training", color: "#10b981" },
    });
    expect(Z_INDEX.frame).toBeLessThan(Z_INDEX.note);
    expect(Z_INDEX.note + 1000).toBeLessThanOrEqual(0); // selected, still not above operators
    expect(fromAnnotationNodes(nodes)).toEqual([frame, note]);
  });

  it("rounds what React Flow moved and resized, and keeps sizes within the server's bounds", () => {
    const n = annotationToNode(note);
    const moved = { ...n, position: { x: 10.6, y: 19.2 }, width: 300.4, height: 5 };
    expect(nodeToAnnotation(moved)).toMatchObject({
      position: { x: 11, y: 19 },
      size: { width: 300, height: 20 },
    });
  });

  it("uses ids no operator node can have", () => {
    expect(flowIdOf("n1")).toBe("annotation:n1");
    expect(isAnnotationId("annotation:n1")).toBe(true);
    expect(isAnnotationId("n1")).toBe(false);
    expect(isAnnotationId(undefined)).toBe(false);
  });

  it("compares annotations whatever their order and sub-pixel moves", () => {
    const a = canonicalAnnotations([note, frame]);
    expect(canonicalAnnotations([frame, { ...note, position: { x: 10.2, y: 20 } }])).toBe(a);
    expect(canonicalAnnotations([frame, { ...note, text: "Other" }])).not.toBe(a);
    expect(canonicalAnnotations([frame, { ...note, color: "blue" }])).not.toBe(a);
  });

  it("reads stored annotations defensively", () => {
    const parsed = parseAnnotations([
      note,
      { ...note }, // a second note-1: dropped
      { id: "bad id", kind: "note" },
      { id: "x", kind: "sticker" },
      "nonsense",
      null,
      { id: "f2", kind: "frame", position: { x: "1", y: 2 }, size: { width: 1e9 }, color: "red", text: 7 },
    ]);
    expect(parsed).toEqual([
      note,
      {
        id: "f2",
        kind: "frame",
        text: "",
        position: { x: 0, y: 2 },
        size: { width: 20_000, height: 320 },
        color: "blue",
      },
    ]);
    expect(parseAnnotations(undefined)).toEqual([]);
    expect(parseAnnotations({ nodes: [] })).toEqual([]);
    expect(parseAnnotations(Array.from({ length: 300 }, (_, i) => ({ ...note, id: `n${i}` })))).toHaveLength(200);
  });

  it("makes fresh ids per kind", () => {
    expect(newAnnotationId([], "note")).toBe("note-1");
    expect(newAnnotationId(["annotation:note-1", "annotation:note-7", "annotation:frame-9"], "note")).toBe("note-8");
    expect(newAnnotationId(["annotation:note-3"], "frame")).toBe("frame-1");
  });

  it("colours: the palette's, or a custom #rrggbb", () => {
    expect(colorOf("yellow").border).toBe("#f59e0b");
    expect(colorOf("#10b981")).toEqual({ fill: "#10b98133", border: "#10b981", tint: "#10b9811f" });
    expect(colorOf("nope").border).toBe("#f59e0b");
  });

  it("splits React Flow's changes between annotations and operator nodes", () => {
    const changes: NodeChange[] = [
      { id: "annotation:note-1", type: "select", selected: true },
      { id: "n1", type: "select", selected: false },
      { id: "annotation:frame-1", type: "position", position: { x: 1, y: 2 }, dragging: true },
      { id: "n2", type: "remove" },
    ];
    const { annotations, operators } = splitChanges(changes);
    expect(annotations.map((c) => (c as { id: string }).id)).toEqual(["annotation:note-1", "annotation:frame-1"]);
    expect(operators.map((c) => (c as { id: string }).id)).toEqual(["n1", "n2"]);
  });

  it("knows a drag or a resize under way from its end", () => {
    const id = "annotation:note-1";
    expect(isMidGesture([{ id, type: "position", position: { x: 0, y: 0 }, dragging: true }])).toBe(true);
    expect(isMidGesture([{ id, type: "position", position: { x: 0, y: 0 }, dragging: false }])).toBe(false);
    expect(
      isMidGesture([
        { id, type: "position", position: { x: 0, y: 0 } },
        { id, type: "dimensions", dimensions: { width: 1, height: 1 }, resizing: true, setAttributes: true },
      ]),
    ).toBe(true);
    expect(isMidGesture([{ id, type: "dimensions", dimensions: { width: 1, height: 1 }, resizing: false }])).toBe(false);
    expect(isMidGesture([{ id, type: "select", selected: true }])).toBe(false);
  });

  it("puts a new note where it covers nothing, as near as it can", () => {
    const size = { width: 220, height: 140 };
    expect(freeRect({ x: 0, y: 0 }, size, [])).toEqual({ x: 0, y: 0 });
    const node = { x: 0, y: 0, width: 204, height: 96 };
    const spot = freeRect({ x: 0, y: 0 }, size, [node]);
    expect(spot).not.toEqual({ x: 0, y: 0 });
    const box = { ...spot, ...size };
    const clear =
      box.x >= node.x + node.width || box.x + box.width <= node.x || box.y >= node.y + node.height || box.y + box.height <= node.y;
    expect(clear).toBe(true);
    expect(Math.hypot(spot.x, spot.y)).toBeLessThan(400);
  });

  it("frames the selection with room for the title", () => {
    expect(frameAround([])).toBeNull();
    expect(
      frameAround([
        { x: 0, y: 0, width: 200, height: 80 },
        { x: 300, y: 100, width: 200, height: 80 },
      ]),
    ).toEqual({ x: -32, y: -62, width: 564, height: 274 });
  });
});

describe("dragging a frame", () => {
  it("carries the nodes and notes wholly inside it, and only those", () => {
    const store = createEditorStore({
      pipeline: withAnnotations(
        [frame, { ...note, position: { x: 0, y: 0 } }, { ...note, id: "note-2", position: { x: 500, y: 200 } }],
        {
          nodes: [
            { id: "in", operator: "connector.sample", params: {}, position: { x: 250, y: 40 } },
            { id: "out", operator: "connector.sample", params: {}, position: { x: 900, y: 40 } },
          ],
          edges: [],
        },
      ),
      catalogue: CATALOGUE,
    });
    const s = store.getState();
    const tracker = new FrameDragTracker();
    const id = "annotation:frame-1";
    const first = tracker.followers(
      [{ id, type: "position", position: { x: -30, y: -50 }, dragging: true }],
      s.nodes,
      s.annotations,
    );
    expect(first).toEqual([
      { id: "in", type: "position", position: { x: 260, y: 50 }, dragging: true },
      { id: "annotation:note-1", type: "position", position: { x: 10, y: 10 }, dragging: true },
    ]);
    // Later moves are measured from where the drag began; the last one ends it.
    const last = tracker.followers(
      [{ id, type: "position", position: { x: 60, y: -60 }, dragging: false }],
      s.nodes,
      s.annotations,
    );
    expect(last.map((c) => (c as { position: unknown }).position)).toEqual([
      { x: 350, y: 40 },
      { x: 100, y: 0 },
    ]);
    expect(tracker.followers([{ id, type: "position", position: { x: 0, y: 0 } }], s.nodes, s.annotations)).toEqual([]);
  });

  it("leaves what is dragged with it to React Flow", () => {
    const store = createEditorStore({ pipeline: withAnnotations([frame, note]), catalogue: CATALOGUE });
    const s = store.getState();
    const moves = new FrameDragTracker().followers(
      [
        { id: "annotation:frame-1", type: "position", position: { x: 0, y: 0 }, dragging: true },
        { id: "annotation:note-1", type: "position", position: { x: 50, y: 80 }, dragging: true },
      ],
      s.nodes,
      s.annotations,
    );
    expect(moves).toEqual([]);
  });
});

describe("editor store with annotations", () => {
  const make = (annotations: Annotation[] = [note, frame]) => {
    const store = createEditorStore({ pipeline: withAnnotations(annotations), catalogue: CATALOGUE });
    return { store, s: () => store.getState() };
  };

  it("loads the pipeline's annotations apart from its graph", () => {
    const { s } = make();
    expect(s().annotations.map((n) => n.id)).toEqual(["annotation:frame-1", "annotation:note-1"]);
    expect(s().nodes).toEqual([]);
    expect(s().getGraph()).toEqual({ nodes: [], edges: [] });
    expect(s().dirty).toBe(false);
    expect(s().getAnnotations()).toEqual([frame, note]);
  });

  it("never puts an annotation in the graph", () => {
    const { s } = make();
    s().addNode("connector.sample", { x: 0, y: 0 });
    s().addAnnotation("note", { x: 400, y: 0 });
    const graph = s().getGraph();
    expect(graph.nodes.map((n) => n.id)).toEqual(["n1"]);
    expect(JSON.stringify(graph)).not.toContain("annotation");
    expect(s().semanticKey).not.toContain("note");
  });

  it("an annotation edit makes the editor dirty without touching the graph's keys", () => {
    const { s } = make();
    const { graphKey, semanticKey } = s();
    const id = s().addAnnotation("note", { x: 300, y: 300 })!;
    expect(s().editingAnnotation).toBe(id); // a new note opens for writing
    expect(s().dirty).toBe(true);
    expect(s().graphKey).toBe(graphKey);
    expect(s().semanticKey).toBe(semanticKey);
    s().setAnnotationText(id, "Hello");
    expect(s().getAnnotations().find((a) => a.id === "note-2")?.text).toBe("Hello");
  });

  it("undoes and redoes annotations with the graph", () => {
    const { s } = make([]);
    const n = s().addNode("connector.sample", { x: 0, y: 0 })!;
    const noteId = s().addAnnotation("note", { x: 300, y: 0 })!;
    s().setAnnotationText(noteId, "a");
    s().setAnnotationText(noteId, "ab"); // typing merges into one step
    const frameId = s().addAnnotation("frame", { x: -50, y: -50 })!;
    s().setAnnotationColor(frameId, "green");
    expect(s().annotations).toHaveLength(2);

    s().undo(); // the colour
    expect(s().getAnnotations().find((a) => a.kind === "frame")?.color).toBe("blue");
    s().undo(); // the frame
    expect(s().annotations.map((a) => a.id)).toEqual([noteId]);
    s().undo(); // the text
    expect(s().getAnnotations()[0].text).toBe("");
    s().undo(); // the note
    expect(s().annotations).toEqual([]);
    expect(s().nodes.map((x) => x.id)).toEqual([n]);
    s().undo(); // the operator node
    expect(s().nodes).toEqual([]);
    expect(s().dirty).toBe(false);

    s().redo();
    s().redo();
    s().redo();
    expect(s().getAnnotations()).toMatchObject([{ id: "note-1", text: "ab" }]);
    expect(s().nodes).toHaveLength(1);
    expect(s().dirty).toBe(true);
  });

  it("moves and resizes through React Flow's changes, settled at the gesture's end", () => {
    const { s } = make();
    const id = "annotation:note-1";
    const key = s().annotationsKey;
    s().onAnnotationsChange([{ id, type: "position", position: { x: 100, y: 100 }, dragging: true }]);
    expect(s().annotations.find((a) => a.id === id)?.position).toEqual({ x: 100, y: 100 });
    expect(s().annotationsKey).toBe(key); // mid-drag
    s().onAnnotationsChange([{ id, type: "position", position: { x: 120, y: 100 }, dragging: false }]);
    expect(s().dirty).toBe(true);
    s().onAnnotationsChange([
      { id, type: "dimensions", dimensions: { width: 400, height: 250 }, resizing: true, setAttributes: true },
    ]);
    s().onAnnotationsChange([{ id, type: "dimensions", dimensions: { width: 400, height: 250 }, resizing: false }]);
    expect(s().getAnnotations().find((a) => a.id === "note-1")).toMatchObject({
      position: { x: 120, y: 100 },
      size: { width: 400, height: 250 },
    });
  });

  it("deletes selected annotations with the Delete key's action, as one undo step", () => {
    const { s } = make();
    s().onAnnotationsChange([{ id: "annotation:note-1", type: "select", selected: true }]);
    expect(s().deleteSelected()).toBe(1);
    expect(s().getAnnotations().map((a) => a.id)).toEqual(["frame-1"]);
    expect(s().dirty).toBe(true);
    s().undo();
    expect(s().getAnnotations().map((a) => a.id).sort()).toEqual(["frame-1", "note-1"]);
    expect(s().dirty).toBe(false);
  });

  it("Escape's select-nothing deselects annotations too", () => {
    const { s } = make();
    s().onAnnotationsChange([{ id: "annotation:frame-1", type: "select", selected: true }]);
    s().selectOnly([]);
    expect(s().annotations.some((a) => a.selected)).toBe(false);
  });

  it("is clean again once the server has the annotations", () => {
    const { s } = make();
    s().setAnnotationColor("annotation:note-1", "pink");
    expect(s().dirty).toBe(true);
    const sent = s().getAnnotations();
    s().markSaved(withAnnotations(sent), s().getGraph(), sent);
    expect(s().dirty).toBe(false);
    // A save answered with the server's copy (no annotations given) is read the same way.
    s().setAnnotationColor("annotation:note-1", "green");
    s().markSaved(withAnnotations(s().getAnnotations()));
    expect(s().dirty).toBe(false);
  });

  it("stops at the server's limit", () => {
    const many = Array.from({ length: 200 }, (_, i) => ({ ...note, id: `note-${i + 1}` }));
    const { s } = make(many);
    expect(s().addAnnotation("note", { x: 0, y: 0 })).toBeNull();
    expect(s().annotations).toHaveLength(200);
  });

  it("restores a draft's annotations", () => {
    const { s } = make([note]);
    s().setAnnotations([frame], { record: false });
    expect(s().getAnnotations()).toEqual([frame]);
    expect(s().dirty).toBe(true);
  });
});
