import { describe, expect, it } from "vitest";
import type { Preview } from "../../api/types";
import { isMetricsPort, metricsOf, normalType } from "./metrics";

const preview = (columns: [string, string][], rows: unknown[][]): Preview => ({
  columns: columns.map(([name, type]) => ({ name, type })),
  rows,
  total_rows: rows.length,
  stats: [],
});

describe("a model's metrics as cards", () => {
  it("shows one card per column of a single row", () => {
    const cards = metricsOf(preview([["accuracy", "float64"], ["f1", "float64"]], [[0.9, 0.8]]));
    expect(cards).toEqual([
      { label: "accuracy", values: [{ label: "", value: 0.9 }] },
      { label: "f1", values: [{ label: "", value: 0.8 }] },
    ]);
  });

  it("shows a value per named row (train, test) for each numeric column", () => {
    const cards = metricsOf(
      preview([["split", "object"], ["accuracy", "float64"], ["n", "int64"]], [["train", 0.95, 80], ["test", 0.9, 20]]),
    );
    expect(cards?.map((c) => c.label)).toEqual(["accuracy", "n"]);
    expect(cards?.[0].values).toEqual([
      { label: "train", value: 0.95 },
      { label: "test", value: 0.9 },
    ]);
  });

  it("leaves a table without a naming column, or a long one, as a table", () => {
    expect(metricsOf(preview([["a", "float64"]], [[1], [2]]))).toBeNull();
    const rows = Array.from({ length: 9 }, (_, i) => [`r${i}`, i]);
    expect(metricsOf(preview([["name", "object"], ["v", "int64"]], rows))).toBeNull();
    expect(metricsOf(preview([["a", "float64"]], []))).toBeNull();
  });

  it("reads pandas dtypes as the schema's types", () => {
    expect(["int64", "uint8", "float32", "bool", "datetime64[ns]", "object"].map(normalType)).toEqual([
      "int",
      "int",
      "float",
      "bool",
      "datetime",
      "str",
    ]);
  });

  it("takes only a model's metric ports for metrics", () => {
    const model = { category: "model" } as Parameters<typeof isMetricsPort>[0];
    const transform = { category: "transform" } as Parameters<typeof isMetricsPort>[0];
    expect(isMetricsPort(model, "metrics")).toBe(true);
    expect(isMetricsPort(model, "model")).toBe(false);
    expect(isMetricsPort(transform, "metrics")).toBe(false);
  });
});
