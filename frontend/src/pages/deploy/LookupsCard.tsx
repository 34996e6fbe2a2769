// The tables a served request reads from outside it (a join's other side): each read live by
// key per request, or as the training run saw it; how long looked-up rows are reused; and
// how the lookups did over the logged requests (cache hit rate, latency).
import { useEffect, useState } from "react";
import { api, ApiError, errorMessage } from "../../api/client";
import type { Deployment, DeploymentStats } from "../../api/types";
import { toast } from "../../ui/toast";
import { Card } from "../common";
import { latency } from "./deploy";

export function LookupsCard({
  deployment,
  stats,
  onSaved,
}: {
  deployment: Deployment;
  stats: DeploymentStats;
  onSaved: (d: Deployment) => void;
}) {
  const [ttl, setTtl] = useState(String(deployment.lookup_ttl_seconds));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setTtl(String(deployment.lookup_ttl_seconds)), [deployment.lookup_ttl_seconds]);
  if (!stats.lookups.length) return null;

  const save = async (body: Partial<Deployment>, done: string) => {
    setBusy(true);
    setError(null);
    try {
      onSaved(await api.updateDeployment(deployment.pipeline, body));
      toast(done, "success");
    } catch (err) {
      setError(err instanceof ApiError ? err.message : errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card
      title="Lookups"
      subtitle="Tables a request reads from outside it: live, by key on each request, or as the training run read them."
      testId="lookups"
      flush
    >
      <table className="grid-table" aria-label="Lookups">
        <thead>
          <tr>
            <th>Reads</th>
            <th>Mode</th>
            <th className="num">Cache hits</th>
            <th className="num">p50</th>
            <th className="num">p99</th>
          </tr>
        </thead>
        <tbody>
          {stats.lookups.map((lookup) => (
            <tr key={lookup.node}>
              <td>
                <span className="mono">{lookup.label}</span>
                {lookup.why_not_live && <div className="small muted">Not live: {lookup.why_not_live}.</div>}
              </td>
              <td>
                <select
                  aria-label={`Mode of ${lookup.label}`}
                  value={lookup.mode}
                  disabled={busy || !!lookup.why_not_live}
                  onChange={(e) =>
                    void save(
                      { lookup_modes: { [lookup.node]: e.target.value } },
                      e.target.value === "live" ? `${lookup.label} is read live.` : `${lookup.label} is read as of training.`,
                    )
                  }
                >
                  <option value="live">Live</option>
                  <option value="training">As of training</option>
                </select>
              </td>
              <td className="num">{lookup.hit_rate === null ? "–" : `${Math.round(lookup.hit_rate * 100)}%`}</td>
              <td className="num">{latency(lookup.p50_ms)}</td>
              <td className="num">{latency(lookup.p99_ms)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="lookups-ttl">
        <label className="field">
          <span className="field-label">Reuse looked-up rows for (seconds, 0: always fresh)</span>
          <input type="number" min={0} max={86400} step={1} value={ttl} onChange={(e) => setTtl(e.target.value)} />
        </label>
        <button
          className="btn"
          disabled={busy || Number(ttl) === deployment.lookup_ttl_seconds}
          onClick={() => {
            const seconds = Number(ttl);
            if (!isFinite(seconds) || seconds < 0 || seconds > 86400) {
              setError("Between 0 (always fresh) and 86,400 seconds.");
              return;
            }
            void save({ lookup_ttl_seconds: seconds }, seconds ? `Looked-up rows are reused for ${seconds} s.` : "Lookups are always fresh.");
          }}
        >
          Save
        </button>
      </div>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </Card>
  );
}
