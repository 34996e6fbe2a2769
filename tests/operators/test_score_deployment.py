"""model.score_deployment without Django: the table's columns pass through and the answer's
come last, chunk by chunk in order; a deployment that answers another number of rows than it
was given fails the node, since scores could not be matched to rows."""
from __future__ import annotations

import pandas as pd
import pytest

from operators.base import OperatorError
from operators.models import score_deployment
from operators.models.score_deployment import ScoreDeployment, ScoreDeploymentParams
from operators.testing import LocalContext


def scored(ctx: LocalContext, table: pd.DataFrame) -> pd.DataFrame:
    op = ScoreDeployment()
    out = op.run(ctx, ScoreDeploymentParams(pipeline="Churn"), table=table)["table"]
    return pd.concat(list(out), ignore_index=True)


def test_rows_keep_their_columns_and_order_and_get_the_answer_last(monkeypatch) -> None:
    monkeypatch.setattr(score_deployment, "CHUNK_ROWS", 7)
    calls: list[int] = []

    def scorer(frame: pd.DataFrame) -> pd.DataFrame:
        calls.append(len(frame))
        return pd.DataFrame({"prediction": frame["x"] * 2, "probability": 0.5})

    ctx = LocalContext(scorers={"Churn": scorer})
    table = pd.DataFrame({"id": range(20), "x": range(100, 120), "prediction": "stale"})
    out = scored(ctx, table)
    assert list(out.columns) == ["id", "x", "prediction", "probability"]
    assert out["id"].tolist() == list(range(20))
    assert out["prediction"].tolist() == [2 * x for x in range(100, 120)]
    # The first chunk is tried before anything is written, then every chunk of 7 in order.
    assert calls == [7, 7, 7, 6]
    assert ctx.progress_values[-1] == 1.0


def test_a_deployment_that_drops_rows_fails_the_node() -> None:
    ctx = LocalContext(scorers={"Churn": lambda frame: pd.DataFrame(
        {"prediction": frame["x"].iloc[1:]})})
    with pytest.raises(OperatorError, match="answered 2 row.s. for 3"):
        scored(ctx, pd.DataFrame({"x": [1, 2, 3]}))


def test_an_unknown_pipeline_and_an_empty_table_are_refused() -> None:
    with pytest.raises(OperatorError, match="No pipeline named 'Churn'") as caught:
        scored(LocalContext(), pd.DataFrame({"x": [1]}))
    assert caught.value.field == "pipeline"
    with pytest.raises(OperatorError, match="empty"):
        scored(LocalContext(scorers={"Churn": lambda f: f}), pd.DataFrame({"x": []}))
