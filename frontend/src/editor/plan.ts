// What the next run will do, node by node: reuse a cached output or run. The server answers for
// the graph it was shown (POST /plan/); between an edit and its answer the canvas projects that
// answer onto the edited graph: an edited node and everything downstream of it will run.
import type { Graph } from "../api/types";

export type PlanStatus = "cached" | "run";

/** The server's plan, with the node signatures of the graph it was made for. */
export interface Plan {
  nodes: Record<string, PlanStatus>;
  signatures: Record<string, string>;
}

function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as Record<string, unknown>).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = stable(v);
    }
    return out;
  }
  return value;
}

/**
 * What a node's cached output depends on, as the canvas can see it: its operator, its params
 * and what feeds each input. Not its label or position (they don't change its output).
 */
export function nodeSignatures(graph: Graph): Record<string, string> {
  const inputs = new Map<string, string[]>();
  for (const e of graph.edges) {
    const list = inputs.get(e.target) ?? [];
    list.push(`${e.target_port}<-${e.source}:${e.source_port}`);
    inputs.set(e.target, list);
  }
  const out: Record<string, string> = {};
  for (const n of graph.nodes) {
    out[n.id] = JSON.stringify([n.operator, stable(n.params ?? {}), (inputs.get(n.id) ?? []).sort()]);
  }
  return out;
}

export function makePlan(nodes: Record<string, PlanStatus>, graph: Graph): Plan {
  return { nodes, signatures: nodeSignatures(graph) };
}

/**
 * The plan for `graph`: a node that is new or changed since the plan was made runs, and so
 * does everything downstream of it; the others keep the server's answer.
 */
export function projectPlan(plan: Plan, graph: Graph): Record<string, PlanStatus> {
  const now = nodeSignatures(graph);
  const next = new Map<string, string[]>();
  for (const e of graph.edges) {
    const list = next.get(e.source);
    if (list) list.push(e.target);
    else next.set(e.source, [e.target]);
  }
  const out: Record<string, PlanStatus> = {};
  const stack: string[] = [];
  for (const n of graph.nodes) {
    const known = plan.nodes[n.id];
    if (known === undefined || plan.signatures[n.id] !== now[n.id]) stack.push(n.id);
    else out[n.id] = known;
  }
  const dirty = new Set<string>();
  while (stack.length) {
    const id = stack.pop()!;
    if (dirty.has(id)) continue;
    dirty.add(id);
    out[id] = "run";
    for (const t of next.get(id) ?? []) stack.push(t);
  }
  return out;
}

export interface PlanSummary {
  run: number;
  cached: number;
  total: number;
}

export function planSummary(statuses: Record<string, PlanStatus> | null): PlanSummary | null {
  if (!statuses) return null;
  let run = 0;
  let cached = 0;
  for (const s of Object.values(statuses)) {
    if (s === "run") run += 1;
    else cached += 1;
  }
  return { run, cached, total: run + cached };
}

export function planSummaryText(s: PlanSummary): string {
  if (s.total === 0) return "";
  return `${s.run} of ${s.total} node${s.total === 1 ? "" : "s"} will run`;
}
