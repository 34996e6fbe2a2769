import { Upload } from "lucide-react";
import { useMemo, useRef } from "react";
import { errorMessage } from "../../../api/client";
import { useUploadDataset } from "../../../api/queries";
import type { Dataset } from "../../../api/types";
import { formatNumber } from "../../../lib/format";
import { groupDatasets } from "../../../pages/datasets/datasets";
import { toast } from "../../../ui/toast";
import { useDatasets } from "../resources";
import type { Widget, WidgetProps } from "../types";

/**
 * dataset: one version of one of the workspace's datasets, or a file uploaded on the spot.
 * The node pins the version it names: uploading a new version changes nothing here until
 * the user picks it (the hint offers the newest).
 */
function DatasetPicker({ id, value, onChange, invalid }: WidgetProps) {
  const { list, error } = useDatasets();
  const groups = useMemo(() => (list ? groupDatasets(list) : null), [list]);
  const uploader = useUploadDataset();
  const uploading = uploader.isPending;
  const fileRef = useRef<HTMLInputElement>(null);
  const current = value === null || value === undefined ? "" : String(value);
  const selected = list?.find((d) => String(d.id) === current);
  const newest = selected ? groups?.find((g) => g.name === selected.name)?.latest : undefined;

  const upload = async (file: File) => {
    try {
      // Resolves once the dataset lists are fetched again, so the new one is in the options.
      const d = (await uploader.mutateAsync(file)) as Dataset & { unchanged?: boolean };
      onChange(String(d.id));
      toast(
        d.unchanged ? `${d.name} is unchanged: still version ${d.version}.` : `Uploaded ${d.name} as version ${d.version}.`,
        "success",
      );
    } catch (err) {
      toast(`Upload failed: ${errorMessage(err)}`, "error", 6000);
    } finally {
      if (fileRef.current) fileRef.current.value = "";
    }
  };

  return (
    <div className="dataset-picker">
      <div className="dataset-row">
        <select
          id={id}
          value={current}
          aria-invalid={invalid}
          onChange={(e) => {
            const d = list?.find((x) => String(x.id) === e.target.value);
            onChange(d ? d.id : undefined);
          }}
        >
          <option value="">{list ? (list.length ? "Choose a dataset…" : "No datasets yet") : "Loading…"}</option>
          {current && list && !selected && <option value={current}>Dataset {current} (missing)</option>}
          {groups?.map((g) => (
            <optgroup key={g.name} label={g.name}>
              {g.versions.map((d) => (
                <option key={d.id} value={String(d.id)}>
                  {d.name} · v{d.version}
                  {d.version === g.latest.version ? " (latest)" : ""} · {formatNumber(d.row_count)} rows
                </option>
              ))}
            </optgroup>
          ))}
        </select>
        <button
          type="button"
          className="btn btn-sm"
          onClick={() => fileRef.current?.click()}
          disabled={uploading}
          title="Upload a file; under a dataset's name it is that dataset's next version"
        >
          <Upload size={14} /> {uploading ? "Uploading…" : "Upload"}
        </button>
        <input
          ref={fileRef}
          type="file"
          accept=".csv,.tsv,.txt,.parquet,.pq,.xlsx,.jsonl,.ndjson"
          hidden
          data-testid="dataset-upload"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void upload(f);
          }}
        />
      </div>
      {error && <p className="field-error">Could not load datasets: {error}</p>}
      {selected && (
        <p className="field-hint" data-testid="dataset-pin">
          Reads version {selected.version} of {selected.name}, fixed: new uploads do not change it.{" "}
          {selected.row_count !== null && selected.row_count !== undefined
            ? `${formatNumber(selected.row_count)} rows`
            : ""}
          {selected.columns?.length ? ` · ${selected.columns.length} columns: ` : ""}
          {selected.columns
            ?.slice(0, 6)
            .map((c) => c.name)
            .join(", ")}
          {(selected.columns?.length ?? 0) > 6 ? "…" : ""}
        </p>
      )}
      {selected && newest && newest.id !== selected.id && (
        <p className="field-hint dataset-newer">
          Version {newest.version} is newer.{" "}
          <button type="button" className="btn btn-sm" onClick={() => onChange(String(newest.id))}>
            Use v{newest.version}
          </button>
        </p>
      )}
    </div>
  );
}

export const datasetWidget: Widget = { Control: DatasetPicker };
