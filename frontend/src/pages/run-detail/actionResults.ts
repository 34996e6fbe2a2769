// An action's per-record results table (record_key, status, reason, payload) summed up. Pure.
import type { Preview } from "../../api/types";

export const RESULT_STATUSES = ["sent", "failed", "skipped", "dry_run"] as const;
export type ResultStatus = (typeof RESULT_STATUSES)[number];

export interface ResultsSummary {
  counts: Record<ResultStatus, number>;
  failed: { key: string; reason: string }[];
  /** Rows read; less than `total` when the preview was cut short. */
  read: number;
  total: number;
}

/** The port an action node reports its records on: "results", or "preview" while it waits. */
export function resultsPort(outputs: Record<string, { kind: string }> | undefined): string | null {
  if (!outputs) return null;
  if (outputs.results?.kind === "table") return "results";
  if (outputs.preview?.kind === "table") return "preview";
  return null;
}

export function summarizeResults(preview: Pick<Preview, "columns" | "rows" | "total_rows">): ResultsSummary | null {
  const col = (name: string) => preview.columns.findIndex((c) => c.name === name);
  const iStatus = col("status");
  const iKey = col("record_key");
  const iReason = col("reason");
  if (iStatus < 0) return null;
  const counts: Record<ResultStatus, number> = { sent: 0, failed: 0, skipped: 0, dry_run: 0 };
  const failed: { key: string; reason: string }[] = [];
  for (const row of preview.rows) {
    const status = String(row[iStatus] ?? "");
    if (status in counts) counts[status as ResultStatus] += 1;
    if (status === "failed") {
      failed.push({
        key: iKey >= 0 ? String(row[iKey] ?? "") : "",
        reason: iReason >= 0 ? String(row[iReason] ?? "") : "",
      });
    }
  }
  return { counts, failed, read: preview.rows.length, total: preview.total_rows };
}
