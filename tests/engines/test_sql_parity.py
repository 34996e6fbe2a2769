"""transform.sql: the user's DuckDB SQL gives the same table in pandas (its sealed DuckDB
over DataFrames), on the DuckDB engine and on Spark (transpiled); and the attacker's payloads
are refused on every engine with no effect."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from operators.transforms import sql as sql_module

from .parity import ENGINES, assert_parity, error, run

ORDERS = pd.DataFrame({
    "id": [1, 2, 3, 4, 5, 6],
    "plan": ["pro", "free", None, "enterprise", "pro", "free"],
    "spend": [10.5, np.nan, 3.0, 80.0, 55.25, 0.0],
    "visits": pd.array([3, None, 7, 1, 0, 2], dtype="Int64"),
    "active": [True, False, True, True, False, True],
    "joined": pd.to_datetime(["2024-01-05 10:30", "2023-06-01", None, "2024-03-01",
                              "2022-12-31 23:59:59", "2024-01-05"], format="ISO8601"),
    "note": ["it's", 'say "hi"', None, "naïve ☃", "", "a,b"],
    'the "plan" é': ["x", "y", "z", None, "x", "y"],
})
PLANS = pd.DataFrame({"plan": ["pro", "free", "enterprise"], "region": ["EU", "US", None],
                      "seats": pd.array([5, None, 100], dtype="Int64")})
LIMITS = pd.DataFrame({"cap": [50.0]})

# name -> (query, ordered): ordered where the query's ORDER BY decides every row's place.
CASES: dict[str, tuple[str, bool]] = {
    "star": ("SELECT * FROM a", False),
    "where_order": ("SELECT id, plan, spend FROM a WHERE spend > 5 OR plan IS NULL "
                    "ORDER BY id DESC", True),
    "group_nulls_last": ("SELECT plan, count(*) AS n, sum(visits) AS visits, "
                         "avg(spend) AS spend, max(joined) AS last, bool_or(active) AS any "
                         "FROM a GROUP BY plan ORDER BY plan", True),
    "left_join": ("SELECT a.id, b.region, b.seats * 2 AS seats FROM a LEFT JOIN b "
                  "ON a.plan = b.plan ORDER BY a.id", True),
    "three_tables": ("SELECT a.id, a.spend > c.cap AS over_cap FROM a JOIN b USING (plan) "
                     "CROSS JOIN c ORDER BY a.id", True),
    "cte_union": ("WITH big AS (SELECT id FROM a WHERE spend > 10) SELECT id, 'big' AS kind "
                  "FROM big UNION ALL SELECT id, 'all' FROM a ORDER BY kind, id", True),
    "window": ("SELECT id, row_number() OVER (PARTITION BY plan ORDER BY id) AS rn, "
               "sum(spend) OVER (ORDER BY id) AS running FROM a ORDER BY id", True),
    "case_coalesce_text": ("SELECT id, CASE WHEN spend > 10 THEN 'high' ELSE 'low' END AS band,"
                           " coalesce(plan, 'none') AS plan, upper(plan) || '!' AS shout, "
                           "length(note) AS len, note FROM a ORDER BY id", True),
    "dates": ("SELECT id, date_trunc('month', joined) AS month, year(joined) AS y, "
              "CAST(joined AS DATE) AS d FROM a ORDER BY id", True),
    "odd_names": ('SELECT "the ""plan"" é", id AS "total €", \'x\'\'y\' AS "it\'s" FROM a '
                  "ORDER BY id", True),
    "repeated_names": ("SELECT id, id, plan AS id_1 FROM a ORDER BY id", True),
    "quote_in_text": ("SELECT id, note FROM a WHERE note LIKE '%''%' OR note LIKE '%\"%'",
                      False),
    "nullable_ints": ("SELECT id, visits, visits + 1 AS more, visits IS NULL AS missing "
                      "FROM a ORDER BY id", True),
    "decimal_and_list": ("SELECT id, CAST(spend AS DECIMAL(10, 2)) AS money, [id, id] AS pair "
                         "FROM a ORDER BY id", True),
    "exact_percentiles": ("SELECT plan, percentile_cont(0.5) WITHIN GROUP (ORDER BY spend) AS "
                          "mid, percentile_disc(0.25) WITHIN GROUP (ORDER BY id DESC) AS q, "
                          "median(spend) AS med, quantile_cont(spend, 0.75) AS q3 FROM a "
                          "GROUP BY plan ORDER BY plan", True),
    "comment_and_case": ("-- a comment\nselect ID, Plan from A /* another */ order by id",
                         True),
}


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_sql_transform_is_the_same_on_every_engine(case: str, engine: str) -> None:
    query, ordered = CASES[case]
    assert_parity("transform.sql", {"query": query}, ordered=ordered, engines=(engine,),
                  a=ORDERS, b=PLANS, c=LIMITS)


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_empty_tables_give_an_empty_result_of_the_same_columns(engine: str) -> None:
    result = assert_parity("transform.sql", {"query": "SELECT a.id, a.plan, b.region, "
                                             "a.joined FROM a LEFT JOIN b USING (plan)"},
                           engines=(engine,), a=ORDERS.iloc[:0], b=PLANS.iloc[:0])
    assert result["table"].empty and list(result["table"].columns) == [
        "id", "plan", "region", "joined"]


# --- the attacker's payloads --------------------------------------------------------------

def payloads(canary: Path, existing: Path) -> dict[str, str]:
    return {
        "read_csv": "SELECT * FROM read_csv('/etc/passwd')",
        "read_text_in_subquery": ("SELECT * FROM a WHERE note IN "
                                  "(SELECT content FROM read_text('/etc/passwd'))"),
        "copy": f"COPY (SELECT 1 AS x) TO '{canary}'",
        "attach": f"ATTACH '{canary}' AS leak",
        "second_statement": f"SELECT 1 AS x; COPY a TO '{canary}'",
        "spark_path_table": f"SELECT * FROM parquet.`{existing}`",
        "qualified_path_table": f'SELECT * FROM parquet."{existing}"',
        "file_as_table": f"SELECT * FROM '{existing}'",
        "glob": "SELECT * FROM glob('/*')",
        "query_function": f"SELECT * FROM query('COPY a TO ''{canary}''')",
        "spark_only_function": "SELECT reflect('java.lang.System', 'getenv', 'HOME') AS h "
                               "FROM a",
        "catalog_table": "SELECT * FROM main.a",
        "engine_setting": "SELECT current_setting('temp_directory') AS t FROM a",
        "engine_setting_qualified": "SELECT id FROM a WHERE main.current_setting("
                                    "'memory_limit') IS NOT NULL",
        "variable": "SELECT getvariable('x') AS v FROM a",
        "lateral_table_function": "SELECT * FROM a CROSS JOIN LATERAL duckdb_settings()",
        "lateral_query_in_a_string": ("SELECT * FROM a, LATERAL "
                                      f"query('COPY a TO ''{canary}''')"),
        "lateral_file": "SELECT * FROM a, LATERAL read_text('/etc/passwd')",
        "cte_shadowing_an_input": "WITH a AS (SELECT 1 AS x) SELECT * FROM a",
        "cte_name_out_of_its_scope": ("SELECT * FROM (WITH secret AS (SELECT 1 AS x) "
                                      "SELECT * FROM secret) t, secret"),
    }


PAYLOADS = sorted(payloads(Path("c"), Path("e")))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_payload_is_refused_on_the_query_field_with_no_effect(
        payload: str, engine: str, tmp_path: Path) -> None:
    canary = tmp_path / "canary.csv"
    existing = tmp_path / "secret.parquet"
    pd.DataFrame({"password": ["hunter2"]}).to_parquet(existing)
    exc = error(engine, "transform.sql", {"query": payloads(canary, existing)[payload]},
                a=ORDERS)
    assert exc.field == "query", exc.message
    assert "hunter2" not in exc.message and "root:" not in exc.message
    assert not canary.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.parquet"]


@pytest.mark.parametrize("engine", ENGINES)
def test_only_connected_inputs_and_no_other_table_can_be_read(engine: str) -> None:
    exc = error(engine, "transform.sql", {"query": "SELECT * FROM b"}, a=ORDERS)
    assert exc.message == sql_module.ERR_NOT_CONNECTED.format(name="b")
    exc = error(engine, "transform.sql", {"query": "SELECT * FROM secret"}, a=ORDERS)
    assert exc.message == sql_module.ERR_NO_TABLE.format(name="secret")


def test_a_view_in_the_spark_session_is_out_of_reach() -> None:
    from operators.engines.spark import session

    from .parity import SPARK

    session(SPARK).createDataFrame([("hunter2",)], "password string"
                                   ).createOrReplaceTempView("secret")
    for query in ("SELECT * FROM secret", "SELECT * FROM (WITH secret AS (SELECT 1 AS x) "
                  "SELECT * FROM secret) t, secret"):
        exc = error("spark", "transform.sql", {"query": query}, a=ORDERS)
        assert exc.message == sql_module.ERR_NO_TABLE.format(name="secret")


def test_duckdb_engine_is_sealed_even_if_the_check_were_bypassed(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Defence in depth: with sqlglot's check switched off, the engine's own connection
    still refuses files (external access is off before the user's SQL runs)."""
    existing = tmp_path / "secret.parquet"
    pd.DataFrame({"password": ["hunter2"]}).to_parquet(existing)
    monkeypatch.setattr(sql_module, "check_tables", lambda tree, connected: None)
    monkeypatch.setattr(sql_module, "_query", lambda *args, **kwargs: (
        None, [{"name": "password", "type": "str"}]))
    for query in (f"SELECT password FROM '{existing}'",
                  f"SELECT password FROM read_parquet('{existing}')"):
        exc = error("duckdb", "transform.sql", {"query": query}, a=ORDERS)
        assert exc.field == "query" and "files, URLs and extensions are not allowed" in \
            exc.message, exc.message


# --- limits -------------------------------------------------------------------------------

@pytest.mark.parametrize("engine", ENGINES)
def test_a_result_past_the_row_limit_is_refused_naming_it(
        engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql_module, "MAX_ROWS", 20)
    query = "SELECT a1.id FROM a a1, a a2"  # 36 rows
    exc = error(engine, "transform.sql", {"query": query}, a=ORDERS)
    assert exc.message == sql_module.ERR_ROWS.format(limit=20) and exc.field == "query"
    monkeypatch.setattr(sql_module, "MAX_ROWS", 36)
    assert len(run(engine, "transform.sql", {"query": query}, a=ORDERS)["table"]) == 36


@pytest.mark.parametrize("engine", ENGINES)
def test_a_result_past_the_byte_limit_is_refused_naming_it(
        engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql_module, "MAX_RESULT_BYTES", 10_000)
    exc = error(engine, "transform.sql", {"query": "SELECT repeat('x', 1000) AS s, a1.id "
                                          "FROM a a1, a a2"}, a=ORDERS)
    assert exc.message == sql_module.ERR_BYTES.format(limit=10_000)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_runaway_query_is_stopped_by_its_time_limit(
        engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql_module, "TIME_LIMIT_SECONDS", 2)
    big = pd.DataFrame({"id": np.arange(3000)})
    exc = error(engine, "transform.sql", {"query": "SELECT sum(hash(a1.id + a2.id * a3.id)) "
                                          "AS h FROM a a1, a a2, a a3"}, a=big)
    assert exc.message == sql_module.ERR_TIME_LIMIT.format(seconds=2)


def test_what_spark_cannot_run_fails_naming_the_construct() -> None:
    # DuckDB's list_sum has no Spark equivalent: sqlglot passes it on, Spark knows no such
    # function, and the node says so on the query's field.
    query = "SELECT id, list_sum([id, 2]) AS total FROM a"
    assert len(run("duckdb", "transform.sql", {"query": query}, a=ORDERS)["table"]) == 6
    exc = error("spark", "transform.sql", {"query": query}, a=ORDERS)
    assert exc.field == "query" and "Spark" in exc.message, exc.message
    assert "list_sum" in exc.message.lower(), exc.message



def test_on_the_duckdb_engine_a_query_past_its_memory_names_the_setting(
        tmp_path: Path) -> None:
    from operators.base import LocalContext, OperatorError
    from operators.engines import EngineSettings, run_relational
    from operators.transforms.sql import Sql

    pd.DataFrame({"x": [1]}).to_parquet(tmp_path / "in.parquet")
    op = Sql()
    with pytest.raises(OperatorError) as err:
        run_relational(op, op.parse_params({"query": "SELECT list(r.range) AS l "
                                            "FROM a, range(30000000) r"}),
                       {"a": str(tmp_path / "in.parquet")}, str(tmp_path), ctx=LocalContext(),
                       settings=EngineSettings(memory_mb=64, temp_dir=str(tmp_path / "t")))
    assert "DATAGRAN_ENGINE_MEMORY_MB=64" in err.value.message, err.value.message


@pytest.mark.parametrize("engine", ENGINES)
def test_the_engines_settings_are_out_of_reach(engine: str) -> None:
    """current_setting() would tell the server's spill folder and memory limit."""
    exc = error(engine, "transform.sql",
                {"query": "SELECT current_setting('temp_directory') AS t FROM a"}, a=ORDERS)
    assert exc.message == sql_module.ERR_SETTINGS.format(name="current_setting")
