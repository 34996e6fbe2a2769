"""What the model operators share: their common params, choosing features, the one
preprocessing, fitting, the model port's schema and the checks on labelled tables.

Every model is one scikit-learn Pipeline ``[("prepare", preprocessor(...)), (step, estimator)]``
so serving runs exactly the steps training ran.
"""
from __future__ import annotations

import threading
import warnings
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Protocol

import numpy as np
import pandas as pd
from pydantic import AfterValidator, Field
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import ThreadpoolController

from ..base import (
    Context,
    OperatorError,
    Schema,
    TrainedModel,
    column_field,
    require_columns,
    schema_of,
)
from ..tables import Table, as_table
from ._preprocess import fast_transform
from .scoring import check_scoring_table

NUMERIC = ("int", "float")


def _not_one_fold(value: int) -> int:
    if value == 1:
        raise ValueError("use 0 for no cross-validation or 2 to 20 folds")
    return value


# 0 turns cross-validation off; one fold would leave nothing to train on.
CvFolds = Annotated[int, Field(ge=0, le=20), AfterValidator(_not_one_fold)]


class TrainParams(Protocol):
    """The params every supervised trainer has."""

    @property
    def target(self) -> str: ...
    @property
    def features(self) -> list[str]: ...
    @property
    def algorithm(self) -> str: ...
    @property
    def n_estimators(self) -> int: ...
    @property
    def max_depth(self) -> int | None: ...
    @property
    def learning_rate(self) -> float: ...
    @property
    def cv_folds(self) -> int: ...
    @property
    def seed(self) -> int: ...
    @property
    def max_training_rows(self) -> int: ...


def target_field(description: str) -> Any:
    return column_field(..., port="train", description=description)


def features_field(port: str) -> Any:
    # x-columns-except: the form never offers the target as a feature ("All" leaves it out);
    # select_features refuses it when the graph is checked.
    return column_field([], port=port, json_schema_extra={"x-columns-except": "target"},
                        description="Columns to learn from; empty means all other columns.")


# The tree ensembles' settings; each trainer says which of its algorithms use them.
def n_estimators_field(description: str) -> Any:
    return Field(100, ge=1, le=2000, description=description)


def max_depth_field(description: str) -> Any:
    return Field(None, ge=1, description=description)


def learning_rate_field(description: str) -> Any:
    return Field(0.1, gt=0, le=1, description=description)


def random_forest(forest: type, params: TrainParams) -> Any:
    # n_jobs=1: workers are the unit of parallelism (see one_thread).
    return forest(n_estimators=params.n_estimators, max_depth=params.max_depth,
                  random_state=params.seed, n_jobs=1)


def hist_gradient_boosting(booster: type, params: TrainParams) -> Any:
    # Its boosting rounds are max_iter; n_estimators names them for every ensemble.
    return booster(max_iter=params.n_estimators, learning_rate=params.learning_rate,
                   max_depth=params.max_depth, random_state=params.seed)


def cv_folds_field() -> Any:
    return Field(0, description="Cross-validate on the training table with this many folds "
                 "(2 to 20) and add cv_mean and cv_std rows to the metrics; 0 for none.")


def seed_field() -> Any:
    return Field(42, description="Random seed: the same seed gives the same model.")


MAX_TRAINING_ROWS = 1_000_000


def max_training_rows_field(stratified: bool) -> Any:
    how = "a sample stratified by the target" if stratified else "a sample"
    return Field(MAX_TRAINING_ROWS, gt=0, description=(
        f"Learn from at most this many rows: a larger table is read as {how}, chosen by the "
        "seed (the same rows on every run), and the node's log and the model's lineage say "
        "so. Larger tables take more memory and time."))


MODEL_NAME_MAX = 200


def model_name_field() -> Any:
    return Field("", max_length=MODEL_NAME_MAX, description=(
        "The name the model registry shows for the model this node trains; empty: the "
        "pipeline's name and this node's label. Renaming it, the node or the pipeline keeps "
        "one model: its versions and aliases stay."))


def select_features(schema: Schema, features: list[str], target: str | None) -> list[str]:
    """The feature names after checking ``target`` and ``features`` against ``schema``; no
    features means every column but the target."""
    if target is not None:
        require_columns(schema, [target], field="target")
        if target in features:
            raise OperatorError(f"The target {target!r} cannot also be a feature.",
                                field="features")
    chosen = features or [c["name"] for c in schema if c["name"] != target]
    require_columns(schema, chosen, field="features")
    if not chosen:
        raise OperatorError("There is no column to learn from besides the target.",
                            field="features")
    dates = [c["name"] for c in schema if c["name"] in chosen and c["type"] == "datetime"]
    if dates:
        raise OperatorError(f"Date columns cannot be features: {', '.join(dates)}.",
                            field="features")
    return chosen


def preprocessor(features: Schema, *, dense: bool = False) -> ColumnTransformer:
    """Numbers: median for missing values, then standardised. Anything else: the most
    frequent value for missing ones, then one-hot (a category unseen in training is all
    zeros). ``dense`` for estimators that refuse sparse input (hist gradient boosting)."""
    numeric = [c["name"] for c in features if c["type"] in NUMERIC]
    categorical = [c["name"] for c in features if c["type"] not in NUMERIC]
    # Scaling is needed by linear models and k-means and changes nothing for trees.
    steps: list[tuple[str, Any, list[str]]] = []
    if numeric:
        steps.append(("numeric", make_pipeline(
            SimpleImputer(strategy="median"), StandardScaler()), numeric))
    if categorical:
        steps.append(("categorical", make_pipeline(
            SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
            categorical))
    return ColumnTransformer(steps, sparse_threshold=0 if dense else 0.3)


@cache
def _openmp() -> ThreadpoolController:
    # Looked up once: finding the loaded libraries takes milliseconds, limiting them does not.
    return ThreadpoolController().select(user_api="openmp")


def one_thread() -> Any:
    """A context in which OpenMP code (hist gradient boosting, k-means) runs on the calling
    thread only, as the forests run with n_jobs=1: workers are the unit of parallelism, and
    OpenMP threads spinning on a busy machine made a fit ten times slower. Results do not
    change."""
    return _openmp().limit(limits=1)


def prepared(estimator: Any, X: pd.DataFrame) -> tuple[Any, Any]:
    """A Pipeline's preprocessing run once, for predict and predict_proba both (exactly what
    Pipeline.predict does inside, without doing it twice): the final step and its input.
    The preprocessing step is computed in numpy where it can be, to the same numbers
    (``_preprocess``)."""
    if isinstance(estimator, Pipeline) and len(estimator.steps) > 1:
        # Step by step, as Pipeline.transform does without metadata routing (never used
        # here): slicing the Pipeline made a new one per call, 0.1 ms of a served row's 3.
        for _name, step in estimator.steps[:-1]:
            if step is not None and step != "passthrough":
                plan = fast_transform(step)
                Xt = plan(X) if plan is not None else None
                X = step.transform(X) if Xt is None else Xt
        return estimator.steps[-1][1], X
    return estimator, X


# Classifiers whose predict is, in scikit-learn's own code, the most probable class
# (``classes_.take(argmax(predict_proba(X)))``: a forest's vote). Their predictions are
# taken from the probabilities: one pass over the trees instead of two (a one-row answer
# of a 100-tree forest, the default algorithm: 7.2 to 3.6 ms). Exact types only: a
# subclass (a model file's) may predict otherwise.
_PREDICTS_MOST_PROBABLE = (RandomForestClassifier, ExtraTreesClassifier)


def most_probable(final: Any, proba: Any) -> Any | None:
    """``final.predict`` of the rows whose ``final.predict_proba`` is ``proba``, where the
    estimator defines it as their most probable class; else None (call predict)."""
    if type(final) in _PREDICTS_MOST_PROBABLE and getattr(final, "n_outputs_", 0) == 1:
        return final.classes_.take(np.argmax(proba, axis=1), axis=0)
    return None


_kept = threading.local()


@contextmanager
def predictions_kept() -> Iterator[None]:
    """Within it, ``predictions_of`` and ``probabilities_of`` of the table they were last
    asked for (by the same estimator) are computed once, its preprocessing once for both: a
    trainer's metrics, confusion and curves score the same rows up to four times (a 1M-row
    sample: 3.5 s to 1.5 s). One table is kept, per thread, until the block ends."""
    outer = getattr(_kept, "last", None)
    _kept.last = outer or [None]
    try:
        yield
    finally:
        if outer is None:
            _kept.last = None


def predictions_of(estimator: Any, X: pd.DataFrame) -> Any:
    return _answer(estimator, X, "predict")


def probabilities_of(estimator: Any, X: pd.DataFrame) -> Any:
    return _answer(estimator, X, "predict_proba")


def _answer(estimator: Any, X: pd.DataFrame, method: str) -> Any:
    slot = getattr(_kept, "last", None)
    if slot is None:
        return getattr(estimator, method)(X)
    if slot[0] is None or slot[0][0] is not estimator or slot[0][1] is not X:
        slot[0] = (estimator, X, *prepared(estimator, X), {})
    final, Xt, answers = slot[0][2:]
    if method not in answers:
        found = None
        if method == "predict" and type(final) in _PREDICTS_MOST_PROBABLE:
            found = most_probable(final, _answer(estimator, X, "predict_proba"))
        answers[method] = found if found is not None else getattr(final, method)(Xt)
    return answers[method]


def fit_logged(ctx: Context, pipeline: Any, X: pd.DataFrame, y: pd.Series | None = None) -> None:
    """Fit, logging scikit-learn's warnings (e.g. "did not converge") once each: worth
    showing, not worth failing."""
    with warnings.catch_warnings(record=True) as caught, one_thread():
        warnings.simplefilter("always")
        pipeline.fit(X, y)
    for message in dict.fromkeys(str(w.message) for w in caught):
        ctx.log(f"Warning: {message}")


@dataclass(frozen=True)
class Sample:
    """The rows a model learns from (or is evaluated on): all of a table's, or a seeded sample
    of at most ``max_training_rows`` of its ``of_rows`` rows."""

    frame: pd.DataFrame
    of_rows: int
    stratified: bool = False

    @property
    def sampled(self) -> bool:
        return len(self.frame) < self.of_rows

    def describe(self) -> str:
        """ "a stratified sample of 500 of 5,000" """
        kind = "stratified sample" if self.stratified else "sample"
        return f"a {kind} of {len(self.frame):,} of {self.of_rows:,}"


# Types whose values are classes: a classifier's training sample keeps their proportions. A
# float or date target is refused by the trainer's checks; stratifying on it would keep
# almost nothing (each distinct value its own stratum).
_STRATA_TYPES = ("str", "bool", "int")


def stratum_column(table: Table, column: str | None) -> str | None:
    types = {c["name"]: c["type"] for c in table.schema}
    return column if column is not None and types.get(column) in _STRATA_TYPES else None


def bounded_sample(table: pd.DataFrame | Table, *, limit: int, seed: int,
                   stratify: str | None = None, columns: list[str] | None = None) -> Sample:
    """``table`` whole when it has at most ``limit`` rows, else the rows
    ``Table.sample(limit, seed=seed, stratify=..., columns=...)`` picks (the same on a
    DataFrame, a Parquet file and every engine), in the table's order: of ``columns`` only
    when given (the columns the model reads: rows equal on them are alike to it, and only
    they are hashed and held). Only this many rows are in memory."""
    t = as_table(table)
    by = stratum_column(t, stratify)
    if t.rows <= limit:
        return Sample(t.to_pandas(), t.rows, by is not None)
    return Sample(t.sample(limit, seed=seed, stratify=by, columns=columns), t.rows,
                  by is not None)


def model_columns(model: TrainedModel) -> list[str]:
    """The columns a model reads from a table: its features, then its target if it has one."""
    names = [c["name"] for c in model.features]
    return names + ([model.target] if model.target and model.target not in names else [])


# The training sample a trainer's fit drew, kept for its apply (which evaluates the model on
# it) so a big table is sampled once: keyed by the model's id, dropped when apply takes it or
# the model is collected.
_SAMPLES: dict[int, tuple[weakref.ref[TrainedModel], Sample]] = {}


def remember_sample(model: TrainedModel, sample: Sample) -> None:
    key = id(model)
    _SAMPLES[key] = (weakref.ref(model, lambda _: _SAMPLES.pop(key, None)), sample)


def training_sample(model: TrainedModel, table: pd.DataFrame | Table, *, limit: int,
                    seed: int, stratify: str | None = None) -> Sample:
    """The sample ``model`` was fitted on: the one its fit remembered, else drawn again (the
    same rows: the choice is seeded)."""
    kept = _SAMPLES.pop(id(model), None)
    if kept is not None and kept[0]() is model:
        return kept[1]
    return bounded_sample(table, limit=limit, seed=seed, stratify=stratify,
                          columns=model_columns(model))


def log_sample(ctx: Context, sample: Sample, doing: str, what: str = "") -> None:
    """ "Trained on a stratified sample of 1,000,000 of 50,000,000 rows (max_training_rows)." """
    if sample.sampled:
        rows = f"{what} rows" if what else "rows"
        ctx.log(f"{doing} on {sample.describe()} {rows} (max_training_rows).")


def fit_trainer(ctx: Context, params: TrainParams, train: pd.DataFrame | Table, step: str,
                estimator: Any, check_target: Callable[[pd.Series], None], *,
                stratify: bool) -> tuple[TrainedModel, Pipeline]:
    """Check the training table and its target, then fit the model's Pipeline
    ``[("prepare", preprocessor(...)), (step, estimator)]`` on at most
    ``params.max_training_rows`` of its rows (stratified by the target when ``stratify``).
    Returns the model (its task, classes and algorithm for the caller to fill in) and the
    fitted pipeline."""
    table = as_table(train)
    features = select_features(table.schema, params.features, params.target)
    sample = bounded_sample(table, limit=params.max_training_rows, seed=params.seed,
                            stratify=params.target if stratify else None,
                            columns=[*features, params.target])
    frame = sample.frame
    check_not_empty(frame, "training")
    y = frame[params.target]
    check_target(y)
    feature_schema = schema_of(frame[features])
    dense = params.algorithm == "hist_gradient_boosting"  # it refuses sparse input
    pipeline = Pipeline([("prepare", preprocessor(feature_schema, dense=dense)),
                         (step, estimator)])
    log_sample(ctx, sample, "Trained")
    fit_logged(ctx, pipeline, frame[features], y)
    ctx.log(f"Trained {params.algorithm} on {len(frame)} rows, {len(features)} features.")
    model = TrainedModel(estimator=pipeline, features=feature_schema, target=params.target,
                         algorithm=params.algorithm, training_rows=len(frame),
                         sampled_from=sample.of_rows if sample.sampled else None)
    remember_sample(model, sample)
    return model, pipeline


def check_not_empty(table: pd.DataFrame, what: str) -> None:
    if table.empty:
        raise OperatorError(f"The {what} table is empty.")


def check_complete(y: pd.Series, target: str, what: str) -> None:
    missing = int(y.isna().sum())
    if missing:
        raise OperatorError(
            f"Target {target!r} has {missing} missing value(s) in the {what} table; "
            "filter them out first.",
            field="target",
        )


def labelled(model: TrainedModel, what: str, table: pd.DataFrame
             ) -> tuple[pd.DataFrame, pd.Series]:
    """The features and target of a table to evaluate ``model`` on, after checking them."""
    check_not_empty(table, what)
    features = check_scoring_table(model, table, what=f"{what} table", field="features")
    require_columns(schema_of(table), [model.target], field="target")
    y = table[model.target]
    check_complete(y, model.target, what)
    return table[features], y


def model_port_schema(train: Schema, features: list[str], target: str,
                      task: str) -> Schema:
    """A model port's schema: the feature columns, then the target (always last). A
    regressor's target column also carries ``"task": "regression"``, which tells
    ``model.predict`` to announce a float prediction and no probability; a target column
    without ``task`` is a classifier's (and a model whose schema is unknown is treated as one)."""
    by_name = {c["name"]: c for c in train}
    target_column = dict(by_name[target])
    if task == "regression":
        target_column["task"] = "regression"
    return [by_name[f] for f in features] + [target_column]


def trained_schema(params: TrainParams, train: Schema | None, task: str) -> Schema | None:
    """A trainer's model port schema; None while the training table's schema is unknown."""
    if train is None:
        return None
    features = select_features(train, params.features, params.target)
    return model_port_schema(train, features, params.target, task)


def check_test_schema(params: TrainParams, test: Schema | None, model: Schema | None) -> None:
    """A test table, where its schema is known, has the model's features (the chosen ones
    while the model's are unknown) and the target."""
    features = params.features if model is None else [c["name"] for c in model[:-1]]
    require_columns(test, features, field="features")
    require_columns(test, [params.target], field="target")


def task_of(model_schema: Schema | None) -> str:
    if model_schema and model_schema[-1].get("task") == "regression":
        return "regression"
    return "classification"
