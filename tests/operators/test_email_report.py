from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError

from operators import LocalContext, OperatorError, get_operator
from operators.actions import email_report
from operators.base import ApprovalRequired

from .action_helpers import reasons, statuses

op = get_operator("action.email_report")
TABLE = pd.DataFrame({"name": ["Ana", "=HYPERLINK(\"http://x\")", "@SUM(A1)", "-2+3", "Ben"],
                      "spend": [-5.0, 10.0, 0.5, 1.0, None],
                      "note": ["+1 555", "\tTab", "\rCR", "ok - fine", None]})
TO = ["ops@example.com", "Lead.Analyst+churn@sub.example.org"]


def report(ctx: LocalContext, table: pd.DataFrame = TABLE, **raw: Any) -> pd.DataFrame:
    params = op.parse_params({"recipients": TO, "subject": "Churn report",
                              "body": "Attached.", **raw})
    return op.run(ctx, params, table=table)["results"]


def test_each_recipient_gets_their_own_email_with_the_csv_attached() -> None:
    ctx = LocalContext()
    results = report(ctx, filename="churn-2024")
    assert statuses(results) == {TO[0]: "sent", TO[1]: "sent"}
    assert [e["to"] for e in ctx.emails] == [[TO[0]], [TO[1]]]
    email = ctx.emails[0]
    assert email["subject"] == "Churn report" and email["body"] == "Attached."
    name, data, content_type = email["attachments"][0]
    assert (name, content_type) == ("churn-2024.csv", "text/csv")
    assert data.decode().split("\r\n")[0] == "name,spend,note"


def test_cells_a_spreadsheet_would_run_as_formulas_are_neutralised() -> None:
    ctx = LocalContext()
    report(ctx)
    data = ctx.emails[0]["attachments"][0][1].decode()
    assert list(csv.reader(io.StringIO(data, newline=""))) == [
        ["name", "spend", "note"],
        ["Ana", "-5.0", "'+1 555"],  # a negative number stays a number
        ["'=HYPERLINK(\"http://x\")", "10.0", "'\tTab"],
        ["'@SUM(A1)", "0.5", "'\rCR"],
        ["'-2+3", "1.0", "ok - fine"],
        ["Ben", "", ""]]
    assert data.endswith("\r\n") and "\"'\rCR\"" in data


def test_a_column_name_is_neutralised_too_and_repeated_names_survive() -> None:
    data = email_report.csv_attachment(
        pd.DataFrame([["=1", 2]], columns=["=cmd", "=cmd"]))
    assert data.decode() == "'=cmd,'=cmd\r\n'=1,2\r\n"


def test_the_same_data_is_not_mailed_twice_to_the_same_person() -> None:
    ctx = LocalContext()
    report(ctx)
    again = report(ctx, subject="Churn report (again)")
    assert set(statuses(again).values()) == {"skipped"}
    assert len(ctx.emails) == 2
    changed = report(ctx, TABLE.assign(spend=1.0))
    assert set(statuses(changed).values()) == {"sent"} and len(ctx.emails) == 4


def test_a_new_recipient_gets_the_report_the_others_already_have() -> None:
    ctx = LocalContext()
    report(ctx)
    results = report(ctx, recipients=[*TO, "new@example.com"])
    assert statuses(results) == {TO[0]: "skipped", TO[1]: "skipped", "new@example.com": "sent"}


def test_a_failed_send_fails_that_recipient_only_and_is_retried_next_run() -> None:
    class FlakyMail(LocalContext):
        def send_email(self, *, to: list[str], **kwargs: Any) -> None:
            if to == [TO[0]]:
                raise ConnectionRefusedError("[Errno 111] Connection refused\nmore detail")
            super().send_email(to=to, **kwargs)

    ctx = FlakyMail()
    results = report(ctx)
    assert reasons(results) == {
        TO[0]: "Not sent: ConnectionRefusedError: [Errno 111] Connection refused", TO[1]: ""}
    assert set(ctx.send_log) == {TO[1]}


def test_dry_run_and_approval_show_the_message_and_send_nothing() -> None:
    ctx = LocalContext()
    preview = report(ctx, dry_run=True)
    data = email_report.csv_attachment(TABLE)
    assert json.loads(preview["payload"][0]) == {
        "to": [TO[0]], "subject": "Churn report", "body": "Attached.",
        "attachment": {"filename": "report.csv", "content_type": "text/csv", "rows": 5,
                       "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}}
    with pytest.raises(ApprovalRequired) as waiting:
        report(ctx, require_approval=True)
    pd.testing.assert_frame_equal(waiting.value.preview, preview)
    assert ctx.emails == [] and ctx.send_log == {}


def test_a_table_too_big_to_mail_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(email_report, "MAX_ATTACHMENT_BYTES", 50)
    with pytest.raises(OperatorError, match="Filter or aggregate it first"):
        report(LocalContext())


@pytest.mark.parametrize("raw", [
    {"recipients": []}, {"recipients": ["not-an-address"]}, {"recipients": ["a@b"]},
    {"recipients": ["a@example.com\nBcc: x@evil.test"]},
    {"recipients": ["a@example.com", "A@Example.com"]},
    {"subject": "Hi\r\nBcc: x@evil.test"}, {"subject": ""}, {"filename": "../x"},
    {"recipients": [f"u{i}@example.com" for i in range(51)]},
])
def test_it_rejects_recipients_and_headers_that_are_not_safe(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        op.parse_params({"recipients": TO, "subject": "Report", **raw})


def test_addresses_are_trimmed() -> None:
    params: Any = op.parse_params({"recipients": [" ops@example.com "], "subject": "Report"})
    assert params.recipients == ["ops@example.com"]
