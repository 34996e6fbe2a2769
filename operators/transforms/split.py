"""Split a table into train and test rows."""
from __future__ import annotations

import pandas as pd
from pydantic import Field
from sklearn.model_selection import train_test_split

from ..base import (
    Context,
    Operator,
    OperatorError,
    Params,
    Port,
    Schema,
    column_field,
    require_columns,
    schema_of,
)


class SplitParams(Params):
    test_size: float = Field(0.25, gt=0, lt=1, description="Share of the rows put in test.")
    seed: int = Field(42, description="Random seed: the same seed gives the same split.")
    stratify: str | None = column_field(
        None,
        description="Keep this column's class proportions equal in train and test "
        "(usually the target).",
    )


class Split(Operator):
    """Shuffles the rows and splits them into ``train`` and ``test``.

    Example: ``{"test_size": 0.2, "seed": 42, "stratify": "churned"}`` puts 80% of the rows
    in train, 20% in test, with the same share of churned customers in both.
    """

    name = "transform.split"
    label = "Split train/test"
    description = "Split rows into a training set and a test set."
    category = "transform"
    icon = "split"
    keywords = ("split", "train", "test", "holdout", "sample", "stratify")
    inputs = (Port("table", "table"),)
    outputs = (Port("train", "table"), Port("test", "table"))
    Params = SplitParams
    example = {"test_size": 0.2, "seed": 42, "stratify": "churned"}
    batch_only = True

    def run(
        self, ctx: Context, params: SplitParams, table: pd.DataFrame
    ) -> dict[str, pd.DataFrame]:
        stratify = None
        if params.stratify is not None:
            require_columns(schema_of(table), [params.stratify], field="stratify")
            stratify = table[params.stratify]
            if stratify.isna().any():
                raise OperatorError(
                    f"Column {params.stratify!r} has missing values; filter them out first "
                    "or split without stratifying.",
                    field="stratify",
                )
            counts = stratify.value_counts()
            lonely = [str(v) for v in counts[counts < 2].index]
            if lonely:
                raise OperatorError(
                    f"Stratifying needs at least 2 rows of each value of {params.stratify!r}; "
                    f"these have only one: {', '.join(lonely)}.",
                    field="stratify",
                )
        if len(table) < 2:
            raise OperatorError(
                f"The table has {len(table)} row(s); splitting needs at least 2.",
                field="test_size",
            )
        try:
            train, test = train_test_split(
                table, test_size=params.test_size, random_state=params.seed, stratify=stratify
            )
        except ValueError as exc:  # sklearn explains what is too small or too rare
            raise OperatorError(
                f"Cannot split {len(table)} rows: {exc}",
                field="stratify" if stratify is not None else "test_size",
            ) from None
        ctx.log(f"Split {len(table)} rows into {len(train)} train and {len(test)} test.")
        return {"train": train.reset_index(drop=True), "test": test.reset_index(drop=True)}

    def infer_schema(
        self, ctx: Context, params: SplitParams, table: Schema | None = None
    ) -> dict[str, Schema | None]:
        if table is not None and params.stratify is not None:
            require_columns(table, [params.stratify], field="stratify")
        return {"train": table, "test": table}
