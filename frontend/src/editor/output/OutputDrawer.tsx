// The drawer under the canvas: the selected node's output from the last run.
import { ChevronDown, ChevronUp } from "lucide-react";
import type { NodeRun } from "../../api/types";
import { elapsed, formatDuration, formatNumber } from "../../lib/format";
import { useNow } from "../../lib/useNow";
import { StatusBadge } from "../../ui/StatusBadge";
import { Link } from "../../pages/common";
import { CALL } from "../calls";
import { useEditor } from "../context";
import type { EditorStore } from "../store";
import { NodeOutput } from "./NodeOutput";

const selectSingle = (s: EditorStore) => {
  let found: string | null = null;
  for (const n of s.nodes) {
    if (n.selected) {
      if (found) return null;
      found = n.id;
    }
  }
  return found;
};

function NodeRunMeta({ nodeRun }: { nodeRun: NodeRun }) {
  const now = useNow(nodeRun.status === "running");
  const took =
    nodeRun.finished_at && typeof nodeRun.duration_ms === "number"
      ? formatDuration(nodeRun.duration_ms)
      : nodeRun.started_at
        ? formatDuration(elapsed(nodeRun.started_at, nodeRun.finished_at, now))
        : "";
  return (
    <span className="drawer-meta">
      <StatusBadge status={nodeRun.status} />
      <span className="muted small">
        {took}
        {nodeRun.rows_out !== null && nodeRun.rows_out !== undefined && `${took ? " · " : ""}${formatNumber(nodeRun.rows_out)} rows out`}
        {nodeRun.cached && " · cached"}
      </span>
    </span>
  );
}

export function OutputDrawer({ open, onToggle }: { open: boolean; onToggle: () => void }) {
  const selected = useEditor(selectSingle);
  const run = useEditor((s) => s.run);
  const nodeRun = useEditor((s) => (selected ? s.nodeRuns[selected] : undefined));
  const op = useEditor((s) => {
    const n = selected ? s.nodes.find((x) => x.id === selected) : undefined;
    return n ? s.catalogue[n.data.operator] : undefined;
  });
  const label = useEditor((s) => (selected ? s.nodes.find((x) => x.id === selected)?.data.label : undefined));
  if (!run) return null;
  const expanded = open && !!selected;
  const title = selected ? `${label || op?.label || "Node"} · ${selected}` : "Output";
  return (
    <section className={`drawer${expanded ? " drawer-open" : ""}`} aria-label="Node output" data-testid="output-drawer">
      <button className="drawer-head" onClick={onToggle} aria-expanded={expanded} disabled={!selected}>
        {selected ? expanded ? <ChevronDown size={14} /> : <ChevronUp size={14} /> : null}
        <span className="drawer-title">{title}</span>
        {!selected && <span className="muted small">Select a node to see its output from the last run</span>}
        {nodeRun && <NodeRunMeta nodeRun={nodeRun} />}
      </button>
      {expanded && (
        <div className="drawer-body">
          {nodeRun ? (
            <NodeOutput key={`${run.id}:${selected}`} nodeRun={nodeRun} op={op} runId={String(run.id)} />
          ) : op?.name === CALL ? (
            <p className="muted output-note" data-testid="call-output-note">
              <span>
                This node runs the pipeline it calls: its nodes ran as nodes of this run.{" "}
                <Link to={`/runs/${run.id}?node=${selected}`}>Open the run</Link> for each one's output.
              </span>
            </p>
          ) : (
            <p className="muted output-note">
              This node was not part of the last run. Run the pipeline to see its output.
            </p>
          )}
        </div>
      )}
    </section>
  );
}
