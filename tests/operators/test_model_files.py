"""Every model the library trains must survive the artifact store: a skops file of trusted
types only, the same bytes for the same model (exact replay), the same predictions after
loading (serving), for the ``model`` port and for k-means' learned state alike."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from datagran.datasets.artifacts import ArtifactStore
from datagran.datasets.storage import open_storage
from operators import LocalContext, TrainedModel, get_operator
from operators.connectors.sample import load_sample

CUSTOMERS = load_sample("customers").drop(columns=["customer_id", "email", "name"])
FEATURES = ["plan", "country", "tenure_months", "monthly_spend", "support_tickets"]
MODELS: list[tuple[str, dict[str, Any]]]
MODELS = [("model.train_classifier", {"target": "churned", "algorithm": algorithm})
          for algorithm in ("logistic_regression", "random_forest", "gradient_boosting",
                            "hist_gradient_boosting")]
MODELS += [("model.train_regressor", {"target": "tenure_months", "algorithm": algorithm})
           for algorithm in ("linear_regression", "ridge", "random_forest",
                             "hist_gradient_boosting")]
MODELS += [("model.cluster_kmeans", {"n_clusters": 4})]


def fitted(name: str, raw: dict[str, Any]) -> TrainedModel:
    op = get_operator(name)
    features = [f for f in FEATURES if f != raw.get("target")]
    params = op.parse_params({**raw, "features": features, "seed": 3})
    table = CUSTOMERS.head(400)
    return op.fit(LocalContext(), params, **({"table": table} if "n_clusters" in raw
                                             else {"train": table}))


@pytest.mark.parametrize(("name", "raw"), MODELS, ids=[f"{n}-{r.get('algorithm', 'kmeans')}"
                                                   for n, r in MODELS])
def test_each_model_is_stored_and_read_back_exactly(tmp_path: Path, name: str,
                                                    raw: dict[str, Any]) -> None:
    store = ArtifactStore(open_storage(str(tmp_path), ""))
    model = fitted(name, raw)
    digest = store.put_model(model)
    assert store.put_model(fitted(name, raw)) == digest  # same seed, same bytes
    loaded = store.read_model(digest)  # raises UntrustedModel for any other type
    assert (loaded.features, loaded.target, loaded.task, loaded.classes, loaded.algorithm) == (
        model.features, model.target, model.task, model.classes, model.algorithm)
    rows = CUSTOMERS.tail(50)[[c["name"] for c in model.features]]
    np.testing.assert_array_equal(loaded.estimator.predict(rows), model.estimator.predict(rows))


def test_the_model_file_allowlist_is_exactly_what_the_trained_models_contain() -> None:
    """datagran/datasets/model_files.py trusts exact (loader, type) pairs, taken from these
    models: each pair they write is trusted, and each estimator, tree and loss trusted is one
    they write (so a new algorithm must be added there, and nothing else creeps in)."""
    import io
    import json
    import zipfile

    import skops.io as sio

    from datagran.datasets.model_files import TRUSTED_NODES, node_types

    found: set[tuple[str, str]] = set()
    for name, raw in MODELS:
        model = fitted(name, raw)
        data = sio.dumps({"estimator": model.estimator, "classes": list(model.classes)})
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            found |= set(node_types(json.loads(archive.read("schema.json"))))
    assert {pair for pair in found if pair[1] not in TRUSTED_NODES.get(pair[0], ())} == set()
    for loader in ("ObjectNode", "TreeNode", "LossNode"):
        assert TRUSTED_NODES[loader] == {t for kind, t in found if kind == loader}, loader
