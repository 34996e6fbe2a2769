// What an action node sent (or would send): counts per outcome and the failed records.
import { useQuery } from "@tanstack/react-query";
import { Download, Zap } from "lucide-react";
import { api, errorMessage, outputUrl } from "../../api/client";
import { queryKeys } from "../../api/queryClient";
import type { NodeRun, Run } from "../../api/types";
import { formatNumber, plural } from "../../lib/format";
import { Card, SkeletonBlock } from "../common";
import { resultsPort, summarizeResults } from "./actionResults";

const RESULT_LABEL = { sent: "Sent", failed: "Failed", skipped: "Skipped", dry_run: "Dry run" } as const;

export function ActionResults({ run, node, label }: { run: Run; node: NodeRun; label: string }) {
  const port = resultsPort(node.outputs)!;
  const ready = node.status === "succeeded" || node.status === "waiting";
  const { data: summary, error } = useQuery({
    // Read again when the node moves on (waiting → succeeded sends, and the results change).
    queryKey: [...queryKeys.runs.preview(run.id, node.node_id, port, 500), node.status],
    queryFn: ({ signal }) => api.preview(run.id, node.node_id, port, 500, signal),
    enabled: ready,
    select: summarizeResults,
  });

  return (
    <Card
      testId="action-results"
      title={
        <>
          <Zap size={15} className="cat-action-icon" /> {label}
          <span className="muted small">{port === "preview" ? "what it would send" : "what it sent"}</span>
        </>
      }
      action={
        <a className="btn btn-sm" href={outputUrl(run.id, node.node_id, port, "csv")} download>
          <Download size={14} /> Results CSV
        </a>
      }
    >
      {error ? (
        <p className="field-error">{errorMessage(error)}</p>
      ) : !summary ? (
        <SkeletonBlock height={70} />
      ) : (
        <>
          <div className="result-counts">
            {(Object.keys(RESULT_LABEL) as (keyof typeof RESULT_LABEL)[]).map((k) => (
              <div key={k} className={`result-count result-${k}`} data-testid={`result-${k}`}>
                <span className="result-count-value">{formatNumber(summary.counts[k])}</span>
                <span className="result-count-label">{RESULT_LABEL[k]}</span>
              </div>
            ))}
            {summary.read < summary.total && (
              <p className="muted small">
                Counted over the first {formatNumber(summary.read)} of {plural(summary.total, "record")}; download the CSV for all.
              </p>
            )}
          </div>
          {summary.failed.length > 0 ? (
            <table className="grid-table failed-records" aria-label="Failed records">
              <thead>
                <tr>
                  <th style={{ width: "30%" }}>Record</th>
                  <th>Reason</th>
                </tr>
              </thead>
              <tbody>
                {summary.failed.slice(0, 20).map((f, i) => (
                  <tr key={`${f.key}-${i}`}>
                    <td className="mono">{f.key || "(no key)"}</td>
                    <td className="cell-error-wrap">{f.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="muted small">No record failed.</p>
          )}
          {summary.failed.length > 20 && (
            <p className="muted small">{formatNumber(summary.failed.length - 20)} more failed records are in the CSV.</p>
          )}
        </>
      )}
    </Card>
  );
}
