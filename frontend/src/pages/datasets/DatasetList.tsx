// The datasets (names), newest first: latest version, size of its table, who reads it.
import { formatDateTime, formatNumber, timeAgo } from "../../lib/format";
import type { DatasetGroup } from "./datasets";

export function DatasetList({
  groups,
  query,
  selected,
  onSelect,
}: {
  groups: DatasetGroup[];
  query: string;
  selected: string | null;
  onSelect: (name: string) => void;
}) {
  return (
    <section className="card dataset-list" aria-label="Datasets">
      {groups.length === 0 && <div className="table-empty">No dataset matches “{query}”.</div>}
      <ul>
        {groups.map((g) => (
          <li key={g.name}>
            <button
              type="button"
              className={`dataset-item${g.name === selected ? " selected" : ""}`}
              aria-current={g.name === selected || undefined}
              data-testid="dataset-row"
              data-name={g.name}
              onClick={() => onSelect(g.name)}
            >
              <span className="dataset-item-top">
                <span className="dataset-item-name">{g.name}</span>
                <span className="tag" title={`${g.versions.length} versions`}>
                  v{g.latest.version}
                </span>
              </span>
              <span className="muted small">
                {formatNumber(g.latest.row_count)} rows × {g.latest.columns?.length ?? 0} columns
                {" · "}
                <span title={formatDateTime(g.latest.created_at)}>{timeAgo(g.latest.created_at)}</span>
              </span>
              <span className="small dataset-item-used">
                {g.usedBy.length ? `Used by ${g.usedBy.map((p) => p.name).join(", ")}` : <span className="muted">Not used by a pipeline</span>}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
