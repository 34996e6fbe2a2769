// What the next run will do, node by node: reuse a cached output or run. The server answers for
// the graph it was shown (POST /plan/); between an edit and its answer the canvas projects that
// answer onto the edited graph: an edited node and everything downstream of it will run.
import type { Graph, OperatorSpec, Run } from "../api/types";
import { isRunActive } from "./runState";

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

/**
 * Nodes whose output the server keeps for reuse: a cacheable operator fed only by such nodes (an
 * action, or a connector reading an outside system, makes itself and all that follows it run).
 */
export function reusableNodes(graph: Graph, catalogue: Record<string, Pick<OperatorSpec, "cacheable">>): Set<string> {
  const preds = new Map<string, string[]>();
  for (const e of graph.edges) preds.set(e.target, [...(preds.get(e.target) ?? []), e.source]);
  const memo = new Map<string, boolean>();
  const reusable = (id: string, seen: Set<string>): boolean => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    if (seen.has(id)) return false; // a cycle: the server plans nothing for it either
    seen.add(id);
    const op = graph.nodes.find((n) => n.id === id)?.operator;
    const ok = !!op && !!catalogue[op]?.cacheable && (preds.get(id) ?? []).every((p) => reusable(p, seen));
    memo.set(id, ok);
    return ok;
  };
  return new Set(graph.nodes.filter((n) => reusable(n.id, new Set())).map((n) => n.id));
}

/**
 * What the next run does once `run` has finished, known from the run itself without asking the
 * server: a node it computed or reused is cached now (if its output is kept), a node that failed
 * runs again, and a node the run did not reach (skipped, cancelled, outside a partial run) keeps
 * what the plan said. The plan keeps the signatures it was made with, so a node edited while the
 * run went on still shows as running.
 */
export function planAfterRun(plan: Plan, run: Run, reusable: Set<string>): Plan {
  const byId = new Map(run.nodes.map((n) => [n.node_id, n]));
  const nodes: Record<string, PlanStatus> = {};
  for (const [id, before] of Object.entries(plan.nodes)) {
    const node = byId.get(id);
    if (node?.status === "succeeded") nodes[id] = reusable.has(id) ? "cached" : "run";
    else if (node?.status === "failed") nodes[id] = "run";
    else nodes[id] = before;
  }
  return { nodes, signatures: plan.signatures };
}

/** Whether `next` is `prev` having just ended (the run a page watched, not one it opened on). */
export function runJustEnded(prev: Run | null, next: Run | null): next is Run {
  return !!prev && !!next && String(prev.id) === String(next.id) && isRunActive(prev) && !isRunActive(next);
}
