"""Actions and Export over a table of several chunks, read from Parquet as a run hands it to
them: read in batches (never whole), each row sent exactly once, the send log, in-flight
batches, repeated keys and the approval gate holding across chunks; files written batch by
batch equal to the file of the whole table."""
from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import SecretStr

from operators import LocalContext, OperatorError, get_operator
from operators.actions import _delivery, _scratch, email_report, export_file
from operators.actions._delivery import (
    POSSIBLY_TWICE,
    PREVIEW_ROWS,
    Record,
    batch_key,
    deliver_chunks,
    make_records,
    table_chunks,
)
from operators.base import ApprovalRequired
from operators.connections import WebhookConnection
from operators.spreadsheet import safe_csv
from operators.tables import ParquetTable, arrow_to_pandas, collect

from .fake_crm import FakeCRM, fake_crm
from .sql_helpers import scratch

# The chunk a delivery reads at a time, smaller than in a run (10,000) to keep these tests
# short; one test runs at the real size.
CHUNK = 1_000
ROWS = 2 * CHUNK + 500  # three chunks, the last one short


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_delivery, "CHUNK_ROWS", CHUNK)
    monkeypatch.setattr(_scratch, "CHUNK_ROWS", CHUNK)
    monkeypatch.setattr(export_file, "EXPORT_BATCH_ROWS", CHUNK)


def frame(rows: int = ROWS, chunk: int = CHUNK) -> pd.DataFrame:
    """Realistic columns: missing values of each type, text with quotes and a formula, a
    time column whose first chunk is at midnight only, a name with spaces and unicode."""
    i = np.arange(rows)
    return pd.DataFrame({
        "customer_id": i + 1,
        "risk": np.where(i % 7 == 0, np.nan, i / rows),
        "visits": pd.Series(i % 13, dtype="Int64").mask(i % 11 == 0),
        "vip": pd.Series(i % 2 == 0, dtype="boolean").mask(i % 5 == 0),
        "note": pd.Series(np.where(i % 3 == 1, 'said "hi", left', "=1+2")).mask(i % 3 == 0),
        "seen at": pd.to_datetime("2024-01-01") + pd.to_timedelta(
            np.where(i < chunk, i * 86_400, i * 61.5), unit="s"),
        "ciudad ñ": np.where(i % 2 == 0, "Bogotá", "Lima"),
    })


class BatchesOnly(ParquetTable):
    """A Parquet artifact as a run opens it, noting the largest batch read, and failing
    the test if anything reads it whole."""

    largest = 0
    batches_read = 0

    def batches(self, rows: int = 65_536, columns: list[str] | None = None
                ) -> Iterator[pd.DataFrame]:
        for batch in super().batches(rows, columns):
            self.largest = max(self.largest, len(batch))
            self.batches_read += 1
            yield batch

    def to_pandas(self) -> pd.DataFrame:
        raise AssertionError("the whole table was read")

    def sample(self, n: int, *, seed: int, stratify: str | None = None,
               columns: list[str] | None = None) -> pd.DataFrame:
        raise AssertionError("the table was sampled")


def parquet(tmp_path: Path, table: pd.DataFrame, name: str = "in") -> BatchesOnly:
    path = tmp_path / f"{name}.parquet"
    # Written by Arrow without pandas' metadata, as the engine writes artifacts.
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False).replace_schema_metadata(),
                   path, row_group_size=CHUNK // 2)
    return BatchesOnly(str(path), memory_mb=256, temp_dir=str(tmp_path / "spill"))


# --- webhook, through a real receiver ------------------------------------------------------

@pytest.fixture
def crm() -> Iterator[FakeCRM]:
    with fake_crm(webhook_secret="s") as fake:
        yield fake


def post(crm: FakeCRM, table: Any, ctx: LocalContext | None = None, **raw: Any) -> Any:
    op = get_operator("action.webhook")
    ctx = ctx or LocalContext(url_allowlist=["127.0.0.1"])
    ctx.connections["wh"] = WebhookConnection(url=f"{crm.url}/hooks/scores",
                                              secret=SecretStr("s"))
    params = op.parse_params({"connection": "wh", "key_column": "customer_id",
                              "columns": ["customer_id", "risk"], "batch_size": 100, **raw})
    return op.run(ctx, params, table=table)["results"]


def test_a_table_of_several_chunks_is_read_in_batches_and_each_row_is_sent_once(
        tmp_path: Path, crm: FakeCRM) -> None:
    table = parquet(tmp_path, frame())
    ctx = LocalContext(url_allowlist=["127.0.0.1"])
    results = post(crm, table, ctx)
    assert not isinstance(results, pd.DataFrame)  # batches, read back from a file
    results = collect(results)
    assert len(results) == ROWS and set(results["status"]) == {"sent"}
    assert list(results["record_key"]) == [str(k) for k in range(1, ROWS + 1)]
    keys = [r["key"] for r in crm.received["webhook"]]
    assert sorted(keys, key=int) == [str(k) for k in range(1, ROWS + 1)]  # each once
    assert table.largest <= CHUNK and crm.count("webhook") == ROWS // 100
    assert not list((tmp_path / "spill").glob("results-*"))  # read, then removed

    again = collect(post(crm, table, ctx))
    assert set(again["status"]) == {"skipped"} and crm.count("webhook") == ROWS // 100


@pytest.mark.slow
def test_at_the_real_chunk_size_a_big_table_is_sent_once_in_chunks(
        tmp_path: Path, crm: FakeCRM, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # CHUNK_ROWS as in a run
    rows = 2 * _scratch.CHUNK_ROWS + 5_000
    table = parquet(tmp_path, frame(rows, _scratch.CHUNK_ROWS))
    results = collect(post(crm, table, batch_size=1000))
    assert len(results) == rows and set(results["status"]) == {"sent"}
    assert len({r["key"] for r in crm.received["webhook"]}) == rows == \
        len(crm.received["webhook"])
    assert table.largest == _scratch.CHUNK_ROWS


def test_a_key_repeated_in_two_chunks_sends_neither_row(tmp_path: Path, crm: FakeCRM) -> None:
    rows = frame()
    rows.loc[ROWS - 10, "customer_id"] = 7  # row 7 is in the first chunk, this in the last
    results = collect(post(crm, parquet(tmp_path, rows)))
    repeated = results[results["record_key"] == "7"]
    assert list(repeated["status"]) == ["failed", "failed"]
    assert set(repeated["reason"]) == {
        "The key '7' appears 2 times in the table; none of these rows was sent."}
    received = [r["key"] for r in crm.received["webhook"]]
    assert "7" not in received and len(received) == ROWS - 2


def test_the_approval_preview_shows_the_first_rows_and_its_message_counts_them_all(
        tmp_path: Path, crm: FakeCRM) -> None:
    table = parquet(tmp_path, frame())
    with pytest.raises(ApprovalRequired) as waiting:
        post(crm, table, require_approval=True)
    preview = waiting.value.preview
    assert list(preview["record_key"]) == [str(k) for k in range(1, PREVIEW_ROWS + 1)]
    assert set(preview["status"]) == {"dry_run"}
    assert json.loads(preview["payload"][0]) == {"key": "1",
                                                 "data": {"customer_id": 1, "risk": None}}
    assert waiting.value.message == (
        f"Waiting for approval to send {ROWS} of {ROWS} records. "
        f"The preview shows the first {PREVIEW_ROWS:,} rows.")
    assert crm.count("webhook") == 0 and table.largest <= CHUNK


def test_a_dry_run_of_several_chunks_shows_every_payload_and_sends_nothing(
        tmp_path: Path, crm: FakeCRM) -> None:
    ctx = LocalContext(url_allowlist=["127.0.0.1"])
    results = collect(post(crm, parquet(tmp_path, frame()), ctx, dry_run=True))
    assert len(results) == ROWS and set(results["status"]) == {"dry_run"}
    assert [json.loads(p) for p in results["payload"].iloc[-2:]] == [
        {"key": str(ROWS - 1), "data": {"customer_id": ROWS - 1, "risk": (ROWS - 2) / ROWS}},
        {"key": str(ROWS), "data": {"customer_id": ROWS, "risk": None}}]  # 2499 % 7 == 0
    assert crm.count("webhook") == 0 and ctx.send_log == {}
    assert ctx.logs[-1] == f"Dry run: {ROWS} of {ROWS} records would be sent; nothing was sent."


class Killed(BaseException):
    """What a SIGKILL is to the attempt: it stops mid-request, nothing after runs."""


def test_a_batch_left_in_flight_in_a_later_chunk_is_sent_again_first_with_its_key(
        tmp_path: Path) -> None:
    table = parquet(tmp_path, frame())

    def chunks() -> Any:
        return table_chunks(table, lambda rows: make_records(
            rows, ["customer_id"], "dest", lambda key, row: {"id": key}))

    ctx, sent = LocalContext(), []

    def killed_in_chunk_two(batch: list[Record]) -> dict[str, str]:
        sent.append(([r.key for r in batch], batch_key(batch)))
        if len(sent) == 13:  # batch_size 100: the third batch of the second chunk
            raise Killed
        return {}

    with pytest.raises(Killed):
        deliver_chunks(ctx, chunks(), killed_in_chunk_two, dry_run=False,
                       require_approval=False, batch_size=100)
    in_flight = sent[-1]
    assert in_flight[0][0] == str(CHUNK + 201)
    resent: list[tuple[list[str], str]] = []

    def receive(batch: list[Record]) -> dict[str, str]:
        resent.append(([r.key for r in batch], batch_key(batch)))
        return {}

    results = collect(deliver_chunks(ctx, chunks(), receive, dry_run=False,
                                     require_approval=False, batch_size=100))
    assert resent[0] == in_flight  # first, whole, with the key it was first sent with
    delivered = [k for keys, _ in sent[:-1] + resent for k in keys]
    assert sorted(delivered, key=int) == [str(k) for k in range(1, ROWS + 1)]  # once each
    rows = results.set_index("record_key")
    assert set(rows.loc[in_flight[0], "reason"]) == {POSSIBLY_TWICE}
    assert (rows["status"] == "skipped").sum() == 1_200
    assert ctx.sending == {} and len(ctx.send_log) == ROWS


# --- SQL table ----------------------------------------------------------------------------

def test_the_sql_table_action_writes_every_row_of_several_chunks_once(tmp_path: Path) -> None:
    op = get_operator("action.sql_table")
    rows = frame().drop(columns=["ciudad ñ"])
    with scratch("sqlite", tmp_path) as db:
        ctx = db.context(connections={"db": db.conn})
        params = op.parse_params({"connection": "db", "table": db.table, "mode": "upsert",
                                  "key_columns": ["customer_id"], "batch_size": 500})
        results = collect(op.run(ctx, params, table=parquet(tmp_path, rows))["results"])
        assert set(results["status"]) == {"sent"} and len(results) == ROWS
        stored = db.rows("customer_id, note", order="customer_id")
        assert len(stored) == ROWS and stored[1] == (2, 'said "hi", left')
        again = collect(op.run(ctx, params, table=parquet(tmp_path, rows))["results"])
        assert set(again["status"]) == {"skipped"}


# --- export and e-mail ------------------------------------------------------------------------

def export(table: Any, **raw: Any) -> tuple[LocalContext, Any]:
    op = get_operator("action.export_file")
    ctx = LocalContext()
    return ctx, op.run(ctx, op.parse_params(raw), table=table)["table"]


def big(tmp_path: Path) -> tuple[pd.DataFrame, BatchesOnly]:
    """A table the export reads in three batches (of 1,000 rows here, 65,536 in a run)."""
    table = parquet(tmp_path, frame())
    return ParquetTable(table.path).to_pandas(), table


def test_a_csv_export_in_batches_is_the_csv_of_the_whole_table(tmp_path: Path) -> None:
    whole, table = big(tmp_path)
    ctx, out = export(table)
    assert ctx.files["export.csv"][0] == safe_csv(whole)
    assert table.largest == CHUNK and ctx.logs == [f"Exported {ROWS} rows to export.csv."]
    assert out is table  # the rows pass on as the input's file, not rewritten


def test_a_time_column_keeps_one_format_across_batches(tmp_path: Path) -> None:
    times = pd.DataFrame({"t": pd.to_datetime("2024-01-01") + pd.to_timedelta(
        np.where(np.arange(ROWS) < CHUNK, 0, 1.5), unit="s")})
    table = parquet(tmp_path, times)
    ctx, _ = export(table)
    lines = ctx.files["export.csv"][0].decode().split("\r\n")
    assert lines[1] == "2024-01-01 00:00:00.000" and lines[-2] == "2024-01-01 00:00:01.500"
    assert ctx.files["export.csv"][0] == safe_csv(times)


def test_a_parquet_export_in_batches_reads_back_as_the_whole_table(tmp_path: Path) -> None:
    whole, table = big(tmp_path)
    ctx, _ = export(table, format="parquet")
    data = ctx.files["export.parquet"][0]
    pd.testing.assert_frame_equal(arrow_to_pandas(pq.read_table(io.BytesIO(data))), whole)
    assert table.batches_read == 0  # the artifact is Parquet already: copied as it is


def test_an_excel_export_in_batches_holds_every_row(tmp_path: Path) -> None:
    whole, table = big(tmp_path)
    ctx, _ = export(table, format="xlsx")
    back = pd.read_excel(io.BytesIO(ctx.files["export.xlsx"][0]))
    assert len(back) == ROWS and list(back.columns) == list(whole.columns)
    assert back["note"].iloc[2] == "'=1+2" and back["customer_id"].iloc[-1] == ROWS
    assert back["risk"].isna().sum() == whole["risk"].isna().sum()
    assert list(back["seen at"]) == list(whole["seen at"])


def test_a_table_too_long_for_an_excel_sheet_is_refused_before_anything_is_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_file, "XLSX_MAX_ROWS", ROWS - 1)
    _, table = big(tmp_path)
    with pytest.raises(OperatorError, match=f"an Excel sheet holds at most {ROWS - 1:,}") as err:
        export(table, format="xlsx")
    assert err.value.field == "format" and table.batches_read == 0


def test_the_attachment_of_a_table_of_several_batches_is_its_csv(tmp_path: Path) -> None:
    table = parquet(tmp_path, frame(25_000, 10_000))
    assert email_report.attachment_of(table) == safe_csv(ParquetTable(table.path).to_pandas())
    assert table.largest <= 10_000


def test_a_table_past_the_attachment_limit_is_refused_at_the_first_batch_over_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(email_report, "MAX_ATTACHMENT_BYTES", 500_000)
    op = get_operator("action.email_report")
    ctx = LocalContext()
    table = parquet(tmp_path, frame(25_000, 10_000))
    params = op.parse_params({"recipients": ["ops@example.com"], "subject": "Scores"})
    with pytest.raises(OperatorError, match=r"\(25,000 rows\) is more than 0.476837 MB as CSV; "
                       "e-mail attachments may be at most 0.476837 MB. Filter or aggregate"):
        op.run(ctx, params, table=table)
    assert ctx.emails == [] and table.batches_read < 5  # stopped early, not read to the end
