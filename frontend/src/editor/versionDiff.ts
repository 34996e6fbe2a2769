// Pure helpers of the version history: naming versions and turning the API's diff of two
// versions (node ids only) into what the dialog shows (node names, operators, formatted values).
import type { Category, Graph, GraphEdge, GraphNode, PipelineVersion, VersionDiff } from "../api/types";
import type { Catalogue } from "./graph";

export type ChangeKind = "added" | "removed" | "changed";

export interface NodeRef {
  id: string;
  /** What the canvas calls the node: its own label, else its operator's. */
  title: string;
  operator: string;
  operatorLabel: string;
  category?: Category;
  icon?: string;
}

export interface FieldChange {
  field: string;
  old: string;
  new: string;
  /** The values uncut, for a tooltip. */
  oldFull: string;
  newFull: string;
  /** The value was not set on that side (shown as "not set", not as a value). */
  oldUnset: boolean;
  newUnset: boolean;
}

export interface NodeChange {
  kind: ChangeKind;
  node: NodeRef;
  fields: FieldChange[];
}

export interface EdgeChange {
  kind: Exclude<ChangeKind, "changed">;
  source: NodeRef;
  sourcePort: string;
  target: NodeRef;
  targetPort: string;
}

export interface DiffView {
  nodes: NodeChange[];
  edges: EdgeChange[];
  moved: NodeRef[];
}

/** "v3" for the newest of three versions: the list is newest first, numbers count from the oldest. */
export function versionName(versions: readonly Pick<PipelineVersion, "hash">[], hash: string): string {
  const i = versions.findIndex((v) => v.hash === hash);
  return i < 0 ? hash.slice(0, 8) : `v${versions.length - i}`;
}

/** The pair compared when the user asks to compare `hash`: it against the current version,
 *  or, for the current version itself, the one saved before it against it. */
export function defaultPair(
  versions: readonly Pick<PipelineVersion, "hash">[],
  hash: string,
  current: string | null,
): { a: string; b: string } {
  const b = current && versions.some((v) => v.hash === current) ? current : versions[0]?.hash ?? hash;
  if (hash !== b) return { a: hash, b };
  const i = versions.findIndex((v) => v.hash === hash);
  const other = versions[i + 1] ?? versions[i - 1];
  return { a: other?.hash ?? hash, b };
}

const MAX_VALUE = 80;

/** A param value as one line: numbers and strings as they are, lists in brackets; cut at `max`. */
export function formatValue(v: unknown, max = MAX_VALUE): string {
  const s = fullValue(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function fullValue(v: unknown): string {
  if (v === null || v === undefined) return "not set";
  if (typeof v === "string") return v === "" ? '""' : v;
  if (Array.isArray(v) && v.every((x) => x === null || typeof x !== "object")) {
    return `[${v.map((x) => (typeof x === "string" ? x : JSON.stringify(x))).join(", ")}]`;
  }
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function nodeRef(n: GraphNode | undefined, id: string, catalogue: Catalogue): NodeRef {
  const operator = n?.operator ?? "";
  const op = catalogue[operator];
  const operatorLabel = op?.label || operator || id;
  return { id, title: n?.label || operatorLabel, operator, operatorLabel, category: op?.category, icon: op?.icon };
}

function change(field: string, oldValue: unknown, newValue: unknown): FieldChange {
  return {
    field,
    old: formatValue(oldValue),
    new: formatValue(newValue),
    oldFull: fullValue(oldValue),
    newFull: fullValue(newValue),
    oldUnset: oldValue === null || oldValue === undefined,
    newUnset: newValue === null || newValue === undefined,
  };
}

function nodeFields(id: string, diff: VersionDiff, a: NodeRef, b: NodeRef): FieldChange[] {
  const fields: FieldChange[] = [];
  const op = diff.operators_changed[id];
  if (op) fields.push(change("operator", a.operatorLabel, b.operatorLabel));
  const label = diff.labels_changed[id];
  // An empty label means "named after the operator": show the name the canvas showed.
  if (label) fields.push(change("name", a.title, b.title));
  for (const [param, values] of Object.entries(diff.params_changed[id] ?? {})) {
    fields.push(change(param, values.old, values.new));
  }
  return fields;
}

/** The API's diff from graph `a` to graph `b`, with each node named as the canvas names it. */
export function describeDiff(diff: VersionDiff, a: Graph, b: Graph, catalogue: Catalogue): DiffView {
  const inA = new Map(a.nodes.map((n) => [n.id, n]));
  const inB = new Map(b.nodes.map((n) => [n.id, n]));
  const refA = (id: string) => nodeRef(inA.get(id) ?? inB.get(id), id, catalogue);
  const refB = (id: string) => nodeRef(inB.get(id) ?? inA.get(id), id, catalogue);

  const changedIds = new Set([
    ...Object.keys(diff.operators_changed),
    ...Object.keys(diff.labels_changed),
    ...Object.keys(diff.params_changed),
  ]);
  const nodes: NodeChange[] = [
    ...diff.nodes_added.map((id) => ({ kind: "added" as const, node: refB(id), fields: [] })),
    ...diff.nodes_removed.map((id) => ({ kind: "removed" as const, node: refA(id), fields: [] })),
    ...b.nodes
      .filter((n) => changedIds.has(n.id))
      .map((n) => ({
        kind: "changed" as const,
        node: refB(n.id),
        fields: nodeFields(n.id, diff, refA(n.id), refB(n.id)),
      })),
  ];
  const edge = (kind: EdgeChange["kind"], ref: (id: string) => NodeRef) => (e: GraphEdge): EdgeChange => ({
    kind,
    source: ref(e.source),
    sourcePort: e.source_port,
    target: ref(e.target),
    targetPort: e.target_port,
  });
  return {
    nodes,
    edges: [...diff.edges_added.map(edge("added", refB)), ...diff.edges_removed.map(edge("removed", refA))],
    moved: diff.moved.map(refB),
  };
}

export interface SummaryPart {
  kind: ChangeKind | "moved";
  text: string;
}

/** The diff counted: "1 node added", "1 node changed", "1 connection removed"… (none when equal). */
export function summaryParts(view: DiffView): SummaryPart[] {
  const parts: SummaryPart[] = [];
  const add = (kind: SummaryPart["kind"], n: number, what: "node" | "connection") => {
    if (n) parts.push({ kind, text: `${n} ${what}${n === 1 ? "" : "s"} ${kind}` });
  };
  const nodes = (k: ChangeKind) => view.nodes.filter((n) => n.kind === k).length;
  const edges = (k: EdgeChange["kind"]) => view.edges.filter((e) => e.kind === k).length;
  add("added", nodes("added"), "node");
  add("removed", nodes("removed"), "node");
  add("changed", nodes("changed"), "node");
  add("added", edges("added"), "connection");
  add("removed", edges("removed"), "connection");
  add("moved", view.moved.length, "node");
  return parts;
}

/** The diff in one line: "1 node added · 1 node changed · 1 connection removed". */
export function summarize(view: DiffView): string {
  const parts = summaryParts(view);
  return parts.length ? parts.map((p) => p.text).join(" · ") : "No differences";
}
