"""Group rows into k clusters with k-means, on the same preprocessing as the models."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.pipeline import Pipeline

from ..base import (
    Context,
    Operator,
    OperatorError,
    Params,
    Port,
    Schema,
    TrainedModel,
    column_field,
    schema_of,
)
from ..tables import MappedBatches, Table, as_table
from ._common import (
    bounded_sample,
    fit_logged,
    log_sample,
    max_training_rows_field,
    one_thread,
    preprocessor,
    remember_sample,
    seed_field,
    select_features,
    training_sample,
)
from .scoring import check_scoring_table

ADDED = "cluster"
METRICS_SCHEMA: Schema = [
    {"name": "rows", "type": "int"}, {"name": "n_clusters", "type": "int"},
    {"name": "inertia", "type": "float"}, {"name": "silhouette", "type": "float"},
]
# The silhouette compares every pair of rows: above this many it is computed on a seeded
# sample of them, as scikit-learn's sample_size does.
SILHOUETTE_ROWS = 10_000


class ClusterKMeansParams(Params):
    features: list[str] = column_field(
        [], description="Columns to group rows by; empty means all columns.")
    n_clusters: int = Field(3, ge=2, le=100, description="How many clusters to find.")
    n_init: int = Field(10, ge=1, le=100, description="Runs from different starting centres; "
                        "the one with the lowest inertia is kept.")
    seed: int = seed_field()
    max_training_rows: int = max_training_rows_field(stratified=False)


def _silhouette(Xt: Any, labels: np.ndarray, seed: int) -> float:
    """From -1 to 1, higher when rows are closer to their own cluster than to the next;
    NaN when undefined (a single cluster, or as many clusters as rows)."""
    if not 2 <= len(np.unique(labels)) <= len(labels) - 1:
        return float("nan")
    sample = SILHOUETTE_ROWS if len(labels) > SILHOUETTE_ROWS else None
    return float(silhouette_score(Xt, labels, sample_size=sample, random_state=seed))


def _metrics(model: TrainedModel, X: pd.DataFrame, seed: int) -> pd.DataFrame:
    kmeans = model.estimator[-1]
    with one_thread():
        Xt = model.estimator[:-1].transform(X)
        labels = kmeans.predict(Xt)
        return pd.DataFrame([{
            "rows": len(X), "n_clusters": kmeans.n_clusters,
            "inertia": float(-kmeans.score(Xt)), "silhouette": _silhouette(Xt, labels, seed)}],
            columns=[c["name"] for c in METRICS_SCHEMA])


def _clustered(model: TrainedModel, table: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """``table`` with each row's nearest cluster: row by row, so batches give what the whole
    table gives."""
    check_scoring_table(model, table, what="table to cluster", field="features")
    with one_thread():
        labels = model.estimator.predict(table[features])
    # The added column always goes last, matching infer_schema even if the table had it.
    out = table.drop(columns=[ADDED], errors="ignore")
    out[ADDED] = labels.astype("int64")
    return out


def _clustered_batch(state: tuple[TrainedModel, list[str]], batch: pd.DataFrame
                     ) -> pd.DataFrame:
    return _clustered(state[0], batch, state[1])


class ClusterKMeans(Operator):
    """Finds groups of similar rows (customer segments, say) and adds each row's ``cluster``
    number, from 0 to n_clusters - 1.

    Example: ``{"features": ["tenure_months", "monthly_spend", "plan"], "n_clusters": 4}``.
    Numbers are standardised (missing ones filled with the median) and text one-hot encoded
    (missing values filled with the most frequent one), as for the models, so every feature
    counts on a comparable scale. When serving, new rows get the nearest cluster learned in
    training.

    ``metrics`` has one row: rows, n_clusters, inertia (sum of squared distances of the rows
    to their cluster centre; lower is tighter) and silhouette (of the clustered table, on a
    seeded sample of 10,000 rows above that; empty where undefined).

    A table larger than ``max_training_rows`` is clustered on a seeded sample of that many
    rows (logged; the metrics are of those rows), then every row gets its nearest cluster,
    batch by batch (on the Spark engine, on the executors, partition by partition).
    """

    name = "model.cluster_kmeans"
    version = "2"  # 2: a table past max_training_rows is sampled by the columns it reads
    label = "K-means clusters"
    description = "Group similar rows into clusters and add each row's cluster number."
    category = "model"
    icon = "chart-scatter"
    keywords = ("cluster", "clustering", "k-means", "kmeans", "segment", "segmentation",
                "group", "unsupervised", "machine learning")
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"), Port("metrics", "table"))
    Params = ClusterKMeansParams
    example = {"features": ["tenure_months", "monthly_spend", "plan"], "n_clusters": 4}
    lazy_inputs = True

    def fit(self, ctx: Context, params: ClusterKMeansParams,
            table: pd.DataFrame | Table) -> TrainedModel:
        t = as_table(table)
        features = select_features(t.schema, params.features, None)
        if t.rows == 0:
            raise OperatorError("The table to cluster is empty.")
        sample = bounded_sample(t, limit=params.max_training_rows, seed=params.seed,
                                columns=features)
        frame = sample.frame
        if params.n_clusters > len(frame):
            raise OperatorError(f"Cannot find {params.n_clusters} clusters in {len(frame)} "
                                f"row(s); choose at most {len(frame)}.", field="n_clusters")
        feature_schema = schema_of(frame[features])
        pipeline = Pipeline([
            ("prepare", preprocessor(feature_schema)),
            ("cluster", KMeans(n_clusters=params.n_clusters, n_init=params.n_init,
                               random_state=params.seed))])
        log_sample(ctx, sample, "Found the clusters")
        fit_logged(ctx, pipeline, frame[features])
        ctx.log(f"Found {params.n_clusters} clusters in {len(frame)} rows, "
                f"{len(features)} features.")
        # No target: it learns groups, not a column. "clustering" is not one of the tasks of
        # a model port; this model only ever travels as the node's state.
        model = TrainedModel(estimator=pipeline, features=feature_schema, target="",
                             task="clustering",  # type: ignore[arg-type]
                             classes=list(range(params.n_clusters)), algorithm="kmeans",
                             training_rows=len(frame),
                             sampled_from=sample.of_rows if sample.sampled else None)
        remember_sample(model, sample)
        return model

    def apply(self, ctx: Context, params: ClusterKMeansParams, state: TrainedModel,
              table: pd.DataFrame | Table) -> dict[str, Any]:
        t = as_table(table)
        if t.rows == 0:
            raise OperatorError("The table to cluster is empty.")
        # The metrics are of the rows the clusters were found on (all of them up to
        # max_training_rows); serving's request rows are their own.
        sample = training_sample(state, t, limit=params.max_training_rows, seed=params.seed)
        features = check_scoring_table(state, sample.frame, what="table to cluster",
                                       field="features")
        metrics = _metrics(state, sample.frame[features], params.seed)
        if isinstance(table, pd.DataFrame):
            return {"table": _clustered(state, table, features), "metrics": metrics}
        return {"table": MappedBatches(t, _clustered_batch, (state, features), (ADDED,),
                                       reads=features),
                "metrics": metrics}

    def infer_schema(self, ctx: Context, params: ClusterKMeansParams,
                     table: Schema | None = None) -> dict[str, Schema | None]:
        if table is None:
            return {"table": None, "metrics": list(METRICS_SCHEMA)}
        select_features(table, params.features, None)
        kept = [c for c in table if c["name"] != ADDED]
        return {"table": kept + [{"name": ADDED, "type": "int"}],
                "metrics": list(METRICS_SCHEMA)}
