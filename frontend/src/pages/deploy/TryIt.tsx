// Send rows to the endpoint from the page and see the predictions, or each row's problems.
import { AlertTriangle, Send } from "lucide-react";
import { useEffect, useMemo, useState } from "react";
import { api, ApiError, errorMessage } from "../../api/client";
import type { DeploymentStats, Prediction } from "../../api/types";
import { formatCell, plural } from "../../lib/format";
import { Card } from "../common";
import { latency, parseRowsInput, rowProblems, type RowProblem } from "./deploy";

export function TryIt({
  pipelineId,
  stats,
  enabled,
  onAnswered,
}: {
  pipelineId: string;
  stats: DeploymentStats;
  enabled: boolean;
  onAnswered: () => void;
}) {
  const initial = useMemo(() => JSON.stringify({ rows: [stats.example] }, null, 2), [stats.example]);
  const [text, setText] = useState(initial);
  // A new entry node (or a new example) replaces the body, unless the user edited it.
  const [shown, setShown] = useState(initial);
  useEffect(() => {
    if (initial !== shown) {
      setText((cur) => (cur === shown ? initial : cur));
      setShown(initial);
    }
  }, [initial, shown]);
  const [answer, setAnswer] = useState<Prediction | null>(null);
  const [problems, setProblems] = useState<RowProblem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const send = async () => {
    const parsed = parseRowsInput(text);
    setAnswer(null);
    setProblems(null);
    if ("error" in parsed) {
      setError(parsed.error);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      setAnswer(await api.predict(pipelineId, parsed.rows));
      onAnswered();
    } catch (err) {
      const rows = err instanceof ApiError ? rowProblems(err.extra.fields) : [];
      if (rows.length > 0) {
        setProblems(rows);
        setError(errorMessage(err));
      } else {
        setError(errorMessage(err));
      }
    } finally {
      setBusy(false);
    }
  };

  const columns = answer?.predictions.length ? Object.keys(answer.predictions[0]) : [];
  return (
    <Card
      title="Try it"
      subtitle="Send rows as JSON; this page signs the request with your session"
      testId="try-it"
      action={
        <button className="btn btn-sm btn-ghost-dark" onClick={() => setText(initial)} type="button">
          Reset example
        </button>
      }
    >
      <textarea
        className="mono-input try-input"
        aria-label="Request body"
        value={text}
        rows={8}
        spellCheck={false}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if ((e.metaKey || e.ctrlKey) && e.key === "Enter") send();
        }}
      />
      <div className="button-row">
        <button className="btn btn-primary" onClick={send} disabled={busy}>
          <Send size={14} /> {busy ? "Predicting…" : "Predict"}
        </button>
        <span className="muted small try-hint">{enabled ? "Ctrl+Enter sends" : "Serving is off: turn it on above to answer."}</span>
      </div>
      <div className="try-result" aria-live="polite" data-testid="try-result">
        {error && (
          <div className="node-error" role="alert">
            <AlertTriangle size={16} />
            <div>
              <p className="node-error-message">{error}</p>
              {problems && problems.length > 0 && (
                <table className="grid-table problems" data-testid="problems">
                  <thead>
                    <tr>
                      <th className="num">Row</th>
                      <th>Column</th>
                      <th>Problem</th>
                    </tr>
                  </thead>
                  <tbody>
                    {problems.map((p, i) => (
                      <tr key={i}>
                        <td className="num">{p.row + 1}</td>
                        <td className="mono">{p.column ?? "–"}</td>
                        <td>{p.message}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
          </div>
        )}
        {answer && (
          <div className="prediction" data-testid="prediction">
            <p className="small muted">
              {plural(answer.predictions.length, "prediction")} in {latency(answer.latency_ms)}
              {answer.model ? ` by ${answer.model.name} v${answer.model.version}` : ""}
            </p>
            <table className="grid-table">
              <thead>
                <tr>
                  <th className="num">Row</th>
                  {columns.map((c) => (
                    <th key={c}>{c}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {answer.predictions.map((p, i) => (
                  <tr key={i}>
                    <td className="num">{i + 1}</td>
                    {columns.map((c) => (
                      <td key={c} className={c === "prediction" ? "strong" : "mono"}>
                        {formatCell(p[c])}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </Card>
  );
}
