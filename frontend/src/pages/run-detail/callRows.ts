// The run's nodes as the node table lists them: the nodes a called pipeline expanded into
// ("n7.n2") nested under a row for the call ("Top spenders v3"), which folds.
import type { NodeRun } from "../../api/types";
import { callProgress, SEP, type CallProgress } from "../../editor/calls";

export interface CallInfo {
  name: string;
  number: number;
}

export type NodeRow =
  | { kind: "node"; node: NodeRun; depth: number }
  | { kind: "call"; path: string; name: string; number: number; depth: number; progress: CallProgress; folded: boolean };

/** The call paths a node id sits under, outermost first ("n7", "n7.c" for "n7.c.top"). */
export function callPaths(nodeId: string, calls: Record<string, CallInfo>): string[] {
  const parts = nodeId.split(SEP);
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) {
    const path = parts.slice(0, i).join(SEP);
    if (path in calls) out.push(path);
  }
  return out;
}

export function nodeRows(
  nodes: readonly NodeRun[],
  calls: Record<string, CallInfo> | undefined,
  folded: ReadonlySet<string>,
): NodeRow[] {
  if (!calls || !Object.keys(calls).length) return nodes.map((node) => ({ kind: "node", node, depth: 0 }));
  const inside: Record<string, NodeRun[]> = {};
  for (const n of nodes) for (const p of callPaths(n.node_id, calls)) (inside[p] ??= []).push(n);
  const rows: NodeRow[] = [];
  const opened = new Set<string>();
  for (const node of nodes) {
    const paths = callPaths(node.node_id, calls);
    let hidden = false;
    paths.forEach((path, depth) => {
      if (hidden) return;
      if (!opened.has(path)) {
        opened.add(path);
        const { name, number } = calls[path];
        rows.push({ kind: "call", path, name, number, depth, progress: callProgress(inside[path] ?? []), folded: folded.has(path) });
      }
      if (folded.has(path)) hidden = true;
    });
    if (!hidden) rows.push({ kind: "node", node, depth: paths.length });
  }
  return rows;
}
