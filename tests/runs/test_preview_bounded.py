"""A node's preview reads the first rows and lets the engine compute the column statistics; its
CSV download is written batch by batch. The answers are those of the whole table in memory
(``column_stats``, ``safe_csv``), and a table of millions of rows is previewed and downloaded
with the process's peak memory growing far less than the table's size in memory."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datagran.datasets.artifacts import artifact_store
from datagran.datasets.profile import stored_table, table_csv, table_preview
from datagran.runs.selectors import column_stats, preview_rows
from operators.schema import schema_of
from operators.spreadsheet import safe_csv

ROOT = Path(__file__).resolve().parents[2]
NAN, INF = float("nan"), float("inf")


def frames() -> dict[str, pd.DataFrame]:
    times = pd.to_datetime(["2024-01-02", None, "1999-12-31 23:59:59.5", "2024-03-04"],
                           format="ISO8601")
    return {
        "every type with missing values": pd.DataFrame({
            "id": [3, 1, 2, 2],
            "count": pd.array([1, None, 3, 3], dtype="Int64"),
            "score": [0.5, NAN, -0.0, 0.0],
            "ok": [True, False, True, True],
            "maybe": pd.array([True, None, False, True], dtype="boolean"),
            "say \"hi\", 'you'": ['a "quoted" text', None, "=cmd|' /C calc'!A0", "é"],
            "when": times,
            "zoned": times.tz_localize("Europe/Paris"),
            "nanos": pd.to_datetime(["2024-01-02 03:04:05.123456789"] * 4),
            "ünï cödé name": ["x", "y", "x", None],
            "flag as objects": [True, False, None, True],  # pandas keeps it object: "str"
        }),
        "infinities and nothing": pd.DataFrame({
            "ratio": [INF, -INF, 1.0, NAN], "up": [INF, 1.0, 2.0, NAN],
            "none": pd.Series([NAN] * 4), "text_none": pd.Series([None] * 4, dtype=object),
            "never": pd.Series([pd.NaT] * 4, dtype="datetime64[ns]")}),
        "empty": pd.DataFrame({"a": pd.Series([], dtype="int64"),
                               "b": pd.Series([], dtype="float64"),
                               "t": pd.Series([], dtype="datetime64[us]")}),
        "big numbers": pd.DataFrame({"n": np.arange(10_000, dtype=np.int64) * 1_000_003,
                                     "x": np.random.default_rng(1).lognormal(3, 1, 10_000)}),
    }


def expected(df: pd.DataFrame, limit: int) -> dict[str, Any]:
    """What the preview answered when it read the whole table into pandas."""
    return {"columns": schema_of(df), "rows": preview_rows(df.head(limit)),
            "total_rows": len(df), "stats": column_stats(df)}


def assert_same_preview(got: dict[str, Any], want: dict[str, Any]) -> None:
    for g, w in zip(got["stats"], want["stats"], strict=True):
        # A mean is a sum of floats: pandas adds pairwise, the engine compensated (Kahan);
        # they may differ in the last bits.
        if isinstance(w["mean"], float):
            assert g["mean"] == pytest.approx(w["mean"], rel=1e-12)
            g["mean"] = w["mean"]
    assert got == json.loads(json.dumps(want))


@pytest.mark.parametrize("name", list(frames()))
def test_the_preview_answers_as_the_whole_table_in_memory_did(name: str) -> None:
    df = frames()[name]
    digest = artifact_store().put_table(df).hash
    artifact_store().memo.clear()
    whole = artifact_store().read_table(digest)
    for limit in (0, 2, 50):
        got = json.loads(json.dumps(table_preview(digest=digest, limit=limit)))
        assert_same_preview(got, expected(whole, limit))


def test_the_preview_of_a_table_the_engine_wrote_answers_as_pandas_read_it(
        tmp_path: Path) -> None:
    path = tmp_path / "engine.parquet"
    duckdb.sql("COPY (SELECT * FROM (VALUES (1, 2.5, TRUE, 'a', DATE '2024-01-02'), "
               "(NULL, NULL, NULL, NULL, NULL), (3, 'nan'::DOUBLE, FALSE, 'b', "
               "DATE '2023-05-06')) t(i, f, b, s, d)) "
               f"TO '{path}' (FORMAT parquet)")
    ref = artifact_store().put_table_file(str(path), [], 3)
    whole = artifact_store().read_table(ref.hash)
    assert str(whole["i"].dtype) == "Int64" and str(whole["b"].dtype) == "boolean"
    assert_same_preview(table_preview(digest=ref.hash, limit=2), expected(whole, 2))


def test_statistics_of_a_table_with_many_distinct_values_spill_under_the_memory_limit(
        settings: Any, tmp_path: Path) -> None:
    settings.DATAGRAN = {**settings.DATAGRAN, "ENGINE_MEMORY_MB": 64}
    n = 600_000
    df = pd.DataFrame({"key": [f"customer-{i:09d}-{'x' * 40}" for i in range(n)],
                       "n": np.arange(n)})
    digest = artifact_store().put_table(df).hash
    [key, number] = table_preview(digest=digest, limit=1)["stats"]
    assert (key["distinct"], number["distinct"], number["max"]) == (n, n, n - 1)


def test_a_table_wider_than_the_statistics_limit_shows_the_first_columns_statistics(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A SQL transform can return far more columns than an upload may have: the preview
    lists every column and computes the statistics of the first STATS_MAX_COLUMNS."""
    from datagran.datasets import profile

    monkeypatch.setattr(profile, "STATS_MAX_COLUMNS", 30)
    df = pd.DataFrame({f"c{i}": [i, i + 1, None] for i in range(45)})
    digest = artifact_store().put_table(df).hash
    artifact_store().memo.clear()
    got = json.loads(json.dumps(table_preview(digest=digest, limit=2)))
    want = expected(artifact_store().read_table(digest), 2)
    assert [c["name"] for c in got["columns"]] == [f"c{i}" for i in range(45)]
    assert got["stats"] == want["stats"][:30]


@pytest.mark.parametrize("rows", [1, 2, 3, 1000])
def test_the_csv_download_in_batches_is_the_csv_of_the_whole_table(rows: int) -> None:
    base = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04 00:00:00.25", None,
                           "0999-05-06", "2024-01-05 10:00:00.000001"], format="ISO8601")
    df = pd.DataFrame({
        # midnight-only in the first batches, then milliseconds, then microseconds
        "when": base,
        "days": pd.to_datetime(["2024-01-02", "2024-01-03", None, "2024-01-04",
                                "2024-01-05", "2024-01-06"]),
        "nanos": pd.to_datetime(["2024-01-02"] * 5 + ["2024-01-02 00:00:00.000000001"],
                                 format="ISO8601"),
        "zoned": base.tz_localize("UTC"),
        "paris": base.tz_localize("Europe/Paris"),
        "n": pd.array([1, None, 3, 4, 5, 6], dtype="Int64"),
        "text": ["=1+1", "a,b", 'say "hi"', None, "line\r\nbreak", "-2"],
        "f": [0.1, NAN, 1e300, -0.0, 2.0, INF],
    })
    digest = artifact_store().put_table(df).hash
    with stored_table(digest) as table:
        streamed = b"".join(table_csv(table, rows=rows))
    assert streamed == safe_csv(artifact_store().read_table(digest))
    assert b"'=1+1" in streamed  # the formula is still made inert, batch by batch


def test_the_csv_download_of_an_empty_table_is_its_header() -> None:
    digest = artifact_store().put_table(pd.DataFrame({"a": pd.Series([], dtype="int64"),
                                                      "=b": pd.Series([], dtype=str)})).hash
    with stored_table(digest) as table:
        assert b"".join(table_csv(table)) == b"a,'=b\r\n"


# --- a table of millions of rows, in a process of its own ----------------------------------

ROWS = 8_000_000
BATCH = 500_000

MEASURE = textwrap.dedent("""
    import json, os, resource, sys
    import django
    django.setup()
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient
    from datagran.datasets.artifacts import artifact_store
    from datagran.pipelines.services import pipeline_create
    from datagran.runs.lifecycle import run_start
    from datagran.runs.models import NodeRun
    from datagran.workspaces.services import workspace_personal

    path, rows = sys.argv[1], int(sys.argv[2])


    def peak_kb():  # this process's own peak (ru_maxrss carries the test process's over exec)
        with open("/proc/self/status") as status:
            return int(next(l for l in status if l.startswith("VmHWM:")).split()[1])
    ref = artifact_store().put_table_file(path, [], rows)
    user = get_user_model().objects.create_user("big")
    graph = {"nodes": [{"id": "a", "operator": "connector.sample_dataset", "params": {}}],
             "edges": []}
    pipeline = pipeline_create(workspace=workspace_personal(user=user), user=user,
                               name="big", graph=graph)
    run = run_start(pipeline=pipeline, user=user, force=True)
    NodeRun.objects.filter(run=run, node_id="a").update(
        status="succeeded", outputs={"table": ref.as_json()})
    api = APIClient()
    api.force_authenticate(user)
    before = peak_kb()
    preview = api.get(f"/api/runs/{run.pk}/nodes/a/preview/?limit=50").json()
    after_preview = peak_kb()
    response = api.get(f"/api/runs/{run.pk}/nodes/a/output/?format=csv")
    size, lines, first = 0, 0, b""
    for chunk in response.streaming_content:
        first = first or chunk
        size += len(chunk)
        lines += chunk.count(b"\\r\\n")
    after = peak_kb()
    print(json.dumps({"preview": preview, "size": size, "lines": lines,
                      "header": first.decode(), "streaming": response.streaming,
                      "preview_kb": after_preview - before, "download_kb": after - before}))
""")


def write_big_table(path: Path) -> int:
    """ROWS rows written in batches (never whole here); returns their size in pandas."""
    rng = np.random.default_rng(18)
    writer, size = None, 0
    for start in range(0, ROWS, BATCH):
        ids = np.arange(start, start + BATCH)
        frame = pd.DataFrame({
            "id": ids, "amount": rng.lognormal(3, 1, BATCH).round(2),
            "at": pd.Timestamp("2025-01-01") + pd.to_timedelta(ids, unit="s"),
            "note": pd.Series([f"order {i:08d} for a customer" for i in ids], dtype=str)})
        size += int(frame.memory_usage(deep=True).sum())
        table = pa.Table.from_pandas(frame, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()
    return size


@pytest.mark.slow
def test_millions_of_rows_are_previewed_and_downloaded_in_bounded_memory(
        tmp_path: Path) -> None:
    path = tmp_path / "big.parquet"
    in_memory = write_big_table(path)
    env = {**os.environ, "DATAGRAN_DATA_DIR": str(tmp_path / "data"),
           "DJANGO_SETTINGS_MODULE": "datagran.settings", "DATAGRAN_ENGINE_MEMORY_MB": "64"}
    for name in ("DATABASE_URL", "BROKER_URL", "DATAGRAN_ARTIFACTS_URL"):
        env.pop(name, None)
    out = subprocess.run([sys.executable, "-c", MEASURE, str(path), str(ROWS)], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    preview = got["preview"]
    assert preview["total_rows"] == ROWS and len(preview["rows"]) == 50
    stats = {s["name"]: s for s in preview["stats"]}
    assert (stats["id"]["distinct"], stats["id"]["max"]) == (ROWS, ROWS - 1)
    assert stats["at"]["max"] == (pd.Timestamp("2025-01-01")
                                  + pd.Timedelta(seconds=ROWS - 1)).isoformat()
    assert stats["note"]["distinct"] == ROWS
    assert got["streaming"] and got["header"].startswith("id,amount,at,note\r\n")
    assert got["lines"] == ROWS + 1
    # The whole table in pandas would take `in_memory` bytes; each request's peak memory
    # grows by a part of it. Measured as the child's own peak (VmHWM): 158-166 MB for the
    # preview (its statistics: DuckDB's 64 MB limit does not bound its readers' buffers)
    # and 177-179 MB with the download, of a 465 MB table. Until 2026-12-05 this read
    # ru_maxrss, which carried the test process's larger peak over exec: it could not fail.
    print(f"table in memory {in_memory / 2**20:.0f} MB; peak grew by "
          f"{got['preview_kb'] / 1024:.0f} MB (preview), {got['download_kb'] / 1024:.0f} MB "
          f"(preview and download)")
    assert got["download_kb"] * 1024 < in_memory / 2


# --- the datasets screen's profile, computed the same way ----------------------------------

def profile_in_memory(digest: str) -> list[dict[str, Any]]:
    """``column_profile`` of each column of the whole table in pandas. (It used to read a
    column without the table's pandas types: a whole-number column with missing values
    showed as float, a boolean one as text, unlike the dataset's own columns.)"""
    from datagran.datasets.profile import column_profile

    whole = artifact_store().read_table(digest)
    return [column_profile(whole[name], name) for name in whole.columns]


@pytest.mark.parametrize("name", [*frames(), "ties, nested values and durations"])
def test_the_dataset_profile_is_the_one_pandas_computed_column_by_column(name: str) -> None:
    from datagran.datasets.profile import table_profile

    df = frames().get(name)
    if df is None:
        df = pd.DataFrame({
            "city": ["b", "a", "c", "a", "b", None, "é" * 100, "Z"],
            "flag": [True, False, None, True, False, True, None, False],
            "tags": [["x", "y"], ["x", "y"], None, ["z"], [], ["x"], None, ["z"]],
            "wait": pd.to_timedelta([1, 2, None, 4, 5, 6, 7, 8], unit="s"),
        })
    digest = artifact_store().put_table(df).hash
    with stored_table(digest) as table:
        got = json.loads(json.dumps(table_profile(table)))
    want = profile_in_memory(digest)
    for g, w in zip(got, want, strict=True):
        if isinstance(w["mean"], float) and isinstance(g["mean"], float):
            assert g["mean"] == pytest.approx(w["mean"], rel=1e-12)
            g["mean"] = w["mean"]
    assert got == json.loads(json.dumps(want))
