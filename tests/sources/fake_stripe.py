"""A fake Stripe list API on loopback, in Stripe's real format: GET /v1/{customers, charges,
subscriptions, invoices} with ``limit`` (1 to 100), ``starting_after`` (an object id: the
page continues after it), ``created[gte]`` (unix seconds) and, for subscriptions,
``status`` (without ``status=all`` canceled subscriptions are left out), answering
``{"object": "list", "data": [...], "has_more", "url"}`` newest first; 401 with Stripe's
error object (the key masked as Stripe masks it) for a wrong key, 429 when told to
throttle (without Retry-After, as Stripe answers: back off and retry)."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.operators.local_http import JsonHandler, serve_calls

KINDS = {"customers": "cus", "charges": "ch", "subscriptions": "sub", "invoices": "in"}
OBJECT = {"customers": "customer", "charges": "charge", "subscriptions": "subscription",
          "invoices": "invoice"}


def _error(kind: str, message: str, **extra: str) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message, **extra}}


class FakeStripe:
    def __init__(self, key: str = "sk_test_fake_key_1234") -> None:
        self.key = key
        self.objects: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
        self.throttle = 0  # how many requests to answer 429 first
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.clock = 1_700_000_000  # unix seconds; each new object a second later
        self.url = ""

    def add(self, kind: str, number: int, **fields: Any) -> str:
        """Create an object (created = now, the clock moves on a second); returns its id."""
        with self.lock:
            self.clock += 1
            object_id = f"{KINDS[kind]}_{number:06d}"
            self.objects[kind][object_id] = {"id": object_id, "object": OBJECT[kind],
                                             "created": self.clock, "livemode": False,
                                             "metadata": {}, **fields}
            return object_id

    def change(self, kind: str, object_id: str, **fields: Any) -> None:
        """Change an object: its ``created`` stays, as in Stripe."""
        with self.lock:
            self.objects[kind][object_id].update(fields)

    def handle(self, h: JsonHandler) -> None:
        split = urlsplit(h.path)
        query = parse_qs(split.query)
        with self.lock:
            self.requests.append({"path": split.path, "query": query,
                                  "auth": h.headers.get("Authorization")})
            throttled = self.throttle > 0
            self.throttle -= throttled
        kind = split.path.removeprefix("/v1/")
        if not split.path.startswith("/v1/") or kind not in KINDS:
            return h.reply(404, _error("invalid_request_error",
                                       f"Unrecognized request URL (GET: {split.path})."))
        auth = h.headers.get("Authorization") or ""
        if auth != f"Bearer {self.key}":
            given = auth.removeprefix("Bearer ")
            masked = given[:8] + "*" * max(0, len(given) - 12) + given[-4:]
            return h.reply(401, _error("invalid_request_error",
                                       f"Invalid API Key provided: {masked}"))
        if throttled:
            return h.reply(429, _error("invalid_request_error", "Request rate limit exceeded. "
                                       "You can learn more about rate limits here "
                                       "https://stripe.com/docs/rate-limits.",
                                       code="rate_limit"))
        limit = int(query.get("limit", ["10"])[0])
        if not 1 <= limit <= 100:
            return h.reply(400, _error("invalid_request_error",
                                       "This value must be less than or equal to 100.",
                                       param="limit"))
        since = int(query.get("created[gte]", ["0"])[0])
        with self.lock:
            rows = [dict(r) for r in self.objects[kind].values()]
        if kind == "subscriptions" and query.get("status", [""])[0] != "all":
            rows = [r for r in rows if r.get("status") != "canceled"]
        # Newest first, as Stripe lists; ties by id.
        rows.sort(key=lambda r: (r["created"], r["id"]), reverse=True)
        rows = [r for r in rows if r["created"] >= since]
        after = query.get("starting_after", [None])[0]
        if after is not None:
            ids = [r["id"] for r in rows]
            if after not in ids:
                return h.reply(400, _error("invalid_request_error",
                                           f"No such {OBJECT[kind]}: '{after}'",
                                           param="starting_after"))
            rows = rows[ids.index(after) + 1:]
        h.reply(200, {"object": "list", "data": rows[:limit], "has_more": len(rows) > limit,
                      "url": split.path})


@contextmanager
def fake_stripe(key: str = "sk_test_fake_key_1234") -> Iterator[FakeStripe]:
    fake = FakeStripe(key)

    with serve_calls(lambda h, _method: fake.handle(h)) as url:
        fake.url = url
        yield fake
