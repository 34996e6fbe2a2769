import { describe, expect, it } from "vitest";
import { lowerIsBetter, metricColumns, metricDelta, parseJsonObject } from "./models";

describe("metricDelta", () => {
  it("knows which way is better", () => {
    expect(metricDelta("accuracy", 0.8, 0.9)).toEqual({ delta: expect.closeTo(0.1) as unknown as number, better: true });
    expect(metricDelta("rmse", 3, 2).better).toBe(true);
    expect(metricDelta("val_loss", 0.2, 0.3).better).toBe(false);
    expect(metricDelta("f1", 0.5, 0.5)).toEqual({ delta: 0, better: null });
    expect(metricDelta("f1", null, 0.5)).toEqual({ delta: null, better: null });
    expect(lowerIsBetter("r2")).toBe(false);
  });
});

describe("metricColumns", () => {
  it("puts the usual metrics first and caps the count", () => {
    const cols = metricColumns([
      { metrics: { zeta: 1, recall: 0.5, accuracy: 0.9 } },
      { metrics: { f1: 0.4, alpha: 2 } },
    ], 4);
    expect(cols).toEqual(["accuracy", "f1", "recall", "alpha"]);
  });
});

describe("parseJsonObject", () => {
  it("accepts objects and empty text only", () => {
    expect(parseJsonObject("")).toEqual({ value: {} });
    expect(parseJsonObject('{"C": 1}')).toEqual({ value: { C: 1 } });
    expect(parseJsonObject("[1]")).toHaveProperty("error");
    expect(parseJsonObject("{")).toHaveProperty("error");
  });
});
