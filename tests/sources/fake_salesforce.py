"""A fake Salesforce REST API on loopback, in Salesforce's real format: GET
/services/data/{version}/query?q=<SOQL> answers ``{"totalSize", "done", "nextRecordsUrl",
"records": [{"attributes": {"type", "url"}, ...}]}`` and the next batches come from GET
``nextRecordsUrl`` (/services/data/{version}/query/<locator>-<offset>) until ``done``. It
understands the SOQL the source sends (SELECT fields FROM object, WHERE SystemModstamp >=
<dateTime literal> or Field = 'text', ORDER BY, LIMIT) and refuses anything else as
MALFORMED_QUERY; parent fields (Account.Name) come back nested with their own attributes.
401 INVALID_SESSION_ID for a wrong token, 403 REQUEST_LIMIT_EXCEEDED when the daily limit
is set as reached, 503 with Retry-After when told to throttle."""
from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.operators.local_http import JsonHandler, serve_calls

QUERY = re.compile(r"^/services/data/(v\d+\.\d)/query/?$")
DESCRIBE = re.compile(r"^/services/data/(v\d+\.\d)/sobjects/(\w+)/describe/?$")
MORE = re.compile(r"^/services/data/(v\d+\.\d)/query/(01g\w+)-(\d+)$")
SOQL = re.compile(r"^SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<object>\w+)"
                  r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+ORDER\s+BY\s+(?P<order>.+?))?"
                  r"(?:\s+LIMIT\s+(?P<limit>\d+))?$", re.IGNORECASE | re.DOTALL)
SINCE = re.compile(r"^SystemModstamp\s*>=\s*(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"
                   r"(?:\.\d{3})?(?:Z|[+-]\d{2}:\d{2}))$", re.IGNORECASE)
EQUALS = re.compile(r"^(\w+)\s*=\s*'((?:[^'\\]|\\.)*)'$")


def stamp(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _literal(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _error(code: str, message: str) -> list[dict[str, str]]:
    return [{"message": message, "errorCode": code}]


class FakeSalesforce:
    def __init__(self, token: str = "sf-token") -> None:
        self.token = token
        self.objects: dict[str, dict[str, dict[str, Any]]] = {
            "Account": {}, "Contact": {}, "Opportunity": {}, "Lead": {}}
        self.batch = 100  # records per answer (Salesforce's default is 2,000)
        self.throttle = 0  # how many requests to answer 503 first
        self.retry_after = "1"
        self.daily_limit_reached = False
        self.next_url: str | None = None  # a nextRecordsUrl to answer instead of the real one
        self.requests: list[dict[str, Any]] = []
        self.locators: dict[str, list[dict[str, Any]]] = {}
        self.lock = threading.Lock()
        self.clock = 1_700_000_000  # seconds; each change moves it on by one
        self.url = ""

    def put(self, sobject: str, record_id: str, **fields: Any) -> None:
        """Create or change a record: its SystemModstamp moves on."""
        with self.lock:
            self.clock += 1
            record = self.objects[sobject].setdefault(record_id, {
                "Id": record_id, "CreatedDate": stamp(self.clock)})
            record.update(fields)
            record["SystemModstamp"] = stamp(self.clock)
            record["modified"] = self.clock

    def soql(self) -> list[str]:
        """The queries asked, in order."""
        return [r["q"] for r in self.requests if r["q"] is not None]

    def handle(self, h: JsonHandler) -> None:
        parts = urlsplit(h.path)
        q = parse_qs(parts.query).get("q", [None])[0]
        with self.lock:
            self.requests.append({"path": parts.path, "q": q,
                                  "auth": h.headers.get("Authorization")})
            throttled = self.throttle > 0
            self.throttle -= throttled
        if h.headers.get("Authorization") != f"Bearer {self.token}":
            return h.reply(401, _error("INVALID_SESSION_ID", "Session expired or invalid"))
        if self.daily_limit_reached:
            return h.reply(403, _error("REQUEST_LIMIT_EXCEEDED",
                                       "TotalRequests Limit exceeded."))
        if throttled:
            return h.reply(503, _error("SERVER_UNAVAILABLE", "Server is busy."),
                           {"Retry-After": self.retry_after})
        described = DESCRIBE.match(parts.path)
        if described is not None:
            return self._describe(h, described.group(2))
        more = MORE.match(parts.path)
        if more is not None:
            rows = self.locators.get(more.group(2))
            if rows is None:
                return h.reply(400, _error("INVALID_QUERY_LOCATOR", "invalid query locator"))
            return h.reply(200, self._answer(more.group(1), more.group(2), rows,
                                             int(more.group(3))))
        query = QUERY.match(parts.path)
        if query is None:
            return h.reply(404, _error("NOT_FOUND", "The requested resource does not exist"))
        if q is None:
            return h.reply(400, _error("MALFORMED_QUERY", "q is required"))
        rows_or_error = self._query(q)
        if isinstance(rows_or_error, str):
            return h.reply(400, _error("MALFORMED_QUERY", rows_or_error))
        with self.lock:
            locator = f"01gXX{len(self.locators):07d}"
            self.locators[locator] = rows_or_error
        h.reply(200, self._answer(query.group(1), locator, rows_or_error, 0))

    def _describe(self, h: JsonHandler, sobject: str) -> None:
        if sobject not in self.objects:
            return h.reply(404, _error("NOT_FOUND", "The requested resource does not exist"))
        with self.lock:
            names = dict.fromkeys(["Id", "Name", "CreatedDate", "SystemModstamp"])
            for row in self.objects[sobject].values():
                names.update(dict.fromkeys(k for k in row if k != "modified"))
        h.reply(200, {"name": sobject, "fields": [
            {"name": n, "type": "id" if n == "Id" else "string", "custom": n.endswith("__c")}
            for n in names]})

    def _query(self, soql: str) -> list[dict[str, Any]] | str:
        match = SOQL.match(soql.strip())
        if match is None:
            return f"unexpected token in {soql[:80]!r}"
        sobject = match.group("object")
        if sobject not in self.objects:
            return f"sObject type '{sobject}' is not supported."
        fields = [f.strip() for f in match.group("fields").split(",")]
        with self.lock:
            rows = sorted(self.objects[sobject].values(), key=lambda r: (r["modified"],
                                                                         r["Id"]))
        where = match.group("where")
        if where:
            since, equals = SINCE.match(where.strip()), EQUALS.match(where.strip())
            if since is not None:
                start = _literal(since.group(1)).timestamp()
                rows = [r for r in rows if r["modified"] >= start]
            elif equals is not None:
                rows = [r for r in rows if str(r.get(equals.group(1))) == equals.group(2)]
            else:
                return f"unexpected token in WHERE {where[:80]!r}"
        if match.group("limit"):
            rows = rows[:int(match.group("limit"))]
        out = []
        for row in rows:
            record: dict[str, Any] = {"attributes": {
                "type": sobject, "url": f"/services/data/v61.0/sobjects/{sobject}/{row['Id']}"}}
            for name in fields:
                parent, _, child = name.partition(".")
                if child:
                    nested = record.setdefault(parent, {"attributes": {"type": parent}})
                    nested[child] = row.get(name)
                else:
                    record[name] = row.get(name)
            out.append(record)
        return out

    def _answer(self, version: str, locator: str, rows: list[dict[str, Any]],
                offset: int) -> dict[str, Any]:
        page = rows[offset:offset + self.batch]
        done = offset + self.batch >= len(rows)
        answer: dict[str, Any] = {"totalSize": len(rows), "done": done, "records": page}
        if not done:
            answer["nextRecordsUrl"] = self.next_url or (
                f"/services/data/{version}/query/{locator}-{offset + self.batch}")
        return answer


@contextmanager
def fake_salesforce(token: str = "sf-token") -> Iterator[FakeSalesforce]:
    fake = FakeSalesforce(token)

    with serve_calls(lambda h, _method: fake.handle(h)) as url:
        fake.url = url
        yield fake
