import { fmtMetric, type MetricCard } from "./metrics";

/** A model's metrics as cards: the last row's value large, the other rows' beside it. */
export function MetricCards({ metrics }: { metrics: MetricCard[] }) {
  return (
    <div className="metrics" data-testid="metrics">
      {metrics.map((m) => {
        const [main, ...rest] = [...m.values].reverse();
        return (
          <div className="metric" key={m.label}>
            <span className="metric-label">{m.label}</span>
            <span className="metric-value">
              {fmtMetric(main.value)}
              {main.label && <span className="metric-of">{main.label}</span>}
            </span>
            {rest.reverse().map((v) => (
              <span className="metric-other" key={v.label}>
                {v.label} {fmtMetric(v.value)}
              </span>
            ))}
          </div>
        );
      })}
    </div>
  );
}
