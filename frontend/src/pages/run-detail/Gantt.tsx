// The run's timeline: per node, time waiting in the queue apart from time executing.
import { useMemo, type CSSProperties } from "react";
import type { NodeRun, OperatorSpec } from "../../api/types";
import { formatDuration } from "../../lib/format";
import { useNow } from "../../lib/useNow";
import { statusLabel } from "../../ui/StatusBadge";
import { computeGantt, type GanttRow } from "./gantt";

export function Gantt({
  nodes,
  runStart,
  runEnd,
  active,
  operators,
  labels,
  selected,
  onSelect,
}: {
  nodes: NodeRun[];
  runStart: string | null;
  runEnd: string | null;
  active: boolean;
  operators: Record<string, OperatorSpec>;
  labels: Record<string, string>;
  selected: string | null;
  onSelect: (nodeId: string) => void;
}) {
  const now = useNow(active, 500);
  const g = useMemo(
    () => computeGantt(nodes, { runStart, runEnd, now }),
    [nodes, runStart, runEnd, now],
  );
  return (
    <div className="gantt" data-testid="gantt">
      <div className="gantt-legend muted small">
        <span>
          <i className="gantt-swatch gantt-swatch-wait" /> Waiting in the queue
        </span>
        <span>
          <i className="gantt-swatch gantt-swatch-exec" /> Executing, coloured by outcome
        </span>
        <span>
          <i className="gantt-swatch gantt-swatch-cached" /> Reused from cache
        </span>
        <span className="gantt-total">Total {formatDuration(g.span)}</span>
      </div>
      <div className="gantt-grid">
        <div className="gantt-axis" aria-hidden="true">
          <span className="gantt-label" />
          <span className="gantt-track">
            {g.ticks.map((t) => (
              <span key={t.left} className="gantt-tick" style={{ left: `${t.left}%` }}>
                {t.label}
              </span>
            ))}
          </span>
        </div>
        {g.rows.map((r) => {
          const op = operators[r.operator];
          const title = [
            `${labels[r.node_id] ?? r.node_id} (${statusLabel(r.status)})`,
            r.cached ? "Reused a cached result" : null,
            r.wait ? `Queued ${formatDuration(r.wait.ms)}` : null,
            r.exec && !r.cached ? `Executed ${formatDuration(r.exec.ms)}` : null,
          ]
            .filter(Boolean)
            .join(" · ");
          return (
            <button
              type="button"
              key={r.node_id}
              className={`gantt-row${selected === r.node_id ? " selected" : ""}`}
              data-testid="gantt-row"
              data-node-id={r.node_id}
              onClick={() => onSelect(r.node_id)}
              title={title}
            >
              <span className="gantt-label">
                <span className={`cat-dot cat-${op?.category ?? "transform"}`} />
                <span className="gantt-name">{labels[r.node_id] ?? r.node_id}</span>
              </span>
              <span className="gantt-track">
                {g.ticks.map((t) => (
                  <span key={t.left} className="gantt-gridline" style={{ left: `${t.left}%` }} />
                ))}
                {r.wait && (
                  <span
                    className="gantt-bar gantt-wait"
                    data-testid="gantt-wait"
                    style={{ left: `${r.wait.left}%`, width: `${r.wait.width}%` }}
                  />
                )}
                {r.exec && (
                  <span
                    className={`gantt-bar gantt-exec gantt-${r.cached ? "cached" : r.status}${r.live ? " gantt-live" : ""}`}
                    data-testid="gantt-bar"
                    data-status={r.status}
                    style={{ left: `${r.exec.left}%`, width: `${r.exec.width}%` }}
                  />
                )}
                <span className={`gantt-figure${figureLeft(r) ? " gantt-figure-left" : ""}`} style={figureStyle(r)}>
                  {r.cached
                    ? "cached"
                    : r.exec
                      ? formatDuration(r.exec.ms)
                      : r.wait
                        ? `queued ${formatDuration(r.wait.ms)}`
                        : statusLabel(r.status)}
                </span>
              </span>
            </button>
          );
        })}
      </div>
    </div>
  );
}

function rowSpan(r: GanttRow): [number, number] {
  const start = r.wait?.left ?? r.exec?.left ?? 0;
  const end = r.exec ? r.exec.left + r.exec.width : r.wait ? r.wait.left + r.wait.width : 0;
  return [start, end];
}

/** Near the right edge the figure goes before the bars, not after them. */
function figureLeft(r: GanttRow): boolean {
  return rowSpan(r)[1] > 78;
}

function figureStyle(r: GanttRow): CSSProperties {
  const [start, end] = rowSpan(r);
  return figureLeft(r) ? { right: `${100 - start}%` } : { left: `${end}%` };
}
