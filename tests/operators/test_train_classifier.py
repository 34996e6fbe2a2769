from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline

from operators import LocalContext, OperatorError, TrainedModel, get_operator, schema_of
from operators.connectors.sample import load_sample

from .model_helpers import (
    assert_rejected,
    column_kinds,
    count_transforms,
    script_pipeline,
    trainer,
)

op = get_operator("model.train_classifier")
METRIC_COLUMNS = ["dataset", "rows", "accuracy", "precision", "recall", "f1", "roc_auc"]
ALGORITHMS = ["logistic_regression", "random_forest", "gradient_boosting",
              "hist_gradient_boosting"]
SMALL = pd.DataFrame({
    "age": [20, 30, 40, 50, 60, 70],
    "plan": ["a", "b", "a", "b", "a", None],
    "spend": [1.0, np.nan, 3.0, 4.0, 5.0, 6.0],
    "label": ["no", "no", "no", "yes", "yes", "yes"],
})
train = trainer(op.name, "label", SMALL)


def by_hand(algorithm: str, numeric: list[str], categorical: list[str], seed: int) -> Pipeline:
    """What a data scientist would write in a plain script."""
    clf: Any
    if algorithm == "logistic_regression":
        clf = LogisticRegression(C=1.0, max_iter=1000, random_state=seed)
    elif algorithm == "gradient_boosting":
        clf = GradientBoostingClassifier(n_estimators=100, learning_rate=0.1, max_depth=3,
                                         random_state=seed)
    elif algorithm == "hist_gradient_boosting":
        clf = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, random_state=seed)
    else:
        clf = RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=1)
    return script_pipeline(numeric, categorical, clf,
                           dense=algorithm == "hist_gradient_boosting")


def script_scores(pipeline: Pipeline, X: pd.DataFrame, y: pd.Series) -> list[float]:
    """The metrics row a data scientist would compute for ``pipeline`` on (X, y)."""
    predicted, proba = pipeline.predict(X), pipeline.predict_proba(X)
    precision, recall, f1, _ = precision_recall_fscore_support(y, predicted, average="macro",
                                                               zero_division=0)
    if len(pipeline.classes_) == 2:
        auc = roc_auc_score(y == pipeline.classes_[1], proba[:, 1])
    else:
        auc = roc_auc_score(y, proba, multi_class="ovr", average="macro")
    return [accuracy_score(y, predicted), precision, recall, f1, auc]


@pytest.mark.slow  # trains every algorithm on three data sets, twice
@pytest.mark.parametrize(("dataset", "target"), [
    ("iris", "target"), ("breast_cancer", "target"), ("customers", "churned")])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_it_predicts_exactly_what_the_same_scikit_learn_script_predicts(
        dataset: str, target: str, algorithm: str) -> None:
    table = load_sample(dataset).drop(columns=["customer_id", "email", "name"], errors="ignore")
    train_rows, test_rows = train_test_split(table, test_size=0.3, random_state=0)
    features, numeric, categorical = column_kinds(table, target)

    out = train(train_rows, test_rows, target=target, algorithm=algorithm, seed=3)
    script = by_hand(algorithm, numeric, categorical, seed=3)
    script.fit(train_rows[features], train_rows[target])

    model = out["model"]
    np.testing.assert_array_equal(model.estimator.predict(test_rows[features]),
                                  script.predict(test_rows[features]))
    np.testing.assert_array_equal(model.estimator.predict_proba(test_rows[features]),
                                  script.predict_proba(test_rows[features]))
    test_metrics = out["metrics"].set_index("dataset").loc["test", METRIC_COLUMNS[2:]]
    assert test_metrics.tolist() == script_scores(script, test_rows[features], test_rows[target])


def test_it_reports_train_and_test_metrics() -> None:
    table = load_sample("iris")
    train_rows, test_rows = train_test_split(table, test_size=0.3, random_state=0)
    metrics = train(train_rows, test_rows, target="target")["metrics"]
    assert list(metrics.columns) == METRIC_COLUMNS
    assert metrics["dataset"].tolist() == ["train", "test"]
    assert metrics["rows"].tolist() == [105, 45]
    assert metrics.loc[1, "accuracy"] > 0.85
    assert schema_of(metrics) == op.infer_schema(
        LocalContext(), op.parse_params({"target": "target"}))["metrics"]


def test_without_a_test_table_it_reports_train_metrics_only() -> None:
    metrics = train()["metrics"]
    assert metrics["dataset"].tolist() == ["train"]
    assert metrics.loc[0, "rows"] == 6


def test_the_rows_shown_are_preprocessed_once_for_metrics_confusion_and_curves(
        monkeypatch) -> None:
    """Without a test table the metrics, confusion and curves are all of the training rows:
    the model's preprocessing runs on them once for all of them (a big table's 1M-row
    sample took 2 s more per extra pass), and their values are what scikit-learn gives."""
    table = load_sample("breast_cancer")
    transformed = count_transforms(monkeypatch)
    # scikit-learn's transform counted, so the numpy plan of it (_preprocess) is put aside.
    monkeypatch.setattr("operators.models._common.fast_transform", lambda step: None)
    out = trainer(op.name, "target", table)(table)
    assert transformed == [len(table)]
    monkeypatch.undo()
    X, y = table.drop(columns=["target"]), table["target"]
    model = out["model"].estimator
    predicted = model.predict(X)
    assert out["metrics"].loc[0, "accuracy"] == accuracy_score(y, predicted)
    assert out["metrics"].loc[0, "roc_auc"] == roc_auc_score(y == model.classes_[1],
                                                             model.predict_proba(X)[:, 1])
    counts = out["confusion"].set_index(["actual", "predicted"])["count"]
    assert counts.tolist() == confusion_matrix(y, predicted, labels=model.classes_).ravel(
        ).tolist()
    # Nothing is held once the node is done.
    from operators.models import _common
    assert getattr(_common._kept, "last", None) is None


def test_the_model_remembers_its_features_target_classes_and_algorithm() -> None:
    model = train(features=["age", "plan"], algorithm="logistic_regression")["model"]
    assert isinstance(model, TrainedModel)
    assert model.features == [{"name": "age", "type": "int"}, {"name": "plan", "type": "str"}]
    assert model.target == "label"
    assert model.classes == ["no", "yes"] and all(type(c) is str for c in model.classes)
    assert model.algorithm == "logistic_regression"


def test_no_features_means_every_column_but_the_target() -> None:
    model = train()["model"]
    assert [c["name"] for c in model.features] == ["age", "plan", "spend"]


def test_integer_classes_are_kept_as_python_ints() -> None:
    table = SMALL.assign(label=[0, 0, 0, 1, 1, 1])
    assert train(table)["model"].classes == [0, 1]
    assert type(train(table)["model"].classes[0]) is int


def test_a_solver_that_does_not_converge_is_logged_not_fatal() -> None:
    ctx = LocalContext()
    train(load_sample("breast_cancer"), ctx=ctx, target="target",
          algorithm="logistic_regression", max_iter=1)
    assert any("converge" in line for line in ctx.logs)


def test_its_model_schema_is_the_features_then_the_target() -> None:
    schema = schema_of(SMALL)
    params = op.parse_params({"target": "label", "features": ["spend", "age"]})
    assert op.infer_schema(LocalContext(), params, train=schema)["model"] == [
        {"name": "spend", "type": "float"}, {"name": "age", "type": "int"},
        {"name": "label", "type": "str"}]
    assert op.infer_schema(LocalContext(), params, train=None)["model"] is None


@pytest.mark.parametrize(("raw", "field"), [
    ({"target": "lable"}, "target"),
    ({"features": ["age", "agee"]}, "features"),
    ({"features": ["age", "label"]}, "features"),
])
def test_it_rejects_columns_that_are_missing_or_misused(raw: dict, field: str) -> None:
    assert_rejected(op.name, {"target": "label", **raw}, SMALL, field)


def test_it_rejects_a_test_table_without_the_target() -> None:
    params = op.parse_params({"target": "label"})
    with pytest.raises(OperatorError) as err:
        op.infer_schema(LocalContext(), params, train=schema_of(SMALL),
                        test=schema_of(SMALL.drop(columns="label")))
    assert err.value.field == "target"
    with pytest.raises(OperatorError) as err:
        train(SMALL, SMALL.drop(columns="label"))
    assert err.value.field == "target"


def test_it_rejects_a_target_with_a_single_class() -> None:
    with pytest.raises(OperatorError, match="single class") as err:
        train(SMALL.assign(label="yes"))
    assert err.value.field == "target"


def test_it_rejects_a_target_of_measurements() -> None:
    with pytest.raises(OperatorError, match="not classes") as err:
        train(SMALL.assign(spend=[1.5, 2.5, 3.1, 4.2, 5.3, 6.4]), target="spend",
              features=["age"])
    assert err.value.field == "target"


def test_it_rejects_a_target_with_missing_values() -> None:
    with pytest.raises(OperatorError, match="1 missing") as err:
        train(SMALL.assign(label=["no", None, "no", "yes", "yes", "yes"]))
    assert err.value.field == "target"


def test_it_rejects_an_empty_training_or_test_table() -> None:
    with pytest.raises(OperatorError, match="training table is empty"):
        train(SMALL.iloc[:0])
    with pytest.raises(OperatorError, match="test table is empty"):
        train(SMALL, SMALL.iloc[:0])


def test_it_rejects_date_features() -> None:
    table = SMALL.assign(joined=pd.date_range("2024-01-01", periods=6))
    with pytest.raises(OperatorError, match="joined") as err:
        train(table)
    assert err.value.field == "features"


@pytest.mark.parametrize("raw", [{}, {"target": "label", "n_estimators": 0},
                                 {"target": "label", "n_estimators": 2001},
                                 {"target": "label", "C": 0},
                                 {"target": "label", "max_depth": 0},
                                 {"target": "label", "algorithm": "svm"},
                                 {"target": "label", "learning_rate": 0},
                                 {"target": "label", "learning_rate": 1.5},
                                 {"target": "label", "cv_folds": 1},
                                 {"target": "label", "cv_folds": 21},
                                 {"target": "label", "cv_folds": -1},
                                 {"target": "label", "depth": 3}])
def test_it_rejects_impossible_params(raw: dict) -> None:
    with pytest.raises(ValidationError):
        op.parse_params(raw)


# --- cross-validation, ROC AUC, confusion and importances -------------------------------------

@pytest.mark.slow  # five folds per algorithm, twice
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_cross_validation_scores_the_same_folds_a_script_would(algorithm: str) -> None:
    table = load_sample("iris")
    features = [c for c in table.columns if c != "target"]
    X, y = table[features], table["target"]
    scores = []
    for fit_rows, held_out in StratifiedKFold(4, shuffle=True, random_state=5).split(X, y):
        script = by_hand(algorithm, features, [], seed=5)
        script.fit(X.iloc[fit_rows], y.iloc[fit_rows])
        scores.append(script_scores(script, X.iloc[held_out], y.iloc[held_out]))

    metrics = train(table, target="target", algorithm=algorithm, cv_folds=4, seed=5)["metrics"]
    assert metrics["dataset"].tolist() == ["train", "cv_mean", "cv_std"]
    assert metrics["rows"].tolist() == [150, 150, 150]
    cv = metrics.set_index("dataset")[METRIC_COLUMNS[2:]]
    np.testing.assert_allclose(cv.loc["cv_mean"], np.mean(scores, axis=0), rtol=1e-12)
    np.testing.assert_allclose(cv.loc["cv_std"], np.std(scores, axis=0), rtol=1e-9, atol=1e-15)


def test_cross_validation_reports_progress_fold_by_fold() -> None:
    ctx = LocalContext()
    train(load_sample("iris"), ctx=ctx, target="target", cv_folds=3)
    np.testing.assert_allclose(ctx.progress_values, [1 / 3, 2 / 3, 1])


def test_it_rejects_too_few_rows_of_a_class_for_the_folds() -> None:
    # SMALL has three rows of each class.
    assert train(cv_folds=3)["metrics"]["dataset"].tolist() == ["train", "cv_mean", "cv_std"]
    with pytest.raises(OperatorError, match="has 3 row") as err:
        train(cv_folds=4)
    assert err.value.field == "cv_folds"


def test_roc_auc_is_empty_when_the_test_table_holds_a_single_class() -> None:
    metrics = train(SMALL, SMALL[SMALL["label"] == "yes"])["metrics"]
    assert np.isnan(metrics.loc[1, "roc_auc"]) and metrics.loc[1, "accuracy"] >= 0


def test_the_confusion_counts_every_pair_of_classes_on_the_test_table() -> None:
    table = load_sample("iris")
    train_rows, test_rows = train_test_split(table, test_size=0.3, random_state=0)
    out = train(train_rows, test_rows, target="target", algorithm="logistic_regression")
    confusion, model = out["confusion"], out["model"]
    classes = model.classes
    assert list(confusion.columns) == ["actual", "predicted", "count"]
    assert confusion[["actual", "predicted"]].values.tolist() == [
        [a, p] for a in classes for p in classes]
    predicted = model.estimator.predict(test_rows[[c["name"] for c in model.features]])
    expected = confusion_matrix(test_rows["target"], predicted, labels=classes)
    assert confusion["count"].tolist() == expected.ravel().tolist()
    assert confusion["count"].sum() == len(test_rows)
    params = op.parse_params({"target": "target"})
    assert schema_of(confusion) == op.infer_schema(
        LocalContext(), params, train=schema_of(table))["confusion"]


def test_without_a_test_table_the_confusion_is_on_the_training_table() -> None:
    table = SMALL.assign(label=[0, 0, 0, 1, 1, 1])
    confusion = train(table)["confusion"]
    assert confusion["count"].sum() == 6
    assert schema_of(confusion) == [{"name": "actual", "type": "int"},
                                    {"name": "predicted", "type": "int"},
                                    {"name": "count", "type": "int"}]


def test_a_class_only_in_the_test_table_gets_its_own_rows() -> None:
    test = SMALL.assign(label=["no", "no", "maybe", "yes", "yes", "yes"])
    confusion = train(SMALL, test)["confusion"].set_index(["actual", "predicted"])["count"]
    assert len(confusion) == 9 and confusion.loc[("maybe", "maybe")] == 0
    assert confusion.loc["maybe"].sum() == 1


def importances_by_hand(script: Pipeline, categorical: list[str]) -> dict[str, float]:
    """Importance per input column, from the names get_feature_names_out gives."""
    final = script[-1]
    values = getattr(final, "feature_importances_", None)
    if values is None:
        values = np.abs(final.coef_).mean(axis=0)
    totals: dict[str, float] = {}
    for name, value in zip(script[0].get_feature_names_out(), values, strict=True):
        block, column = name.split("__", 1)
        if block == "cat":
            column = next(c for c in categorical if column.startswith(f"{c}_"))
        totals[column] = totals.get(column, 0.0) + value
    return totals


@pytest.mark.parametrize("algorithm", ["logistic_regression", "random_forest",
                                       "gradient_boosting"])
def test_importances_sum_each_columns_share_over_its_categories(algorithm: str) -> None:
    table = load_sample("customers").drop(columns=["customer_id", "email", "name"])
    features, numeric, categorical = column_kinds(table, "churned")
    script = by_hand(algorithm, numeric, categorical, seed=1)
    script.fit(table[features], table["churned"])

    importances = train(table, target="churned", algorithm=algorithm, seed=1)["importances"]
    assert list(importances.columns) == ["feature", "importance"]
    assert importances["importance"].is_monotonic_decreasing
    got = dict(zip(importances["feature"], importances["importance"], strict=True))
    assert got.keys() == set(features)
    expected = importances_by_hand(script, categorical)
    for column in features:
        assert got[column] == pytest.approx(expected[column], rel=1e-12), column


@pytest.mark.slow  # permutation importances
def test_hist_gradient_boosting_importances_are_permutation_importances() -> None:
    table = load_sample("breast_cancer")
    features = [c for c in table.columns if c != "target"]
    script = by_hand("hist_gradient_boosting", features, [], seed=2)
    script.fit(table[features], table["target"])
    expected = permutation_importance(script, table[features], table["target"], n_repeats=5,
                                      random_state=2)

    importances = train(table, target="target", algorithm="hist_gradient_boosting",
                        seed=2)["importances"].set_index("feature")["importance"]
    np.testing.assert_allclose(importances[features], expected.importances_mean, rtol=1e-12)


@pytest.mark.filterwarnings("ignore:Skipping features without any observed values")
def test_a_column_with_no_values_gets_no_importance() -> None:
    ctx = LocalContext()
    importances = train(SMALL.assign(empty=np.nan), ctx=ctx)["importances"]
    assert importances.set_index("feature").loc["empty", "importance"] == 0
    assert any("empty" in line for line in ctx.logs)


def test_the_new_outputs_schemas_match_what_it_outputs() -> None:
    out = train(SMALL)
    inferred = op.infer_schema(LocalContext(), op.parse_params({"target": "label"}),
                               train=schema_of(SMALL))
    for port in ("metrics", "confusion", "importances", "curves"):
        assert schema_of(out[port]) == inferred[port], port
    assert [p.name for p in op.outputs] == ["model", "metrics", "confusion", "importances",
                                            "curves"]


def test_binary_curves_match_scikit_learn_and_stay_bounded() -> None:
    from sklearn.metrics import average_precision_score, roc_curve

    rng = np.random.default_rng(0)
    table = pd.DataFrame({"x": rng.normal(size=2000), "z": rng.normal(size=2000)})
    table["label"] = np.where(table["x"] + rng.normal(size=2000) > 0, "yes", "no")
    out = trainer(op.name, "label", table)(table, algorithm="logistic_regression")
    curves = out["curves"]
    roc, pr = curves[curves["curve"] == "roc"], curves[curves["curve"] == "pr"]
    assert 2 < len(roc) <= 200 and 2 < len(pr) <= 200
    model = out["model"]
    score = model.estimator.predict_proba(table[["x", "z"]])[:, 1]
    fpr, tpr, _ = roc_curve(table["label"] == "yes", score)
    assert (roc["x"].iloc[0], roc["y"].iloc[0]) == (fpr[0], tpr[0])
    assert (roc["x"].iloc[-1], roc["y"].iloc[-1]) == (1.0, 1.0)
    metrics = out["metrics"].set_index("dataset")
    assert roc["area"].iloc[0] == pytest.approx(metrics.loc["train", "roc_auc"])
    assert pr["area"].iloc[0] == pytest.approx(
        average_precision_score(table["label"] == "yes", score))
    assert pr["x"].is_monotonic_increasing  # recall from 0 to 1


def test_more_than_two_classes_have_no_curves() -> None:
    iris = load_sample("iris")
    out = trainer(op.name, "target", iris)(iris)
    assert out["curves"].empty
    assert [c["name"] for c in schema_of(out["curves"])] == ["curve", "x", "y", "threshold",
                                                             "area"]
