"""Fetching a saved connection and making sure it is of a kind the operator can use; checking
that a connection works (its Test button)."""
from __future__ import annotations

import base64
import dataclasses
import re
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ..base import Context, OperatorError
from ..connections import (
    KINDS,
    ConnectionConfig,
    FilesConnection,
    GoogleSheetsConnection,
    HttpConnection,
    HubSpotConnection,
    MailchimpConnection,
    SalesforceConnection,
    ShopifyConnection,
    SQLiteConnection,
    StripeConnection,
    WebhookConnection,
    ZendeskConnection,
)
from ..net import resolve

T = TypeVar("T", bound=ConnectionConfig)
_KIND_OF = {model: kind for kind, model in KINDS.items()}


def load_connection(ctx: Context, connection_id: str, *models: type[T]) -> T:
    """The connection as one of ``models``; OperatorError(field="connection") otherwise.
    The context checks the kind too, but the operator picks its SQL dialect or its auth
    header from the model, so it does not rely on that."""
    kinds = [_KIND_OF[m] for m in models]
    conn = ctx.connection(connection_id, kinds if len(kinds) > 1 else kinds[0])
    if not isinstance(conn, models):
        raise OperatorError(f"Connection {connection_id!r} is not a {' or '.join(kinds)} "
                            "connection.", field="connection")
    return conn


# --- checking a connection (the Test button) -------------------------------------------------
# One light request with short timeouts, through the same checked paths the operators use
# (private addresses refused unless allow-listed, the checked address dialled). Unlike a
# node's error, the answer says what failed (unreachable, credentials, database): only
# someone who may save the connection's host can test new fields, a saved connection is
# tested where it points.

TEST_TIMEOUT = 5  # seconds for an HTTP answer and for SELECT 1 (a database connect: 10 s)


@dataclasses.dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str


def check_connection(conn: ConnectionConfig, *, url_allowlist: list[str],
                     sqlite_root: str | None, files_root: str | None = None) -> CheckResult:
    """Reach the system ``conn`` points at and use its credentials once."""
    from ._sql import SQL_MODELS

    if isinstance(conn, FilesConnection):
        from .files import check

        return check(conn, url_allowlist=url_allowlist, files_root=files_root)
    try:
        if isinstance(conn, SQL_MODELS):
            return _check_sql(conn, url_allowlist, sqlite_root)
        if isinstance(conn, GoogleSheetsConnection):  # the probe: the token exchange
            from .google_sheets import check as check_google

            result: CheckResult = check_google(conn, url_allowlist)
            return result
        return _check_http(conn, url_allowlist)
    except OperatorError as exc:  # refused before anything was sent (address, file)
        return CheckResult(False, exc.message)


def _check_sql(conn: Any, url_allowlist: list[str], sqlite_root: str | None) -> CheckResult:
    import sqlalchemy as sa
    from sqlalchemy.exc import SQLAlchemyError

    from ..testing import LocalContext
    from ._sql import Database, driver_message, native

    # A SQLAlchemy URL is checked as the kind it names (its refusals on "url").
    target, _options = native(conn, field="url")
    where = "the SQLite file" if isinstance(target, SQLiteConnection) \
        else f"{target.host}:{target.port}"
    if not isinstance(target, SQLiteConnection):
        resolve(target.host, target.port, allowlist=url_allowlist,
                field="host" if target is conn else "url")
    ctx = LocalContext(url_allowlist=url_allowlist, sqlite_root=sqlite_root)
    db = Database(ctx, conn, read_only=True, timeout=TEST_TIMEOUT)
    try:
        with db.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1")).scalar()
    except SQLAlchemyError as exc:
        return CheckResult(False, _sql_reason(driver_message(exc, conn), where))
    finally:
        db.close()
    return CheckResult(True, f"Connected to {where} and ran SELECT 1.")


def _sql_reason(said: str, where: str) -> str:
    text = said.lower()
    if any(w in text for w in ("authentication", "access denied", "password")):
        return f"The server at {where} refused the user name or password: {said}"
    if any(w in text for w in ("refused", "timeout", "timed out", "can't connect",
                               "could not connect", "no route", "unreachable")):
        return f"Could not reach {where}: {said}"
    return f"Reached {where}, but: {said}"


# The light authenticated GET per kind: (URL, headers, whether the answer tells about the
# credentials). A webhook has no credentials to check (its secret signs, it does not log in).
def _probe(conn: ConnectionConfig) -> tuple[str, dict[str, str], bool, list[str]]:
    if isinstance(conn, HttpConnection):
        token = conn.token.get_secret_value()
        headers = {} if not token else {
            conn.auth_header: token if conn.auth_scheme == "none"
            else f"{conn.auth_scheme} {token}"}
        return conn.base_url, headers, bool(token), [token]
    if isinstance(conn, HubSpotConnection):
        token = conn.access_token.get_secret_value()
        return (conn.base_url.rstrip("/") + "/crm/v3/objects/contacts?limit=1",
                {"Authorization": f"Bearer {token}"}, True, [token])
    if isinstance(conn, SalesforceConnection):
        token = conn.access_token.get_secret_value()
        return (f"{conn.instance_url.rstrip('/')}/services/data/{conn.api_version}/limits",
                {"Authorization": f"Bearer {token}"}, True, [token])
    if isinstance(conn, StripeConnection):
        key = conn.api_key.get_secret_value()
        return (conn.base_url.rstrip("/") + "/v1/balance",
                {"Authorization": f"Bearer {key}"}, True, [key])
    if isinstance(conn, ShopifyConnection):
        token = conn.access_token.get_secret_value()
        return (f"{conn.shop_url.rstrip('/')}/admin/api/{conn.api_version}/shop.json",
                {"X-Shopify-Access-Token": token}, True, [token])
    if isinstance(conn, ZendeskConnection):
        token = conn.api_token.get_secret_value()
        basic = base64.b64encode(f"{conn.email}/token:{token}".encode()).decode()
        return (conn.base_url.rstrip("/") + "/api/v2/users/me.json",
                {"Authorization": f"Basic {basic}"}, True, [token, basic])
    if isinstance(conn, MailchimpConnection):
        key = conn.api_key.get_secret_value()
        basic = base64.b64encode(f"datagran:{key}".encode()).decode()
        return (conn.base_url.rstrip("/") + "/3.0/ping",
                {"Authorization": f"Basic {basic}"}, True, [key, basic])
    assert isinstance(conn, WebhookConnection), type(conn).__name__
    return conn.url, {}, False, []


def _check_http(conn: ConnectionConfig, url_allowlist: list[str]) -> CheckResult:
    import httpx

    from ..actions import http

    url, headers, with_credentials, secrets = _probe(conn)
    target = _host_port(url)
    extensions = {http.URL_CHECK: (tuple(url_allowlist), "connection")}
    try:
        with http.new_client(TEST_TIMEOUT) as client:
            response = client.get(url, headers={"Accept": "application/json", **headers},
                                  extensions=extensions)
    except httpx.TimeoutException:
        return CheckResult(False, f"Could not reach {target}: no answer within "
                                  f"{TEST_TIMEOUT} s.")
    except httpx.HTTPError as exc:
        reason = http.redact(str(exc) or type(exc).__name__, secrets)
        return CheckResult(False, f"Could not reach {target}: {_plain(reason)}.")
    status = response.status_code
    if status in (401, 403) and with_credentials:
        return CheckResult(False, f"The server refused the credentials ({status}).")
    if status >= 500:
        return CheckResult(False, f"Reached {target}, but it answered "
                                  f"{http.describe(response, secrets)}.")
    if not with_credentials:
        return CheckResult(True, f"Reached {target} (HTTP {status}).")
    return CheckResult(True, f"Reached {target} and it accepted the credentials "
                             f"(HTTP {status}).")


def _host_port(url: str) -> str:
    """"host:port" of a URL for messages (no user info, path or query)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.hostname or url}{f':{port}' if port else ''}"


def _plain(reason: str) -> str:
    """"[Errno 111] Connection refused" → "connection refused"."""
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", reason.strip())
    return text[:1].lower() + text[1:] if text else "no answer"
