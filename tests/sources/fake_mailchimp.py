"""A fake Mailchimp Marketing API 3.0 on loopback, in Mailchimp's real format: GET
/3.0/lists (audiences, with ``fields``), /3.0/lists/{list_id}/members and /3.0/campaigns
with ``count`` (at most 1,000), ``offset``, ``since_last_changed`` (members changed at or
after), ``sort_field=last_changed``/``sort_dir`` and ``exclude_fields``, answering
``{"members": [...], "list_id", "total_items", "_links"}``; basic auth with any user name and
the API key as password; 401 "API Key Invalid" and 404 "Resource Not Found" as problem
documents; 429 when told to throttle (Mailchimp sends no Retry-After: back off)."""
from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.operators.local_http import JsonHandler, serve_calls

DOCS = "https://mailchimp.com/developer/marketing/docs/errors/"


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()  # 2023-11-14T22:13:21+00:00


def _problem(status: int, title: str, detail: str) -> dict[str, Any]:
    return {"type": DOCS, "title": title, "status": status, "detail": detail,
            "instance": "2b7a1c3e-0000-4000-8000-000000000000"}


def _links(path: str) -> list[dict[str, str]]:
    return [{"rel": "self", "href": f"https://us21.api.mailchimp.com{path}",
             "method": "GET", "targetSchema": "https://us21.api.mailchimp.com/schema/3.0/x"}]


class FakeMailchimp:
    def __init__(self, key: str = "0123456789abcdef0123456789abcdef-us21") -> None:
        self.key = key
        self.lists: dict[str, dict[str, Any]] = {}
        self.members: dict[str, dict[str, dict[str, Any]]] = {}
        self.campaigns: dict[str, dict[str, Any]] = {}
        self.throttle = 0  # how many requests to answer 429 first
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.clock = 1_700_000_000  # unix seconds; each change a second later
        self.url = ""

    def audience(self, list_id: str, name: str) -> None:
        self.lists[list_id] = {"id": list_id, "web_id": len(self.lists) + 1, "name": name,
                               "stats": {"member_count": 0}}
        self.members[list_id] = {}

    def member(self, list_id: str, email: str, **fields: Any) -> str:
        """Subscribe or change a member: its last_changed moves on; returns its id."""
        member_id = hashlib.md5(email.lower().encode()).hexdigest()  # noqa: S324 - Mailchimp's id
        with self.lock:
            self.clock += 1
            record = self.members[list_id].setdefault(member_id, {
                "id": member_id, "email_address": email, "unique_email_id": member_id[:10],
                "email_type": "html", "status": "subscribed", "list_id": list_id,
                "merge_fields": {"FNAME": "", "LNAME": "", "ADDRESS": "", "PHONE": ""},
                "stats": {"avg_open_rate": 0, "avg_click_rate": 0}, "vip": False,
                "member_rating": 2, "language": "", "timestamp_signup": "",
                "timestamp_opt": iso(self.clock), "tags_count": 0, "tags": []})
            for name, value in fields.items():
                if name in ("FNAME", "LNAME", "ADDRESS", "PHONE"):
                    record["merge_fields"][name] = value
                else:
                    record[name] = value
            fn, ln = record["merge_fields"]["FNAME"], record["merge_fields"]["LNAME"]
            record["full_name"] = f"{fn} {ln}".strip()
            record["last_changed"] = iso(self.clock)
            return member_id

    def campaign(self, campaign_id: str, **fields: Any) -> None:
        with self.lock:
            self.clock += 1
            record = self.campaigns.setdefault(campaign_id, {
                "id": campaign_id, "web_id": len(self.campaigns) + 100, "type": "regular",
                "create_time": iso(self.clock), "status": "save", "emails_sent": 0,
                "send_time": "", "content_type": "template",
                "recipients": {"list_id": next(iter(self.lists), ""), "recipient_count": 0},
                "settings": {"subject_line": "", "title": "", "from_name": "Shop"}})
            for name, value in fields.items():
                if name in ("subject_line", "title"):
                    record["settings"][name] = value
                else:
                    record[name] = value

    def handle(self, h: JsonHandler) -> None:
        split = urlsplit(h.path)
        query = {k: v[0] for k, v in parse_qs(split.query).items()}
        with self.lock:
            self.requests.append({"path": split.path, "query": dict(query),
                                  "auth": h.headers.get("Authorization")})
            throttled = self.throttle > 0
            self.throttle -= throttled
        if not self._authorized(h.headers.get("Authorization") or ""):
            return h.reply(401, _problem(401, "API Key Invalid",
                                         "Your API key may be invalid, or you've "
                                         "attempted to access the wrong datacenter."))
        if throttled:
            return h.reply(429, _problem(429, "Too Many Requests",
                                         "You have exceeded the limit of 10 simultaneous "
                                         "connections."))
        count, offset = int(query.get("count", "10")), int(query.get("offset", "0"))
        if not 1 <= count <= 1000:
            return h.reply(400, _problem(400, "Invalid Resource",
                                         "count must be at most 1000"))
        parts = split.path.strip("/").split("/")
        with self.lock:
            if parts == ["3.0", "lists"]:
                key, rows = "lists", [dict(r) for r in self.lists.values()]
            elif parts == ["3.0", "campaigns"]:
                key, rows = "campaigns", [dict(r) for r in self.campaigns.values()]
            elif len(parts) == 4 and parts[:2] == ["3.0", "lists"] and parts[3] == "members" \
                    and parts[2] in self.members:
                key, rows = "members", [dict(r) for r in self.members[parts[2]].values()]
            else:
                rows = []
                key = ""
        if not key:
            return h.reply(404, _problem(404, "Resource Not Found",
                                         "The requested resource could not be found."))
        if "since_last_changed" in query:
            since = datetime.fromisoformat(query["since_last_changed"])
            rows = [r for r in rows if datetime.fromisoformat(r["last_changed"]) >= since]
        if query.get("sort_field") == "last_changed":
            rows.sort(key=lambda r: (r["last_changed"], r["id"]),
                      reverse=query.get("sort_dir") == "DESC")
        excluded = set(query.get("exclude_fields", "").split(","))
        page = rows[offset:offset + count]
        if f"{key}._links" not in excluded:
            page = [{**r, "_links": _links(split.path)} for r in page]
        if "fields" in query:
            wanted = {f.removeprefix(f"{key}.") for f in query["fields"].split(",")}
            page = [{k: v for k, v in r.items() if k in wanted} for r in page]
        answer: dict[str, Any] = {key: page, "total_items": len(rows)}
        if key == "members":
            answer["list_id"] = parts[2]
        if "_links" not in excluded:
            answer["_links"] = _links(split.path)
        h.reply(200, answer)

    def _authorized(self, header: str) -> bool:
        if not header.startswith("Basic "):
            return False
        try:
            _user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return password == self.key  # any user name, as Mailchimp


@contextmanager
def fake_mailchimp(key: str = "0123456789abcdef0123456789abcdef-us21") -> Iterator[FakeMailchimp]:
    fake = FakeMailchimp(key)

    with serve_calls(lambda h, _method: fake.handle(h)) as url:
        fake.url = url
        yield fake
