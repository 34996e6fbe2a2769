// The ML views of a model version: the confusion matrix as a grid, ROC and precision-recall
// curves (two classes), and the features' importance as bars.
import { Chart } from "../charts/Chart";
import { Card } from "../common";
import { cellInk, cellShade, importanceHeight, importanceOption, prOption, rocOption, type ModelEvaluation } from "./charts";

function ConfusionGrid({ labels, counts }: { labels: unknown[]; counts: number[][] }) {
  const totals = counts.map((row) => row.reduce((a, b) => a + b, 0));
  return (
    <div className="confusion-wrap">
      <table className="confusion" aria-label="Confusion matrix" data-testid="confusion">
        <thead>
          <tr>
            <th className="confusion-corner" scope="col">
              <span className="muted small">actual ↓ · predicted →</span>
            </th>
            {labels.map((l) => (
              <th key={String(l)} scope="col" className="mono">
                {String(l)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {counts.map((row, i) => (
            <tr key={String(labels[i])}>
              <th scope="row" className="mono">
                {String(labels[i])}
              </th>
              {row.map((n, j) => (
                <td
                  key={j}
                  className={`confusion-cell${i === j ? " is-diagonal" : ""}`}
                  style={{ background: cellShade(n, totals[i]), color: cellInk(n, totals[i]) }}
                  title={`actual ${String(labels[i])}, predicted ${String(labels[j])}: ${n}`}
                  data-testid="confusion-cell"
                  data-actual={String(labels[i])}
                  data-predicted={String(labels[j])}
                >
                  {n}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function EvaluationCards({ evaluation }: { evaluation: ModelEvaluation }) {
  const { confusion, importances, curves } = evaluation;
  if (!confusion && !importances?.length && !curves?.roc) return null;
  return (
    <>
      <div className="grid-2">
        {confusion && (
          <Card title="Confusion matrix" subtitle="Rows of each actual class by the class predicted, on the test split" testId="confusion-card">
            <ConfusionGrid labels={confusion.labels} counts={confusion.counts} />
          </Card>
        )}
        {importances && importances.length > 0 && (
          <Card title="Feature importance" subtitle="Most important first" testId="importance-card">
            <Chart option={importanceOption(importances)} height={importanceHeight(importances.length)} label="Feature importance" />
            <ol className="sr-only" data-testid="importance-list">
              {importances.map((b) => (
                <li key={b.feature}>
                  {b.feature}: {b.importance.toFixed(3)}
                </li>
              ))}
            </ol>
          </Card>
        )}
      </div>
      {curves?.roc && curves.pr && (
        <div className="grid-2">
          <Card title={<>ROC curve <span className="tag" data-testid="auc">AUC {curves.roc.area?.toFixed(3) ?? "–"}</span></>} testId="roc-card">
            <Chart option={rocOption(curves.roc)} height={240} label={`ROC curve, AUC ${curves.roc.area?.toFixed(3) ?? "unknown"}`} />
          </Card>
          <Card title={<>Precision–recall curve <span className="tag" data-testid="ap">AP {curves.pr.area?.toFixed(3) ?? "–"}</span></>} testId="pr-card">
            <Chart option={prOption(curves.pr)} height={240} label={`Precision-recall curve, average precision ${curves.pr.area?.toFixed(3) ?? "unknown"}`} />
          </Card>
        </div>
      )}
    </>
  );
}
