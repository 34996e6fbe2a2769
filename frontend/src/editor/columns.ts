// Which columns a column picker offers: the inferred output schema of the node feeding the port.
import type { Column, GraphEdge, NodeSchemas } from "../api/types";

export type UpstreamColumns =
  | { state: "unconnected" }
  | { state: "unknown" } // connected, but the schema is not known (yet)
  | { state: "known"; columns: Column[] };

/** The columns arriving on input `port` of `nodeId`. */
export function upstreamColumns(
  nodeId: string,
  port: string,
  edges: readonly GraphEdge[],
  schemas: NodeSchemas | null | undefined,
): UpstreamColumns {
  const edge = edges.find((e) => e.target === nodeId && e.target_port === port);
  if (!edge) return { state: "unconnected" };
  const cols = schemas?.[edge.source]?.[edge.source_port];
  if (Array.isArray(cols)) return { state: "known", columns: cols };
  return { state: "unknown" };
}

/**
 * The input port a column param refers to. `x-column-of` names it; when it names no input of
 * this operator (or is empty) and the operator has exactly one table input, use that one.
 */
export function resolveColumnPort(
  columnOf: string | undefined,
  inputs: readonly { name: string; type: string }[],
): string | null {
  if (columnOf && inputs.some((p) => p.name === columnOf)) return columnOf;
  const tables = inputs.filter((p) => p.type === "table");
  if (tables.length === 1) return tables[0].name;
  return columnOf ?? null;
}

/** Column picker options for every port of a node, in one pass. */
export function columnsByPort(
  nodeId: string,
  inputs: readonly { name: string; type: string }[],
  edges: readonly GraphEdge[],
  schemas: NodeSchemas | null | undefined,
): Record<string, UpstreamColumns> {
  const out: Record<string, UpstreamColumns> = {};
  for (const p of inputs) out[p.name] = upstreamColumns(nodeId, p.name, edges, schemas);
  return out;
}

/**
 * Newly validated schemas over the ones known before: a node the server could not infer this
 * time (the graph has an error elsewhere) keeps its last known columns, so pickers don't blink.
 */
export function mergeSchemas(prev: NodeSchemas, next: NodeSchemas | null | undefined): NodeSchemas {
  const out: NodeSchemas = { ...prev };
  for (const [nodeId, ports] of Object.entries(next ?? {})) {
    const merged = { ...(out[nodeId] ?? {}) };
    for (const [port, cols] of Object.entries(ports ?? {})) {
      if (Array.isArray(cols) || !(port in merged)) merged[port] = cols;
    }
    out[nodeId] = merged;
  }
  return out;
}

/** Output schemas recorded by a run, as a fallback for nodes validation could not infer. */
export function runSchemas(
  nodes: readonly { node_id: string; outputs?: Record<string, { schema: Column[] | null }> }[],
): NodeSchemas {
  const out: NodeSchemas = {};
  for (const n of nodes) {
    for (const [port, o] of Object.entries(n.outputs ?? {})) {
      if (Array.isArray(o?.schema)) (out[n.node_id] ??= {})[port] = o.schema;
    }
  }
  return out;
}
