// Typed port rules: which connections the canvas accepts, and why not.
import type { GraphEdge, OperatorSpec } from "../api/types";
import type { Catalogue } from "./graph";

export interface ConnectionLike {
  source: string | null;
  sourceHandle?: string | null;
  target: string | null;
  targetHandle?: string | null;
}

export type ConnectionCheck = { ok: true } | { ok: false; reason: string };

/** Would an edge source → target close a cycle? (Is source reachable from target?) */
export function createsCycle(edges: readonly GraphEdge[], source: string, target: string): boolean {
  if (source === target) return true;
  const next = new Map<string, string[]>();
  for (const e of edges) {
    const list = next.get(e.source);
    if (list) list.push(e.target);
    else next.set(e.source, [e.target]);
  }
  const stack = [target];
  const seen = new Set<string>();
  while (stack.length) {
    const id = stack.pop()!;
    if (id === source) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const t of next.get(id) ?? []) stack.push(t);
  }
  return false;
}

/**
 * Is the connection allowed? `operatorOf` maps node id → operator name.
 * A connection onto an input that is already fed is allowed: it replaces the old edge.
 */
export function checkConnection(
  conn: ConnectionLike,
  operatorOf: (nodeId: string) => string | undefined,
  catalogue: Catalogue,
  edges: readonly GraphEdge[],
  /** A node's own ports where they are not its operator's (a node calling a pipeline). */
  portsOf?: (nodeId: string) => Pick<OperatorSpec, "inputs" | "outputs"> | undefined,
): ConnectionCheck {
  const { source, target } = conn;
  if (!source || !target) return { ok: false, reason: "Connect an output to an input." };
  if (source === target) return { ok: false, reason: "A node cannot connect to itself." };
  const spec = (id: string) => {
    const op = catalogue[operatorOf(id) ?? ""];
    const own = op && portsOf?.(id);
    return own ? { ...op, ...own } : op;
  };
  const srcOp = spec(source);
  const dstOp = spec(target);
  if (!srcOp || !dstOp) return { ok: false, reason: "Unknown operator." };
  const out = srcOp.outputs.find((p) => p.name === conn.sourceHandle);
  const inp = dstOp.inputs.find((p) => p.name === conn.targetHandle);
  if (!out) return { ok: false, reason: `${srcOp.label} has no output "${conn.sourceHandle}".` };
  if (!inp) return { ok: false, reason: `${dstOp.label} has no input "${conn.targetHandle}".` };
  if (out.type !== inp.type) {
    return { ok: false, reason: `Cannot connect ${out.type} output to ${inp.type} input.` };
  }
  if (
    edges.some(
      (e) =>
        e.source === source &&
        e.source_port === conn.sourceHandle &&
        e.target === target &&
        e.target_port === conn.targetHandle,
    )
  ) {
    return { ok: false, reason: "These ports are already connected." };
  }
  if (createsCycle(edges, source, target)) {
    return { ok: false, reason: "This connection would create a cycle." };
  }
  return { ok: true };
}
