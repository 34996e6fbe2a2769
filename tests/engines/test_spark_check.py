"""The start-up check of the table engine's settings (datagran.E030-E032): an unknown engine,
Spark settings that cannot work, and Spark on a machine without Java are refused, naming the
setting, before a worker picks up a table node."""
from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from datagran.core.checks import engine_check
from operators.engines.spark import spark_conf


def problems(**options: Any) -> list[Any]:
    with override_settings(DATAGRAN={**settings.DATAGRAN, "ENGINE": "", "SPARK_MASTER": "",
                                     "SPARK_REMOTE": "", "SPARK_CONF": "", **options}):
        return engine_check(None)


def test_the_default_engines_and_local_spark_pass() -> None:
    assert problems() == []
    assert problems(ENGINE="pandas") == []
    assert problems(SPARK_MASTER="local[2]", SPARK_CONF='{"spark.executor.memory": "2g"}') == []


def test_an_unknown_engine_is_refused_naming_the_setting() -> None:
    [error] = problems(ENGINE="polars")
    assert error.id == "datagran.E030"
    assert "DATAGRAN_ENGINE" in error.msg and "'polars'" in error.msg and "duckdb" in error.msg


@pytest.mark.parametrize("options", [{"SPARK_MASTER": "local[2]"}, {"ENGINE": "spark"}])
def test_spark_without_java_is_refused_naming_the_setting(
        options: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no java on it
    monkeypatch.delenv("JAVA_HOME", raising=False)
    [error] = problems(**options)
    assert error.id == "datagran.E031" and "Java is not found" in error.msg
    assert ("DATAGRAN_SPARK_MASTER=local[2]" if options.get("SPARK_MASTER")
            else "DATAGRAN_ENGINE=spark") in error.msg


def test_a_spark_connect_url_must_be_one() -> None:
    [error] = problems(SPARK_REMOTE="http://spark:15002")
    assert error.id == "datagran.E031" and "sc://" in error.msg
    assert problems(SPARK_REMOTE="sc://127.0.0.1:15002") == []


@pytest.mark.parametrize("text", ["{not json", '["spark.x", "1"]'])
def test_spark_conf_that_is_not_a_json_object_is_refused(text: str) -> None:
    [error] = problems(SPARK_CONF=text)
    assert error.id == "datagran.E032" and "DATAGRAN_SPARK_CONF" in error.msg


def test_spark_conf_values_become_spark_strings() -> None:
    assert spark_conf('{"spark.sql.adaptive.enabled": false, "spark.executor.cores": 2}') == (
        ("spark.sql.adaptive.enabled", "false"), ("spark.executor.cores", "2"))
    assert spark_conf("") == ()
