"""A fake Zendesk Support incremental export API on loopback, in Zendesk's real format.

* Cursor-based (tickets, users): GET /api/v2/incremental/{tickets|users}/cursor.json with
  ``start_time`` (unix seconds, first page) or ``cursor`` (the ``after_cursor`` of the page
  before, or of the last poll), and ``per_page``; answers ``{"tickets": [...],
  "after_cursor", "after_url", "before_cursor", "before_url", "end_of_stream"}``. The cursor
  is a position in the stream of changes: a record changed after it comes again. The fake
  refuses ``start_time`` and ``cursor`` together (the source must send one) and an unknown
  cursor (400).
* Time-based (organizations): GET /api/v2/incremental/organizations.json?start_time= answers
  ``{"organizations": [...], "next_page", "count", "end_time", "end_of_stream"}``.

Basic auth ``{email}/token:{api_token}``; 401 ``{"error": "Couldn't authenticate you"}``;
429 with Retry-After when told to throttle."""
from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.operators.local_http import JsonHandler, serve_calls

CURSOR = re.compile(r"^/api/v2/incremental/(tickets|users)/cursor\.json$")
TIME = re.compile(r"^/api/v2/incremental/(organizations)\.json$")


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cursor(position: tuple[int, int]) -> str:
    return base64.b64encode(f"{position[0]}.0||{position[1]}|".encode()).decode()


def _position(cursor: str) -> tuple[int, int] | None:
    try:
        stamp, _, rest = base64.b64decode(cursor, validate=True).decode().partition("||")
        return int(float(stamp)), int(rest.rstrip("|"))
    except ValueError:
        return None


class FakeZendesk:
    def __init__(self, email: str = "agent@example.com", token: str = "zd-token") -> None:
        self.email, self.token = email, token
        self.records: dict[str, dict[int, dict[str, Any]]] = {
            "tickets": {}, "users": {}, "organizations": {}}
        self.page_size = 100  # at most this many a page (Zendesk: per_page, up to 1,000)
        self.throttle = 0  # how many requests to answer 429 first
        self.retry_after = "1"
        self.malformed = False  # answer pages without end_of_stream (not an export API)
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.clock = 1_700_000_000  # seconds; each change moves it on by one
        self.url = ""

    def put(self, kind: str, record_id: int, **fields: Any) -> None:
        """Create or change a record: its updated_at (and place in the stream) moves on."""
        with self.lock:
            self.clock += 1
            record = self.records[kind].setdefault(record_id, {
                "id": record_id, "url": f"{self.url}/api/v2/{kind}/{record_id}.json",
                "created_at": iso(self.clock)})
            record.update(fields)
            record["updated_at"] = iso(self.clock)
            if kind == "tickets":
                record["generated_timestamp"] = self.clock
            record["_changed"] = self.clock

    def params(self) -> list[dict[str, str]]:
        """The query params of each request, in order."""
        return [r["params"] for r in self.requests]

    def handle(self, h: JsonHandler) -> None:
        parts = urlsplit(h.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self.lock:
            self.requests.append({"path": parts.path, "params": params,
                                  "auth": h.headers.get("Authorization")})
            throttled = self.throttle > 0
            self.throttle -= throttled
        basic = base64.b64encode(f"{self.email}/token:{self.token}".encode()).decode()
        if h.headers.get("Authorization") != f"Basic {basic}":
            return h.reply(401, {"error": "Couldn't authenticate you"})
        if throttled:
            return h.reply(429, {"error": "APIRateLimitExceeded", "description":
                                 "Number of allowed incremental export API requests per "
                                 "minute exceeded"}, {"Retry-After": self.retry_after})
        if self.malformed:
            return h.reply(200, {"tickets": [{"id": 1}], "next_page": None})
        cursor_based, timed = CURSOR.match(parts.path), TIME.match(parts.path)
        if cursor_based is not None:
            return self._cursor_page(h, cursor_based.group(1), params)
        if timed is not None:
            return self._time_page(h, timed.group(1), params)
        h.reply(404, {"error": "InvalidEndpoint", "description": "Not found"})

    def _changes(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return sorted(self.records[kind].values(), key=lambda r: (r["_changed"], r["id"]))

    @staticmethod
    def _public(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if not k.startswith("_")}

    def _cursor_page(self, h: JsonHandler, kind: str, params: dict[str, str]) -> None:
        if ("cursor" in params) == ("start_time" in params):
            return h.reply(400, {"error": "InvalidPaginationParameter", "description":
                                 "Send start_time on the first request, cursor after it"})
        if "cursor" in params:
            after = _position(params["cursor"])
            if after is None:
                return h.reply(400, {"error": "InvalidPaginationParameter",
                                     "description": "cursor is invalid"})
        else:
            after = (int(params["start_time"]) - 1, 2**62)
        per_page = min(int(params.get("per_page", 1000)), 1000, self.page_size)
        rows = [r for r in self._changes(kind) if (r["_changed"], r["id"]) > after]
        page = rows[:per_page]
        last = (page[-1]["_changed"], page[-1]["id"]) if page else after
        token = _cursor(last)
        base = f"{self.url}/api/v2/incremental/{kind}/cursor.json"
        h.reply(200, {kind: [self._public(r) for r in page], "after_cursor": token,
                      "after_url": f"{base}?{urlencode({'cursor': token})}",
                      "before_cursor": None, "before_url": None,
                      "end_of_stream": len(rows) <= per_page})

    def _time_page(self, h: JsonHandler, kind: str, params: dict[str, str]) -> None:
        if "start_time" not in params:
            return h.reply(400, {"error": "InvalidValue", "description":
                                 "start_time is required"})
        start = int(params["start_time"])
        rows = [r for r in self._changes(kind) if r["_changed"] >= start]
        page = rows[:self.page_size]
        end_time = page[-1]["_changed"] if page else None
        base = f"{self.url}/api/v2/incremental/{kind}.json"
        h.reply(200, {kind: [self._public(r) for r in page], "count": len(page),
                      "end_time": end_time,
                      "next_page": f"{base}?start_time={end_time}" if page else None,
                      "end_of_stream": len(rows) <= self.page_size})


@contextmanager
def fake_zendesk(email: str = "agent@example.com", token: str = "zd-token"
                 ) -> Iterator[FakeZendesk]:
    fake = FakeZendesk(email, token)

    with serve_calls(lambda h, _method: fake.handle(h)) as url:
        fake.url = url
        yield fake
