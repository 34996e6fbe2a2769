// Applies websocket messages to a run, in order; asks for a resync on a gap.
import type { NodeRun, Run, RunMessage } from "../api/types";
import { TERMINAL_NODE, TERMINAL_RUN } from "../api/types";

export interface ApplyResult {
  run: Run | null;
  /** The message did not follow the last one: drop the socket and take a fresh snapshot. */
  resync: boolean;
}

export function applyRunMessage(run: Run | null, msg: RunMessage): ApplyResult {
  if (msg.type === "snapshot") return { run: { ...msg.run, seq: msg.seq }, resync: false };
  if (!run || msg.seq !== run.seq + 1) {
    // An old duplicate is harmless; anything else is a gap.
    if (run && msg.seq <= run.seq) return { run, resync: false };
    return { run, resync: true };
  }
  switch (msg.type) {
    case "node": {
      const idx = run.nodes.findIndex((n) => n.node_id === msg.node.node_id);
      const nodes =
        idx >= 0
          ? run.nodes.map((n, i) => (i === idx ? { ...msg.node, logs: msg.node.logs ?? n.logs } : n))
          : [...run.nodes, msg.node];
      return { run: { ...run, nodes, seq: msg.seq }, resync: false };
    }
    case "run":
      return { run: { ...run, ...msg.run, id: run.id, seq: msg.seq }, resync: false };
    case "log": {
      const nodes = run.nodes.map((n) =>
        n.node_id === msg.node_id ? { ...n, logs: [...(n.logs ?? []), ...msg.lines] } : n,
      );
      return { run: { ...run, nodes, seq: msg.seq }, resync: false };
    }
    default:
      return { run: { ...run, seq: (msg as { seq: number }).seq }, resync: false };
  }
}

export function isRunActive(run: Run | null | undefined): boolean {
  return !!run && !TERMINAL_RUN.has(run.status);
}

export interface RunProgress {
  /** Nodes that finished their work (succeeded or failed): a cancelled run of five nodes
   * that got through three says 3/5, not 5/5. */
  done: number;
  total: number;
  /** How far the run has got: skipped and cancelled nodes count as settled here. */
  fraction: number;
}

export function runProgress(run: Run | null | undefined): RunProgress {
  const nodes = run?.nodes ?? [];
  const total = nodes.length;
  const done = nodes.filter((n) => n.status === "succeeded" || n.status === "failed").length;
  const settled = nodes.filter((n) => TERMINAL_NODE.has(n.status)).length;
  const fraction = total ? settled / total : run && TERMINAL_RUN.has(run.status) ? 1 : 0;
  return { done, total, fraction };
}

export function nodeRunMap(run: Run | null | undefined): Record<string, NodeRun> {
  const out: Record<string, NodeRun> = {};
  for (const n of run?.nodes ?? []) out[n.node_id] = n;
  return out;
}
