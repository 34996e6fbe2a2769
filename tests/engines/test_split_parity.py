"""transform.split: pandas, DuckDB and Spark put the same rows in train and in test, in the
table's order, and refuse the same tables with the same message."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from .parity import ENGINES, assert_parity, error

N = 60
FRAME = pd.DataFrame({
    "id": range(N),
    "plan": pd.Series((["pro", "free", None, "it's \"ent\""] * 15), dtype="str"),
    "spend": [np.nan if i % 9 == 0 else i * 1.25 - 20 for i in range(N)],
    "visits": pd.array([None if i % 7 == 0 else i % 5 for i in range(N)], dtype="Int64"),
    "churned": [i % 3 == 0 for i in range(N)],
    "joined": pd.to_datetime([None if i % 11 == 0 else f"19{60 + i % 40}-03-0{1 + i % 9}"
                              for i in range(N)]),
    "naïve \"col\" name": ["ü✓" * (i % 3) for i in range(N)],
})
# Equal rows: whichever of them an engine takes, the outputs are the same tables.
DUPLICATES = pd.concat([FRAME, FRAME.head(20)], ignore_index=True)

CASES: dict[str, tuple[dict[str, Any], pd.DataFrame]] = {
    "default": ({}, FRAME),
    "stratified_bool": ({"test_size": 0.2, "stratify": "churned", "seed": 3}, FRAME),
    "stratified_text": ({"test_size": 0.3, "stratify": "naïve \"col\" name"}, FRAME),
    "stratified_int": ({"test_size": 0.5, "stratify": "id", "seed": -1},
                       pd.concat([FRAME, FRAME.assign(churned=~FRAME["churned"])],
                                 ignore_index=True)),
    "share_with_float_error": ({"test_size": 0.1, "seed": 9}, FRAME.head(30)),
    "duplicates": ({"test_size": 0.4, "stratify": "churned"}, DUPLICATES),
    "two_rows": ({"test_size": 0.5}, FRAME.head(2)),
}


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_split_is_the_same_on_every_engine(case: str, engine: str) -> None:
    params, frame = CASES[case]
    result = assert_parity("transform.split", params, engines=(engine,), table=frame)
    train, test = result["train"], result["test"]
    assert len(train) + len(test) == len(frame) and len(train) and len(test)


def test_test_holds_the_share_rounded_up_per_class_in_the_table_order() -> None:
    result = assert_parity("transform.split", {"test_size": 0.2, "stratify": "churned"},
                           engines=("pandas",), table=FRAME)
    test = result["test"]
    assert test["churned"].value_counts().to_dict() == {False: 8, True: 4}  # 40, 20 rows
    assert len(assert_parity("transform.split", {"test_size": 0.1}, engines=("pandas",),
                             table=FRAME.head(30))["test"]) == 3  # not ceil(3.0000000000000004)
    assert test["id"].is_monotonic_increasing and result["train"]["id"].is_monotonic_increasing
    assert sorted([*result["train"]["id"], *test["id"]]) == list(range(N))


def test_copies_of_a_row_all_go_to_the_same_side() -> None:
    result = assert_parity("transform.split", {"test_size": 0.4, "seed": 5},
                           engines=("pandas",), table=DUPLICATES)
    train, test = set(result["train"]["id"]), set(result["test"]["id"])
    assert not train & test
    assert set(range(20)) & test and set(range(20)) & train
    # 32 of 80 rows, and the other copy of the 32nd when it has one.
    assert len(result["test"]) in (32, 33)


REFUSALS: dict[str, tuple[dict[str, Any], pd.DataFrame, str, str]] = {
    "missing_class": ({"stratify": "plan"}, FRAME, "stratify",
                      "Column 'plan' has missing values; filter them out first or split "
                      "without stratifying."),
    "missing_float_class": ({"stratify": "spend"}, FRAME, "stratify",
                            "Column 'spend' has missing values; filter them out first or "
                            "split without stratifying."),
    "lonely_classes": ({"stratify": "id"}, FRAME.head(12), "stratify",
                       "Stratifying needs at least 2 rows of each value of 'id'; these have "
                       "only one: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and more."),
    "too_many_classes": ({"stratify": "id"}, pd.DataFrame({"id": list(range(1001)) * 2}),
                         "stratify", "Column 'id' has 1,001 different values; stratifying "
                         "keeps at most 1,000 classes apart: stratify on a column with fewer "
                         "values."),
    "one_row": ({}, FRAME.head(1), "test_size",
                "The table has 1 row(s); splitting needs at least 2."),
    "empty": ({}, FRAME.head(0), "test_size",
              "The table has 0 row(s); splitting needs at least 2."),
    "all_in_test": ({"test_size": 0.99}, FRAME.head(10), "test_size",
                    "With test_size 0.99 all 10 rows would go to test, none to train: lower "
                    "test_size."),
    "class_all_in_test": ({"test_size": 0.6, "stratify": "plan"},
                          FRAME[FRAME["plan"].notna()].head(6), "test_size",
                          "With test_size 0.6 every row of these values of 'plan' would go to "
                          "test, none to train: 'free' (2 rows), 'it\\'s \"ent\"' (2 rows), "
                          "'pro' (2 rows). Lower test_size."),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_every_engine_refuses_the_same_tables_with_the_same_message(case: str, engine: str
                                                                    ) -> None:
    params, frame, field, message = REFUSALS[case]
    exc = error(engine, "transform.split", params, table=frame)
    assert (exc.field, exc.message) == (field, message)


@pytest.mark.parametrize("case", ["missing_class", "too_many_classes"])
def test_a_stratify_column_that_cannot_be_split_is_refused_before_any_row_is_hashed(
        case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hashing every row is most of a split's time: a column with missing values or too many
    classes is refused by the count that comes first, on a big table within seconds."""
    from operators.engines import duck

    def hashing(*args: object, **kwargs: object) -> None:
        raise AssertionError("the rows were hashed before the refusal")

    monkeypatch.setattr(duck.DuckQuery, "materialize", hashing)
    params, frame, field, message = REFUSALS[case]
    exc = error("duckdb", "transform.split", params, table=frame)
    assert (exc.field, exc.message) == (field, message)
