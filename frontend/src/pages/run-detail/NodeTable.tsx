// The run's nodes as a table: status, rows and time; a row selects the node below.
import type { NodeRun } from "../../api/types";
import { formatDuration, formatNumber } from "../../lib/format";
import { StatusBadge } from "../../ui/StatusBadge";
import { pushdownBadge, pushdownNote } from "../../lib/pushdown";

export function NodeTable({
  nodes,
  labels,
  selected,
  onSelect,
}: {
  nodes: NodeRun[];
  labels: Record<string, string>;
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  return (
    <table className="grid-table node-table" aria-label="Nodes of this run">
      <thead>
        <tr>
          <th>Node</th>
          <th>Status</th>
          <th className="num">Rows</th>
          <th className="num">Time</th>
        </tr>
      </thead>
      <tbody>
        {nodes.map((n) => (
          <tr
            key={n.node_id}
            className={`clickable${n.node_id === selected ? " row-selected" : ""}`}
            tabIndex={0}
            data-testid="node-row"
            data-node-id={n.node_id}
            data-status={n.status}
            onClick={() => onSelect(n.node_id)}
            onKeyDown={(e) => e.key === "Enter" && onSelect(n.node_id)}
          >
            <td>
              <div className="cell-stack">
                <span className="node-name">{labels[n.node_id] ?? n.node_id}</span>
                {n.status === "failed" && n.error ? (
                  <span className="cell-error" title={n.error}>
                    {n.error}
                  </span>
                ) : (
                  <span className="muted small mono">{n.operator}</span>
                )}
              </div>
            </td>
            <td>
              <StatusBadge status={n.status} compact />
              {n.cached && <span className="op-cached" title="Reused a cached output">cached</span>}
              {pushdownBadge(n) && (
                <span className="op-cached" title={pushdownNote(n, labels) ?? ""} data-testid="pushdown-badge">
                  {pushdownBadge(n)}
                </span>
              )}
            </td>
            <td className="num">{n.rows_out !== null && n.rows_out !== undefined ? formatNumber(n.rows_out) : "–"}</td>
            <td className="num">{typeof n.duration_ms === "number" ? formatDuration(n.duration_ms) : "–"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
