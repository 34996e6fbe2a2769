// The uploads of this visit: a progress bar while the file is sent, then what became of it.
import { CheckCircle2, Loader2, X, XCircle } from "lucide-react";
import { formatBytes } from "./datasets";
import type { UploadItem } from "./useUploads";

export function UploadList({ items, onDismiss }: { items: UploadItem[]; onDismiss: (key: number) => void }) {
  if (!items.length) return null;
  return (
    <ul className="upload-list" aria-label="Uploads">
      {items.map((u) => (
        <li key={u.key} className={`upload-item upload-${u.state}`} data-testid="upload-item" data-state={u.state}>
          <span className="upload-icon" aria-hidden="true">
            {u.state === "done" ? (
              <CheckCircle2 size={16} />
            ) : u.state === "failed" ? (
              <XCircle size={16} />
            ) : (
              <Loader2 size={16} className="spin" />
            )}
          </span>
          <div className="upload-main">
            <div className="upload-title">
              <strong>{u.file}</strong>
              <span className="muted small">{formatBytes(u.size)}</span>
              <span className="upload-status small">
                {u.state === "uploading"
                  ? `Uploading ${Math.floor(u.fraction * 100)}%`
                  : u.state === "processing"
                    ? "Reading the table…"
                    : u.message}
              </span>
            </div>
            {(u.state === "uploading" || u.state === "processing") && (
              <div
                className="upload-progress"
                role="progressbar"
                aria-label={`Uploading ${u.file}`}
                aria-valuemin={0}
                aria-valuemax={100}
                aria-valuenow={Math.floor(u.fraction * 100)}
              >
                <div className={`upload-progress-bar${u.state === "processing" ? " busy" : ""}`} style={{ width: `${u.fraction * 100}%` }} />
              </div>
            )}
          </div>
          {(u.state === "done" || u.state === "failed") && (
            <button type="button" className="btn btn-sm btn-ghost" aria-label="Dismiss" onClick={() => onDismiss(u.key)}>
              <X size={14} />
            </button>
          )}
        </li>
      ))}
    </ul>
  );
}
