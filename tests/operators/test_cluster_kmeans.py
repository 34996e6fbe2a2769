from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.metrics import silhouette_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from operators import LocalContext, OperatorError, get_operator, schema_of
from operators.connectors.sample import load_sample
from operators.models import cluster_kmeans

op = get_operator("model.cluster_kmeans")
METRIC_COLUMNS = ["rows", "n_clusters", "inertia", "silhouette"]
CUSTOMERS = load_sample("customers")
FEATURES = ["plan", "tenure_months", "monthly_spend", "support_tickets"]
SMALL = pd.DataFrame({"x": [1.0, 1.1, 5.0, 5.2, 9.0, 9.1], "kind": list("aabbcc")})


def cluster(table: pd.DataFrame = SMALL, **raw: Any) -> dict[str, pd.DataFrame]:
    return op.run(LocalContext(), op.parse_params(raw), table=table)


def by_hand(numeric: list[str], categorical: list[str], n_clusters: int, seed: int) -> Pipeline:
    """What a data scientist would write in a plain script."""
    steps = []
    if numeric:
        steps.append(("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                      numeric))
    if categorical:
        steps.append(("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                           OneHotEncoder(handle_unknown="ignore")), categorical))
    return Pipeline([("prep", ColumnTransformer(steps)),
                     ("km", KMeans(n_clusters=n_clusters, n_init=10, random_state=seed))])


@pytest.mark.parametrize(("dataset", "numeric", "categorical"), [
    ("iris", ["sepal_length", "sepal_width", "petal_length", "petal_width"], []),
    ("customers", ["tenure_months", "monthly_spend", "support_tickets"], ["plan", "country"]),
])
@pytest.mark.parametrize("n_clusters", [2, 5])
def test_it_clusters_exactly_as_the_same_scikit_learn_script(
        dataset: str, numeric: list[str], categorical: list[str], n_clusters: int) -> None:
    table = load_sample(dataset)
    features = numeric + categorical
    out = cluster(table, features=features, n_clusters=n_clusters, seed=7)
    script = by_hand(numeric, categorical, n_clusters, seed=7)
    labels = script.fit_predict(table[features])

    np.testing.assert_array_equal(out["table"]["cluster"], labels)
    metrics = out["metrics"].iloc[0]
    assert metrics["rows"] == len(table) and metrics["n_clusters"] == n_clusters
    assert metrics["inertia"] == pytest.approx(script[-1].inertia_, rel=1e-12)
    Xt = script[0].transform(table[features])
    assert metrics["silhouette"] == pytest.approx(silhouette_score(Xt, labels), rel=1e-12)


def test_it_adds_the_cluster_last_and_keeps_every_row() -> None:
    out = cluster(CUSTOMERS, features=FEATURES, n_clusters=4)["table"]
    assert list(out.columns) == [*CUSTOMERS.columns, "cluster"]
    pd.testing.assert_frame_equal(out[list(CUSTOMERS.columns)], CUSTOMERS)
    assert sorted(out["cluster"].unique()) == [0, 1, 2, 3]
    assert out["cluster"].dtype == "int64"


def test_an_existing_cluster_column_is_replaced() -> None:
    out = cluster(SMALL.assign(cluster="old"), features=["x"])["table"]
    assert list(out.columns) == ["x", "kind", "cluster"] and out["cluster"].dtype == "int64"


def test_no_features_means_every_column() -> None:
    state = op.fit(LocalContext(), op.parse_params({}), table=SMALL)
    assert state.features == [{"name": "x", "type": "float"}, {"name": "kind", "type": "str"}]


def test_the_metrics_have_a_fixed_schema() -> None:
    metrics = cluster(n_clusters=3)["metrics"]
    assert list(metrics.columns) == METRIC_COLUMNS
    assert schema_of(metrics) == op.infer_schema(LocalContext(), op.parse_params({}),
                                                 table=None)["metrics"]
    assert metrics.loc[0, "silhouette"] > 0.5  # three well separated pairs


def test_the_silhouette_is_empty_when_every_row_is_its_own_cluster() -> None:
    metrics = cluster(SMALL.head(3), n_clusters=3)["metrics"]
    assert np.isnan(metrics.loc[0, "silhouette"]) and metrics.loc[0, "inertia"] == 0


def test_a_large_table_gets_the_silhouette_of_a_seeded_sample(monkeypatch: Any) -> None:
    monkeypatch.setattr(cluster_kmeans, "SILHOUETTE_ROWS", 50)
    table = load_sample("iris").drop(columns="target")
    out = cluster(table, n_clusters=3, seed=1)
    script = by_hand(list(table.columns), [], 3, seed=1)
    labels = script.fit_predict(table)
    expected = silhouette_score(script[0].transform(table), labels, sample_size=50,
                                random_state=1)
    assert out["metrics"].loc[0, "silhouette"] == pytest.approx(expected, rel=1e-12)


def test_serving_assigns_new_rows_to_the_clusters_learned_in_training() -> None:
    params = op.parse_params({"features": FEATURES, "n_clusters": 4})
    state = op.fit(LocalContext(), params, table=CUSTOMERS)
    new_rows = CUSTOMERS.tail(20).drop(columns=["churned"])
    out = op.apply(LocalContext(), params, state, table=new_rows)["table"]
    np.testing.assert_array_equal(out["cluster"], state.estimator.predict(new_rows[FEATURES]))
    row = pd.DataFrame({"plan": ["platinum"], "tenure_months": [3], "monthly_spend": [np.nan],
                        "support_tickets": [9]})
    served = op.apply(LocalContext(), params, state, table=row)
    assert served["table"]["cluster"].iloc[0] in range(4)
    assert np.isnan(served["metrics"].loc[0, "silhouette"])


def test_its_schema_adds_an_int_cluster_column() -> None:
    params = op.parse_params({"features": FEATURES})
    inferred = op.infer_schema(LocalContext(), params, table=schema_of(CUSTOMERS))
    assert inferred["table"] == schema_of(cluster(CUSTOMERS, features=FEATURES)["table"])
    assert inferred["table"][-1] == {"name": "cluster", "type": "int"}


# --- bad input -------------------------------------------------------------------------------

def test_it_rejects_a_missing_feature_before_and_while_running() -> None:
    params = op.parse_params({"features": ["x", "y"]})
    with pytest.raises(OperatorError, match="'y'") as err:
        op.infer_schema(LocalContext(), params, table=schema_of(SMALL))
    assert err.value.field == "features"
    with pytest.raises(OperatorError, match="'y'") as err:
        op.run(LocalContext(), params, table=SMALL)
    assert err.value.field == "features"


def test_serving_rejects_rows_without_the_features_or_of_another_type() -> None:
    params = op.parse_params({"features": ["x", "kind"]})
    state = op.fit(LocalContext(), params, table=SMALL)
    with pytest.raises(OperatorError, match="lacks the model's feature column"):
        op.apply(LocalContext(), params, state, table=SMALL[["x"]])
    with pytest.raises(OperatorError, match=r"x \(str, trained on float\)"):
        op.apply(LocalContext(), params, state, table=SMALL.astype({"x": "str"}))


def test_it_rejects_an_empty_table() -> None:
    with pytest.raises(OperatorError, match="empty"):
        cluster(SMALL.iloc[:0])


def test_it_rejects_more_clusters_than_rows() -> None:
    with pytest.raises(OperatorError, match="Cannot find 7 clusters in 6") as err:
        cluster(n_clusters=7)
    assert err.value.field == "n_clusters"


def test_it_rejects_date_features() -> None:
    with pytest.raises(OperatorError, match="joined") as err:
        cluster(SMALL.assign(joined=pd.date_range("2024-01-01", periods=6)))
    assert err.value.field == "features"


@pytest.mark.parametrize("raw", [{"n_clusters": 1}, {"n_clusters": 101}, {"n_init": 0},
                                 {"target": "x"}])
def test_it_rejects_impossible_params(raw: dict) -> None:
    with pytest.raises(ValidationError):
        op.parse_params(raw)
