import { History, Loader2, RotateCcw } from "lucide-react";
import { useEffect, useState } from "react";
import { api, errorMessage } from "../api/client";
import type { PipelineVersion } from "../api/types";
import { formatDateTime, timeAgo } from "../lib/format";
import { Modal } from "../ui/Modal";
import { toast } from "../ui/toast";
import { useEditor, useEditorApi } from "./context";

export function VersionsDialog({ onClose }: { onClose: () => void }) {
  const store = useEditorApi();
  const pipelineId = useEditor((s) => s.pipelineId);
  const current = useEditor((s) => s.version);
  const [versions, setVersions] = useState<PipelineVersion[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api
      .versions(pipelineId)
      .then(setVersions)
      .catch((err) => setError(errorMessage(err)));
  }, [pipelineId]);

  const restore = (v: PipelineVersion) => {
    store.getState().replaceGraph(v.graph);
    toast(`Restored version ${v.hash.slice(0, 8)}. Save to make it the current version.`, "success", 5000);
    onClose();
  };

  return (
    <Modal title="Version history" onClose={onClose} width={560}>
      {error && <p className="field-error">Could not load versions: {error}</p>}
      {!versions && !error && (
        <p className="muted">
          <Loader2 size={14} className="spin" /> Loading…
        </p>
      )}
      {versions && versions.length === 0 && (
        <p className="muted">No saved versions yet. Each save creates one.</p>
      )}
      {versions && versions.length > 0 && (
        <ol className="versions">
          {versions.map((v, i) => {
            const isCurrent = v.current ?? v.hash === current;
            return (
              <li key={v.hash} className={isCurrent ? "current" : ""} data-testid="version">
                <History size={15} className="muted" />
                <div className="version-main">
                  <div>
                    <code className="version-hash">{v.hash.slice(0, 8)}</code>
                    {isCurrent && <span className="tag tag-primary">Current</span>}
                    {i === 0 && !isCurrent && <span className="tag">Latest</span>}
                  </div>
                  <div className="muted small" title={formatDateTime(v.created_at)}>
                    {timeAgo(v.created_at)} · {v.created_by || "unknown"} · {v.graph?.nodes?.length ?? 0} nodes
                  </div>
                </div>
                <button className="btn btn-sm" onClick={() => restore(v)} disabled={isCurrent && !store.getState().dirty}>
                  <RotateCcw size={13} /> Restore
                </button>
              </li>
            );
          })}
        </ol>
      )}
    </Modal>
  );
}
