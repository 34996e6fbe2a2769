import { describe, expect, it } from "vitest";
import { cellInk, cellShade, evaluationOf, importanceOption, versionMetricsOption } from "./charts";

describe("model charts", () => {
  it("reads a version's evaluation, or none", () => {
    expect(evaluationOf({ evaluation: { importances: [] } })).toEqual({ importances: [] });
    expect(evaluationOf({})).toEqual({});
    expect(evaluationOf(null)).toEqual({});
  });

  it("shades a confusion cell by its share of the actual class", () => {
    expect(cellShade(0, 10)).toBe("rgba(79, 70, 229, 0.060)");
    expect(cellShade(10, 10)).toBe("rgba(79, 70, 229, 0.900)");
    expect(cellInk(9, 10)).toBe("#fff");
    expect(cellInk(1, 10)).toBe("var(--text)");
  });

  it("puts versions side by side per metric, oldest first", () => {
    const option = versionMetricsOption(
      [
        { version: 2, metrics: { accuracy: 0.9 } },
        { version: 1, metrics: { accuracy: 0.8, f1: 0.7 } },
      ],
      ["accuracy", "f1"],
    );
    const series = option.series as { name: string; data: (number | null)[] }[];
    expect(series.map((s) => s.name)).toEqual(["v1", "v2"]);
    expect(series[1].data).toEqual([0.9, null]);
  });

  it("draws the most important feature on top", () => {
    const option = importanceOption([
      { feature: "a", importance: 0.9 },
      { feature: "b", importance: 0.1 },
    ]);
    expect((option.yAxis as { data: string[] }).data).toEqual(["b", "a"]);
  });
});
