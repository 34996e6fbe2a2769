// The graph's errors as the editor shows them: per node, per param field, with node labels.
import type { GraphError } from "../api/types";
import { paramPathOf } from "./schemaForm";
import type { EditorStore } from "./store";

export function groupErrors(errors: readonly GraphError[]): Record<string, GraphError[]> {
  const out: Record<string, GraphError[]> = {};
  for (const e of errors) {
    if (!e.node) continue;
    (out[e.node] ??= []).push(e);
  }
  return out;
}

/** For each error, "Label (id)" of its node (undefined for graph-wide errors). */
export function selectIssueLabels(s: Pick<EditorStore, "errors" | "nodes" | "catalogue">): (string | undefined)[] {
  if (!s.errors.length) return [];
  const wanted = new Set(s.errors.map((e) => e.node).filter((id): id is string => !!id));
  const names = new Map<string, string>();
  for (const n of s.nodes) {
    if (wanted.has(n.id)) {
      names.set(n.id, `${n.data.label || s.catalogue[n.data.operator]?.label || n.data.operator} (${n.id})`);
    }
  }
  return s.errors.map((e) => (e.node ? (names.get(e.node) ?? e.node) : undefined));
}

/** Errors on a node's params, keyed by param path ("column", "conditions.0.value"). */
export function fieldErrors(errors: readonly GraphError[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of errors ?? []) {
    const p = paramPathOf(e.field);
    if (p === null || p in out) continue;
    // "target: Field required" shown under the Target field reads better without the prefix.
    const prefix = `${p}: `;
    const message = p && e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
    out[p] = message.charAt(0).toUpperCase() + message.slice(1);
  }
  return out;
}
