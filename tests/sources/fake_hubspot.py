"""A fake HubSpot CRM search API on loopback, in HubSpot's real format: POST
/crm/v3/objects/{object}/search with ``filterGroups`` (GTE on the last-modified property, in
milliseconds since the epoch), ``sorts``, ``properties``, ``limit`` (at most 100) and the
``after`` cursor, answering ``{"total", "results": [{"id", "properties", "createdAt",
"updatedAt", "archived"}], "paging": {"next": {"after"}}}``; 401 for a wrong token, 429 with
Retry-After when told to throttle."""
from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from tests.operators.local_http import JsonHandler, serve_calls

SEARCH = re.compile(r"^/crm/v3/objects/(contacts|companies|deals)/search$")
MODIFIED = {"contacts": "lastmodifieddate", "companies": "hs_lastmodifieddate",
            "deals": "hs_lastmodifieddate"}


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class FakeHubSpot:
    def __init__(self, token: str = "hs-token") -> None:
        self.token = token
        self.objects: dict[str, dict[str, dict[str, Any]]] = {
            "contacts": {}, "companies": {}, "deals": {}}
        self.throttle = 0  # how many requests to answer 429 first
        self.retry_after = "1"
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.clock = 1_700_000_000_000  # ms; each change moves it on by a second
        self.url = ""

    def put(self, kind: str, record_id: str, **properties: Any) -> None:
        """Create or change a record: its last-modified time moves on."""
        with self.lock:
            self.clock += 1000
            record = self.objects[kind].setdefault(record_id, {
                "id": record_id, "createdAt": iso(self.clock), "properties": {},
                "archived": False})
            record["properties"].update({k: None if v is None else str(v)
                                         for k, v in properties.items()})
            record["updatedAt"] = iso(self.clock)
            record["modified_ms"] = self.clock

    def handle(self, h: JsonHandler) -> None:
        match = SEARCH.match(h.path)
        raw = h.body()
        with self.lock:
            self.requests.append({"path": h.path, "body": raw.decode(errors="replace"),
                                  "auth": h.headers.get("Authorization")})
            throttled = self.throttle > 0
            self.throttle -= throttled
        if match is None:
            return h.reply(404, {"status": "error", "message": "Not found",
                                 "category": "OBJECT_NOT_FOUND"})
        if h.headers.get("Authorization") != f"Bearer {self.token}":
            return h.reply(401, {"status": "error", "category": "INVALID_AUTHENTICATION",
                                 "message": "Authentication credentials not found."})
        if throttled:
            return h.reply(429, {"status": "error", "category": "RATE_LIMITS",
                                 "message": "You have reached your secondly limit."},
                           {"Retry-After": self.retry_after})
        kind = match.group(1)
        body = json.loads(raw or b"{}")
        limit = int(body.get("limit", 10))
        if limit > 100:
            return h.reply(400, {"status": "error", "category": "VALIDATION_ERROR",
                                 "message": "limit must be at most 100"})
        after = int(body.get("after") or 0)
        since = None
        for group in body.get("filterGroups", []):
            for f in group["filters"]:
                assert f["propertyName"] == MODIFIED[kind] and f["operator"] == "GTE", f
                since = int(f["value"])
        with self.lock:
            rows = sorted(self.objects[kind].values(), key=lambda r: (r["modified_ms"], r["id"]))
        rows = [r for r in rows if since is None or r["modified_ms"] >= since]
        page = rows[after:after + limit]
        wanted = body.get("properties") or []
        out = [{"id": r["id"], "createdAt": r["createdAt"], "updatedAt": r["updatedAt"],
                "archived": r["archived"],
                "properties": {p: r["properties"].get(p) for p in wanted}} for r in page]
        answer: dict[str, Any] = {"total": len(rows), "results": out}
        if after + limit < len(rows):
            answer["paging"] = {"next": {"after": str(after + limit),
                                         "link": f"?after={after + limit}"}}
        h.reply(200, answer)


@contextmanager
def fake_hubspot(token: str = "hs-token") -> Iterator[FakeHubSpot]:
    fake = FakeHubSpot(token)

    with serve_calls(lambda h, _method: fake.handle(h)) as url:
        fake.url = url
        yield fake
