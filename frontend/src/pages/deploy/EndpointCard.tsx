// The serving endpoint: on/off, which nodes take the rows and give the answer, how to call it.
import { useEffect, useState } from "react";
import { api, ApiError, errorMessage } from "../../api/client";
import { useOperators } from "../../api/queries";
import type { Deployment, DeploymentStats, Pipeline } from "../../api/types";
import { toast } from "../../ui/toast";
import { Card, CopyButton, Link } from "../common";

const SERVING_LABEL = { off: "Off", waiting: "On · waiting for a promoted version", serving: "Serving" } as const;

export function EndpointCard({
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
      const d = await api.updateDeployment(deployment.pipeline, body);
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
          <span
            className={`serving-pill ${deployment.serving_state === "serving" ? "on" : "off"}`}
            data-testid="serving-state"
            data-enabled={deployment.enabled}
            data-state={deployment.serving_state}
            title={deployment.serving_reason || undefined}
          >
            {SERVING_LABEL[deployment.serving_state]}
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
      {deployment.serving_state === "waiting" && deployment.serving_reason && (
        <p className="serving-waiting" role="status" data-testid="serving-waiting">
          {deployment.serving_reason}
          {modelId && (
            <>
              {" "}
              <Link to={`/models/${modelId}`} className="strong-link">
                Open the model
              </Link>
            </>
          )}
        </p>
      )}
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
              <span className="muted small">
                {deployment.serving_state === "waiting" ? " · newest version, not promoted yet" : " · the “production” alias"}
              </span>
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
