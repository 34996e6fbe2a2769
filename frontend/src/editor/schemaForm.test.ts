import { describe, expect, it } from "vitest";
import type { JsonSchema } from "../api/types";
import {
  coerceAny,
  coerceScalar,
  defaultParams,
  deriveFields,
  getIn,
  newItem,
  paramPathOf,
  setIn,
  type FormField,
} from "./schemaForm";

// Schemas exactly as pydantic writes them for the built-in operators.
const FILTER_ROWS: JsonSchema = {
  $defs: {
    Condition: {
      additionalProperties: false,
      properties: {
        column: { description: "The column to test.", title: "Column", type: "string", "x-column-of": "table" },
        op: {
          default: "==",
          description: "How to compare the column with the value.",
          enum: ["==", "!=", ">", ">=", "<", "<=", "in", "not_in", "is_null", "not_null", "contains"],
          title: "Op",
          type: "string",
        },
        value: { default: null, description: "What to compare with.", title: "Value" },
      },
      required: ["column"],
      title: "Condition",
      type: "object",
    },
  },
  additionalProperties: false,
  properties: {
    conditions: {
      description: "The conditions a row must meet to be kept.",
      items: { $ref: "#/$defs/Condition" },
      title: "Conditions",
      type: "array",
    },
    combine: { default: "all", enum: ["all", "any"], title: "Combine", type: "string" },
  },
  title: "FilterRowsParams",
  type: "object",
};

const TRAIN: JsonSchema = {
  properties: {
    target: { title: "Target", type: "string", "x-column-of": "train" },
    features: { default: [], items: { type: "string" }, title: "Features", type: "array", "x-column-of": "train" },
    algorithm: { default: "random_forest", enum: ["logistic_regression", "random_forest"], title: "Algorithm", type: "string" },
    n_estimators: { default: 100, maximum: 2000, minimum: 1, title: "N Estimators", type: "integer" },
    max_depth: { anyOf: [{ minimum: 1, type: "integer" }, { type: "null" }], default: null, title: "Max Depth" },
    C: { default: 1.0, exclusiveMinimum: 0, title: "C", type: "number" },
    verbose: { default: false, title: "Verbose", type: "boolean" },
  },
  required: ["target"],
  type: "object",
};

const SPLIT: JsonSchema = {
  properties: {
    test_size: { default: 0.25, exclusiveMaximum: 1, exclusiveMinimum: 0, title: "Test Size", type: "number" },
    stratify: { anyOf: [{ type: "string" }, { type: "null" }], default: null, title: "Stratify", "x-column-of": "table" },
  },
  type: "object",
};

const byKey = (fields: FormField[]) => Object.fromEntries(fields.map((f) => [f.key, f]));

describe("schema → form fields", () => {
  it("derives enums, numbers with bounds, booleans, nullable ints and column pickers", () => {
    const f = byKey(deriveFields(TRAIN));
    expect(f.target).toMatchObject({ kind: "column", columnOf: "train", required: true, label: "Target" });
    expect(f.features).toMatchObject({ kind: "columns", columnOf: "train", required: false, default: [] });
    expect(f.algorithm.kind).toBe("enum");
    expect(f.algorithm.options).toEqual([
      { value: "logistic_regression", label: "Logistic regression" },
      { value: "random_forest", label: "Random forest" },
    ]);
    expect(f.n_estimators).toMatchObject({ kind: "integer", min: 1, max: 2000, step: 1, default: 100, label: "N estimators" });
    expect(f.max_depth).toMatchObject({ kind: "integer", nullable: true, min: 1, default: null, label: "Max depth" });
    expect(f.C).toMatchObject({ kind: "number", min: 0, exclusiveMin: true, step: "any", label: "C" });
    expect(f.verbose).toMatchObject({ kind: "boolean", default: false });
  });

  it("follows $ref into $defs for arrays of objects (filter conditions)", () => {
    const f = byKey(deriveFields(FILTER_ROWS));
    expect(f.conditions.kind).toBe("objects");
    expect(f.conditions.description).toBe("The conditions a row must meet to be kept.");
    const item = byKey(f.conditions.fields!);
    expect(item.column).toMatchObject({ kind: "column", columnOf: "table", required: true });
    expect(item.op).toMatchObject({ kind: "enum", default: "==" });
    expect(item.value).toMatchObject({ kind: "any", default: null });
    expect(f.combine).toMatchObject({ kind: "enum", default: "all" });
    expect(newItem(f.conditions)).toEqual({ op: "==", value: null });
  });

  it("reads x-column-of next to anyOf (Optional[str] columns) and exclusive bounds", () => {
    const f = byKey(deriveFields(SPLIT));
    expect(f.stratify).toMatchObject({ kind: "column", nullable: true, columnOf: "table" });
    expect(f.test_size).toMatchObject({ kind: "number", min: 0, max: 1, exclusiveMin: true, exclusiveMax: true });
  });

  it("handles datasets, Literal consts, enum $refs, lists and scalar unions", () => {
    const schema: JsonSchema = {
      $defs: { Mode: { enum: ["fast", "slow"], title: "Mode", type: "string" } },
      properties: {
        dataset: { type: "string", "x-dataset": true, title: "Dataset" },
        kind: { const: "only", type: "string" },
        mode: { $ref: "#/$defs/Mode", default: "fast", description: "How fast." },
        tags: { type: "array", items: { type: "string" } },
        metrics: { type: "array", items: { enum: ["accuracy", "f1"], type: "string" } },
        threshold: { anyOf: [{ type: "number" }, { type: "string" }] },
        extra: { type: "object", additionalProperties: true },
      },
      required: ["dataset"],
      type: "object",
    };
    const f = byKey(deriveFields(schema));
    expect(f.dataset).toMatchObject({ kind: "dataset", required: true });
    expect(f.kind).toMatchObject({ kind: "enum", options: [{ value: "only", label: "only" }] });
    expect(f.mode).toMatchObject({ kind: "enum", default: "fast", description: "How fast.", label: "Mode" });
    expect(f.tags).toMatchObject({ kind: "list", itemType: "string" });
    expect(f.metrics.kind).toBe("enum-list");
    expect(f.threshold).toMatchObject({ kind: "scalar", scalarTypes: ["number", "string"] });
    expect(f.extra.kind).toBe("json");
  });

  it("fills defaults for new nodes", () => {
    expect(defaultParams(TRAIN)).toEqual({
      features: [],
      algorithm: "random_forest",
      n_estimators: 100,
      max_depth: null,
      C: 1.0,
      verbose: false,
    });
    expect(defaultParams(FILTER_ROWS)).toEqual({ combine: "all" });
  });

  it("coerces typed text", () => {
    expect(coerceScalar("3", ["number", "string"])).toBe(3);
    expect(coerceScalar("abc", ["number", "string"])).toBe("abc");
    expect(coerceScalar("true", ["boolean", "string"])).toBe(true);
    expect(coerceAny("yes")).toBe("yes");
    expect(coerceAny("2.5")).toBe(2.5);
    expect(coerceAny("[1, 2]")).toEqual([1, 2]);
    expect(coerceAny("[oops")).toBe("[oops");
    expect(coerceAny("")).toBeNull();
  });

  it("reads and writes nested param paths immutably and maps error fields", () => {
    const params = { conditions: [{ column: "a", value: 1 }] };
    const next = setIn(params, ["conditions", 0, "value"], 2);
    expect(getIn(next, ["conditions", 0, "value"])).toBe(2);
    expect(params.conditions[0].value).toBe(1);
    expect(setIn({ a: 1, b: 2 }, ["a"], undefined)).toEqual({ b: 2 });
    expect(paramPathOf("params.conditions.0.value")).toBe("conditions.0.value");
    expect(paramPathOf("column")).toBe("column");
    expect(paramPathOf("edges.0")).toBeNull();
    expect(paramPathOf(null)).toBeNull();
  });
});

describe("catalogue extensions", () => {
  it("recognises connection and registered-model params", () => {
    const f = byKey(
      deriveFields({
        type: "object",
        properties: {
          connection: { type: "string", "x-connection": ["postgresql", "mysql"] },
          api: { type: "string", "x-connection": "http" },
          model: { type: "string", "x-registered-model": true },
        },
      }),
    );
    expect(f.connection).toMatchObject({ kind: "connection", connectionKinds: ["postgresql", "mysql"] });
    expect(f.api).toMatchObject({ kind: "connection", connectionKinds: ["http"] });
    expect(f.model.kind).toBe("registered-model");
  });
});
