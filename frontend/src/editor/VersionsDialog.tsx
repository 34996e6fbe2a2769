import { ArrowLeft, GitCompare, History, Loader2, RotateCcw } from "lucide-react";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage } from "../api/client";
import type { PipelineVersion } from "../api/types";
import { formatDateTime, timeAgo } from "../lib/format";
import { Modal } from "../ui/Modal";
import { toast } from "../ui/toast";
import { useEditor, useEditorApi } from "./context";
import { versionsQuery } from "./queries";
import { VersionCompare } from "./VersionCompare";
import { defaultPair, versionName } from "./versionDiff";

export function VersionsDialog({ onClose }: { onClose: () => void }) {
  const store = useEditorApi();
  const pipelineId = useEditor((s) => s.pipelineId);
  const current = useEditor((s) => s.version);
  const dirty = useEditor((s) => s.dirty);
  const q = useQuery(versionsQuery(pipelineId));
  const versions = q.data ?? null;
  const error = q.error && !versions ? errorMessage(q.error) : null;
  const [pair, setPair] = useState<{ a: string; b: string } | null>(null);

  const currentHash = versions?.find((v) => v.current)?.hash ?? current;
  const isCurrent = (v: PipelineVersion) => v.current ?? v.hash === current;
  // Restoring the saved graph over itself does nothing, unless there are unsaved edits to drop.
  const canRestore = (v: PipelineVersion) => !isCurrent(v) || dirty;

  const restore = (v: PipelineVersion) => {
    store.getState().replaceGraph(v.graph);
    const name = versions ? versionName(versions, v.hash) : v.hash.slice(0, 8);
    toast(`Restored version ${name} (${v.hash.slice(0, 8)}). Save to make it the current version.`, "success", 5000);
    onClose();
  };

  if (versions && pair) {
    return (
      <Modal title="Compare versions" onClose={onClose} width={720}>
        <button className="btn btn-sm btn-ghost-dark vdiff-back" onClick={() => setPair(null)}>
          <ArrowLeft size={13} /> All versions
        </button>
        <VersionCompare
          versions={versions}
          pair={pair}
          onPair={setPair}
          canRestore={canRestore}
          onRestore={restore}
        />
      </Modal>
    );
  }

  return (
    <Modal title="Version history" onClose={onClose} width={720}>
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
            const name = versionName(versions, v.hash);
            return (
              <li key={v.hash} className={isCurrent(v) ? "current" : ""} data-testid="version" data-version={name}>
                <History size={15} className="muted" />
                <div className="version-main">
                  <div>
                    <span className="version-name">{name}</span>
                    <code className="version-hash">{v.hash.slice(0, 8)}</code>
                    {isCurrent(v) && <span className="tag tag-primary">Current</span>}
                    {i === 0 && !isCurrent(v) && <span className="tag">Latest</span>}
                  </div>
                  <div className="muted small" title={formatDateTime(v.created_at)}>
                    {timeAgo(v.created_at)} · {v.created_by || "unknown"} · {v.graph?.nodes?.length ?? 0} nodes
                  </div>
                </div>
                <div className="version-actions">
                  <button
                    className="btn btn-sm"
                    onClick={() => setPair(defaultPair(versions, v.hash, currentHash))}
                    disabled={versions.length < 2}
                    aria-label={`Compare ${name}`}
                    title={isCurrent(v) ? "Compare with the version before it" : "Compare with the current version"}
                  >
                    <GitCompare size={13} /> Compare
                  </button>
                  <button
                    className="btn btn-sm"
                    onClick={() => restore(v)}
                    disabled={!canRestore(v)}
                    aria-label={`Restore ${name}`}
                  >
                    <RotateCcw size={13} /> Restore
                  </button>
                </div>
              </li>
            );
          })}
        </ol>
      )}
    </Modal>
  );
}
