// Two versions of a model side by side: metrics, params and training data.
import { useQuery } from "@tanstack/react-query";
import { GitCompare } from "lucide-react";
import { api, errorMessage } from "../../api/client";
import { queryKeys } from "../../api/queryClient";
import { formatNumber } from "../../lib/format";
import { Card, formatMetric, SkeletonBlock } from "../common";
import { metricDelta } from "./models";

export function ComparePanel({ modelId, versions }: { modelId: string; versions: number[] }) {
  const [a, b] = versions;
  const both = a !== undefined && b !== undefined;
  const query = useQuery({
    queryKey: queryKeys.models.compare(modelId, a ?? 0, b ?? 0),
    queryFn: () => api.compareModels(modelId, a!, b!),
    enabled: both,
  });
  const cmp = query.data ?? null;
  const error = query.error ? errorMessage(query.error) : null;

  if (versions.length < 2) {
    return (
      <Card title={<><GitCompare size={15} /> Compare versions</>}>
        <p className="muted small">Tick two versions in the table above to see their metrics, params and training data side by side.</p>
      </Card>
    );
  }
  const metrics = cmp ? Object.entries(cmp.metrics) : [];
  const params = cmp ? Object.entries(cmp.params) : [];
  const td = cmp?.training_data;
  return (
    <Card title={<><GitCompare size={15} /> v{a} compared with v{b}</>} testId="compare" flush>
      {error ? (
        <p className="field-error node-note">{error}</p>
      ) : !cmp || cmp.a !== a || cmp.b !== b ? (
        <SkeletonBlock height={160} />
      ) : (
        <div className="compare-grid">
          <section>
            <h3 className="section-title">Metrics</h3>
            {metrics.length ? (
              <table className="grid-table compare-table">
                <thead>
                  <tr>
                    <th>Metric</th>
                    <th className="num">v{a}</th>
                    <th className="num">v{b}</th>
                    <th className="num">Change</th>
                  </tr>
                </thead>
                <tbody>
                  {metrics.map(([k, m]) => {
                    const d = metricDelta(k, m.a, m.b);
                    return (
                      <tr key={k}>
                        <td>{k}</td>
                        <td className="num">{formatMetric(m.a)}</td>
                        <td className="num">{formatMetric(m.b)}</td>
                        <td className={`num delta${d.better === true ? " delta-good" : d.better === false ? " delta-bad" : ""}`}>
                          {d.delta === null ? "–" : d.delta === 0 ? "=" : `${d.delta > 0 ? "+" : ""}${formatMetric(d.delta)}`}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            ) : (
              <p className="muted small">Neither version recorded metrics.</p>
            )}
          </section>
          <section>
            <h3 className="section-title">Params that differ</h3>
            {params.length ? (
              <table className="grid-table compare-table">
                <thead>
                  <tr>
                    <th>Param</th>
                    <th>v{a}</th>
                    <th>v{b}</th>
                  </tr>
                </thead>
                <tbody>
                  {params.map(([k, p]) => (
                    <tr key={k}>
                      <td className="mono">{k}</td>
                      <td className="mono diff-a">{JSON.stringify(p.a) ?? "–"}</td>
                      <td className="mono diff-b">{JSON.stringify(p.b) ?? "–"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p className="muted small">Same params.</p>
            )}
            <h3 className="section-title">Training data</h3>
            {td && (
              <ul className="diff-list">
                <li>
                  {td.same_data ? (
                    <span className="delta-good">Same data (identical content hash)</span>
                  ) : (
                    <span>Different data</span>
                  )}
                </li>
                <li>
                  Rows: {td.rows.a !== null ? formatNumber(td.rows.a) : "–"} → {td.rows.b !== null ? formatNumber(td.rows.b) : "–"}
                </li>
                {td.columns_added.length > 0 && (
                  <li>
                    Columns added: {td.columns_added.map((c) => <code key={c} className="diff-b">{c}</code>)}
                  </li>
                )}
                {td.columns_removed.length > 0 && (
                  <li>
                    Columns removed: {td.columns_removed.map((c) => <code key={c} className="diff-a">{c}</code>)}
                  </li>
                )}
                {Object.entries(td.type_changes).map(([c, t]) => (
                  <li key={c}>
                    <code>{c}</code>: {t.a} → {t.b}
                  </li>
                ))}
                {!td.columns_added.length && !td.columns_removed.length && !Object.keys(td.type_changes).length && (
                  <li className="muted">Same columns and types.</li>
                )}
              </ul>
            )}
          </section>
        </div>
      )}
    </Card>
  );
}
