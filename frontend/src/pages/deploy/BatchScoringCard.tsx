// Batch scoring: the pipelines that score whole tables with this deployment (a "Score with
// deployment" node naming it) on a schedule, and a new one made in one step: the rows (the
// serving input's source read afresh, or a saved dataset) → the deployment's scores → a CSV
// export, its nightly schedule paused until the user has checked a first run.
import { useEffect, useState } from "react";
import { api, ApiError, errorMessage } from "../../api/client";
import type { BatchScoring, Dataset } from "../../api/types";
import { formatDateTime, formatNumber, timeAgo } from "../../lib/format";
import { navigate } from "../../lib/router";
import { StatusBadge } from "../../ui/StatusBadge";
import { toast } from "../../ui/toast";
import { Card, Link } from "../common";

export function BatchScoringCard({ pipelineId, inputNode }: { pipelineId: string; inputNode: string }) {
  const [scorings, setScorings] = useState<BatchScoring[] | null>(null);
  const [datasets, setDatasets] = useState<Dataset[]>([]);
  const [source, setSource] = useState("input");
  const [cron, setCron] = useState("0 2 * * *");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    api
      .batchScoring(pipelineId)
      .then((found) => live && setScorings(found))
      .catch((err) => live && setError(errorMessage(err)));
    api
      .datasets()
      .then((found) => live && setDatasets(found))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [pipelineId]);

  const create = async () => {
    setBusy(true);
    setError(null);
    try {
      const dataset = source.startsWith("dataset:") ? source.slice("dataset:".length) : null;
      const made = await api.createBatchScoring(pipelineId, {
        source: dataset ? "dataset" : "input",
        dataset,
        cron,
        timezone: "UTC",
        enabled: false,
      });
      toast(`${made.name} created; its schedule is paused until you turn it on.`, "success");
      navigate(`/pipelines/${made.id}`);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card
      title="Batch scoring"
      subtitle="Score a whole table on a schedule with the production model, through this deployment: each row scores as it would online, then goes to an action (a file, a CRM, a SQL table)."
      testId="batch-scoring"
    >
      {scorings && scorings.length > 0 && (
        <table className="grid-table" aria-label="Scoring pipelines">
          <thead>
            <tr>
              <th>Pipeline</th>
              <th>Schedule</th>
              <th>Last run</th>
              <th className="num">Rows scored</th>
            </tr>
          </thead>
          <tbody>
            {scorings.map((s) => (
              <tr key={s.id}>
                <td>
                  <Link to={`/pipelines/${s.id}`}>{s.name}</Link>
                </td>
                <td>
                  {s.schedule ? (
                    <>
                      <span className="mono">{s.schedule.cron}</span> {s.schedule.timezone}
                      <div className="small muted">
                        {s.schedule.enabled ? `next ${formatDateTime(s.schedule.next_fire_at)}` : "paused"}
                      </div>
                    </>
                  ) : (
                    <span className="muted">none</span>
                  )}
                </td>
                <td>
                  {s.last_run ? (
                    <Link to={`/runs/${s.last_run.id}`} title={formatDateTime(s.last_run.created_at)}>
                      <StatusBadge status={s.last_run.status} compact /> {timeAgo(s.last_run.created_at)}
                    </Link>
                  ) : (
                    <span className="muted">never run</span>
                  )}
                </td>
                <td className="num">{s.last_run?.rows_scored != null ? formatNumber(s.last_run.rows_scored) : "–"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="batch-new">
        <label className="field">
          <span className="field-label">Rows to score</span>
          <select aria-label="Rows to score" value={source} onChange={(e) => setSource(e.target.value)} disabled={busy}>
            <option value="input">The serving input's source ({inputNode}), read afresh</option>
            {datasets.map((d) => (
              <option key={d.id} value={`dataset:${d.id}`}>
                Dataset {d.name} (v{d.version})
              </option>
            ))}
          </select>
        </label>
        <label className="field batch-cron">
          <span className="field-label">Schedule (cron, UTC)</span>
          <input aria-label="Schedule" className="mono" value={cron} onChange={(e) => setCron(e.target.value)} disabled={busy} />
        </label>
        <button className="btn btn-primary" onClick={() => void create()} disabled={busy || !cron.trim()}>
          New scoring pipeline
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
