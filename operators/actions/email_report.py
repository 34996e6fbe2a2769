"""E-mail the table as a CSV attachment."""
from __future__ import annotations

import hashlib
import io
import re

import pandas as pd
from pydantic import Field, field_validator

from ..base import Context, Operator, OperatorError, Params, Port, Schema
from ..spreadsheet import safe_csv
from ..tables import Table, as_table
from ._delivery import (
    RESULTS_PORT,
    RESULTS_SCHEMA,
    Record,
    Results,
    approval_field,
    content_hash,
    deliver,
    dry_run_field,
)
from .export_file import csv_file

# The attachment's cells: formulas neutralised, CRLF line ends (spreadsheet.safe_csv).
csv_attachment = safe_csv

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024  # what most mail servers accept, with room to spare
_ROWS_AT_A_TIME = 10_000
# A pragmatic address check (no quoted local parts, no IP literals): what people type.
_ADDRESS = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
# Spreadsheets run a cell starting with one of these as a formula.


class EmailReportParams(Params):
    recipients: list[str] = Field(..., min_length=1, max_length=50,
                                  description="Who receives the report; each gets their own "
                                  "e-mail.")
    subject: str = Field(..., min_length=1, max_length=200, description="The subject line.")
    body: str = Field("", max_length=20_000, description="The message text.")
    filename: str = Field("report", min_length=1, max_length=100,
                          pattern=r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$",
                          description="Attachment name without .csv: letters, digits, '-', "
                          "'_' and '.'.")
    dry_run: bool = dry_run_field()
    require_approval: bool = approval_field()

    @field_validator("recipients")
    @classmethod
    def _valid_addresses(cls, recipients: list[str]) -> list[str]:
        cleaned = [r.strip() for r in recipients]
        bad = [r for r in cleaned if not _ADDRESS.match(r)]
        if bad:
            raise ValueError(f"not an e-mail address: {', '.join(repr(b) for b in bad)}")
        folded = [r.casefold() for r in cleaned]
        repeated = sorted({r for r in cleaned if folded.count(r.casefold()) > 1})
        if repeated:
            raise ValueError(f"listed more than once: {', '.join(repeated)}")
        return cleaned

    @field_validator("subject")
    @classmethod
    def _one_line(cls, subject: str) -> str:
        # A line break in a header would let the subject add headers of its own.
        if any(c in subject for c in "\r\n\x00"):
            raise ValueError("must be a single line")
        return subject


class EmailReport(Operator):
    """E-mails the table as a CSV attachment, one message per recipient. Cells a spreadsheet
    would run as formulas (starting with = + - @, a tab or a carriage return) get a leading
    apostrophe. A recipient who already received the same attachment is skipped. The
    attachment may be at most 10 MB: it is built a few rows at a time, and a bigger table is
    refused as soon as it passes the limit, never read whole.

    Example: ``{"recipients": ["ops@example.com"], "subject": "Customers at risk",
    "body": "Attached: this week's list.", "filename": "at-risk"}``.
    """

    name = "action.email_report"
    label = "E-mail report"
    description = "E-mail the table as a CSV attachment."
    category = "action"
    icon = "mail"
    keywords = ("email", "e-mail", "mail", "report", "csv", "attachment", "send", "notify")
    inputs = (Port("table", "table"),)
    outputs = (RESULTS_PORT,)
    Params = EmailReportParams
    example = {"recipients": ["ops@example.com"],
               "subject": "Customers at risk",
               "body": "Attached: this week's list.",
               "filename": "at-risk"}
    batch_only = True
    lazy_inputs = True

    def run(self, ctx: Context, params: EmailReportParams,
            table: pd.DataFrame | Table) -> dict[str, Results]:
        source = as_table(table)
        data = attachment_of(source)
        filename = f"{params.filename}.csv"
        digest = hashlib.sha256(data).hexdigest()
        attachment = {"filename": filename, "content_type": "text/csv", "rows": source.rows,
                      "bytes": len(data), "sha256": digest}
        # Idempotent per recipient and attachment content: the same data is not mailed twice
        # to the same person, whatever the subject says.
        records = [Record(r, {"to": [r], "subject": params.subject, "body": params.body,
                              "attachment": attachment},
                          content_hash({"to": "email", "content": digest}))
                   for r in params.recipients]

        def send(batch: list[Record]) -> dict[str, str]:
            failures = {}
            for record in batch:
                try:
                    ctx.send_email(to=[record.key], subject=params.subject, body=params.body,
                                   attachments=[(filename, data, "text/csv")])
                except Exception as exc:  # noqa: BLE001 - any mail failure fails the record
                    first = (str(exc).splitlines() or [""])[0][:300]
                    failures[record.key] = f"Not sent: {type(exc).__name__}: {first}"
            return failures

        # One recipient per batch, so each delivered e-mail is recorded at once.
        results = deliver(ctx, records, send, dry_run=params.dry_run,
                          require_approval=params.require_approval, batch_size=1,
                          # No idempotency key: an e-mail that may have gone is not sent
                          # again without an editor's approval.
                          resend_in_flight=False)
        return {"results": results}

    def infer_schema(self, ctx: Context, params: EmailReportParams,
                     table: Schema | None = None) -> dict[str, Schema | None]:
        return {"results": RESULTS_SCHEMA}


def attachment_of(table: Table) -> bytes:
    """The table as the CSV attachment (``csv_attachment``'s bytes for a table of one
    batch), built a few rows at a time and refused as soon as it passes
    MAX_ATTACHMENT_BYTES."""
    buffer = io.BytesIO()
    for _ in csv_file(table, buffer, _ROWS_AT_A_TIME):
        if buffer.tell() > MAX_ATTACHMENT_BYTES:
            limit = MAX_ATTACHMENT_BYTES / 2**20
            raise OperatorError(f"The table ({table.rows:,} rows) is more than {limit:g} MB "
                                f"as CSV; e-mail attachments may be at most {limit:g} MB. "
                                "Filter or aggregate it first.")
    return buffer.getvalue()
