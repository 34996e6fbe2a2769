import { describe, expect, it } from "vitest";
import { freeSpot, NEW_NODE_SIZE } from "./layout";

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
