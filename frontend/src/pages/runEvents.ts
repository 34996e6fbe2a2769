// The run page's websocket: a snapshot, then node / run / log events numbered by `seq`.
// Any gap means something was lost: the page reconnects and takes a fresh snapshot. Pure.
import type { NodeRun, Run, RunRow } from "../api/types";

export type RunEvent =
  | { type: "snapshot"; seq: number; run: Run }
  | { type: "node"; seq: number; node: NodeRun }
  | { type: "run"; seq: number; run: Partial<RunRow> & { id: string } }
  | { type: "log"; seq: number; node_id: string; lines: string[] };

export interface Applied {
  run: Run | null;
  resync: boolean;
}

export function applyRunEvent(run: Run | null, msg: RunEvent): Applied {
  if (msg.type === "snapshot") return { run: { ...msg.run, seq: msg.seq }, resync: false };
  if (!run) return { run, resync: true };
  if (msg.seq <= run.seq) return { run, resync: false }; // an old duplicate
  if (msg.seq !== run.seq + 1) return { run, resync: true };
  switch (msg.type) {
    case "node": {
      const found = run.nodes.some((n) => n.node_id === msg.node.node_id);
      const nodes = found
        ? run.nodes.map((n) => (n.node_id === msg.node.node_id ? { ...n, ...msg.node } : n))
        : [...run.nodes, msg.node];
      // The node waiting for approval moves with its node's events, not with run events.
      const waiting_node = nodes.find((n) => n.status === "waiting")?.node_id ?? null;
      return { run: { ...run, nodes, waiting_node, seq: msg.seq }, resync: false };
    }
    case "run": {
      // Run events carry the run-level fields only; keep name, version and nodes.
      const { id: _id, ...fields } = msg.run;
      void _id;
      return { run: { ...run, ...fields, seq: msg.seq }, resync: false };
    }
    case "log": {
      // The server sends the node's whole log so far, not only the new lines.
      const nodes = run.nodes.map((n) =>
        n.node_id === msg.node_id ? { ...n, logs: mergeLogs(n.logs ?? [], msg.lines) } : n,
      );
      return { run: { ...run, nodes, seq: msg.seq }, resync: false };
    }
    default:
      return { run: { ...run, seq: (msg as { seq: number }).seq }, resync: false };
  }
}

/** `lines` is either the whole log (it starts with what we have) or only new lines. */
export function mergeLogs(have: string[], lines: string[]): string[] {
  if (lines.length >= have.length && have.every((l, i) => lines[i] === l)) return lines;
  return [...have, ...lines];
}
