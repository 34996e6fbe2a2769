"""The SQL source read by key (serving's live lookups) on SQLite, PostgreSQL and MariaDB: the
query as written (a % and a closing comment in it) or a table's chosen columns, the keys as
the driver's parameters, so a hostile key finds only itself and changes nothing."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from operators.base import OperatorError
from operators.registry import get_operator

from .sql_helpers import BACKENDS, Scratch, scratch

PAYLOADS = ["x' OR '1'='1", "x\\' OR 1=1 -- ", "'); DROP TABLE {canary}; --"]


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    with scratch(request.param, tmp_path) as s:
        canary = f"{s.table}_canary"
        s.run("CREATE TABLE {t} (id INTEGER, name VARCHAR(100), spend FLOAT)",
              f"CREATE TABLE {canary} (id INTEGER)", f"INSERT INTO {canary} VALUES (1)")
        escaped = [p.format(canary=canary) for p in PAYLOADS]
        names = ["ann", "bob", "cy", *escaped]
        for i, name in enumerate(names, start=1):
            quoted = name.replace("\\", "\\\\") if s.kind == "mysql" else name
            s.run(f"INSERT INTO {{t}} VALUES ({i}, '{quoted.replace(chr(39), chr(39) * 2)}', "
                  f"{i * 10.5})")
        try:
            yield s, canary, escaped
        finally:
            s.run(f"DROP TABLE IF EXISTS {canary}")


def lookup(s: Scratch, column: str, keys: list[Any], **params: Any) -> Any:
    op = get_operator("connector.sql_query")
    parsed = op.parse_params({"connection": "db", **params})
    return op.lookup(s.context(connections={"db": s.conn}), parsed, column, keys)


def test_the_query_as_written_keeps_the_rows_of_the_keys(db: Any) -> None:
    s, _, _ = db
    query = f"SELECT id, name, spend FROM {s.table} WHERE name LIKE '%' -- 100%"
    found = lookup(s, "id", [1, 3, 999], query=query)
    assert sorted(found["id"].tolist()) == [1, 3]
    assert sorted(found["name"].tolist()) == ["ann", "cy"]
    assert list(found.columns) == ["id", "name", "spend"]
    empty = lookup(s, "id", [999], query=query)
    assert len(empty) == 0 and list(empty.columns) == ["id", "name", "spend"]


def test_a_table_chosen_by_name_is_read_by_key_with_its_chosen_columns(db: Any) -> None:
    s, _, _ = db
    found = lookup(s, "id", [2], mode="table", table=s.table, columns=["id", "spend"])
    assert found.to_dict(orient="records") == [{"id": 2, "spend": 21.0}]


def test_a_hostile_key_finds_only_itself_and_changes_nothing(db: Any) -> None:
    s, canary, payloads = db
    query = f"SELECT id, name FROM {s.table}"
    for payload in payloads:
        found = lookup(s, "name", [payload], query=query)
        assert found["name"].tolist() == [payload]  # the row holding that very text
        assert lookup(s, "name", [payload + "?"], query=query).empty
        table = lookup(s, "name", [payload], mode="table", table=s.table)
        assert table["name"].tolist() == [payload]
    with s.engine.connect() as c:
        assert c.exec_driver_sql(f"SELECT count(*) FROM {canary}").scalar_one() == 1
    assert len(s.rows()) == 3 + len(payloads)


def test_params_whose_rows_a_key_cannot_find_alone_are_refused(db: Any) -> None:
    s, _, _ = db
    with pytest.raises(OperatorError) as err:
        lookup(s, "id", [1], query=f"SELECT * FROM {s.table}", row_limit=2)
    assert str(err.value) == ("SQL database cannot be looked up by key: a row limit keeps only "
                              "some rows, and which ones a key lookup cannot tell.")
