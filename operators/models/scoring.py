"""Checks shared by the operators that feed rows to a trained model."""
from __future__ import annotations

import pandas as pd

from ..base import OperatorError, TrainedModel, schema_of

# int and float columns go through the same numeric steps, so either may stand for the other.
_FAMILY = {"int": "number", "float": "number"}


def check_scoring_table(
    model: TrainedModel, table: pd.DataFrame, *, what: str, field: str | None = None
) -> list[str]:
    """The model's feature names, after checking ``table`` has them with compatible types."""
    names = [c["name"] for c in model.features]
    types = {c["name"]: c["type"] for c in schema_of(table)}
    missing = [n for n in names if n not in types]
    if missing:
        raise OperatorError(
            f"The {what} lacks the model's feature column(s): {', '.join(missing)}.", field=field
        )
    wrong = [
        f"{c['name']} ({types[c['name']]}, trained on {c['type']})"
        for c in model.features
        # "any": a model imported from elsewhere records its feature names, not their types.
        if c["type"] != "any"
        # An all-missing column has no meaningful type (a single row with a null, say).
        if _FAMILY.get(types[c["name"]], types[c["name"]]) != _FAMILY.get(c["type"], c["type"])
        and table[c["name"]].notna().any()
    ]
    if wrong:
        raise OperatorError(
            f"The {what} has feature column(s) of another type than the model was trained on: "
            f"{', '.join(wrong)}.",
            field=field,
        )
    return names
