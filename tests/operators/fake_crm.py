"""A fake HubSpot, Salesforce and webhook receiver on loopback that speaks their real request
and response formats: it checks the auth header and the body's shape, fails bad records the
way each API does, throttles on demand, and records every record it accepted."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .local_http import JsonHandler, serve

HUBSPOT = re.compile(r"^/crm/v3/objects/(contacts|companies)/batch/upsert$")
SALESFORCE = re.compile(r"^/services/data/(v\d+\.\d)/composite/sobjects/(\w+)/(\w+)$")
WEBHOOK = re.compile(r"^/hooks/(\w+)$")


class FakeCRM:
    def __init__(self, *, hubspot_token: str = "hs-token", salesforce_token: str = "sf-token",
                 webhook_secret: str = "wh-secret") -> None:
        self.hubspot_token, self.salesforce_token = hubspot_token, salesforce_token
        self.webhook_secret = webhook_secret
        self.expired: set[str] = set()  # tokens answered with the API's "expired" 401
        self.throttle: dict[str, int] = {}  # api -> how many requests to refuse first
        self.retry_after = "7"
        self.hubspot_all_or_nothing = False  # answer 400 for a batch with a bad input
        self.hubspot_unattributed_error = False  # add a 207 error that names no input
        self.webhook_status = 200
        self.salesforce_external_ids = {"Customer_Id__c"}
        self.received: dict[str, list[dict[str, Any]]] = {
            "hubspot": [], "salesforce": [], "webhook": []}
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.url = ""

    # --- what tests read ---------------------------------------------------------------------
    def count(self, api: str) -> int:
        return sum(1 for r in self.requests if r["api"] == api)

    # --- the APIs ------------------------------------------------------------------------------
    def handle(self, h: JsonHandler, method: str) -> None:
        raw = h.body()
        for api, pattern, verb in (("hubspot", HUBSPOT, "POST"),
                                   ("salesforce", SALESFORCE, "PATCH"),
                                   ("webhook", WEBHOOK, "POST")):
            match = pattern.match(h.path)
            if match and method == verb:
                with self.lock:
                    self.requests.append({"api": api, "path": h.path, "body": raw,
                                          "headers": dict(h.headers)})
                    throttled = self.throttle.get(api, 0) > 0
                    if throttled:
                        self.throttle[api] -= 1
                getattr(self, api)(h, match, raw, throttled)
                return
        h.reply(404, {"message": "not found"})

    def hubspot(self, h: JsonHandler, match: re.Match[str], raw: bytes,
                throttled: bool) -> None:
        token = _bearer(h)
        if token != self.hubspot_token:
            return h.reply(401, {"status": "error", "category": "INVALID_AUTHENTICATION",
                                 "message": "Authentication credentials not found."})
        if token in self.expired:
            return h.reply(401, {"status": "error", "category": "EXPIRED_AUTHENTICATION",
                                 "message": "The OAuth token used to make this call expired "
                                 "1 hour(s) ago."})
        if throttled:
            return h.reply(429, {"status": "error", "category": "RATE_LIMITS",
                                 "message": "You have reached your secondly limit."},
                           {"Retry-After": self.retry_after})
        inputs = _hubspot_inputs(raw)
        if isinstance(inputs, str):
            return h.reply(400, {"status": "error", "category": "VALIDATION_ERROR",
                                 "message": inputs})
        errors, results = [], []
        for item in inputs:
            if item["idProperty"] == "email" and "@" not in item["id"]:
                errors.append({
                    "status": "error", "category": "VALIDATION_ERROR",
                    "message": "Property values were not valid: [{\"isValid\":false,\"message\":"
                    f"\"Email address {item['id']} is invalid\",\"error\":\"INVALID_EMAIL\"}}]",
                    "context": {"ids": [item["id"]]}})
            else:
                results.append(item)
        if errors and self.hubspot_all_or_nothing:
            return h.reply(400, {"status": "error", "category": "VALIDATION_ERROR",
                                 "message": "Some inputs were invalid", "errors": errors})
        if self.hubspot_unattributed_error:
            errors.append({"status": "error", "category": "INTERNAL_ERROR",
                           "message": "Something went wrong", "context": {}})
            results = results[1:]  # the input it concerned is not among the results
        object_type = match.group(1)
        with self.lock:
            self.received["hubspot"] += [{"object_type": object_type, **r} for r in results]
        body: dict[str, Any] = {"status": "COMPLETE", "startedAt": "2024-05-01T10:00:00Z",
                                "completedAt": "2024-05-01T10:00:01Z", "results": [
                                    {"id": str(1000 + n), "new": True, "archived": False,
                                     "properties": {r["idProperty"]: r["id"], **r["properties"]}}
                                    for n, r in enumerate(results)]}
        if errors:
            h.reply(207, {**body, "numErrors": len(errors), "errors": errors})
        else:
            h.reply(200, body)

    def salesforce(self, h: JsonHandler, match: re.Match[str], raw: bytes,
                   throttled: bool) -> None:
        token = _bearer(h)
        if token != self.salesforce_token or token in self.expired:
            return h.reply(401, [{"message": "Session expired or invalid",
                                  "errorCode": "INVALID_SESSION_ID"}])
        if throttled:
            return h.reply(503, [{"message": "Server unavailable, try again later",
                                  "errorCode": "SERVER_UNAVAILABLE"}],
                           {"Retry-After": self.retry_after})
        _version, sobject, external_id = match.groups()
        if external_id not in self.salesforce_external_ids:
            return h.reply(400, [{"message": "Provided external ID field does not exist or is "
                                  f"not accessible: {external_id}", "errorCode": "INVALID_FIELD"}])
        records = _salesforce_records(raw, sobject, external_id)
        if isinstance(records, str):
            return h.reply(400, [{"message": records, "errorCode": "JSON_PARSER_ERROR"}])
        outcomes = []
        for n, record in enumerate(records):
            email = record.get("Email")
            if email is not None and "@" not in str(email):
                outcomes.append({"success": False, "errors": [{
                    "statusCode": "INVALID_EMAIL_ADDRESS",
                    "message": f"Email: invalid email address: {email}", "fields": ["Email"]}]})
                continue
            with self.lock:
                self.received["salesforce"].append(record)
            outcomes.append({"id": f"003{n:015d}", "success": True, "errors": [],
                             "created": True})
        h.reply(200, outcomes)

    def webhook(self, h: JsonHandler, match: re.Match[str], raw: bytes,
                throttled: bool) -> None:
        expected = "sha256=" + hmac.new(self.webhook_secret.encode(), raw,
                                        hashlib.sha256).hexdigest()
        if not hmac.compare_digest(h.headers.get("X-Datagran-Signature", ""), expected):
            return h.reply(401, {"error": "invalid signature"})
        if not h.headers.get("X-Datagran-Timestamp", "").isdigit() or not h.headers.get(
                "Idempotency-Key"):
            return h.reply(400, {"error": "missing timestamp or idempotency key"})
        if throttled:
            return h.reply(429, {"error": "slow down"}, {"Retry-After": self.retry_after})
        if self.webhook_status >= 300:
            return h.reply(self.webhook_status, {"error": "the receiver is unhappy"})
        body = json.loads(raw)
        if set(body) != {"records"} or not all(set(r) == {"key", "data"}
                                               for r in body["records"]):
            return h.reply(400, {"error": "unexpected body"})
        with self.lock:
            self.received["webhook"] += body["records"]
        h.reply(200, {"received": len(body["records"])})


def _bearer(h: JsonHandler) -> str:
    header = h.headers.get("Authorization", "")
    return header.removeprefix("Bearer ") if header.startswith("Bearer ") else ""


def _hubspot_inputs(raw: bytes) -> list[dict[str, Any]] | str:
    """The inputs of a batch upsert, or what HubSpot would say is wrong with the body."""
    try:
        body = json.loads(raw)
    except ValueError:
        return "Invalid input JSON on line 1"
    if not isinstance(body, dict) or set(body) != {"inputs"} or not isinstance(
            body["inputs"], list) or not 1 <= len(body["inputs"]) <= 100:
        return "inputs must be a list of 1 to 100 objects"
    for item in body["inputs"]:
        if not isinstance(item, dict) or set(item) != {"id", "idProperty", "properties"}:
            return f"unexpected input {item!r}"
        if not isinstance(item["id"], str) or not isinstance(item["properties"], dict) or any(
                not isinstance(v, str) for v in item["properties"].values()):
            return "id and property values must be strings"
    ids = [item["id"] for item in body["inputs"]]
    if len(set(ids)) != len(ids):
        return "Duplicate IDs found in batch input"
    return body["inputs"]


def _salesforce_records(raw: bytes, sobject: str, external_id: str) -> list[dict[str, Any]] | str:
    try:
        body = json.loads(raw)
    except ValueError:
        return "Unexpected character"
    if not isinstance(body, dict) or set(body) != {"allOrNone", "records"} or not isinstance(
            body["allOrNone"], bool) or not isinstance(body["records"], list):
        return "the body must be {allOrNone, records}"
    if not 1 <= len(body["records"]) <= 200:
        return "Exceeded max size limit of 200"
    for record in body["records"]:
        if record.get("attributes") != {"type": sobject}:
            return f"each record needs attributes.type {sobject}"
        if not record.get(external_id):
            return f"each record needs {external_id}"
    return body["records"]


@contextmanager
def fake_crm(**kwargs: Any) -> Iterator[FakeCRM]:
    fake = FakeCRM(**kwargs)

    class Handler(JsonHandler):
        def do_POST(self) -> None:
            fake.handle(self, "POST")

        def do_PATCH(self) -> None:
            fake.handle(self, "PATCH")

    with serve(Handler) as url:
        fake.url = url
        yield fake
