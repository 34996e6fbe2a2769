// Live quality of the served model: the labels sent back for logged predictions
// (POST .../feedback/) against what was predicted, per hour, beside the training metrics.
import type { DeploymentStats } from "../../api/types";
import { Chart } from "../charts/Chart";
import { feedbackOption } from "../charts/options";
import { Card, Hint, Stat } from "../common";

function percent(v: number | null | undefined): string {
  return v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)}%`;
}

export function FeedbackCard({ stats }: { stats: DeploymentStats }) {
  const f = stats.feedback;
  const accuracy = f.metric === "accuracy";
  const live = accuracy ? percent(f.accuracy) : f.mae === null || f.mae === undefined ? "–" : f.mae.toFixed(4);
  const trained = f.training[f.metric];
  return (
    <Card
      title="Live accuracy"
      subtitle={`From the labels sent back for logged predictions (POST ${stats.deployment.endpoint.replace(/predict$/, "feedback/")}).`}
      testId="feedback"
    >
      {f.labelled ? (
        <>
          <div className="stat-row" data-testid="feedback-figures">
            <Stat
              label={accuracy ? "Accuracy" : "Mean absolute error"}
              value={live}
              sub={`training ${trained === undefined ? "–" : accuracy ? percent(trained) : trained.toFixed(4)} · ${f.labelled} labelled`}
            />
            {accuracy && (
              <Stat
                label="ROC AUC"
                value={f.auc === null ? "–" : f.auc.toFixed(3)}
                sub={`training ${f.training.roc_auc === undefined ? "–" : f.training.roc_auc.toFixed(3)}`}
              />
            )}
          </div>
          <Chart option={feedbackOption(f.series, f.metric, trained ?? null)} height={180} label="Live accuracy over time" />
        </>
      ) : (
        <Hint title="No labels yet">
          Each answer of a logged request carries an id. Send the true values back as{" "}
          <code>[{`{"id": "…", "label": …}`}]</code> and the live accuracy appears here, next to the training metrics.
        </Hint>
      )}
    </Card>
  );
}
