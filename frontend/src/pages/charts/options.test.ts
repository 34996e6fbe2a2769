import { describe, expect, it } from "vitest";
import { durationOption, niceCeil } from "./options";

describe("the duration chart", () => {
  it("rounds its axis top to a round number", () => {
    expect(niceCeil(2.31)).toBe(2.5);
    expect(niceCeil(0.84)).toBe(1);
    expect(niceCeil(13)).toBe(15);
    expect(niceCeil(0)).toBe(1);
  });

  it("reaches the p95 line and labels p50/p95 in the margin, not over the plot", () => {
    const opt = durationOption([], 3, { p50: 195, p95: 2100 }, Date.UTC(2026, 0, 3));
    const axis = opt.yAxis as { max: (v: { max: number }) => number };
    expect(axis.max({ max: 0.8 })).toBeGreaterThanOrEqual(2.1);
    const series = (opt.series as { markLine: { data: { label: { position: string } }[] } }[])[0];
    expect(series.markLine.data.map((m) => m.label.position)).toEqual(["end", "end"]);
  });
});
