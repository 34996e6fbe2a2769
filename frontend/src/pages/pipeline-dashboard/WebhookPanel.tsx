// The webhook trigger: a secret URL that starts a run on POST. Shown once; replace or turn off.
import { KeyRound, Power, Webhook } from "lucide-react";
import { useState } from "react";
import { api, errorMessage } from "../../api/client";
import { ConfirmDialog } from "../../ui/Modal";
import { toast } from "../../ui/toast";
import { Card, CopyButton } from "../common";
import { shellQuote } from "../deploy/deploy";

export function WebhookPanel({ pipelineId }: { pipelineId: string }) {
  const [url, setUrl] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirm, setConfirm] = useState<"replace" | "off" | null>(null);

  const create = async () => {
    setBusy(true);
    try {
      const r = await api.createWebhook(pipelineId);
      setUrl(r.url);
      toast("Webhook URL created. Copy it now: it is not shown again.", "success", 6000);
    } catch (err) {
      toast(`Could not create the webhook: ${errorMessage(err)}`, "error");
    } finally {
      setBusy(false);
      setConfirm(null);
    }
  };

  const turnOff = async () => {
    setBusy(true);
    try {
      await api.deleteWebhook(pipelineId);
      setUrl(null);
      toast("Webhook turned off: its URL no longer starts runs.", "success");
    } catch (err) {
      toast(`Could not turn the webhook off: ${errorMessage(err)}`, "error");
    } finally {
      setBusy(false);
      setConfirm(null);
    }
  };

  return (
    <Card
      title={
        <>
          <Webhook size={15} /> Webhook trigger
        </>
      }
      subtitle="Start a run with an HTTP POST from another system"
      testId="webhook"
    >
      {url ? (
        <div className="webhook-url" data-testid="webhook-url">
          <p className="banner banner-warn">
            <KeyRound size={15} />
            <span>
              Copy this URL now: for safety it is shown only once. Anyone with it can start this
              pipeline.
            </span>
          </p>
          <div className="copy-row">
            <input readOnly value={url} aria-label="Webhook URL" className="mono-input" onFocus={(e) => e.target.select()} />
            <CopyButton text={url} label="Copy URL" />
          </div>
          <pre className="code-block">{`curl -X POST ${shellQuote(url)}`}</pre>
        </div>
      ) : (
        <p className="muted small webhook-help">
          The URL carries its own secret, so the caller needs no login. Creating a URL replaces any
          earlier one; the old one stops working at once.
        </p>
      )}
      <div className="button-row">
        <button className="btn" onClick={() => setConfirm("replace")} disabled={busy}>
          <KeyRound size={14} /> {url ? "Replace URL" : "Create webhook URL"}
        </button>
        <button className="btn btn-danger-ghost" onClick={() => setConfirm("off")} disabled={busy}>
          <Power size={14} /> Turn off
        </button>
      </div>
      {confirm === "replace" && (
        <ConfirmDialog
          title={url ? "Replace the webhook URL?" : "Create a webhook URL?"}
          message="A new secret URL is made and shown once. If this pipeline already had a webhook URL, it stops working."
          confirmLabel={url ? "Replace" : "Create"}
          busy={busy}
          onConfirm={create}
          onCancel={() => setConfirm(null)}
        />
      )}
      {confirm === "off" && (
        <ConfirmDialog
          title="Turn the webhook off?"
          message="Its URL stops starting runs. You can create a new one later."
          confirmLabel="Turn off"
          danger
          busy={busy}
          onConfirm={turnOff}
          onCancel={() => setConfirm(null)}
        />
      )}
    </Card>
  );
}
