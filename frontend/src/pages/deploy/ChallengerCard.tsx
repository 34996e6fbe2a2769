// The challenger: another version of the served model answering the same requests in the
// shadow (never returned), compared with the champion; promoting it is one audited step.
import { useState } from "react";
import { api, errorMessage } from "../../api/client";
import type { DeploymentStats } from "../../api/types";
import { toast } from "../../ui/toast";
import { ConfirmDialog } from "../../ui/Modal";
import { Card, Stat } from "../common";
import { latency } from "./deploy";

function quality(metric: string, v: number | null | undefined): string {
  if (v === null || v === undefined) return "–";
  return metric === "accuracy" ? `${(v * 100).toFixed(1)}%` : v.toFixed(4);
}

export function ChallengerCard({
  pipelineId,
  stats,
  onPromoted,
}: {
  pipelineId: string;
  stats: DeploymentStats;
  onPromoted: () => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const c = stats.challenger;
  if (!c) return null;
  const champion = stats.model ? `v${stats.model.version}` : "production";
  const label = c.metric === "accuracy" ? "Accuracy" : "MAE";
  return (
    <Card
      title={`Challenger: ${c.model} v${c.version}`}
      subtitle={`Answers the same logged requests in the shadow, after the answer has gone; its answers are never returned. Champion: ${champion}.`}
      testId="challenger"
      action={
        <button className="btn btn-primary" onClick={() => setConfirming(true)} disabled={busy}>
          Promote challenger
        </button>
      }
    >
      <div className="stat-row">
        <Stat label="Agreement" value={c.agreement === null ? "–" : `${(c.agreement * 100).toFixed(1)}%`} sub={`${c.requests} requests compared`} />
        <Stat label="Latency p50" value={latency(c.challenger_p50_ms)} sub={`champion ${latency(c.champion_p50_ms)}`} />
        <Stat
          label={`${label} on feedback`}
          value={quality(c.metric, c.challenger_quality)}
          sub={`champion ${quality(c.metric, c.champion_quality)} · ${c.labelled} labelled`}
        />
        <Stat label="Failures" value={String(c.errors)} sub={c.last_error || "none"} tone={c.errors ? "danger" : undefined} />
      </div>
      {confirming && (
        <ConfirmDialog
          title="Promote the challenger?"
          message={`Production moves from ${champion} to v${c.version}, and the challenger alias is removed. The next requests are answered by v${c.version}. The workspace's audit log records it.`}
          confirmLabel={`Promote v${c.version}`}
          busy={busy}
          onCancel={() => setConfirming(false)}
          onConfirm={async () => {
            setBusy(true);
            try {
              const v = await api.promoteChallenger(pipelineId);
              toast(`${v.name} v${v.version} now serves production.`, "success");
              setConfirming(false);
              onPromoted();
            } catch (err) {
              toast(errorMessage(err), "error");
            } finally {
              setBusy(false);
            }
          }}
        />
      )}
    </Card>
  );
}
