// The workspace's datasets: drop a file anywhere on the page (or choose one) to upload it; a
// file under a dataset's name becomes its next version. Each dataset shows its versions,
// a preview, column statistics and the pipelines that read it.
import { Database, Search, Upload } from "lucide-react";
import { useCallback, useMemo, useRef, useState, type DragEvent } from "react";
import { errorMessage } from "../../api/http";
import { useDatasetsQuery } from "../../api/queries";
import { plural } from "../../lib/format";
import { PageError } from "../common";
import { useDocumentTitle } from "../hooks";
import type { Uploaded } from "./api";
import { DatasetDetail } from "./DatasetDetail";
import { DatasetList } from "./DatasetList";
import { droppedFiles, groupDatasets } from "./datasets";
import { UploadList } from "./UploadList";
import { useUploads } from "./useUploads";
import "./datasets.css";

export const ACCEPT = ".csv,.tsv,.txt,.parquet,.pq,.xlsx,.jsonl,.ndjson";

export function DatasetsPage() {
  useDocumentTitle("Datasets");
  const q = useDatasetsQuery();
  const groups = useMemo(() => (q.data ? groupDatasets(q.data) : null), [q.data]);
  const [selected, setSelected] = useState<{ name: string; version: string | null } | null>(null);
  const [query, setQuery] = useState("");
  const [dragging, setDragging] = useState(false);
  const depth = useRef(0);
  const fileRef = useRef<HTMLInputElement>(null);

  const onDone = useCallback((d: Uploaded) => setSelected({ name: d.name, version: d.id }), []);
  const uploads = useUploads(onDone);

  const visible = (groups ?? []).filter((g) => !query.trim() || g.name.toLowerCase().includes(query.trim().toLowerCase()));
  const current = groups?.find((g) => g.name === selected?.name) ?? groups?.[0] ?? null;
  const versionCount = q.data?.length ?? 0;

  const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes("Files");
  const dragProps = {
    onDragEnter: (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth.current += 1;
      setDragging(true);
    },
    onDragOver: (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "copy";
    },
    onDragLeave: () => {
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setDragging(false);
    },
    onDrop: (e: DragEvent) => {
      e.preventDefault();
      depth.current = 0;
      setDragging(false);
      for (const f of droppedFiles(e.dataTransfer)) void uploads.start(f);
    },
  };

  return (
    <div className="page datasets-page" data-testid="datasets-page" data-dragging={dragging || undefined} {...dragProps}>
      <div className="page-header">
        <div>
          <h1>Datasets</h1>
          <p className="muted">
            {groups ? `${plural(groups.length, "dataset")} · ${plural(versionCount, "version")}` : "Loading…"}
          </p>
        </div>
        <div className="page-actions">
          <label className="search">
            <Search size={14} aria-hidden="true" />
            <input type="search" placeholder="Search datasets" aria-label="Search datasets" value={query} onChange={(e) => setQuery(e.target.value)} />
          </label>
          <button className="btn btn-primary" onClick={() => fileRef.current?.click()}>
            <Upload size={15} /> Choose file
          </button>
          <input
            ref={fileRef}
            type="file"
            accept={ACCEPT}
            multiple
            hidden
            data-testid="datasets-file-input"
            onChange={(e) => {
              for (const f of Array.from(e.target.files ?? [])) void uploads.start(f);
              e.target.value = "";
            }}
          />
        </div>
      </div>

      <div className="dataset-dropzone" data-testid="dataset-dropzone">
        <Upload size={16} aria-hidden="true" />
        <span>
          Drag a CSV, Parquet, Excel (.xlsx) or JSON-lines file anywhere on this page to upload it. A file with the name of a
          dataset you have becomes its next version; the same content again changes nothing.
        </span>
      </div>

      <UploadList items={uploads.items} onDismiss={uploads.dismiss} />

      {q.error && <PageError message={`Could not load datasets: ${errorMessage(q.error)}`} onRetry={() => void q.refetch()} />}

      {groups === null ? (
        !q.error && <div className="skeleton-block" style={{ height: 240 }} aria-busy="true" />
      ) : groups.length === 0 ? (
        <div className="empty-state">
          <div className="empty-icon">
            <Database size={28} />
          </div>
          <h2>No datasets yet</h2>
          <p className="muted">
            Drop a file here, or choose one. Its table is kept as Parquet; an <strong>Uploaded file</strong> node in a pipeline
            reads it.
          </p>
          <button className="btn btn-primary" onClick={() => fileRef.current?.click()}>
            <Upload size={15} /> Choose file
          </button>
        </div>
      ) : (
        <div className="datasets-split">
          <DatasetList
            groups={visible}
            query={query}
            selected={current?.name ?? null}
            onSelect={(name) => setSelected({ name, version: null })}
          />
          {current && (
            <DatasetDetail
              key={current.name}
              group={current}
              versionId={selected?.name === current.name ? selected.version : null}
              onSelectVersion={(id) => setSelected({ name: current.name, version: id })}
              onUploadVersion={(f) => void uploads.start(f, current.name)}
              onDeleted={() => setSelected(null)}
            />
          )}
        </div>
      )}

      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          <div className="drop-overlay-box">
            <Upload size={28} />
            <p>Drop to upload</p>
          </div>
        </div>
      )}
    </div>
  );
}
