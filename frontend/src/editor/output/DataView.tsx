import { Loader2 } from "lucide-react";
import type { NodeRun, PortOutput, Preview } from "../../api/types";
import { formatNumber } from "../../lib/format";
import { PreviewTable } from "../../ui/OutputParts";
import { MetricCards } from "./MetricCards";
import type { MetricCard } from "./metrics";

/** The "Data" tab: the preview table, a model's metrics or summary, or why there is none. */
export function DataView({
  status,
  ready,
  isModel,
  out,
  preview,
  metrics,
  loading,
  error,
}: {
  status: NodeRun["status"];
  ready: boolean;
  isModel: boolean;
  out: PortOutput | undefined;
  preview: Preview | null;
  metrics: MetricCard[] | null;
  loading: boolean;
  error: string | null;
}) {
  if (!ready) {
    return (
      <p className="muted output-note">
        {status === "running" || status === "queued"
          ? "The output appears here when the node finishes."
          : status === "skipped"
            ? "This node was skipped because a node before it failed."
            : status === "failed"
              ? "No output: the node failed."
              : "No output."}
      </p>
    );
  }
  if (isModel) {
    return (
      <div className="model-card">
        <p>
          <strong>Trained model.</strong>{" "}
          <span className="muted">{out?.schema?.length ? `Trained on ${out.schema.length} columns:` : ""}</span>
        </p>
        {out?.schema && (
          <div className="chips">
            {out.schema.map((c) => (
              <span className="chip" key={c.name}>
                {c.name} <span className="col-type">{c.type}</span>
              </span>
            ))}
          </div>
        )}
      </div>
    );
  }
  if (loading) {
    return (
      <p className="muted output-note">
        <Loader2 size={14} className="spin" /> Loading preview…
      </p>
    );
  }
  if (error) return <p className="field-error output-note">Could not load the preview: {error}</p>;
  if (!preview) return <p className="muted output-note">No output on this port.</p>;
  if (metrics) return <MetricCards metrics={metrics} />;
  return (
    <>
      <div className="table-scroll">
        <PreviewTable preview={preview} />
      </div>
      <p className="muted small table-foot">
        Showing {formatNumber(preview.rows.length)} of {formatNumber(preview.total_rows)} rows
      </p>
    </>
  );
}
