// A source node's run report (NodeRun.source) as the run page says it: records, pages,
// retries, new vs updated, the cursor before → after, columns new or gone since the last run.
import type { SourceReport } from "../../api/types";
import { formatNumber, plural } from "../../lib/format";

/** A cursor value as text: as the source gave it (a timestamp, an id, a token). */
export function cursorText(v: unknown): string {
  if (v === null || v === undefined || v === "") return "";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

export interface ReportSummary {
  records: string;
  pages: string | null;
  retries: string;
  changes: string;
  /** null: the source keeps no cursor (every run reads everything). */
  cursor: {
    field: string;
    before: string;
    after: string;
    /** The cursor moved on in this run. */
    moved: boolean;
    /** Read from the start: a full refresh, a first load, or incremental loading off. */
    fromStart: boolean;
  } | null;
}

export function summarizeReport(r: SourceReport): ReportSummary {
  const before = cursorText(r.cursor_before);
  const after = cursorText(r.cursor_after);
  return {
    records: plural(r.records, "record"),
    pages: r.pages === null ? null : plural(r.pages, "page"),
    retries: r.retries ? plural(r.retries, "retry", "retries") : "no retries",
    changes: `${formatNumber(r.new)} new · ${formatNumber(r.updated)} updated`,
    cursor: r.cursor_field
      ? {
          field: r.cursor_field,
          before: r.full_refresh || !before ? "the start" : before,
          after: after || "(no records)",
          moved: after !== "" && after !== before,
          fromStart: r.full_refresh,
        }
      : null,
  };
}
