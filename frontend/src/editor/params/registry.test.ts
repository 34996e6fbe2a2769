import { describe, expect, it } from "vitest";
import type { JsonSchema } from "../../api/types";
import { deriveFields, FIELD_KINDS, type FormField } from "../schemaForm";
import { WIDGETS, widgetFor } from "./registry";

// One property per branch of deriveField, so the kinds it can produce are all exercised.
const EVERY_KIND: JsonSchema = {
  $defs: {
    Condition: {
      properties: { column: { type: "string", "x-column-of": "table" }, value: {} },
      required: ["column"],
      type: "object",
    },
  },
  properties: {
    name: { type: "string" },
    rate: { type: "number" },
    count: { type: "integer" },
    verbose: { type: "boolean" },
    mode: { enum: ["a", "b"], type: "string" },
    target: { type: "string", "x-column-of": "table" },
    features: { items: { type: "string" }, type: "array", "x-column-of": "table" },
    dataset: { type: "integer", "x-dataset": true },
    connection: { type: "string", "x-connection": ["postgres"] },
    model: { type: "string", "x-registered-model": true },
    table: { type: "string", "x-options-from": "source" },
    properties: { items: { type: "string" }, type: "array", "x-options-by": { resource: { contacts: ["email"] } }, "x-free-text": true },
    values: { items: { type: "number" }, type: "array" },
    metrics: { items: { enum: ["f1", "accuracy"], type: "string" }, type: "array" },
    conditions: { items: { $ref: "#/$defs/Condition" }, type: "array" },
    options: { properties: { depth: { type: "integer" } }, type: "object" },
    value: { anyOf: [{ type: "string" }, { type: "integer" }, { type: "boolean" }] },
    anything: {},
    mapping: { additionalProperties: { type: "integer" }, type: "object" },
  },
  type: "object",
};

function kindsOf(fields: readonly FormField[]): Set<string> {
  const out = new Set<string>();
  for (const f of fields) {
    out.add(f.kind);
    for (const k of kindsOf(f.fields ?? [])) out.add(k);
  }
  return out;
}

describe("the params form's widget registry", () => {
  it("has a widget for every field kind", () => {
    for (const kind of FIELD_KINDS) {
      expect(WIDGETS[kind]?.Control, `no widget for "${kind}"`).toBeTypeOf("function");
    }
  });

  it("lists every kind the schema form produces, and only those", () => {
    expect([...kindsOf(deriveFields(EVERY_KIND))].sort()).toEqual([...FIELD_KINDS].sort());
  });

  it("edits a kind it does not know as JSON", () => {
    expect(widgetFor("something-new")).toBe(WIDGETS.json);
    expect(widgetFor("toString")).toBe(WIDGETS.json);
  });

  it("draws a nested object in a fieldset of its own and a switch inline", () => {
    expect(WIDGETS.object.bare).toBe(true);
    expect(WIDGETS.boolean.inline).toBe(true);
    expect(Object.entries(WIDGETS).filter(([, w]) => w.bare).map(([k]) => k)).toEqual(["object"]);
  });
});
