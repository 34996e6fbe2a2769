"""A fake Google on loopback, in Google's real formats: the OAuth token endpoint (POST
/token, grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer, the assertion's RS256
signature verified with the public key of the service account it names, its audience and
scope checked; 400 invalid_grant otherwise) and the Sheets API v4 (GET
/v4/spreadsheets/{id}?fields=sheets.properties.title and
/v4/spreadsheets/{id}/values/{range} → {"range", "majorDimension": "ROWS", "values"}, with
trailing empty cells and rows left out as Google does; 401 UNAUTHENTICATED for a token it did
not issue, 403 PERMISSION_DENIED when the spreadsheet is not shared with the account, 404
NOT_FOUND, 400 INVALID_ARGUMENT for a range it cannot parse, 429 RESOURCE_EXHAUSTED when
told to throttle)."""
from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.operators.local_http import JsonHandler, serve_calls

SCOPE = "https://www.googleapis.com/auth/spreadsheets.readonly"
VALUES = re.compile(r"^/v4/spreadsheets/([A-Za-z0-9_-]+)/values/(.+)$")
META = re.compile(r"^/v4/spreadsheets/([A-Za-z0-9_-]+)$")
A1 = re.compile(r"^([A-Z]*)(\d*)$")


def new_key(email: str) -> tuple[dict[str, str], Any]:
    """A service account key file (as Google Cloud gives it) and its public key."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return ({"type": "service_account", "project_id": "demo", "private_key_id": "k1",
             "private_key": pem, "client_email": email, "client_id": "1",
             "token_uri": "https://oauth2.googleapis.com/token"}, private.public_key())


def _column(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number - 1


@dataclass
class Spreadsheet:
    sheets: dict[str, list[list[Any]]]
    shared_with: set[str] = field(default_factory=set)


class FakeGoogle:
    def __init__(self) -> None:
        self.accounts: dict[str, Any] = {}  # e-mail → public key
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.tokens: dict[str, str] = {}  # access token → e-mail
        self.throttle = 0
        self.revoke_tokens = False  # issue access tokens, then refuse them (revoked)
        self.requests: list[dict[str, Any]] = []
        self.assertions: list[dict[str, Any]] = []  # verified JWT claims
        self.lock = threading.Lock()
        self.url = ""

    @property
    def token_url(self) -> str:
        return self.url + "/token"

    def account(self, email: str) -> dict[str, str]:
        key, public = new_key(email)
        self.accounts[email] = public
        return key

    def handle(self, h: JsonHandler, method: str) -> None:
        parts = urlsplit(h.path)
        raw = h.body() if method == "POST" else b""
        with self.lock:
            self.requests.append({"method": method, "path": parts.path,
                                  "query": parts.query, "body": raw.decode(errors="replace"),
                                  "auth": h.headers.get("Authorization")})
        if parts.path == "/token" and method == "POST":
            return self.token(h, raw)
        with self.lock:
            throttled = self.throttle > 0
            self.throttle -= throttled
        email = self.tokens.get((h.headers.get("Authorization") or "").removeprefix("Bearer "))
        if email is None:
            return self.error(h, 401, "UNAUTHENTICATED", "Request had invalid authentication "
                              "credentials. Expected OAuth 2 access token.")
        if throttled:
            return self.error(h, 429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric "
                              "'Read requests' of service 'sheets.googleapis.com'.")
        found = VALUES.match(parts.path) or META.match(parts.path)
        sheet = self.spreadsheets.get(found.group(1)) if found else None
        if sheet is None:
            return self.error(h, 404, "NOT_FOUND", "Requested entity was not found.")
        if email not in sheet.shared_with:
            return self.error(h, 403, "PERMISSION_DENIED", "The caller does not have "
                              "permission")
        if found is not None and found.re is META:
            assert parse_qs(parts.query).get("fields") == ["sheets.properties.title"]
            return h.reply(200, {"sheets": [{"properties": {"title": t}}
                                            for t in sheet.sheets]})
        assert found is not None
        return self.values(h, sheet, unquote(found.group(2)))

    def token(self, h: JsonHandler, raw: bytes) -> None:
        form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return h.reply(400, {"error": "unsupported_grant_type",
                                 "error_description": "Invalid grant_type: "})
        assertion = form.get("assertion", "")
        try:
            email = jwt.decode(assertion, options={"verify_signature": False})["iss"]
            claims = jwt.decode(assertion, self.accounts[email], algorithms=["RS256"],
                                audience=self.token_url)
        except (jwt.PyJWTError, KeyError):
            return h.reply(400, {"error": "invalid_grant",
                                 "error_description": "Invalid JWT Signature."})
        if claims.get("scope") != SCOPE:
            return h.reply(400, {"error": "invalid_scope",
                                 "error_description": "Invalid OAuth scope."})
        with self.lock:
            self.assertions.append(claims)
            access = "ya29." + secrets.token_urlsafe(24)
            if not self.revoke_tokens:
                self.tokens[access] = email
        h.reply(200, {"access_token": access, "expires_in": 3599, "token_type": "Bearer"})

    def values(self, h: JsonHandler, sheet: Spreadsheet, a1: str) -> None:
        name, _, cells = a1.rpartition("!") if "!" in a1 else (a1, "", "")
        if name.startswith("'") and name.endswith("'"):
            name = name[1:-1].replace("''", "'")
        rows = sheet.sheets.get(name)
        start, _, end = cells.partition(":")
        first, last = A1.match(start or "A1"), A1.match(end or "")
        if rows is None or first is None or last is None:
            return self.error(h, 400, "INVALID_ARGUMENT", f"Unable to parse range: {a1}")
        col0 = _column(first.group(1) or "A")
        row0 = int(first.group(2) or 1) - 1
        col1 = _column(last.group(1)) + 1 if last.group(1) else None
        row1 = int(last.group(2)) if last.group(2) else None
        picked = [r[col0:col1] for r in rows[row0:row1]]
        # Google leaves out trailing empty cells of each row and trailing empty rows.
        trimmed = []
        for r in picked:
            while r and r[-1] in (None, ""):
                r = r[:-1]
            trimmed.append(r)
        while trimmed and not trimmed[-1]:
            trimmed.pop()
        answer: dict[str, Any] = {"range": a1, "majorDimension": "ROWS"}
        if trimmed:
            answer["values"] = trimmed
        h.reply(200, answer)

    @staticmethod
    def error(h: JsonHandler, code: int, status: str, message: str) -> None:
        h.reply(code, {"error": {"code": code, "message": message, "status": status}})


@contextmanager
def fake_google() -> Iterator[FakeGoogle]:
    fake = FakeGoogle()

    with serve_calls(lambda h, method: fake.handle(h, method)) as url:
        fake.url = url
        yield fake


def key_json(key: dict[str, str]) -> str:
    return json.dumps(key)
