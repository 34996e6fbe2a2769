"""Score a table with a trained model."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..base import (
    Context,
    NoParams,
    Operator,
    OperatorError,
    Port,
    Schema,
    TrainedModel,
    columns_of,
)
from ..tables import BATCH_ROWS, MappedBatches, Table
from ._common import most_probable, one_thread, prepared, task_of
from .scoring import check_scoring_table

ADDED = ("prediction", "probability")
# A regressor's prediction is a number and it has no probability.
ADDED_BY_REGRESSOR = ("prediction",)


def _probability_of(final: Any, proba: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """The probability of each row's predicted class. For the usual classifiers the predicted
    class is the most probable one, so that is a row maximum; where a model disagrees (a
    calibrated SVC may), each row looks its class up."""
    classes = np.asarray(final.classes_)
    best = proba.argmax(axis=1)
    if np.array_equal(classes[best], np.asarray(predictions)):
        return np.asarray(proba[np.arange(len(best)), best])
    column = pd.Index(classes).get_indexer(predictions)
    return np.asarray(proba[np.arange(len(column)), column])


def _scored(model: TrainedModel, table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the model's prediction (and probability) added: row by row, so a table
    scored in batches gives the rows it gives whole."""
    features = check_scoring_table(model, table, what="table to score")
    regression = model.task == "regression"
    with one_thread():
        final, Xt = prepared(model.estimator, columns_of(table, features))
        if regression:
            added = {"prediction": np.asarray(final.predict(Xt), dtype=float)}
        else:
            proba = final.predict_proba(Xt) if hasattr(final, "predict_proba") else None
            predictions = None if proba is None else most_probable(final, proba)
            if predictions is None:
                predictions = final.predict(Xt)
            added = {"prediction": predictions}
            if proba is not None:
                added["probability"] = _probability_of(final, proba, predictions)
    # Added columns always go last, matching infer_schema even if the table had them.
    stale = [c for c in (ADDED_BY_REGRESSOR if regression else ADDED) if c in table.columns]
    out = table.drop(columns=stale) if stale else table
    return out.assign(**added)


class Predict(Operator):
    """Adds the model's ``prediction`` to each row, and its ``probability`` when the model
    gives one (the probability of the predicted class). A regressor adds only a float
    ``prediction``.

    Example: connect ``model.train_classifier``'s ``model`` output and a table with the same
    feature columns; a churn model adds ``prediction`` ("yes"/"no") and ``probability`` (0.87).

    A table of any size is scored batch by batch (65,536 rows at a time, 131,072 past 2M
    rows), each batch written out before the next is read; rows keep their order. On the
    Spark engine the model is sent to the executors and scores the table there, partition
    by partition.
    """

    name = "model.predict"
    label = "Predict"
    description = "Add a model's predictions to each row of a table."
    category = "model"
    icon = "sparkles"
    keywords = ("predict", "score", "inference", "apply", "model", "classify", "regression")
    # 2: a regressor's prediction is a float and only "prediction" is replaced.
    version = "2"
    # A Table in, an iterator of scored batches out; a DataFrame (serving's rows) in, one
    # DataFrame out.
    lazy_inputs = True
    inputs = (Port("model", "model"), Port("table", "table"))
    outputs = (Port("table", "table"),)
    Params = NoParams
    example = {}

    def run(self, ctx: Context, params: Any, model: Any,
            table: pd.DataFrame | Table) -> dict[str, Any]:
        if not isinstance(model, TrainedModel):
            raise OperatorError("The model input must come from a model operator.")
        if isinstance(table, pd.DataFrame):  # serving's request rows, a unit test's table
            if table.empty:
                raise OperatorError("The table to score is empty.")
            return {"table": _scored(model, table)}
        if table.rows == 0:
            raise OperatorError("The table to score is empty.")
        # The first batch checked before anything is written (each batch is checked again).
        check_scoring_table(model, table.head(BATCH_ROWS), what="table to score")
        added = ADDED_BY_REGRESSOR if model.task == "regression" else ADDED
        return {"table": MappedBatches(table, _scored, model, added,
                                       reads=[c["name"] for c in model.features])}

    def reads(self, params: Any, model: Any = None, **inputs: Any
              ) -> dict[str, set[str] | None]:
        if not isinstance(model, TrainedModel):
            return {"table": None}
        return {"table": {c["name"] for c in model.features}}

    def infer_schema(self, ctx: Context, params: Any, model: Schema | None = None,
                     table: Schema | None = None) -> dict[str, Schema | None]:
        if table is None:
            return {"table": None}
        # A model port's schema is the features followed by the target, which says whether
        # the model is a regressor (see _common.model_port_schema).
        if model:
            names = {c["name"] for c in table}
            missing = [c["name"] for c in model[:-1] if c["name"] not in names]
            if missing:
                raise OperatorError(
                    f"The table to score lacks the model's feature column(s): "
                    f"{', '.join(missing)}.")
        if task_of(model) == "regression":
            kept = [c for c in table if c["name"] not in ADDED_BY_REGRESSOR]
            return {"table": kept + [{"name": "prediction", "type": "float"}]}
        prediction_type = model[-1]["type"] if model else "str"
        # Whether a classifier gives probabilities is unknown before training; every algorithm
        # of model.train_classifier does, so the column is announced.
        kept = [c for c in table if c["name"] not in ADDED]
        return {"table": kept + [{"name": "prediction", "type": prediction_type},
                                 {"name": "probability", "type": "float"}]}
