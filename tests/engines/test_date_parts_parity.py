"""transform.date_parts: pandas, DuckDB and Spark read the same dates from the same text (ISO
8601, the format of the first other value, anything else one value at a time) and give the
same parts."""
from __future__ import annotations

import tempfile
from typing import Any

import pandas as pd
import pytest

from operators.base import LocalContext, OperatorError
from operators.engines import EngineSettings, run_relational
from operators.tables import Query, Rel
from operators.transforms._common import dates_sql
from operators.transforms.date_parts import DateParts

from .parity import ENGINES, assert_parity, error

ALL_PARTS = ["year", "quarter", "month", "day", "weekday", "hour", "week", "dayofyear"]
TEXTS: dict[str, list[str | None]] = {
    "iso": ["2024-03-31T14:05:00", "2023-01-01", "", None, " 2020-02-29 ",
            "2024-12-30 23:59:59.5", "2021-01-03 07:00"],
    "month_first": ["03/31/2024", "01/01/2023", None, "12/30/2024", "3/5/2024", "2024-01-01",
                    "02/29/2020", "13/01/2024"],
    "day_first_with_times": ["31.03.2024 14:05", "01.01.2023 00:00", "13.02.2024 10:00",
                             "29.02.2020 23:59", None, "1.2.2024 3:04"],
    "words_offsets_and_iso_variants": ["March 31, 2024", "2023-01-01", "31 Dec 2022",
                                       "20240101", "2024-01", "2024-01-31T10:00:00Z",
                                       "2024-01-31 12:00:00+02:00", "2024-1-5"],
    "unicode_spaces": ["\u00a02024-01-05\u2003", "\t2024-06-30\n", "\u3000", "2024-07-01"],
    "one_format_only": ["2024/01/31", "2023/12/01", "2024/02/29", None],
}
WHEN = pd.to_datetime(["2024-03-31 14:05", "2023-01-01", None, "2020-02-29 23:59:59",
                       "2021-01-03", "2024-12-30 06:00", "1999-12-31 12:00", "2000-01-01"],
                      format="ISO8601")


def frame(texts: list[str | None]) -> pd.DataFrame:
    return pd.DataFrame({"id": range(len(texts)), "t é \"x\"": pd.Series(texts, dtype=object)})


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("case", sorted(TEXTS))
def test_text_is_read_as_the_same_dates_on_every_engine(case: str, engine: str) -> None:
    assert_parity("transform.date_parts", {"column": "t é \"x\"", "parts": ALL_PARTS},
                  engines=(engine,), table=frame(TEXTS[case]))


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_a_date_column_gives_the_same_parts_on_every_engine(engine: str) -> None:
    table = pd.DataFrame({"when": WHEN, "when_year": "old", "n": range(len(WHEN))})
    result = assert_parity("transform.date_parts", {"column": "when", "parts": ALL_PARTS},
                           engines=(engine,), table=table)["table"]
    assert list(result.columns)[:3] == ["when", "when_year", "n"]


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_an_empty_table_gets_empty_part_columns_on_every_engine(engine: str) -> None:
    assert_parity("transform.date_parts", {"column": "t é \"x\"", "parts": ["year", "week"],
                                           "prefix": "p"},
                  engines=(engine,), table=frame(TEXTS["iso"]).iloc[:0])


@pytest.mark.parametrize("engine", ENGINES)
def test_a_value_that_is_not_a_date_is_named_the_same_on_every_engine(engine: str) -> None:
    table = frame(["2024-01-01", " next tuesday", "31/02/2024", None, "'; DROP TABLE x; --"])
    exc = error(engine, "transform.date_parts", {"column": "t é \"x\""}, table=table)
    assert exc.field == "column"
    assert exc.message == ("Column 't é \"x\"' has 3 value(s) that are not dates, "
                           "e.g. ' next tuesday'.")


class _FewTexts(DateParts):
    """Date parts reading at most 100 distinct texts outside ISO 8601 and the format."""

    def query(self, q: Query, params: Any, table: Rel) -> dict[str, Rel]:
        dates_sql(q, table, params.column, field="column", limit=100)
        return {"table": table}


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_too_many_distinct_texts_outside_iso_and_the_format_fail_naming_the_column(
        engine: str) -> None:
    texts = [f"{m}/{d}/2024 {h}:05" for m in range(1, 13) for d in range(1, 29)
             for h in range(3)]
    op = _FewTexts()
    settings = EngineSettings(name=engine, spark_master="local[2]")
    with tempfile.TemporaryDirectory() as folder, pytest.raises(OperatorError) as info:
        run_relational(op, op.parse_params({"column": "t"}), {"table": pd.DataFrame({"t": texts})},
                       folder, ctx=LocalContext(), settings=settings)
    assert info.value.field == "column"
    assert info.value.message.startswith("Column 't' has more than 100 distinct texts")
