// Derives form fields from an operator's params JSON Schema (as pydantic writes it).
import type { JsonSchema } from "../api/types";

export type ScalarType = "string" | "number" | "integer" | "boolean";

/** Every kind of field `deriveField` produces; each has a widget in params/registry.ts. */
export const FIELD_KINDS = [
  "text", // free string
  "number",
  "integer",
  "boolean",
  "enum", // one of a fixed set (Literal / Enum)
  "column", // a column name of an input table (x-column-of)
  "columns", // several column names
  "dataset", // a dataset id (x-dataset)
  "connection", // a connection id of some kinds (x-connection)
  "registered-model", // a registered model's name (x-registered-model)
  "choice", // one value from suggested choices (x-options-by / x-options-from), typed too with x-free-text
  "choice-list", // several values from suggested choices, as chips
  "list", // list of free scalars
  "enum-list", // several of a fixed set
  "objects", // list of objects (e.g. filter conditions)
  "object", // nested object
  "scalar", // a union of scalar types (e.g. a filter value: str | int | float | bool)
  "any", // no type given: a scalar, or a JSON list typed as text
  "json", // anything else: edited as JSON text
] as const;

export type FieldKind = (typeof FIELD_KINDS)[number];

export interface FieldOption {
  value: string | number | boolean | null;
  label: string;
}

/**
 * Where a "choice" field's suggestions come from: fixed lists by the value of a sibling param
 * (`x-options-by`: HubSpot properties by resource), or the operator's options endpoint with the
 * params so far (`x-options-from: "source"`: a database's tables, a table's columns).
 */
export type ChoiceSource =
  | {
      from: "by";
      /** Sibling param → its value → the choices. */
      table: Record<string, Record<string, string[]>>;
      /** The siblings' defaults, for a param the node has not set. */
      defaults: Record<string, unknown>;
    }
  | { from: "source" };

export interface FormField {
  key: string;
  label: string;
  description?: string;
  kind: FieldKind;
  required: boolean;
  nullable: boolean;
  hasDefault: boolean;
  default?: unknown;
  options?: FieldOption[];
  min?: number;
  max?: number;
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
  step?: number | "any";
  minItems?: number;
  maxItems?: number;
  columnOf?: string;
  connectionKinds?: string[];
  itemType?: ScalarType;
  scalarTypes?: ScalarType[];
  fields?: FormField[]; // "objects" (per item) and "object"
  multiline?: boolean;
  format?: string;
  choices?: ChoiceSource;
  /** A choice field also takes values typed in (x-free-text). */
  freeText?: boolean;
}

const SCALARS: ReadonlySet<string> = new Set(["string", "number", "integer", "boolean"]);

export function humanize(key: string): string {
  const words = key.replace(/[_-]+/g, " ").replace(/([a-z])([A-Z])/g, "$1 $2").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Follows `$ref` (and single-entry `allOf`) within `root`'s $defs; merges sibling keywords. */
export function resolveRef(schema: JsonSchema, root: JsonSchema, depth = 0): JsonSchema {
  if (depth > 20) return schema;
  if (schema.$ref) {
    const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(schema.$ref);
    const defs = m ? (m[1] === "$defs" ? root.$defs : root.definitions) : undefined;
    const target = m && defs ? defs[decodeURIComponent(m[2])] : undefined;
    const { $ref: _ref, ...rest } = schema;
    void _ref;
    if (!target) return rest;
    return resolveRef({ ...target, ...rest }, root, depth + 1);
  }
  if (schema.allOf && schema.allOf.length === 1) {
    const { allOf, ...rest } = schema;
    return resolveRef({ ...allOf[0], ...rest }, root, depth + 1);
  }
  return schema;
}

function typesOf(s: JsonSchema): string[] {
  if (Array.isArray(s.type)) return s.type;
  if (typeof s.type === "string") return [s.type];
  return [];
}

function isNull(s: JsonSchema): boolean {
  const t = typesOf(s);
  return (t.length === 1 && t[0] === "null") || s.const === null;
}

/** Splits `X | None` into X and nullable; leaves other unions alone. */
function unwrapNullable(
  schema: JsonSchema,
  root: JsonSchema,
): { schema: JsonSchema; nullable: boolean } {
  const s = resolveRef(schema, root);
  const union = s.anyOf ?? s.oneOf;
  if (union) {
    const parts = union.map((p) => resolveRef(p, root));
    const nonNull = parts.filter((p) => !isNull(p));
    const nullable = nonNull.length < parts.length;
    const { anyOf: _a, oneOf: _o, ...rest } = s;
    void _a;
    void _o;
    if (nonNull.length === 1) return { schema: { ...nonNull[0], ...rest }, nullable };
    return { schema: { ...rest, anyOf: nonNull }, nullable };
  }
  const t = typesOf(s);
  if (t.includes("null") && t.length > 1) {
    const rest = t.filter((x) => x !== "null");
    return { schema: { ...s, type: rest.length === 1 ? rest[0] : rest }, nullable: true };
  }
  return { schema: s, nullable: false };
}

/** "logistic_regression" → "Logistic regression"; symbols ("==") and plain words stay. */
export function optionLabel(v: unknown): string {
  const text = String(v);
  return /^[a-z][a-z0-9]*(_[a-z0-9]+)+$/.test(text) ? humanize(text) : text;
}

/** The labels an enum's values are shown with (`x-labels`: {value: label}). */
function labelsOf(...schemas: JsonSchema[]): Record<string, string> {
  for (const s of schemas) {
    const l = s["x-labels"];
    if (l && typeof l === "object" && !Array.isArray(l)) return l as Record<string, string>;
  }
  return {};
}

function enumOptions(s: JsonSchema, root: JsonSchema, labels: Record<string, string> = labelsOf(s)): FieldOption[] | null {
  const label = (v: unknown) => {
    const l = labels[String(v)];
    return typeof l === "string" && l ? l : optionLabel(v);
  };
  if (Array.isArray(s.enum)) {
    return s.enum.map((v) => ({ value: v as FieldOption["value"], label: label(v) }));
  }
  if ("const" in s && s.const !== undefined) {
    return [{ value: s.const as FieldOption["value"], label: label(s.const) }];
  }
  // Literal["a"] | Literal["b"] is sometimes written as anyOf of consts.
  const union = s.anyOf ?? s.oneOf;
  if (union && union.length) {
    const parts = union.map((p) => resolveRef(p, root));
    if (parts.every((p) => "const" in p || (Array.isArray(p.enum) && p.enum.length > 0))) {
      return parts.flatMap((p) => enumOptions(p, root, { ...labelsOf(p), ...labels }) ?? []);
    }
  }
  return null;
}

function scalarUnion(s: JsonSchema, root: JsonSchema): ScalarType[] | null {
  const union = s.anyOf ?? s.oneOf;
  if (union) {
    const types = union.flatMap((p) => typesOf(resolveRef(p, root)));
    if (types.length && types.every((t) => SCALARS.has(t))) return dedupe(types) as ScalarType[];
    return null;
  }
  const t = typesOf(s);
  if (t.length > 1 && t.every((x) => SCALARS.has(x))) return dedupe(t) as ScalarType[];
  return null;
}

function dedupe<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function columnOf(raw: JsonSchema, resolved: JsonSchema): string | undefined {
  const v = raw["x-column-of"] ?? resolved["x-column-of"];
  return typeof v === "string" ? v : undefined;
}

function isDataset(raw: JsonSchema, resolved: JsonSchema): boolean {
  return raw["x-dataset"] === true || resolved["x-dataset"] === true;
}

/** The suggestions a field's schema asks for (x-options-by, x-options-from), if any. */
function choiceSource(raw: JsonSchema, s: JsonSchema): ChoiceSource | undefined {
  const by = raw["x-options-by"] ?? s["x-options-by"];
  if (by && typeof by === "object" && !Array.isArray(by)) {
    const table: Record<string, Record<string, string[]>> = {};
    for (const [param, byValue] of Object.entries(by as Record<string, unknown>)) {
      if (!byValue || typeof byValue !== "object") continue;
      table[param] = {};
      for (const [value, list] of Object.entries(byValue as Record<string, unknown>)) {
        if (Array.isArray(list)) table[param][value] = list.map(String);
      }
    }
    return { from: "by", table, defaults: {} };
  }
  if ((raw["x-options-from"] ?? s["x-options-from"]) === "source") return { from: "source" };
  return undefined;
}

/** One form field for property `key` of an object schema. */
export function deriveField(
  key: string,
  raw: JsonSchema,
  root: JsonSchema,
  required: boolean,
): FormField {
  const resolvedOuter = resolveRef(raw, root);
  const { schema: s, nullable } = unwrapNullable(raw, root);
  const field: FormField = {
    key,
    label: (raw.title ?? resolvedOuter.title ?? humanize(key)) as string,
    description: (raw.description ?? resolvedOuter.description ?? s.description) as
      | string
      | undefined,
    kind: "json",
    required,
    nullable,
    hasDefault: "default" in raw || "default" in resolvedOuter,
    default: "default" in raw ? raw.default : resolvedOuter.default,
  };
  // pydantic's automatic titles are Title Cased field names; prefer sentence case.
  if (!field.label || field.label.toLowerCase() === key.replace(/_/g, " ").toLowerCase()) {
    field.label = humanize(key);
  }

  const colOf = columnOf(raw, s) ?? columnOf(resolvedOuter, resolvedOuter);
  const types = typesOf(s);
  const type = types.length === 1 ? types[0] : undefined;

  if (isDataset(raw, s) || isDataset(resolvedOuter, resolvedOuter)) {
    field.kind = "dataset";
    return field;
  }
  const conn = raw["x-connection"] ?? s["x-connection"];
  if (typeof conn === "string" || Array.isArray(conn)) {
    field.kind = "connection";
    field.connectionKinds = (Array.isArray(conn) ? conn : [conn]).map(String);
    return field;
  }
  if (raw["x-registered-model"] === true || s["x-registered-model"] === true) {
    field.kind = "registered-model";
    return field;
  }
  const choices = choiceSource(raw, s);
  if (choices && (type === "string" || type === "array" || type === undefined)) {
    field.kind = type === "array" ? "choice-list" : "choice";
    field.choices = choices;
    field.freeText = (raw["x-free-text"] ?? s["x-free-text"]) === true;
    if (type === "array") {
      field.minItems = s.minItems;
      field.maxItems = s.maxItems;
    }
    return field;
  }

  if (type === "array") {
    const items = resolveRef(s.items ?? {}, root);
    const { schema: item } = unwrapNullable(items, root);
    field.minItems = s.minItems;
    field.maxItems = s.maxItems;
    const itemCol = colOf ?? columnOf(s.items ?? {}, item);
    if (itemCol !== undefined) {
      field.kind = "columns";
      field.columnOf = itemCol;
      return field;
    }
    const opts = enumOptions(item, root, labelsOf(raw, s, item));
    if (opts) {
      field.kind = "enum-list";
      field.options = opts;
      return field;
    }
    const itemTypes = typesOf(item);
    if (itemTypes.length === 1 && itemTypes[0] === "object" && item.properties) {
      field.kind = "objects";
      field.fields = deriveFields(item, root);
      return field;
    }
    if (itemTypes.length === 1 && SCALARS.has(itemTypes[0]) && itemTypes[0] !== "boolean") {
      field.kind = "list";
      field.itemType = itemTypes[0] as ScalarType;
      return field;
    }
    field.kind = "json";
    return field;
  }

  if (colOf !== undefined && (type === "string" || type === undefined)) {
    field.kind = "column";
    field.columnOf = colOf;
    return field;
  }

  const opts = enumOptions(s, root, labelsOf(raw, s));
  if (opts) {
    field.kind = "enum";
    field.options = opts;
    return field;
  }

  if (type === "boolean") {
    field.kind = "boolean";
    return field;
  }
  if (type === "integer" || type === "number") {
    field.kind = type;
    if (typeof s.minimum === "number") field.min = s.minimum;
    if (typeof s.exclusiveMinimum === "number") {
      field.min = s.exclusiveMinimum;
      field.exclusiveMin = true;
    }
    if (typeof s.maximum === "number") field.max = s.maximum;
    if (typeof s.exclusiveMaximum === "number") {
      field.max = s.exclusiveMaximum;
      field.exclusiveMax = true;
    }
    field.step = typeof s.multipleOf === "number" ? s.multipleOf : type === "integer" ? 1 : "any";
    return field;
  }
  if (type === "string") {
    field.kind = "text";
    field.format = s.format;
    field.multiline =
      (typeof s.maxLength === "number" && s.maxLength > 200) ||
      s.format === "textarea" ||
      /sql|query|template|expression|body/i.test(key) ||
      // A pasted key file (a Google service account's JSON): many lines, often a secret.
      /(^|_)json$/i.test(key);
    return field;
  }
  if (type === "object" && s.properties) {
    field.kind = "object";
    field.fields = deriveFields(s, root);
    return field;
  }
  const scal = scalarUnion(s, root);
  if (scal) {
    field.kind = "scalar";
    field.scalarTypes = scal;
    return field;
  }
  if (types.length === 0 && !s.anyOf && !s.oneOf && !s.properties) {
    field.kind = "any";
    return field;
  }
  field.kind = "json";
  return field;
}

/** The fields of an object schema, in declaration order. */
export function deriveFields(schema: JsonSchema, root: JsonSchema = schema): FormField[] {
  const s = resolveRef(schema, root);
  const props = s.properties ?? {};
  const required = new Set(s.required ?? []);
  const fields = Object.entries(props).map(([key, prop]) => deriveField(key, prop, root, required.has(key)));
  // Suggestions by another param fall back on that param's default while it is not set.
  for (const f of fields) {
    if (f.choices?.from !== "by") continue;
    for (const param of Object.keys(f.choices.table)) {
      const other = fields.find((o) => o.key === param);
      if (other?.hasDefault) f.choices.defaults[param] = other.default;
    }
  }
  return fields;
}

/**
 * The choices a field suggests by its siblings' current values (`x-options-by`): the lists of
 * every sibling it depends on, in order, without repeats; null when none applies (the sibling
 * has no value, or one the table does not list).
 */
export function choicesBy(field: FormField, siblings: Record<string, unknown> | undefined): string[] | null {
  if (field.choices?.from !== "by") return null;
  const out: string[] = [];
  let found = false;
  for (const [param, byValue] of Object.entries(field.choices.table)) {
    const v = siblings && param in siblings && siblings[param] !== undefined ? siblings[param] : field.choices.defaults[param];
    if (v === undefined || v === null) continue;
    const list = Object.hasOwn(byValue, String(v)) ? byValue[String(v)] : undefined;
    if (!list) continue;
    found = true;
    for (const c of list) if (!out.includes(c)) out.push(c);
  }
  return found ? out : null;
}

/** The value a new field starts with: its default, or an empty value of its kind. */
export function initialValue(field: FormField): unknown {
  if (field.hasDefault) return structuredClone(field.default);
  switch (field.kind) {
    case "columns":
    case "list":
    case "enum-list":
    case "choice-list":
    case "objects":
      return [];
    case "boolean":
      return false;
    case "object":
      return defaultsFor(field.fields ?? []);
    default:
      return undefined;
  }
}

export function defaultsFor(fields: readonly FormField[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (f.hasDefault) out[f.key] = structuredClone(f.default);
    else if (f.required && (f.kind === "columns" || f.kind === "objects" || f.kind === "list" || f.kind === "choice-list")) {
      out[f.key] = [];
    }
  }
  return out;
}

/** Params for a freshly added node: every default the schema declares. */
export function defaultParams(schema: JsonSchema): Record<string, unknown> {
  return defaultsFor(deriveFields(schema));
}

/** A new item for an "objects" field (e.g. a new filter condition). */
export function newItem(field: FormField): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of field.fields ?? []) {
    const v = initialValue(f);
    if (v !== undefined) out[f.key] = v;
    else if (f.kind === "enum" && f.options?.length) out[f.key] = f.options[0].value;
  }
  return out;
}

/** Parses what was typed into a scalar-union field into the most fitting JSON value. */
export function coerceScalar(text: string, types: readonly ScalarType[]): unknown {
  const t = text.trim();
  if ((types.includes("number") || types.includes("integer")) && t !== "" && !isNaN(Number(t))) {
    const n = Number(t);
    if (types.includes("number") || Number.isInteger(n)) return n;
  }
  if (types.includes("boolean") && (t === "true" || t === "false")) return t === "true";
  if (types.includes("string")) return text;
  return text;
}

/** Parses text typed into an untyped field: numbers, booleans, null and JSON lists/objects. */
export function coerceAny(text: string): unknown {
  const t = text.trim();
  if (t === "") return null;
  if (t === "true" || t === "false") return t === "true";
  if (t === "null") return null;
  if (!isNaN(Number(t)) && /^[-+]?(\d|\.\d)/.test(t)) return Number(t);
  if (/^[[{]/.test(t)) {
    try {
      return JSON.parse(t);
    } catch {
      return text;
    }
  }
  return text;
}

/** How a value of an untyped field is shown for editing. */
export function formatAny(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

// --- paths into params ---------------------------------------------------------------------

export type Path = readonly (string | number)[];

export function getIn(obj: unknown, path: Path): unknown {
  let cur: unknown = obj;
  for (const k of path) {
    if (cur === null || cur === undefined) return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

/** Immutable set; `undefined` deletes the key of an object. */
export function setIn<T>(obj: T, path: Path, value: unknown): T {
  if (path.length === 0) return value as T;
  const [head, ...rest] = path;
  const base: unknown =
    obj === null || obj === undefined ? (typeof head === "number" ? [] : {}) : obj;
  if (Array.isArray(base)) {
    const copy = [...base];
    copy[head as number] = setIn(copy[head as number], rest, value);
    return copy as T;
  }
  const copy = { ...(base as Record<string, unknown>) };
  const next = setIn(copy[head as string], rest, value);
  if (next === undefined) delete copy[head as string];
  else copy[head as string] = next;
  return copy as T;
}

export function pathKey(path: Path): string {
  return path.join(".");
}

/** "params.conditions.0.value" → "conditions.0.value"; null for errors not about params. */
export function paramPathOf(field: string | null | undefined): string | null {
  if (!field) return null;
  if (field === "params") return "";
  if (field.startsWith("params.")) return field.slice("params.".length);
  if (/^(edges|nodes|operator|position|inputs?|outputs?)(\.|$)/.test(field)) return null;
  return field;
}
