import { useEditor } from "../context";
import { isRunActive, runProgress } from "../runState";

/** The thin bar under the toolbar: how far the current run has got. */
export function RunProgressBar() {
  const run = useEditor((s) => s.run);
  if (!run) return <div className="progress progress-idle" />;
  const p = runProgress(run);
  const active = isRunActive(run);
  return (
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
  );
}
