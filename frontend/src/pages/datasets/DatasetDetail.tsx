// One dataset: its versions (content hash, size, rows, columns, who and when, who reads it),
// and the chosen version's first rows and column statistics.
import { Trash2, Upload } from "lucide-react";
import { useRef, useState } from "react";
import { errorMessage } from "../../api/http";
import { formatDateTime, formatNumber, plural, timeAgo } from "../../lib/format";
import { ConfirmDialog } from "../../ui/Modal";
import { TabList } from "../../ui/TabList";
import { toast } from "../../ui/toast";
import { Link, shortHash } from "../common";
import { useDeleteDataset } from "./api";
import { ColumnStatsTable, VersionPreview } from "./VersionViews";
import { formatBytes, type DatasetGroup } from "./datasets";
import type { Dataset } from "../../api/types";

type Doomed = { id: string; allVersions: boolean; label: string };

export function DatasetDetail({
  group,
  versionId,
  onSelectVersion,
  onUploadVersion,
  onDeleted,
}: {
  group: DatasetGroup;
  versionId: string | null;
  onSelectVersion: (id: string) => void;
  onUploadVersion: (file: File) => void;
  onDeleted: () => void;
}) {
  const version = group.versions.find((v) => v.id === versionId) ?? group.latest;
  const [tab, setTab] = useState<"preview" | "columns">("preview");
  const [doomed, setDoomed] = useState<Doomed | null>(null);
  const [refusal, setRefusal] = useState<string | null>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const remove = useDeleteDataset();

  const confirmDelete = async () => {
    if (!doomed) return;
    try {
      const r = await remove.mutateAsync({ id: doomed.id, allVersions: doomed.allVersions });
      toast(`Deleted ${doomed.label} (${plural(r.deleted, "version")}).`, "success");
      setRefusal(null);
      if (doomed.allVersions || group.versions.length === 1) onDeleted();
    } catch (err) {
      setRefusal(errorMessage(err));
    } finally {
      setDoomed(null);
    }
  };

  return (
    <section className="card dataset-detail" data-testid="dataset-detail" data-name={group.name}>
      <div className="card-header">
        <div className="card-titles">
          <h2 className="card-title">{group.name}</h2>
          <p className="card-subtitle muted">
            {plural(group.versions.length, "version")} · latest v{group.latest.version} · {group.latest.format.toUpperCase()}
          </p>
        </div>
        <div className="card-action button-row">
          <button type="button" className="btn btn-sm" onClick={() => fileRef.current?.click()} title={`Upload a file as the next version of ${group.name}`}>
            <Upload size={14} /> New version
          </button>
          <input
            ref={fileRef}
            type="file"
            hidden
            data-testid="dataset-version-input"
            onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) onUploadVersion(f);
              e.target.value = "";
            }}
          />
          <button
            type="button"
            className="btn btn-sm btn-danger-ghost"
            onClick={() => setDoomed({ id: group.latest.id, allVersions: true, label: group.name })}
          >
            <Trash2 size={14} /> Delete dataset
          </button>
        </div>
      </div>
      <div className="card-body">
        {refusal && (
          <p className="banner banner-error" role="alert" data-testid="delete-refused">
            {refusal}
          </p>
        )}
        <p className="dataset-used-by" data-testid="dataset-used-by">
          <strong>Used by: </strong>
          {group.usedBy.length ? (
            group.usedBy.map((p, i) => (
              <span key={p.id}>
                {i > 0 && ", "}
                <Link to={`/pipelines/${p.id}`}>{p.name}</Link>
              </span>
            ))
          ) : (
            <span className="muted">no pipeline. An Uploaded file node reads a version; it keeps reading that version after new ones are uploaded.</span>
          )}
        </p>

        <VersionsTable group={group} current={version} onSelect={onSelectVersion} onDelete={(v) =>
          setDoomed({ id: v.id, allVersions: false, label: `version ${v.version} of ${group.name}` })
        } />

        <div className="dataset-version-views">
          <TabList
            label="Version views"
            items={[
              { id: "preview", label: `Preview of v${version.version}` },
              { id: "columns", label: "Column statistics" },
            ]}
            active={tab}
            onSelect={setTab}
          />
          {tab === "preview" ? <VersionPreview dataset={version} /> : <ColumnStatsTable dataset={version} />}
        </div>
      </div>

      {doomed && (
        <ConfirmDialog
          title={doomed.allVersions ? "Delete this dataset?" : "Delete this version?"}
          message={
            doomed.allVersions
              ? `Every version of ${group.name} will be deleted. Pipelines that read one must be changed first.`
              : `Version ${doomed.label} will be deleted. Pipelines that read it must be changed first.`
          }
          confirmLabel="Delete"
          danger
          busy={remove.isPending}
          onConfirm={() => void confirmDelete()}
          onCancel={() => setDoomed(null)}
        />
      )}
    </section>
  );
}

function VersionsTable({
  group,
  current,
  onSelect,
  onDelete,
}: {
  group: DatasetGroup;
  current: Dataset;
  onSelect: (id: string) => void;
  onDelete: (v: Dataset) => void;
}) {
  return (
    <div className="grid-table-wrap">
      <table className="grid-table versions-table" aria-label="Versions">
        <thead>
          <tr>
            <th>Version</th>
            <th>SHA-256</th>
            <th className="num">Size</th>
            <th className="num">Rows</th>
            <th className="num">Columns</th>
            <th>Uploaded</th>
            <th>Used by</th>
            <th aria-label="Actions" />
          </tr>
        </thead>
        <tbody>
          {group.versions.map((v) => (
            <tr
              key={v.id}
              className={v.id === current.id ? "clickable row-selected" : "clickable"}
              data-testid="version-row"
              data-version={v.version}
              onClick={() => onSelect(v.id)}
            >
              <td>
                <button type="button" className="link-button" onClick={() => onSelect(v.id)} aria-pressed={v.id === current.id}>
                  v{v.version}
                </button>
                {v.latest && <span className="tag tag-primary">latest</span>}
              </td>
              <td>
                <code className="hash" title={`SHA-256 of the uploaded file: ${v.sha256}`}>{shortHash(v.sha256, 12)}</code>
              </td>
              <td className="num">{formatBytes(v.size_bytes)}</td>
              <td className="num">{formatNumber(v.row_count)}</td>
              <td className="num">{v.columns?.length ?? 0}</td>
              <td>
                <span title={formatDateTime(v.created_at)}>
                  {v.created_by ?? "someone"} · {timeAgo(v.created_at)}
                </span>
              </td>
              <td className="small">{v.used_by.length ? v.used_by.map((p) => p.name).join(", ") : <span className="muted">–</span>}</td>
              <td className="num">
                <button
                  type="button"
                  className="btn btn-sm btn-ghost"
                  aria-label={`Delete version ${v.version}`}
                  title={`Delete version ${v.version}`}
                  onClick={(e) => {
                    e.stopPropagation();
                    onDelete(v);
                  }}
                >
                  <Trash2 size={14} />
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
