// The run's nodes as a table: status, rows and time; a row selects the node below.
import { ChevronDown, ChevronRight } from "lucide-react";
import { useMemo, useState } from "react";
import type { NodeRun } from "../../api/types";
import { formatDuration, formatNumber } from "../../lib/format";
import { StatusBadge } from "../../ui/StatusBadge";
import { pushdownBadge, pushdownNote } from "../../lib/pushdown";
import { nodeRows, type CallInfo } from "./callRows";

export function NodeTable({
  nodes,
  labels,
  selected,
  onSelect,
  calls,
}: {
  nodes: NodeRun[];
  labels: Record<string, string>;
  selected: string | null;
  onSelect: (id: string) => void;
  /** The pipelines the run called, by calling node path: their nodes are nested, folding. */
  calls?: Record<string, CallInfo>;
}) {
  const [folded, setFolded] = useState<Set<string>>(new Set());
  const rows = useMemo(() => nodeRows(nodes, calls, folded), [nodes, calls, folded]);
  const toggle = (path: string) =>
    setFolded((f) => {
      const next = new Set(f);
      if (next.has(path)) next.delete(path);
      else next.add(path);
      return next;
    });
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
        {rows.map((row) => {
          if (row.kind === "call") {
            return (
              <tr key={`call:${row.path}`} className="call-row" data-testid="call-row" data-call={row.path}>
                <td colSpan={4} style={{ paddingLeft: 12 + row.depth * 18 }}>
                  <button
                    className="call-toggle"
                    aria-expanded={!row.folded}
                    onClick={() => toggle(row.path)}
                    title={row.folded ? "Show the called nodes" : "Hide the called nodes"}
                  >
                    {row.folded ? <ChevronRight size={14} /> : <ChevronDown size={14} />}
                    <span className="node-name">
                      {row.name} v{row.number}
                    </span>
                    <span className="muted small mono"> · {row.path}</span>
                    {row.progress.status && <StatusBadge status={row.progress.status} compact />}
                    <span className="muted small">
                      {row.progress.done} of {row.progress.total} done
                    </span>
                  </button>
                </td>
              </tr>
            );
          }
          const n = row.node;
          return (
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
            <td style={row.depth ? { paddingLeft: 12 + row.depth * 18 } : undefined}>
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
          );
        })}
      </tbody>
    </table>
  );
}
