// Alerts: thresholds on live accuracy, drift, error rate and p99 latency (empty: off), over
// at least a number of logged requests, delivered once per incident by a webhook connection
// and/or e-mail; and whether each is firing now.
import { useEffect, useState } from "react";
import { api, ApiError, errorMessage } from "../../api/client";
import { useConnectionsQuery } from "../../api/queries";
import type { Deployment } from "../../api/types";
import { toast } from "../../ui/toast";
import { Card } from "../common";

const FIELDS = [
  { key: "min_accuracy", label: "Live accuracy below", hint: "0 to 1", state: "accuracy" },
  { key: "max_drift_psi", label: "Drift (PSI) above", hint: "e.g. 0.2", state: "drift" },
  { key: "max_error_rate", label: "Error rate above", hint: "0 to 1", state: "error_rate" },
  { key: "max_p99_ms", label: "p99 latency above (ms)", hint: "e.g. 50", state: "p99_ms" },
] as const;

type Alerts = Record<string, unknown>;

function initial(alerts: Alerts): Record<string, string> {
  return {
    ...Object.fromEntries(FIELDS.map((f) => [f.key, alerts[f.key] === null || alerts[f.key] === undefined ? "" : String(alerts[f.key])])),
    min_requests: String(alerts.min_requests ?? 100),
    webhook: (alerts.webhook as string | null) ?? "",
    emails: ((alerts.emails as string[] | undefined) ?? []).join(", "),
  };
}

export function AlertsCard({ deployment, onSaved }: { deployment: Deployment; onSaved: (d: Deployment) => void }) {
  const states = deployment.alert_state as Record<string, { firing?: boolean; since?: string; value?: number; delivery_error?: string }>;
  const hooks = useConnectionsQuery();
  const [form, setForm] = useState<Record<string, string>>(() => initial(deployment.alerts as Alerts));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setForm(initial(deployment.alerts as Alerts)), [deployment.alerts]);

  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      const body: Alerts = {
        ...Object.fromEntries(FIELDS.map((f) => [f.key, form[f.key].trim() === "" ? null : Number(form[f.key])])),
        min_requests: Number(form.min_requests),
        webhook: form.webhook || null,
        emails: form.emails
          .split(",")
          .map((e) => e.trim())
          .filter(Boolean),
      };
      onSaved(await api.updateDeployment(deployment.pipeline, { alerts: body }));
      toast("Alerts saved.", "success");
    } catch (err) {
      setError(err instanceof ApiError ? err.message : errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const webhooks = (hooks.data ?? []).filter((c) => c.kind === "webhook");
  return (
    <Card title="Alerts" subtitle="Checked every 30 s by the scheduler; each alert is sent once when it starts and once when it resolves." testId="alerts">
      <div className="alerts-grid">
        {FIELDS.map((f) => {
          const state = states[f.state];
          return (
            <label className="field" key={f.key}>
              <span className="field-label">
                {f.label}
                {state?.firing && (
                  <span className="badge status-failed" title={state.delivery_error || `since ${state.since}`}>
                    firing
                  </span>
                )}
              </span>
              <input type="number" step="any" min={0} placeholder={`off (${f.hint})`} value={form[f.key]} onChange={(e) => setForm({ ...form, [f.key]: e.target.value })} />
            </label>
          );
        })}
        <label className="field">
          <span className="field-label">Over at least (requests)</span>
          <input type="number" min={1} step={1} value={form.min_requests} onChange={(e) => setForm({ ...form, min_requests: e.target.value })} />
        </label>
        <label className="field">
          <span className="field-label">Webhook</span>
          <select value={form.webhook} onChange={(e) => setForm({ ...form, webhook: e.target.value })}>
            <option value="">none</option>
            {webhooks.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <label className="field alerts-emails">
          <span className="field-label">E-mail to (comma-separated)</span>
          <input type="text" value={form.emails} placeholder="ops@example.com" onChange={(e) => setForm({ ...form, emails: e.target.value })} />
        </label>
      </div>
      <div className="endpoint-save">
        <button className="btn btn-primary" onClick={() => void save()} disabled={busy}>
          Save alerts
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
