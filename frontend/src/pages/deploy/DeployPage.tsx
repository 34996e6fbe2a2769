// Online predictions from a pipeline: whether serving is on, the endpoint and how to call it,
// the request schema, the model served, recent requests, latency, drift, and a Try-it box.
import { Play, Rocket } from "lucide-react";
import { useState } from "react";
import { errorMessage } from "../../api/client";
import { useStartRun } from "../../api/queries";
import { formatCell, formatDateTime, formatNumber, timeAgo } from "../../lib/format";
import { navigate } from "../../lib/router";
import { toast } from "../../ui/toast";
import { Breadcrumbs, Card, CopyButton, Hint, Link, SkeletonBlock, Stat } from "../common";
import { useDocumentTitle } from "../hooks";
import { DriftCard } from "./DriftCard";
import { EndpointCard } from "./EndpointCard";
import { curlExample, latency, requestColumns } from "./deploy";
import { AlertsCard } from "./AlertsCard";
import { BatchScoringCard } from "./BatchScoringCard";
import { ChallengerCard } from "./ChallengerCard";
import { FeedbackCard } from "./FeedbackCard";
import { LookupsCard } from "./LookupsCard";
import "./deploy.css";
import { TryIt } from "./TryIt";
import { useDeployment } from "./useDeployment";

export function DeployPage({ pipelineId }: { pipelineId: string }) {
  const { pipeline, deployment, deployError, stats, statsError, modelId, reloadStats: loadStats, setDeployment } =
    useDeployment(pipelineId);
  const startRun = useStartRun();
  const [starting, setStarting] = useState(false);
  useDocumentTitle(pipeline ? `${pipeline.name} · Deploy` : "Deploy");

  const runNow = async () => {
    setStarting(true);
    try {
      const run = await startRun.mutateAsync({ pipeline: pipelineId });
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
          <Card
            title="Call it"
            subtitle={
              <>
                With an API token: create one in{" "}
                <a
                  href="/settings/tokens"
                  onClick={(e) => {
                    e.preventDefault();
                    navigate("/settings/tokens");
                  }}
                >
                  Settings → API tokens
                </a>
                . Its{" "}
                <a href={`/api/pipelines/${pipelineId}/deployment/openapi.json`} target="_blank" rel="noreferrer" data-testid="openapi-link">
                  OpenAPI description
                </a>{" "}
                types each column.
              </>
            }
          >
            <div className="code-wrap">
              <pre className="code-block" data-testid="curl">{curlExample(stats.deployment.endpoint, stats.example)}</pre>
              <CopyButton text={curlExample(stats.deployment.endpoint, stats.example)} label="Copy" className="btn btn-sm code-copy" />
            </div>
          </Card>

          <div className="grid-2">
            <Card
              title="Request schema"
              subtitle="Each row is an object with the required columns. The others may be left out, or sent and echoed back with “return”."
              flush
            >
              <table className="grid-table" aria-label="Request schema" data-testid="input-schema">
                <thead>
                  <tr>
                    <th>Column</th>
                    <th>Type</th>
                    <th>Needed</th>
                    <th>Example</th>
                  </tr>
                </thead>
                <tbody>
                  {requestColumns(stats.input_schema).map((c) => (
                    <tr key={c.name} className={c.required ? undefined : "muted"}>
                      <td className="mono">{c.name}</td>
                      <td>
                        <span className="type-pill">{c.type}</span>
                      </td>
                      <td>{c.required ? <span className="tag tag-primary">required</span> : <span className="small">optional</span>}</td>
                      <td className="muted mono small">{c.required ? formatCell(stats.example[c.name]) : ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Card>
            <TryIt pipelineId={pipelineId} stats={stats} enabled={deployment?.enabled ?? true} onAnswered={loadStats} />
          </div>

          {deployment && (
            <LookupsCard
              deployment={deployment}
              stats={stats}
              onSaved={(d) => {
                setDeployment(d);
                loadStats();
              }}
            />
          )}

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
          <FeedbackCard stats={stats} />
          <ChallengerCard pipelineId={pipelineId} stats={stats} onPromoted={loadStats} />
          {deployment && <AlertsCard deployment={deployment} onSaved={setDeployment} />}
          {deployment && <BatchScoringCard pipelineId={pipelineId} inputNode={deployment.input_node} />}
        </>
      )}
    </div>
  );
}

