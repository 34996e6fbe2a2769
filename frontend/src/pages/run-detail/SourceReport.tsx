// What a source node loaded in a run: records, pages, retries, new vs updated, its cursor
// before → after (or from the start), and the columns new or gone since the last run.
import { ArrowRight, DownloadCloud } from "lucide-react";
import type { SourceReport as Report } from "../../api/types";
import { summarizeReport } from "./sourceReport";
import "./source-report.css";

export function SourceReport({ report, compact = false }: { report: Report; compact?: boolean }) {
  const s = summarizeReport(report);
  return (
    <section className={compact ? "source-report is-compact" : "source-report"} aria-label="Loaded" data-testid="source-report">
      <h4 className="source-report-title">
        <DownloadCloud size={14} aria-hidden="true" /> Loaded
      </h4>
      <dl className="source-report-facts">
        <div>
          <dt>Fetched</dt>
          <dd data-testid="source-records">{s.records}</dd>
        </div>
        {s.pages !== null && (
          <div>
            <dt>Pages</dt>
            <dd data-testid="source-pages">{s.pages}</dd>
          </div>
        )}
        <div>
          <dt>Changes</dt>
          <dd data-testid="source-changes">{s.changes}</dd>
        </div>
        <div>
          <dt>Retries</dt>
          <dd data-testid="source-retries">{s.retries}</dd>
        </div>
      </dl>
      <p className="source-cursor" data-testid="source-cursor">
        {s.cursor ? (
          <>
            <span className="muted">Cursor</span> <code>{s.cursor.field}</code>{" "}
            <span className={s.cursor.fromStart ? "muted" : "mono"} title={s.cursor.before}>
              {s.cursor.before}
            </span>{" "}
            <ArrowRight size={12} aria-label="to" />{" "}
            <span className="mono" title={s.cursor.after}>
              {s.cursor.after}
            </span>
            {s.cursor.fromStart && <span className="tag tag-primary">full refresh</span>}
            {!s.cursor.moved && !s.cursor.fromStart && <span className="tag">nothing new</span>}
          </>
        ) : (
          <span className="muted">No cursor: every run reads everything.</span>
        )}
      </p>
      {report.new_columns.length > 0 && (
        <p className="source-columns" data-testid="source-new-columns">
          <span className="muted">Columns</span>
          {report.new_columns.map((c) => (
            <code key={c}>{c}</code>
          ))}
          <span className="badge source-new-badge">new since last run</span>
        </p>
      )}
      {report.missing_columns.length > 0 && (
        <p className="source-columns is-gone" data-testid="source-missing-columns">
          <span className="muted">Gone since last run</span>
          {report.missing_columns.map((c) => (
            <code key={c}>{c}</code>
          ))}
          {!compact && <span className="muted small">Nodes after this one that use them fail, naming them.</span>}
        </p>
      )}
    </section>
  );
}
