import { describe, expect, it } from "vitest";
import type { OperatorSpec } from "../../api/types";
import type { FormField } from "../schemaForm";
import { boundsHint, outOfRange } from "./hints";
import type { FormContext } from "./types";
import { excludedColumn } from "./widgets/ColumnsPicker";

const size: FormField = { key: "test_size", label: "Test size", kind: "number", required: false, nullable: false, hasDefault: true, min: 0, max: 1, exclusiveMin: true, exclusiveMax: true };

describe("range hints", () => {
  it("say the range and are neutral while the value is inside it or empty", () => {
    expect(boundsHint(size)).toBe("Between 0 and 1 (exclusive).");
    expect(outOfRange(size, 0.2)).toBe(false);
    expect(outOfRange(size, undefined)).toBe(false);
    expect(outOfRange(size, null)).toBe(false);
  });

  it("turn into a problem once the value is out of range", () => {
    expect(outOfRange(size, 1)).toBe(true);
    expect(outOfRange(size, 0)).toBe(true);
    expect(outOfRange({ ...size, exclusiveMin: false }, 0)).toBe(false);
    expect(outOfRange({ ...size, max: undefined }, 50)).toBe(false);
  });
});

describe("features leave out the target", () => {
  const op = {
    params_schema: { properties: { target: { type: "string" }, features: { type: "array", "x-columns-except": "target" } } },
  } as unknown as OperatorSpec;
  const features: FormField = { key: "features", label: "Features", kind: "columns", required: false, nullable: false, hasDefault: true };
  const ctx = (params: Record<string, unknown>): FormContext => ({ op, columns: {}, errors: {}, onChange: () => {}, params });

  it("names the chosen target as the column to leave out", () => {
    expect(excludedColumn(features, ctx({ target: "churned" }))).toBe("churned");
    expect(excludedColumn(features, ctx({}))).toBeNull();
    expect(excludedColumn({ ...features, key: "target" }, ctx({ target: "churned" }))).toBeNull();
  });
});
