// A version's first rows and its column statistics (computed by the server from the stored
// table, once per content).
import { errorMessage } from "../../api/http";
import type { Dataset, Preview } from "../../api/types";
import { formatCell, formatNumber } from "../../lib/format";
import { PreviewTable } from "../../ui/OutputParts";
import { useDatasetPreview, useDatasetStats } from "./api";

export function VersionPreview({ dataset }: { dataset: Dataset }) {
  const q = useDatasetPreview(dataset.id);
  if (q.error) return <p className="field-error">Could not load the preview: {errorMessage(q.error)}</p>;
  if (!q.data) return <div className="skeleton-block" style={{ height: 160 }} aria-busy="true" />;
  const preview = { columns: q.data.columns, rows: q.data.rows, stats: [], total_rows: q.data.row_count } as unknown as Preview;
  return (
    <div className="dataset-preview" data-testid="dataset-preview">
      <div className="table-scroll">
        <PreviewTable preview={preview} />
      </div>
      <p className="muted small">
        The first {formatNumber(q.data.rows.length)} of {formatNumber(q.data.row_count)} rows.
      </p>
    </div>
  );
}

export function ColumnStatsTable({ dataset }: { dataset: Dataset }) {
  const q = useDatasetStats(dataset.id);
  if (q.error) return <p className="field-error">Could not compute the statistics: {errorMessage(q.error)}</p>;
  if (!q.data) return <div className="skeleton-block" style={{ height: 160 }} aria-busy="true" />;
  const rows = q.data.row_count;
  return (
    <div className="grid-table-wrap" data-testid="dataset-stats">
      <table className="grid-table stats-table" aria-label="Column statistics">
        <thead>
          <tr>
            <th>Column</th>
            <th>Type</th>
            <th className="num">Nulls</th>
            <th className="num">Distinct</th>
            <th className="num">Min</th>
            <th className="num">Max</th>
            <th className="num">Mean</th>
            <th>Top values</th>
          </tr>
        </thead>
        <tbody>
          {q.data.columns.map((c) => (
            <tr key={c.name} data-column={c.name}>
              <td className="strong">{c.name}</td>
              <td>
                <span className="th-type">{c.type}</span>
              </td>
              <td className="num" title={rows ? `${((100 * c.nulls) / rows).toFixed(1)}% of ${formatNumber(rows)} rows` : undefined}>
                {formatNumber(c.nulls)}
              </td>
              <td className="num">{formatNumber(c.distinct)}</td>
              <td className="num">{cell(c.min)}</td>
              <td className="num">{cell(c.max)}</td>
              <td className="num">{cell(c.mean)}</td>
              <td className="small">
                {c.top.length
                  ? c.top.map((t) => `${t.value} (${formatNumber(t.count)})`).join(", ")
                  : <span className="muted">–</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const cell = (v: unknown) => (v === null || v === undefined ? <span className="muted">–</span> : formatCell(v));
