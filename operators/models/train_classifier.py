"""Train a classifier: one scikit-learn Pipeline from raw columns to predicted classes.

The ``model`` port's schema is the training table's feature columns followed by the target
(the target is always the last column); ``model.predict`` relies on that order.
"""
from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.multiclass import type_of_target

from ..base import Context, Operator, OperatorError, Params, Port, Schema, TrainedModel
from ..tables import Table
from ._common import (
    CvFolds,
    check_complete,
    check_test_schema,
    cv_folds_field,
    features_field,
    fit_trainer,
    hist_gradient_boosting,
    learning_rate_field,
    max_depth_field,
    max_training_rows_field,
    model_name_field,
    n_estimators_field,
    one_thread,
    predictions_kept,
    predictions_of,
    probabilities_of,
    random_forest,
    seed_field,
    target_field,
    trained_schema,
)
from ._curves import CURVES_SCHEMA, binary_curves
from ._evaluation import IMPORTANCES_SCHEMA, evaluate

METRICS_SCHEMA: Schema = [
    {"name": "dataset", "type": "str"}, {"name": "rows", "type": "int"},
    {"name": "accuracy", "type": "float"}, {"name": "precision", "type": "float"},
    {"name": "recall", "type": "float"}, {"name": "f1", "type": "float"},
    {"name": "roc_auc", "type": "float"},
]


class TrainClassifierParams(Params):
    target: str = target_field("The column of classes to predict.")
    features: list[str] = features_field("train")
    algorithm: Literal["logistic_regression", "random_forest", "gradient_boosting",
                       "hist_gradient_boosting"] = Field(
        "random_forest", description="Random forest is a robust default; logistic regression "
        "is simpler and easier to explain; gradient boosting is often more accurate; hist "
        "gradient boosting is the fastest boosting on large tables."
    )
    n_estimators: int = n_estimators_field(
        "Random forest: number of trees; gradient boosting and hist gradient boosting: "
        "boosting rounds.")
    max_depth: int | None = max_depth_field(
        "Trees: deepest a tree may grow; empty for no limit (gradient boosting: 3).")
    learning_rate: float = learning_rate_field(
        "Gradient boosting and hist gradient boosting: how much each tree corrects the ones "
        "before; smaller needs more rounds.")
    C: float = Field(
        1.0, gt=0, description="Logistic regression: smaller values mean stronger regularisation."
    )
    max_iter: int = Field(1000, ge=1, description="Logistic regression: solver iterations.")
    cv_folds: CvFolds = cv_folds_field()
    seed: int = seed_field()
    max_training_rows: int = max_training_rows_field(stratified=True)
    model_name: str = model_name_field()


def _classifier(params: TrainClassifierParams) -> Any:
    if params.algorithm == "logistic_regression":
        # No n_jobs: it has no effect on LogisticRegression since scikit-learn 1.8.
        return LogisticRegression(C=params.C, max_iter=params.max_iter, random_state=params.seed)
    if params.algorithm == "gradient_boosting":
        return GradientBoostingClassifier(
            n_estimators=params.n_estimators, learning_rate=params.learning_rate,
            max_depth=3 if params.max_depth is None else params.max_depth,
            random_state=params.seed)
    if params.algorithm == "hist_gradient_boosting":
        return hist_gradient_boosting(HistGradientBoostingClassifier, params)
    return random_forest(RandomForestClassifier, params)


def _check_target(y: pd.Series, params: TrainClassifierParams) -> None:
    check_complete(y, params.target, "train")
    if y.dtype.kind == "M" or type_of_target(y) == "continuous":
        raise OperatorError(
            f"Target {params.target!r} holds measurements, not classes; choose a column "
            "of categories.", field="target")
    counts = y.value_counts()
    if len(counts) < 2:
        raise OperatorError(
            f"Target {params.target!r} has a single class ({y.iloc[0]!r}); a classifier "
            "needs at least two.", field="target")
    if params.cv_folds and counts.min() < params.cv_folds:
        raise OperatorError(
            f"Class {counts.idxmin()!r} has {counts.min()} row(s); {params.cv_folds}-fold "
            "cross-validation needs at least that many rows of each class.", field="cv_folds")


def _roc_auc(estimator: Any, X: pd.DataFrame, y: pd.Series) -> float:
    """Binary: of the positive class, the second of ``classes_``; more classes: one-vs-rest,
    macro-averaged. NaN where undefined (a single class in ``y``, a class never trained on)."""
    classes, proba = estimator.classes_, probabilities_of(estimator, X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if len(classes) == 2:
                return float(roc_auc_score(y == classes[1], proba[:, 1]))
            return float(roc_auc_score(y, proba, multi_class="ovr", average="macro",
                                       labels=classes))
        except ValueError:
            return float("nan")


def _scores(estimator: Any, X: pd.DataFrame, y: pd.Series) -> dict[str, float]:
    predicted = predictions_of(estimator, X)
    precision, recall, f1, _ = precision_recall_fscore_support(
        y, predicted, average="macro", zero_division=0)
    return {"accuracy": float(accuracy_score(y, predicted)), "precision": float(precision),
            "recall": float(recall), "f1": float(f1), "roc_auc": _roc_auc(estimator, X, y)}


def _confusion(model: TrainedModel, X: pd.DataFrame, y: pd.Series) -> pd.DataFrame:
    """Every (actual, predicted) pair of classes with its count, zeros included."""
    unseen = [v.item() if isinstance(v, np.generic) else v
              for v in pd.unique(y) if v not in model.classes]
    labels = [*model.classes, *unseen]
    matrix = confusion_matrix(y, predictions_of(model.estimator, X), labels=labels)
    return pd.DataFrame(
        [(actual, predicted, int(matrix[i, j]))
         for i, actual in enumerate(labels) for j, predicted in enumerate(labels)],
        columns=["actual", "predicted", "count"])


class TrainClassifier(Operator):
    """Learns to predict a column of classes from the other columns.

    Example: ``{"target": "churned", "features": ["plan", "tenure_months", "monthly_spend"],
    "algorithm": "random_forest"}``; connect the split's ``test`` output to get test metrics.
    Missing numbers are filled with the median, missing text with the most frequent value.

    ``metrics`` has the columns dataset, rows, accuracy, precision, recall, f1 (the last
    three macro-averaged over classes) and roc_auc (two classes: of the second in sorted
    order, "yes" of no/yes; more: one-vs-rest, macro-averaged; empty where undefined), and a
    row per dataset: train, test (when connected), and with ``cv_folds`` cv_mean and cv_std
    (stratified folds of the training table, shuffled with the seed). ``confusion`` counts
    each (actual, predicted) pair of classes on the test table, or on the training table
    when no test table is connected. ``importances`` gives each feature's importance, most
    important first: tree importances, or the mean absolute coefficient on standardised
    inputs (logistic regression), summed over a text column's categories; permutation
    importance on the training rows for hist gradient boosting. ``curves`` (two classes
    only, else empty) has the ROC curve (x: false positive rate, y: true positive rate) and
    the precision-recall curve (x: recall, y: precision) of the second class, on the same
    table as ``confusion``, at most 200 points each, with their area (AUC, average precision).

    A training table larger than ``max_training_rows`` is fitted on a seeded sample of that
    many rows (stratified by the target: each class keeps its share), the same rows on every
    engine; the log says so, the train metrics are of those rows, and the model's registry
    lineage records it. A larger test table is evaluated on a sample of as many rows, chosen
    the same way.
    """

    name = "model.train_classifier"
    label = "Train classifier"
    description = "Train a model that predicts a category, such as churned yes/no."
    category = "model"
    icon = "brain"
    keywords = ("train", "classifier", "classification", "model", "random forest",
                "logistic regression", "gradient boosting", "machine learning", "fit")
    lazy_inputs = True
    version = "4"  # 4: a table past max_training_rows is sampled by the columns it reads
    inputs = (Port("train", "table"), Port("test", "table", optional=True))
    outputs = (Port("model", "model"), Port("metrics", "table"), Port("confusion", "table"),
               Port("importances", "table"), Port("curves", "table"))
    Params = TrainClassifierParams
    example = {"target": "churned",
               "features": ["plan", "tenure_months", "monthly_spend"],
               "algorithm": "random_forest"}

    def fit(self, ctx: Context, params: TrainClassifierParams, train: pd.DataFrame | Table,
            test: pd.DataFrame | Table | None = None) -> TrainedModel:
        model, pipeline = fit_trainer(ctx, params, train, "classify", _classifier(params),
                                      lambda y: _check_target(y, params), stratify=True)
        model.classes = [c.item() if isinstance(c, np.generic) else c
                         for c in pipeline.classes_]
        return model

    def apply(self, ctx: Context, params: TrainClassifierParams, state: TrainedModel,
              train: pd.DataFrame | Table, test: pd.DataFrame | Table | None = None
              ) -> dict[str, Any]:
        with one_thread(), predictions_kept():  # the scores, folds, confusion and
            # importances predict a lot
            result = evaluate(ctx, params, state, train, test, score=_scores,
                              splitter=StratifiedKFold, metrics_schema=METRICS_SCHEMA,
                              stratify=True)
            return {"model": state, "metrics": result.metrics,
                    "confusion": _confusion(state, *result.shown),
                    "importances": result.importances,
                    "curves": binary_curves(state, *result.shown)}

    def infer_schema(self, ctx: Context, params: TrainClassifierParams,
                     train: Schema | None = None,
                     test: Schema | None = None) -> dict[str, Schema | None]:
        model = trained_schema(params, train, "classification")
        confusion = None
        if model is not None:
            label_type = model[-1]["type"]
            confusion = [{"name": "actual", "type": label_type},
                         {"name": "predicted", "type": label_type},
                         {"name": "count", "type": "int"}]
        check_test_schema(params, test, model)
        return {"model": model, "metrics": list(METRICS_SCHEMA), "confusion": confusion,
                "importances": list(IMPORTANCES_SCHEMA), "curves": list(CURVES_SCHEMA)}
