"""The churn pipeline trained (and served) once per test that asks, for the serving tests."""
from __future__ import annotations

import copy

import pytest

from datagran.pipelines.demo import CHURN
from tests.serving.test_predict import promote, run


@pytest.fixture
def trained_churn(api, worker):
    """The churn pipeline, run once: version 1 of its model, not promoted."""
    pipeline = api.post("/api/pipelines/", {"name": "Churn", "graph": copy.deepcopy(CHURN)},
                        format="json").json()
    return pipeline, run(api, pipeline["id"])


@pytest.fixture
def churn(api, trained_churn):
    """The churn pipeline serving: version 1 promoted to production."""
    promote(api, 1)
    return trained_churn
