"""A fake Shopify Admin REST API on loopback, in Shopify's real format: GET
/admin/api/{version}/{orders,customers,products}.json with ``limit`` (at most 250),
``updated_at_min`` (inclusive) and, for orders, ``status`` (open unless ``any``), answering
``{"orders": [...]}`` with timestamps in the shop's UTC offset and the next page in a
``Link: <...page_info=...>; rel="next"`` header. As Shopify does, a request with page_info
may carry no other query param but limit (the filters ride in the page_info token); 401
with Shopify's message for a wrong token; 429 with ``Retry-After: 2.0`` when told to
throttle, and again 429 to a retry that comes before those 2 seconds have passed (its leaky
bucket has not drained)."""
from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.operators.local_http import JsonHandler, serve_calls

KINDS = ("orders", "customers", "products")
SHOP_TZ = timezone(timedelta(hours=-5))  # the shop's time zone: Shopify answers in it
INVALID_TOKEN = ("[API] Invalid API key or access token (unrecognized login or wrong "
                 "password)")
THROTTLED = ("Exceeded 2 calls per second for api client. Reduce request rates to resume "
             "uninterrupted service.")


def local_iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, SHOP_TZ).isoformat()


class FakeShopify:
    def __init__(self, token: str = "shpat_fake_token") -> None:
        self.token = token
        self.version = "2024-10"
        self.objects: dict[str, dict[int, dict[str, Any]]] = {k: {} for k in KINDS}
        self.throttle = 0  # how many requests to answer 429 first
        self.retry_after = "2.0"
        self.throttled_until = 0.0
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.clock = 1_700_000_000  # unix seconds; each change a second later
        self.url = ""
        self.link_base = ""  # where next links point (default: this server)

    def put(self, kind: str, record_id: int, **fields: Any) -> None:
        """Create or change a record: its updated_at moves on."""
        with self.lock:
            self.clock += 1
            record = self.objects[kind].setdefault(record_id, {
                "id": record_id, "created_at": local_iso(self.clock),
                "admin_graphql_api_id": f"gid://shopify/{kind[:-1].title()}/{record_id}"})
            record.update(fields)
            record["updated_at"] = local_iso(self.clock)

    def handle(self, h: JsonHandler) -> None:
        split = urlsplit(h.path)
        query = {k: v[0] for k, v in parse_qs(split.query).items()}
        now = time.monotonic()
        with self.lock:
            self.requests.append({"path": split.path, "query": dict(query),
                                  "token": h.headers.get("X-Shopify-Access-Token")})
            early = now < self.throttled_until
            throttled = self.throttle > 0 or early
            if self.throttle > 0:
                self.throttle -= 1
            if throttled:
                self.throttled_until = now + float(self.retry_after)
        prefix = f"/admin/api/{self.version}/"
        kind = split.path.removeprefix(prefix).removesuffix(".json")
        if not split.path.startswith(prefix) or kind not in KINDS:
            return h.reply(404, {"errors": "Not Found"})
        if h.headers.get("X-Shopify-Access-Token") != self.token:
            return h.reply(401, {"errors": INVALID_TOKEN})
        if throttled:
            return h.reply(429, {"errors": THROTTLED}, {"Retry-After": self.retry_after})
        limit = int(query.pop("limit", "50"))
        if not 1 <= limit <= 250:
            return h.reply(400, {"errors": {"limit": ["must be between 1 and 250"]}})
        if "page_info" in query:
            token = query.pop("page_info")
            if query:
                return h.reply(400, {"errors": {"page_info": [
                    "Unsupported query parameters with page_info: "
                    + ", ".join(sorted(query))]}})
            state = json.loads(base64.urlsafe_b64decode(token))
            filters, offset = state["filters"], state["offset"]
        else:
            filters, offset = query, 0
        with self.lock:
            rows = sorted((dict(r) for r in self.objects[kind].values()),
                          key=lambda r: r["id"])
        if kind == "orders" and filters.get("status", "open") != "any":
            rows = [r for r in rows if r.get("closed_at") is None
                    and r.get("cancelled_at") is None]
        if "updated_at_min" in filters:
            since = datetime.fromisoformat(filters["updated_at_min"].replace("Z", "+00:00"))
            rows = [r for r in rows if datetime.fromisoformat(r["updated_at"]) >= since]
        page = rows[offset:offset + limit]
        base = (self.link_base or self.url) + split.path

        def link(at: int) -> str:
            token = base64.urlsafe_b64encode(json.dumps(
                {"filters": filters, "offset": at}).encode()).decode()
            return f"{base}?limit={limit}&page_info={token}"

        links = []
        if offset > 0:
            links.append(f'<{link(max(0, offset - limit))}>; rel="previous"')
        if offset + limit < len(rows):
            links.append(f'<{link(offset + limit)}>; rel="next"')
        h.reply(200, {kind: page}, {"Link": ", ".join(links)} if links else None)


@contextmanager
def fake_shopify(token: str = "shpat_fake_token") -> Iterator[FakeShopify]:
    fake = FakeShopify(token)

    with serve_calls(lambda h, _method: fake.handle(h)) as url:
        fake.url = url
        yield fake
