import { describe, expect, it } from "vitest";
import { freeCorner, freeSpot, keepInView, NEW_NODE_SIZE, pasteOffset, READABLE_ZOOM, viewportFor } from "./layout";

const ROW = NEW_NODE_SIZE.height + 40;

describe("where a new node goes", () => {
  it("takes the spot asked for when it is free", () => {
    expect(freeSpot([], { x: 100, y: 100 })).toEqual({ x: 100, y: 100 });
    expect(freeSpot([{ position: { x: 600, y: 100 } }], { x: 100, y: 100 })).toEqual({ x: 100, y: 100 });
  });

  it("moves a row down, then a row up, past nodes in the way", () => {
    const taken = { position: { x: 100, y: 100 } };
    expect(freeSpot([taken], { x: 100, y: 100 })).toEqual({ x: 100, y: 100 + ROW });
    const below = { position: { x: 100, y: 100 + ROW } };
    expect(freeSpot([taken, below], { x: 100, y: 100 })).toEqual({ x: 100, y: 100 - ROW });
  });

  it("keeps clear of a node by its measured size", () => {
    const tall = { position: { x: 100, y: 100 }, measured: { width: 204, height: 400 } };
    const spot = freeSpot([tall], { x: 100, y: 100 });
    expect(spot.y >= 100 + 400 + 24 || spot.y + NEW_NODE_SIZE.height + 24 <= 100).toBe(true);
  });
});

describe("the view", () => {
  const pane = { width: 1000, height: 600 };

  it("fits a graph that fits, centred, never above 100%", () => {
    const v = viewportFor({ x: 0, y: 0, width: 400, height: 200 }, pane);
    expect(v.zoom).toBe(1);
    expect(v.x).toBe(300);
    expect(v.y).toBe(200);
  });

  it("stops at the readable zoom and shows the graph's start", () => {
    const v = viewportFor({ x: 100, y: 0, width: 5000, height: 300 }, pane, { minZoom: READABLE_ZOOM });
    expect(v.zoom).toBe(READABLE_ZOOM);
    expect(v.x).toBe(48 - 100 * READABLE_ZOOM);
  });

  it("leaves a view alone when the graph is in it, pans when it fits, zooms out when not", () => {
    const b = { x: 0, y: 0, width: 400, height: 200 };
    expect(keepInView(b, { x: 100, y: 100, zoom: 1 }, pane)).toBeNull();
    expect(keepInView(b, { x: 100, y: 500, zoom: 1 }, pane)).toEqual({ x: 100, y: 376, zoom: 1 });
    const out = keepInView(b, { x: 0, y: 0, zoom: 1 }, { width: 300, height: 600 })!;
    expect(out.zoom).toBeLessThan(1);
    expect(b.width * out.zoom + out.x).toBeLessThanOrEqual(300 - 24 + 0.01);
  });

  it("centres a pasted group's first node on the pointer", () => {
    const off = pasteOffset([{ position: { x: 50, y: 80 } }, { position: { x: 300, y: 80 } }], { x: 500, y: 500 });
    expect(off).toEqual({ x: 500 - 102 - 50, y: 500 - 48 - 80 });
  });

  it("puts the minimap in a corner without nodes, or nowhere", () => {
    const box = { width: 144, height: 96 };
    expect(freeCorner([], pane, box)).toBe("bottom-right");
    const underBottomRight = { x: 900, y: 520, width: 80, height: 40 };
    expect(freeCorner([underBottomRight], pane, box)).toBe("top-right");
    const everywhere = { x: 0, y: 0, width: 1000, height: 600 };
    expect(freeCorner([everywhere], pane, box)).toBeNull();
  });
});
