from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from operators import LocalContext
from operators.actions._delivery import (
    MAY_BE_DELIVERED,
    POSSIBLY_TWICE,
    Record,
    RecordError,
    StopSending,
    batch_key,
    content_hash,
    deliver,
    key_text,
    make_records,
    native,
)


def test_missing_values_of_every_kind_become_none() -> None:
    assert [native(v) for v in (None, np.nan, pd.NA, pd.NaT, float("inf"),
                                np.datetime64("NaT"))] == [None] * 6
    assert native(np.int64(3)) == 3 and type(native(np.int64(3))) is int
    assert native(pd.Timestamp("2024-01-02")) == dt.datetime(2024, 1, 2)


def test_an_integer_key_read_as_float_keeps_its_integer_text() -> None:
    assert [key_text(v) for v in (42.0, 42.5, " a ", None, np.nan)] == ["42", "42.5", "a", "",
                                                                       ""]


def test_the_content_hash_ignores_key_order_but_not_values() -> None:
    assert content_hash({"a": 1, "b": 2}) == content_hash({"b": 2, "a": 1})
    assert content_hash({"a": 1}) != content_hash({"a": 2})


def test_a_row_the_build_rejects_fails_with_its_reason() -> None:
    def build(key: str, row: dict) -> dict:
        if row["v"] < 0:
            raise RecordError("v must not be negative.")
        return row

    records = make_records(pd.DataFrame({"k": ["a", "b"], "v": [1, -1]}), ["k"], "dest", build)
    assert [(r.key, r.error) for r in records] == [("a", ""), ("b", "v must not be negative.")]


def test_a_value_json_cannot_hold_fails_its_row() -> None:
    records = make_records(pd.DataFrame({"k": ["a"], "v": [object()]}), ["k"], "d",
                           lambda _k, row: row)
    assert records[0].error == "object values cannot be sent as JSON."


def test_rows_sent_in_a_batch_are_marked_only_when_the_batch_succeeded() -> None:
    ctx = LocalContext()
    records = [Record(k, {"k": k}, f"h{k}") for k in "abcd"]

    def send(batch: list[Record]) -> dict[str, str]:
        if batch[0].key == "c":
            raise StopSending("the door is shut")
        return {"b": "no"} if batch[0].key == "a" else {}

    results = deliver(ctx, records, send, dry_run=False, require_approval=False, batch_size=2)
    assert list(results["status"]) == ["sent", "failed", "failed", "failed"]
    assert list(results["reason"]) == ["", "no", "the door is shut", "the door is shut"]
    assert ctx.send_log == {"a": "ha"}
    assert ctx.progress_values == [0.5, 1.0]


def test_an_empty_table_gives_an_empty_results_table_with_its_columns() -> None:
    results = deliver(LocalContext(), [], lambda batch: {}, dry_run=False,
                      require_approval=True, batch_size=10)
    assert list(results.columns) == ["record_key", "status", "reason", "payload"]
    assert len(results) == 0


class Killed(BaseException):
    """What a SIGKILL is to the attempt: it stops mid-request, nothing after runs."""


def records(keys: str) -> list[Record]:
    return [Record(k, {"k": k}, f"h{k}") for k in keys]


def interrupted_while_sending(ctx: LocalContext, keys: str, at_batch: int) -> list[list[str]]:
    """An attempt killed during its ``at_batch``-th request (counting from 1): returns the
    batches it sent, each as its record keys, with its idempotency key last."""
    sent: list[list[str]] = []

    def send(batch: list[Record]) -> dict[str, str]:
        sent.append([r.key for r in batch] + [batch_key(batch)])
        if len(sent) == at_batch:
            raise Killed
        return {}

    with pytest.raises(Killed):
        deliver(ctx, records(keys), send, dry_run=False, require_approval=False, batch_size=2)
    return sent


def test_a_retry_sends_the_batch_left_in_flight_again_whole_with_its_key_and_flags_it() -> None:
    ctx = LocalContext()
    first = interrupted_while_sending(ctx, "abcdef", at_batch=2)
    again: list[list[str]] = []

    def send(batch: list[Record]) -> dict[str, str]:
        again.append([r.key for r in batch] + [batch_key(batch)])
        return {}

    results = deliver(ctx, records("abcdef"), send, dry_run=False, require_approval=False,
                      batch_size=2)
    # a, b were answered before the kill; c, d were in flight: sent again as they were.
    assert again[0] == first[1] and [b[:-1] for b in again] == [["c", "d"], ["e", "f"]]
    rows = results.set_index("record_key")
    assert list(rows["status"]) == ["skipped", "skipped", "sent", "sent", "sent", "sent"]
    assert list(rows.loc[["c", "d"], "reason"]) == [POSSIBLY_TWICE] * 2
    assert list(rows.loc[["e", "f"], "reason"]) == ["", ""]
    assert ctx.sending == {}


def test_a_channel_without_keys_waits_for_approval_before_sending_in_flight_records_again(
        ) -> None:
    from operators.base import ApprovalRequired

    ctx = LocalContext()
    interrupted_while_sending(ctx, "abc", at_batch=1)
    sent: list[str] = []

    def send(batch: list[Record]) -> dict[str, str]:
        sent.extend(r.key for r in batch)
        return {}

    with pytest.raises(ApprovalRequired) as waiting:
        deliver(ctx, records("abc"), send, dry_run=False, require_approval=False,
                batch_size=1, resend_in_flight=False)
    assert sent == []  # nothing, not even the records that were never in flight
    preview = waiting.value.preview.set_index("record_key")
    assert list(preview.loc[["a", "b"], "reason"]) == [MAY_BE_DELIVERED] * 2
    ctx.approved = True
    deliver(ctx, records("abc"), send, dry_run=False, require_approval=False, batch_size=1,
            resend_in_flight=False)
    assert sorted(sent) == ["a", "b", "c"]


def test_an_interrupted_node_starts_no_further_batch() -> None:
    ctx = LocalContext()
    sent: list[str] = []

    def send(batch: list[Record]) -> dict[str, str]:
        sent.extend(r.key for r in batch)
        ctx.interrupts.interrupt()  # cancelled while this batch was on its way
        return {}

    deliver(ctx, records("abcdef"), send, dry_run=False, require_approval=False, batch_size=2)
    assert sent == ["a", "b"] and ctx.send_log == {"a": "ha", "b": "hb"}
