// Drift of the served features: PSI of recent requests against the training data.
import { ShieldAlert } from "lucide-react";
import type { DeploymentStats } from "../../api/types";
import { formatNumber, plural } from "../../lib/format";
import { Card, Hint } from "../common";
import { DRIFT_LABEL, psiLevel } from "./deploy";

export function DriftCard({ stats }: { stats: DeploymentStats }) {
  const warn = stats.drift.filter((d) => d.warning).length;
  const tooFew = stats.drift_requests < stats.drift_min_requests;
  const top = Math.max(stats.psi_warning * 1.5, ...stats.drift.map((d) => d.psi ?? 0));
  return (
    <Card
      title={
        <>
          Drift
          {warn > 0 && (
            <span className="badge status-failed" data-testid="drift-warning">
              <ShieldAlert size={12} /> {plural(warn, "feature")} drifting
            </span>
          )}
        </>
      }
      subtitle={`Population stability index of the model's features in served requests against the training data; above ${stats.psi_warning} the population has shifted`}
      action={
        <span className={`tag${tooFew ? "" : " tag-primary"}`} data-testid="drift-sample" title="Logged requests the drift is computed over">
          n = {formatNumber(stats.drift_requests)} {stats.drift_requests === 1 ? "request" : "requests"}
        </span>
      }
      testId="drift"
    >
      {!stats.drift.length ? (
        <Hint title="No served data to compare yet">
          Once requests are logged, each feature’s distribution is compared with what the model was
          trained on.
        </Hint>
      ) : (
        <>
        {tooFew && (
          <p className="muted small drift-note" data-testid="drift-too-few">
            Too few requests to flag drift: it is flagged from {formatNumber(stats.drift_min_requests)} logged requests on.
          </p>
        )}
        <ul className="drift-list">
          {stats.drift.map((d) => {
            const level = tooFew && psiLevel(d.psi, stats.psi_warning) === "warn" ? "watch" : psiLevel(d.psi, stats.psi_warning);
            return (
              <li key={d.feature} data-testid="drift-row" data-level={level}>
                <span className="drift-feature mono">{d.feature}</span>
                <span className="drift-bar">
                  <span className={`drift-fill drift-${level}`} style={{ width: `${Math.min(100, ((d.psi ?? 0) / top) * 100)}%` }} />
                  <span className="drift-threshold" style={{ left: `${(stats.psi_warning / top) * 100}%` }} title={`Warning above ${stats.psi_warning}`} />
                </span>
                <span className="drift-value">{d.psi === null ? "–" : d.psi.toFixed(3)}</span>
                <span className={`drift-badge drift-badge-${level}`}>{DRIFT_LABEL[level]}</span>
              </li>
            );
          })}
        </ul>
        </>
      )}
    </Card>
  );
}
