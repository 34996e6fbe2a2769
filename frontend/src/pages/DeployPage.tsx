// Online predictions from a pipeline: whether serving is on, the endpoint and how to call it,
// the request schema, the model served, recent requests, latency, drift, and a Try-it box.
import { AlertTriangle, Play, Rocket, Send, ShieldAlert } from "lucide-react";
import { useCallback, useEffect, useMemo, useState } from "react";
import { api, ApiError, errorMessage } from "../api/client";
import type { Pipeline } from "../api/types";
import { formatCell, formatDateTime, formatNumber, plural, timeAgo } from "../lib/format";
import { navigate } from "../lib/router";
import { toast } from "../ui/toast";
import {
  pagesApi,
  type Deployment,
  type DeploymentStats,
  type Prediction,
} from "./api";
import { Breadcrumbs, Card, CopyButton, Hint, Link, SkeletonBlock, Stat } from "./common";
import { curlExample, DRIFT_LABEL, parseRowsInput, psiLevel, rowProblems, type RowProblem } from "./deploy";
import { useDocumentTitle, useOperators } from "./hooks";

function latency(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "–";
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

export function DeployPage({ pipelineId }: { pipelineId: string }) {
  const [pipeline, setPipeline] = useState<Pipeline | null>(null);
  const [deployment, setDeployment] = useState<Deployment | null>(null);
  const [deployError, setDeployError] = useState<string | null>(null);
  const [stats, setStats] = useState<DeploymentStats | null>(null);
  const [statsError, setStatsError] = useState<string | null>(null);
  const [modelId, setModelId] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  useDocumentTitle(pipeline ? `${pipeline.name} · Deploy` : "Deploy");

  useEffect(() => {
    api.pipeline(pipelineId).then(setPipeline).catch(() => {});
    pagesApi
      .deployment(pipelineId)
      .then((d) => {
        setDeployment(d);
        setDeployError(null);
      })
      .catch((err) => setDeployError(errorMessage(err)));
  }, [pipelineId]);

  const loadStats = useCallback(() => {
    pagesApi
      .deploymentStats(pipelineId)
      .then((s) => {
        setStats(s);
        setStatsError(null);
        setDeployment(s.deployment);
      })
      .catch((err) => setStatsError(errorMessage(err)));
  }, [pipelineId]);
  useEffect(loadStats, [loadStats]);

  // The served version's page needs the model's id; the stats name it.
  useEffect(() => {
    if (!stats?.model) return;
    pagesApi
      .models()
      .then((list) => setModelId(list.find((m) => m.name === stats.model?.name)?.id ?? null))
      .catch(() => {});
  }, [stats?.model]);

  const runNow = async () => {
    setStarting(true);
    try {
      const run = await pagesApi.startRun(pipelineId);
      navigate(`/runs/${run.id}`);
    } catch (err) {
      toast(`Could not start a run: ${errorMessage(err)}`, "error");
      setStarting(false);
    }
  };

  const crumbs = (
    <Breadcrumbs
      items={[
        { label: "Pipelines", to: "/pipelines" },
        { label: pipeline?.name ?? "…", to: `/pipelines/${pipelineId}/dashboard` },
        { label: "Deploy" },
      ]}
    />
  );
  const header = (
    <div className="page-header">
      <div>
        <h1>Serving</h1>
        <p className="muted">Predictions over HTTP from {pipeline ? `“${pipeline.name}”` : "this pipeline"}, one request at a time</p>
      </div>
      <div className="page-actions">
        <Link to={`/pipelines/${pipelineId}/dashboard`} className="btn">
          Dashboard
        </Link>
        <Link to={`/pipelines/${pipelineId}`} className="btn">
          Editor
        </Link>
      </div>
    </div>
  );

  if (deployError && !deployment) {
    return (
      <div className="page deploy-page">
        {crumbs}
        {header}
        <div className="empty-state" data-testid="deploy-empty">
          <div className="empty-icon">
            <Rocket size={28} />
          </div>
          <h2>Nothing to serve yet</h2>
          <p className="muted">{deployError}</p>
          <p className="muted small">
            Serving answers with the output of a <strong>Predict</strong> node, fed by the rows you send in
            place of the pipeline’s data source.
          </p>
          <Link to={`/pipelines/${pipelineId}`} className="btn btn-primary">
            Open the editor
          </Link>
        </div>
      </div>
    );
  }

  return (
    <div className="page deploy-page">
      {crumbs}
      {header}
      {deployment ? (
        <EndpointCard
          pipeline={pipeline}
          deployment={deployment}
          stats={stats}
          modelId={modelId}
          onSaved={(d) => {
            setDeployment(d);
            loadStats();
          }}
        />
      ) : (
        <SkeletonBlock height={160} />
      )}

      {statsError && !stats ? (
        <Card>
          <div className="empty-state empty-inline" data-testid="stats-empty">
            <div className="empty-icon">
              <Play size={24} />
            </div>
            <h2>Run the pipeline first</h2>
            <p className="muted">{statsError}</p>
            <p className="muted small">
              Serving uses the model and the learned steps (encoders, scalers…) of the pipeline’s last
              successful run. Once it has run, this page shows the request schema, an example and a
              box to try it.
            </p>
            <button className="btn btn-primary" onClick={runNow} disabled={starting}>
              <Play size={14} /> Run the pipeline
            </button>
          </div>
        </Card>
      ) : !stats ? (
        <SkeletonBlock height={240} />
      ) : (
        <>
          <Card title="Call it" subtitle="With an API token: create one with  python manage.py create_api_token <username>">
            <div className="code-wrap">
              <pre className="code-block" data-testid="curl">{curlExample(stats.deployment.endpoint, stats.example)}</pre>
              <CopyButton text={curlExample(stats.deployment.endpoint, stats.example)} label="Copy" className="btn btn-sm code-copy" />
            </div>
          </Card>

          <div className="grid-2">
            <Card title="Request schema" subtitle="Each row is an object with these columns" flush>
              <table className="grid-table" aria-label="Request schema" data-testid="input-schema">
                <thead>
                  <tr>
                    <th>Column</th>
                    <th>Type</th>
                    <th>Example</th>
                  </tr>
                </thead>
                <tbody>
                  {stats.input_schema.map((c) => (
                    <tr key={c.name}>
                      <td className="mono">{c.name}</td>
                      <td>
                        <span className="type-pill">{c.type}</span>
                      </td>
                      <td className="muted mono small">{formatCell(stats.example[c.name])}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Card>
            <TryIt pipelineId={pipelineId} stats={stats} enabled={deployment?.enabled ?? true} onAnswered={loadStats} />
          </div>

          <div className="stat-row">
            <Stat label="Latency p50" value={latency(stats.latency_ms.p50)} sub="of logged requests" />
            <Stat label="Latency p95" value={latency(stats.latency_ms.p95)} />
            <Stat label="Latency p99" value={latency(stats.latency_ms.p99)} />
            <Stat
              label="Requests logged"
              value={formatNumber(stats.requests.length)}
              sub={`${Math.round((deployment?.sample_rate ?? 0) * 100)}% of requests are logged`}
            />
          </div>

          <div className="grid-2">
            <Card title="Recent requests" flush testId="recent-requests">
              {stats.requests.length ? (
                <table className="grid-table" aria-label="Recent requests">
                  <thead>
                    <tr>
                      <th>When</th>
                      <th className="num">Rows</th>
                      <th className="num">Latency</th>
                      <th className="num">Model</th>
                    </tr>
                  </thead>
                  <tbody>
                    {stats.requests.slice(0, 12).map((r, i) => (
                      <tr key={`${r.at}-${i}`}>
                        <td title={formatDateTime(r.at)}>{timeAgo(r.at)}</td>
                        <td className="num">{formatNumber(r.rows)}</td>
                        <td className="num">{latency(r.latency_ms)}</td>
                        <td className="num">{r.model_version !== null ? `v${r.model_version}` : "–"}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : (
                <Hint title="No requests logged yet">
                  Send one with the Try-it box or the curl command. A share of requests (the sample
                  rate) is logged, with its rows, for drift.
                </Hint>
              )}
            </Card>
            <DriftCard stats={stats} />
          </div>
        </>
      )}
    </div>
  );
}

function EndpointCard({
  pipeline,
  deployment,
  stats,
  modelId,
  onSaved,
}: {
  pipeline: Pipeline | null;
  deployment: Deployment;
  stats: DeploymentStats | null;
  modelId: string | null;
  onSaved: (d: Deployment) => void;
}) {
  const operators = useOperators();
  const [input, setInput] = useState(deployment.input_node);
  const [output, setOutput] = useState(deployment.output_node);
  const [rate, setRate] = useState(String(Math.round(deployment.sample_rate * 100)));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setInput(deployment.input_node);
    setOutput(deployment.output_node);
    setRate(String(Math.round(deployment.sample_rate * 100)));
  }, [deployment]);

  const nodes = pipeline?.graph.nodes ?? [];
  const label = (id: string) => {
    const n = nodes.find((x) => x.id === id);
    return n ? `${n.label || operators[n.operator]?.label || n.operator} · ${id}` : id;
  };
  const dirty =
    input !== deployment.input_node || output !== deployment.output_node || Number(rate) !== Math.round(deployment.sample_rate * 100);

  const save = async (body: Partial<Deployment>) => {
    setBusy(true);
    setError(null);
    try {
      const d = await pagesApi.updateDeployment(deployment.pipeline, body);
      onSaved(d);
      return d;
    } catch (err) {
      setError(err instanceof ApiError ? err.message : errorMessage(err));
      return null;
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card
      testId="endpoint"
      title={
        <>
          Endpoint
          <span className={`serving-pill ${deployment.enabled && stats ? "on" : "off"}`} data-testid="serving-state" data-enabled={deployment.enabled}>
            {!deployment.enabled ? "Off" : stats ? "Serving" : "On · not ready"}
          </span>
        </>
      }
      action={
        <label className="switch-label">
          <span className="small muted">{deployment.enabled ? "On" : "Off"}</span>
          <span className="switch">
            <input
              type="checkbox"
              checked={deployment.enabled}
              disabled={busy}
              aria-label="Serving on"
              onChange={async (e) => {
                const d = await save({ enabled: e.target.checked });
                if (d) toast(d.enabled ? "Serving is on." : "Serving is off: the endpoint refuses requests.", "success");
              }}
            />
            <span className="switch-track" />
          </span>
        </label>
      }
    >
      <div className="endpoint-row">
        <code className="endpoint-url" data-testid="endpoint-url">
          <span className="method">POST</span> {deployment.endpoint}
        </code>
        <CopyButton text={deployment.endpoint} label="Copy URL" />
      </div>
      <div className="endpoint-grid">
        <div className="endpoint-model">
          <span className="field-label">Model served</span>
          {stats?.model ? (
            <span>
              {modelId ? (
                <Link to={`/models/${modelId}/versions/${stats.model.version}`} className="strong-link">
                  {stats.model.name} v{stats.model.version}
                </Link>
              ) : (
                <strong>
                  {stats.model.name} v{stats.model.version}
                </strong>
              )}
              <span className="muted small"> · the “production” alias, else the newest version</span>
            </span>
          ) : (
            <span className="muted">{stats ? "No model (the served path has none)" : "–"}</span>
          )}
        </div>
        <label className="field">
          <span className="field-label">Rows enter at</span>
          <select value={input} onChange={(e) => setInput(e.target.value)}>
            {nodes.map((n) => (
              <option key={n.id} value={n.id}>
                {label(n.id)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="field-label">Answer from</span>
          <select value={output} onChange={(e) => setOutput(e.target.value)}>
            {nodes.map((n) => (
              <option key={n.id} value={n.id}>
                {label(n.id)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="field-label">Log requests (%)</span>
          <input type="number" min={0} max={100} step={1} value={rate} onChange={(e) => setRate(e.target.value)} />
        </label>
        <div className="endpoint-save">
          <button
            className="btn btn-primary"
            disabled={!dirty || busy}
            onClick={async () => {
              const r = Number(rate);
              if (!isFinite(r) || r < 0 || r > 100) {
                setError("The share of requests to log is between 0 and 100%.");
                return;
              }
              const d = await save({ input_node: input, output_node: output, sample_rate: r / 100 });
              if (d) toast("Serving settings saved.", "success");
            }}
          >
            Save
          </button>
        </div>
      </div>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </Card>
  );
}

function TryIt({
  pipelineId,
  stats,
  enabled,
  onAnswered,
}: {
  pipelineId: string;
  stats: DeploymentStats;
  enabled: boolean;
  onAnswered: () => void;
}) {
  const initial = useMemo(() => JSON.stringify({ rows: [stats.example] }, null, 2), [stats.example]);
  const [text, setText] = useState(initial);
  const [answer, setAnswer] = useState<Prediction | null>(null);
  const [problems, setProblems] = useState<RowProblem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const send = async () => {
    const parsed = parseRowsInput(text);
    setAnswer(null);
    setProblems(null);
    if ("error" in parsed) {
      setError(parsed.error);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      setAnswer(await pagesApi.predict(pipelineId, parsed.rows));
      onAnswered();
    } catch (err) {
      const rows = err instanceof ApiError ? rowProblems(err.extra.fields) : [];
      if (rows.length > 0) {
        setProblems(rows);
        setError(err.message);
      } else {
        setError(errorMessage(err));
      }
    } finally {
      setBusy(false);
    }
  };

  const columns = answer?.predictions.length ? Object.keys(answer.predictions[0]) : [];
  return (
    <Card
      title="Try it"
      subtitle="Send rows as JSON; this page signs the request with your session"
      testId="try-it"
      action={
        <button className="btn btn-sm btn-ghost-dark" onClick={() => setText(initial)} type="button">
          Reset example
        </button>
      }
    >
      <textarea
        className="mono-input try-input"
        aria-label="Request body"
        value={text}
        rows={8}
        spellCheck={false}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if ((e.metaKey || e.ctrlKey) && e.key === "Enter") send();
        }}
      />
      <div className="button-row">
        <button className="btn btn-primary" onClick={send} disabled={busy}>
          <Send size={14} /> {busy ? "Predicting…" : "Predict"}
        </button>
        <span className="muted small try-hint">{enabled ? "Ctrl+Enter sends" : "Serving is off: turn it on above to answer."}</span>
      </div>
      <div className="try-result" aria-live="polite" data-testid="try-result">
        {error && (
          <div className="node-error" role="alert">
            <AlertTriangle size={16} />
            <div>
              <p className="node-error-message">{error}</p>
              {problems && problems.length > 0 && (
                <table className="grid-table problems" data-testid="problems">
                  <thead>
                    <tr>
                      <th className="num">Row</th>
                      <th>Column</th>
                      <th>Problem</th>
                    </tr>
                  </thead>
                  <tbody>
                    {problems.map((p, i) => (
                      <tr key={i}>
                        <td className="num">{p.row + 1}</td>
                        <td className="mono">{p.column ?? "–"}</td>
                        <td>{p.message}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
          </div>
        )}
        {answer && (
          <div className="prediction" data-testid="prediction">
            <p className="small muted">
              {plural(answer.predictions.length, "prediction")} in {latency(answer.latency_ms)}
              {answer.model ? ` by ${answer.model.name} v${answer.model.version}` : ""}
            </p>
            <table className="grid-table">
              <thead>
                <tr>
                  <th className="num">Row</th>
                  {columns.map((c) => (
                    <th key={c}>{c}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {answer.predictions.map((p, i) => (
                  <tr key={i}>
                    <td className="num">{i + 1}</td>
                    {columns.map((c) => (
                      <td key={c} className={c === "prediction" ? "strong" : "mono"}>
                        {formatCell(p[c])}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </Card>
  );
}

function DriftCard({ stats }: { stats: DeploymentStats }) {
  const warn = stats.drift.filter((d) => d.warning).length;
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
      testId="drift"
    >
      {!stats.drift.length ? (
        <Hint title="No served data to compare yet">
          Once requests are logged, each feature’s distribution is compared with what the model was
          trained on.
        </Hint>
      ) : (
        <ul className="drift-list">
          {stats.drift.map((d) => {
            const level = psiLevel(d.psi, stats.psi_warning);
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
      )}
    </Card>
  );
}
