"""The catalogue endpoint sends each operator's entry as the operator describes itself: the
output serializer types it and drops nothing."""
from __future__ import annotations

import json

from operators.registry import all_operators


def test_the_catalogue_sends_every_operator_as_it_describes_itself(api) -> None:
    sent = api.get("/api/operators/").json()
    described = json.loads(json.dumps([op.describe() for op in all_operators()]))
    assert sent == described
