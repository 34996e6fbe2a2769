// The webhook trigger: a secret URL that starts a run on POST. Shown once; replace or turn off.
import { KeyRound, Power, Webhook } from "lucide-react";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, errorMessage } from "../../api/client";
import { queryKeys } from "../../api/queryClient";
import { ConfirmDialog } from "../../ui/Modal";
import { toast } from "../../ui/toast";
import { Card, CopyButton } from "../common";
import { shellQuote } from "../deploy/deploy";

/** `enabled`: the pipeline has a webhook URL now (its secret is not shown again). */
export function WebhookPanel({ pipelineId, enabled }: { pipelineId: string; enabled: boolean }) {
  const queryClient = useQueryClient();
  const [url, setUrl] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirm, setConfirm] = useState<"replace" | "off" | null>(null);
  // Off once turned off here, whatever the pipeline said before it was refetched.
  const [turnedOff, setTurnedOff] = useState(false);
  const on = url !== null || (enabled && !turnedOff);

  const create = async () => {
    setBusy(true);
    try {
      const r = await api.createWebhook(pipelineId);
      setUrl(r.url);
      setTurnedOff(false);
      void queryClient.invalidateQueries({ queryKey: queryKeys.pipelines.one(pipelineId) });
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
      setTurnedOff(true);
      void queryClient.invalidateQueries({ queryKey: queryKeys.pipelines.one(pipelineId) });
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
        <p className="muted small webhook-help" data-testid="webhook-state">
          {on
            ? "A webhook URL is active: a POST to it starts a run. Its secret was shown once when it was made; replace it to get a new one (the old one stops working at once)."
            : "Off: no URL starts this pipeline. The URL carries its own secret, so the caller needs no login."}
        </p>
      )}
      <div className="button-row">
        <button className="btn" onClick={() => setConfirm("replace")} disabled={busy}>
          <KeyRound size={14} /> {on ? "Replace URL" : "Create webhook URL"}
        </button>
        {on && (
          <button className="btn btn-danger-ghost" onClick={() => setConfirm("off")} disabled={busy}>
            <Power size={14} /> Turn off
          </button>
        )}
      </div>
      {confirm === "replace" && (
        <ConfirmDialog
          title={on ? "Replace the webhook URL?" : "Create a webhook URL?"}
          message="A new secret URL is made and shown once. If this pipeline already had a webhook URL, it stops working."
          confirmLabel={on ? "Replace" : "Create"}
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
