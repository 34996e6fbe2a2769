"""Zendesk Support records: tickets, users or organizations, through the incremental export
API (Zendesk's own since-token for tickets and users, the update time for organizations)."""
from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, Literal, cast
from urllib.parse import parse_qs, urlsplit

import requests
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from pydantic import Field

from ..base import OperatorError
from ..connections import ZendeskConnection
from ._rest import Resource, RestSource, SourceParams, resource_field

PER_PAGE = 1000  # records per page: the cursor-based export's maximum
TOKEN = "after_cursor"

_STAMPS = (("created_at", "datetime"), ("updated_at", "datetime"))
RESOURCES = {
    # Cursor-based exports: the next run continues from the after_cursor the last one ended
    # on (the cursor_column names the token, not a column).
    "tickets": Resource(
        label="Tickets", path="/api/v2/incremental/tickets/cursor.json",
        data_selector="tickets", cursor_path="updated_at", cursor_column=TOKEN,
        columns=(("id", "int"), ("url", "str"), ("external_id", "str"), ("type", "str"),
                 ("subject", "str"), ("description", "str"), ("priority", "str"),
                 ("status", "str"), ("requester_id", "int"), ("submitter_id", "int"),
                 ("assignee_id", "int"), ("organization_id", "int"), ("group_id", "int"),
                 ("tags", "str"), *_STAMPS)),
    "users": Resource(
        label="Users", path="/api/v2/incremental/users/cursor.json", data_selector="users",
        cursor_path="updated_at", cursor_column=TOKEN,
        columns=(("id", "int"), ("url", "str"), ("name", "str"), ("email", "str"),
                 ("role", "str"), ("organization_id", "int"), ("active", "bool"),
                 ("suspended", "bool"), ("verified", "bool"), ("time_zone", "str"),
                 ("locale", "str"), ("tags", "str"), *_STAMPS, ("last_login_at", "datetime"))),
    # Organizations have only the time-based export: the cursor is their update time.
    "organizations": Resource(
        label="Organizations", path="/api/v2/incremental/organizations.json",
        data_selector="organizations", cursor_path="updated_at", cursor_column="updated_at",
        columns=(("id", "int"), ("url", "str"), ("name", "str"), ("external_id", "str"),
                 ("domain_names", "str"), ("group_id", "int"), ("details", "str"),
                 ("notes", "str"), ("tags", "str"), *_STAMPS)),
}


class ZendeskParams(SourceParams):
    connection: str = Field(..., min_length=1, description="The Zendesk account.",
                            json_schema_extra={"x-connection": "zendesk"})
    resource: Literal["tickets", "users", "organizations"] = resource_field(RESOURCES,
                                                                            "tickets")
    start_date: date = Field(date(2000, 1, 1), ge=date(1970, 1, 1),
                             description="The first run reads what changed since this day "
                             "(UTC); later runs continue where the last one ended.")

    def model_post_init(self, _context: Any) -> None:
        if self.start_date >= datetime.now(UTC).date():
            raise ValueError(f"start_date: {self.start_date} is not in the past; Zendesk "
                             "exports what changed since a day before today")


def _unix(value: Any) -> int:
    """A day or an ISO time as Zendesk's start_time: whole seconds since the epoch."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return int(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp())
    return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp())


class ExportPages(BasePaginator):
    """The pages of an incremental export, until ``end_of_stream``: a cursor-based page
    gives ``after_cursor`` (the next page is ``?cursor=``, without ``start_time``), a
    time-based one ``end_time`` (the next page is ``?start_time=`` it). Remembers the
    after_cursor of each page: the since-token the next run continues from."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.tokens: list[tuple[int, str]] = []  # (records up to this page, its after_cursor)
        self.read = 0
        self.next: tuple[str, Any] | None = None

    def token(self, records: int) -> str | None:
        """The after_cursor of the last page read whole when ``records`` were kept (a
        max_records stop within a page: the next run reads that page again)."""
        whole = [token for upto, token in self.tokens if upto <= records]
        return whole[-1] if whole else None

    def __deepcopy__(self, memo: dict[int, Any]) -> ExportPages:
        return self  # dlt copies its config; the run reads the token back from this one

    def update_state(self, response: requests.Response, data: list[Any] | None = None
                     ) -> None:
        page = response.json()
        if not isinstance(page, dict) or not isinstance(page.get("end_of_stream"), bool):
            raise OperatorError(f"{self.name} answered a page without end_of_stream; check "
                                "the connection's URL (https://yourcompany.zendesk.com).",
                                field="connection")
        sent = parse_qs(urlsplit(response.url or "").query)
        self.read += len(data or [])
        if page.get(TOKEN):
            self.tokens.append((self.read, str(page[TOKEN])))
            self.next = ("cursor", str(page[TOKEN]))
        elif page.get("end_time") is not None:
            start = page["end_time"]
            if [str(start)] == sent.get("start_time") and not page["end_of_stream"]:
                raise OperatorError(f"{self.name}: more than a page of records changed in "
                                    "the same second; Zendesk's time-based export cannot "
                                    "page past them.")
            self.next = ("start_time", start)
        else:
            self.next = None
        self._has_next_page = not page["end_of_stream"] and self.next is not None

    def update_request(self, request: requests.Request) -> None:
        if not self._has_next_page or self.next is None:
            return
        sent = cast(dict[str, Any], request.params or {})  # dlt sets a dict
        params = {k: v for k, v in sent.items() if k not in ("cursor", "start_time")}
        params[self.next[0]] = self.next[1]
        request.params = params


def _answered(name: str) -> Callable[..., None]:
    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:  # noqa: ARG001
        if response.status_code in (400, 422) and "cursor=" in (response.url or ""):
            raise OperatorError(f"{name} refused the saved export cursor (HTTP "
                                f"{response.status_code}); run the node with Full refresh to "
                                "start over.", field="incremental")
    return hook


class ZendeskSource(RestSource):
    """Reads Zendesk Support tickets, users or organizations through the incremental export
    API, page after page until ``end_of_stream``. Tickets and users use the cursor-based
    export: each run continues from the ``after_cursor`` the last successful run ended on,
    Zendesk's own since-token (the run page shows it as the cursor), so a record changed
    since then comes again and one unchanged does not. Organizations have only the
    time-based export: each run asks for what changed since the last run's latest
    ``updated_at``. The first run reads from ``start_date``. Zendesk leaves out what changed
    in the last minute, and allows 10 export requests a minute: its 429 answers are waited
    out as their Retry-After asks. Lists (tags) become JSON text; nested objects (via) are
    columns with dotted names.

    Example: ``{"connection": "c1", "resource": "tickets"}``.
    """

    name = "connector.zendesk"
    label = "Zendesk"
    description = "Tickets, users or organizations from Zendesk Support, only what changed."
    icon = "life-buoy"
    keywords = ("zendesk", "support", "helpdesk", "tickets", "customer service", "import")
    Params = ZendeskParams
    connection_model = ZendeskConnection
    resources = RESOURCES
    auth_hint = ("check the agent's e-mail address and API token on the Connections screen "
                 "(Zendesk Admin Center → Apps and integrations → Zendesk API)")
    example = {"connection": "c1", "resource": "tickets"}

    def client(self, conn: Any) -> tuple[dict[str, Any], list[str]]:
        token = conn.api_token.get_secret_value()
        basic = base64.b64encode(f"{conn.email}/token:{token}".encode()).decode()
        return ({"base_url": conn.base_url.rstrip("/"),
                 "auth": {"type": "http_basic", "username": f"{conn.email}/token",
                          "password": token},
                 "paginator": ExportPages(self.label)}, [token, basic])

    def since_token(self, client: dict[str, Any]) -> Callable[[int], Any] | None:
        pages: ExportPages = client["paginator"]
        return pages.token

    def endpoint(self, params: Any, resource: Resource,
                 incremental: dict[str, Any] | None) -> dict[str, Any]:
        since = incremental["initial_value"] if incremental is not None else None
        query: dict[str, Any]
        if since is None:
            query = {"start_time": _unix(params.start_date)}
        elif resource.cursor_column == TOKEN:
            query = {"cursor": str(since)}
        else:
            query = {"start_time": _unix(since)}
        if resource.cursor_column == TOKEN:
            # Pages no larger than max_records: a run stopped by it ends on a whole page.
            query["per_page"] = min(PER_PAGE, params.max_records or PER_PAGE)
        return {"path": resource.path, "data_selector": resource.data_selector,
                "params": query, "response_actions": [_answered(self.label)]}
