import { Upload } from "lucide-react";
import { useRef } from "react";
import { errorMessage } from "../../../api/client";
import { useUploadDataset } from "../../../api/queries";
import { formatNumber } from "../../../lib/format";
import { toast } from "../../../ui/toast";
import { useDatasets } from "../resources";
import type { Widget, WidgetProps } from "../types";

/** dataset: one of the workspace's datasets, or a file uploaded on the spot. */
function DatasetPicker({ id, value, onChange, invalid }: WidgetProps) {
  const { list, error } = useDatasets();
  const uploader = useUploadDataset();
  const uploading = uploader.isPending;
  const fileRef = useRef<HTMLInputElement>(null);
  const current = value === null || value === undefined ? "" : String(value);
  const selected = list?.find((d) => String(d.id) === current);

  const upload = async (file: File) => {
    try {
      // Resolves once the dataset lists are fetched again, so the new one is in the options.
      const d = await uploader.mutateAsync(file);
      onChange(typeof value === "number" || typeof d.id === "number" ? d.id : String(d.id));
      toast(`Uploaded ${d.name}.`, "success");
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
          {list?.map((d) => (
            <option key={d.id} value={String(d.id)}>
              {d.name}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="btn btn-sm"
          onClick={() => fileRef.current?.click()}
          disabled={uploading}
          title="Upload a CSV or Parquet file"
        >
          <Upload size={14} /> {uploading ? "Uploading…" : "Upload"}
        </button>
        <input
          ref={fileRef}
          type="file"
          accept=".csv,.tsv,.parquet,.json,.xlsx,text/csv"
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
        <p className="field-hint">
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
    </div>
  );
}

export const datasetWidget: Widget = { Control: DatasetPicker };
