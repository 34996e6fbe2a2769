import type { Column, Preview } from "../../api/types";
import { formatCell } from "../../lib/format";

/** Per column: its type, nulls, distinct values, min, max and mean. */
export function StatsTable({ preview, schema }: { preview: Preview | null; schema: Column[] | null }) {
  const stats = preview?.stats ?? [];
  const cols = preview?.columns ?? schema ?? [];
  return (
    <div className="table-scroll">
      <table className="data-table stats-table">
        <thead>
          <tr>
            <th>Column</th>
            <th>Type</th>
            <th className="num">Nulls</th>
            <th className="num">Distinct</th>
            <th className="num">Min</th>
            <th className="num">Max</th>
            <th className="num">Mean</th>
          </tr>
        </thead>
        <tbody>
          {cols.map((c) => {
            const s = stats.find((x) => x.name === c.name);
            return (
              <tr key={c.name}>
                <td>{c.name}</td>
                <td>
                  <span className="type-pill">{c.type}</span>
                </td>
                <td className="num">{formatCell(s?.nulls)}</td>
                <td className="num">{formatCell(s?.distinct)}</td>
                <td className="num">{formatCell(s?.min)}</td>
                <td className="num">{formatCell(s?.max)}</td>
                <td className="num">{formatCell(s?.mean)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
