"""A fake JSON API on loopback for the generic REST API source: records with an id and an
``updated_at``, served behind each kind of pagination (GET /items?page=&per_page=,
?offset=&limit=, ?cursor= with ``next_cursor`` in the body, a Link: rel="next" header, or
one page), filtered by ``since`` (updated_at >= since) when asked, with a bearer token (401
otherwise), 429 with Retry-After when told to throttle, and a page that is HTML when told."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.operators.local_http import JsonHandler, serve_calls

START = datetime(2024, 1, 1, tzinfo=UTC)


class FakeRest:
    def __init__(self, token: str = "rest-token") -> None:
        self.token = token
        self.records: dict[int, dict[str, Any]] = {}
        self.clock = 0  # minutes after START; each change moves it on
        self.throttle = 0  # how many requests to answer 429 first
        self.html_on_request: int | None = None  # the nth request answered with HTML
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.url = ""

    def put(self, record_id: int, **fields: Any) -> None:
        with self.lock:
            self.clock += 1
            record = self.records.setdefault(record_id, {"id": record_id, "name": ""})
            record.update(fields)
            record["updated_at"] = (START + timedelta(minutes=self.clock)).strftime(
                "%Y-%m-%dT%H:%M:%SZ")

    def handle(self, h: JsonHandler) -> None:
        parts = urlsplit(h.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self.lock:
            self.requests.append({"path": parts.path, "query": query,
                                  "auth": h.headers.get("Authorization")})
            number = len(self.requests)
            throttled = self.throttle > 0
            self.throttle -= throttled
            rows = sorted(self.records.values(), key=lambda r: (r["updated_at"], r["id"]))
        if h.headers.get("Authorization") != f"Bearer {self.token}":
            return h.reply(401, {"error": "invalid_token",
                                 "message": f"Unknown token {h.headers.get('Authorization')}"})
        if throttled:
            return h.reply(429, {"error": "rate_limited"}, {"Retry-After": "1"})
        if number == self.html_on_request:
            return h.reply(200, raw=b"<html><body>Maintenance</body></html>",
                           headers={"Content-Type": "text/html"})
        if "since" in query:
            rows = [r for r in rows if r["updated_at"] >= query["since"]]
        rows = [dict(r) for r in rows]
        kind = parts.path.strip("/")
        if kind == "all":
            return h.reply(200, {"data": rows})
        if kind == "pages":
            size = int(query.get("per_page", 10))
            start = (int(query.get("page", 1)) - 1) * size
            return h.reply(200, {"data": rows[start:start + size], "page": query.get("page")})
        if kind == "offsets":
            offset, limit = int(query.get("offset", 0)), int(query.get("limit", 10))
            return h.reply(200, {"data": rows[offset:offset + limit]})
        if kind == "cursors":
            start = int(query.get("cursor", 0))
            more = start + 10 < len(rows)
            return h.reply(200, {"data": rows[start:start + 10],
                                 "next_cursor": str(start + 10) if more else None})
        if kind == "linked":
            start = int(query.get("from", 0))
            link = {"Link": f'</linked?from={start + 10}>; rel="next"'} \
                if start + 10 < len(rows) else {}
            return h.reply(200, {"data": rows[start:start + 10]}, link)
        return h.reply(404, {"error": "not_found"})


@contextmanager
def fake_rest(token: str = "rest-token") -> Iterator[FakeRest]:
    fake = FakeRest(token)

    with serve_calls(lambda h, _method: fake.handle(h)) as url:
        fake.url = url
        yield fake
