import { Hand } from "lucide-react";
import { useEditor, useEditorApi } from "../context";
import { isRunActive, runProgress } from "../runState";

/** The thin bar under the toolbar: how far the current run has got; and, while an action
 * waits at its approval gate, says so with a jump to that node (selected, its output open). */
export function RunProgressBar({ onShowNode }: { onShowNode?: () => void }) {
  const run = useEditor((s) => s.run);
  if (!run) return <div className="progress progress-idle" />;
  const p = runProgress(run);
  const active = isRunActive(run);
  const waiting = active ? run.nodes.find((n) => n.status === "waiting") : undefined;
  return (
    <>
      <div
        className={`progress progress-${run.status}`}
        role="progressbar"
        aria-label="Run progress"
        aria-valuemin={0}
        aria-valuemax={p.total}
        aria-valuenow={p.done}
      >
        <div className={`progress-fill${active ? " progress-active" : ""}`} style={{ width: `${Math.max(active ? 3 : 0, p.fraction * 100)}%` }} />
      </div>
      {waiting && <WaitingBar nodeId={waiting.node_id} onShowNode={onShowNode} />}
    </>
  );
}

function WaitingBar({ nodeId, onShowNode }: { nodeId: string; onShowNode?: () => void }) {
  const store = useEditorApi();
  const label = useEditor((s) => {
    const n = s.nodes.find((x) => x.id === nodeId);
    return n ? n.data.label || s.catalogue[n.data.operator]?.label || nodeId : nodeId;
  });
  const selected = useEditor((s) => s.nodes.some((n) => n.id === nodeId && n.selected));
  const show = () => {
    store.getState().selectOnly([nodeId]);
    onShowNode?.();
  };
  return (
    <div className="approval-bar" role="status" data-testid="toolbar-approval">
      <Hand size={14} />
      <span>
        <strong>Waiting for your approval:</strong> {label} sends nothing until you approve what it will send.
      </span>
      {!selected && (
        <button className="btn btn-sm" onClick={show}>
          Go to node
        </button>
      )}
    </div>
  );
}
