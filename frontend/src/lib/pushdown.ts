// Pushdown (issue 18): table nodes after a SQL source that ran inside its database. A pushed
// node stored nothing (its frontier's query computed it); a frontier ran a group of nodes there.
import type { NodeRun } from "../api/types";

/** What the run page says of a node's pushdown, or null when it ran as usual. */
export function pushdownNote(node: NodeRun, labels: Record<string, string>): string | null {
  const info = node.pushdown;
  if (!info) return null;
  if (node.pushed_into) {
    return `Pushed down into ${info.database}, in ${labels[node.pushed_into] ?? node.pushed_into}`;
  }
  const ran = info.ran.length;
  return ran > 0 ? `Ran ${ran} ${ran === 1 ? "node" : "nodes"} in ${info.database}` : null;
}

/** The short badge on a node of the run graph and the node table. */
export function pushdownBadge(node: NodeRun): string | null {
  const info = node.pushdown;
  if (!info) return null;
  if (node.pushed_into) return "pushed down";
  return info.ran.length > 0 ? `${info.ran.length} in ${info.database}` : null;
}
