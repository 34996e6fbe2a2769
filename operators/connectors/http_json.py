"""A table from a JSON web API, following its pagination."""
from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import httpx
import pandas as pd
from pydantic import Field, field_validator, model_validator

from ..actions import http
from ..base import Context, Operator, OperatorError, Params, Port, Schema
from ..connections import HttpConnection
from ._connection import load_connection

Pagination = Literal["none", "page", "offset", "cursor", "link_header"]
_DOT_PATH = r"^([^.\s]+(\.[^.\s]+)*)?$"
_PARAM = r"^[A-Za-z0-9_.\[\]-]{1,100}$"
_MISSING = object()


class QueryParam(Params):
    name: str = Field(..., pattern=_PARAM, description="The query parameter's name.")
    value: str = Field("", max_length=2000, description="Its value.")


class HttpJsonParams(Params):
    connection: str = Field(..., min_length=1, description="The API to call.",
                            json_schema_extra={"x-connection": "http"})
    path: str = Field("", max_length=2000,
                      description="Added to the connection's base URL, e.g. /customers.")
    query_params: list[QueryParam] = Field(default_factory=list, max_length=50,
                                           description="Query parameters sent with each "
                                           "request.")
    records_path: str = Field("", pattern=_DOT_PATH,
                              description="Where the list of records is in the response, as "
                              "a dot path such as data.items; empty if the response is the "
                              "list.")
    pagination: Pagination = Field("none", description="How the API hands out further pages: "
                                   "a page number, an offset, a cursor from the response or "
                                   "a Link: rel=next header.")
    page_param: str = Field("page", pattern=_PARAM,
                            description="Page pagination: the page number parameter.")
    start_page: int = Field(1, ge=0, le=1_000_000,
                            description="Page pagination: the first page's number.")
    page_size_param: str = Field("", pattern=r"^([A-Za-z0-9_.\[\]-]{1,100})?$",
                                 description="Page or offset pagination: the parameter for "
                                 "records per page (e.g. per_page or limit); empty sends "
                                 "none and reads until an empty page.")
    page_size: int = Field(100, ge=1, le=10_000,
                           description="Records per page, sent in page_size_param.")
    offset_param: str = Field("offset", pattern=_PARAM,
                              description="Offset pagination: the offset parameter.")
    cursor_param: str = Field("cursor", pattern=_PARAM,
                              description="Cursor pagination: the parameter for the cursor.")
    cursor_path: str = Field("next_cursor", pattern=_DOT_PATH,
                             description="Cursor pagination: where the next cursor is in the "
                             "response, as a dot path; no cursor means the last page.")
    max_pages: int = Field(100, ge=1, le=1000, description="Stop after this many pages.")
    timeout_seconds: float = Field(30, ge=1, le=120, description="Time limit per request.")
    retries: int = Field(3, ge=0, le=http.MAX_RETRIES,
                         description="Retries on HTTP 429, 5xx or a network failure.")
    retry_max_wait_seconds: float = Field(60, gt=0, le=http.MAX_WAIT_SECONDS,
                                          description="Longest wait before a retry, even if "
                                          "the API asks for more (Retry-After).")

    @field_validator("path")
    @classmethod
    def _relative_path(cls, path: str) -> str:
        # An absolute URL here would escape the connection's base URL.
        if "://" in path or path.startswith("//") or any(c in path for c in "?#\\"):
            raise ValueError("must be a path such as /customers; put query parameters in "
                             "query_params")
        return path

    @model_validator(mode="after")
    def _pagination_params_not_repeated(self) -> HttpJsonParams:
        owned = {"page": [self.page_param, self.page_size_param],
                 "offset": [self.offset_param, self.page_size_param],
                 "cursor": [self.cursor_param]}.get(self.pagination, [])
        for i, q in enumerate(self.query_params):
            if q.name in owned:
                raise ValueError(f"query_params.{i}: {q.name!r} is set by the pagination")
        return self


def dig(body: Any, path: str) -> Any:
    """The value at a dot path ("data.items", "results.0.id"), or _MISSING."""
    current = body
    for part in path.split(".") if path else []:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


class HttpJson(Operator):
    """GETs JSON from an API through an HTTP connection (its base URL and token) and turns
    the records into a table, nested fields flattened to ``a.b`` columns. Follows page,
    offset, cursor or Link-header pagination up to ``max_pages``; retries 429 and 5xx
    answers, waiting as the API asks (Retry-After) up to a limit.

    Example: ``{"connection": "c1", "path": "/v1/customers", "records_path": "data",
    "pagination": "cursor", "cursor_param": "starting_after", "cursor_path": "next"}``.
    """

    name = "connector.http_json"
    label = "HTTP JSON API"
    description = "Records from a JSON web API, across its pages."
    category = "connector"
    icon = "globe"
    keywords = ("http", "api", "rest", "json", "web", "fetch", "get", "pagination", "import")
    outputs = (Port("table", "table"),)
    Params = HttpJsonParams
    example = {"connection": "c1",
               "path": "/v1/customers",
               "records_path": "data",
               "pagination": "cursor",
               "cursor_param": "starting_after",
               "cursor_path": "next"}

    def run(self, ctx: Context, params: HttpJsonParams) -> dict[str, pd.DataFrame]:
        conn = load_connection(ctx, params.connection, HttpConnection)
        token = conn.token.get_secret_value()
        headers = {"Accept": "application/json"}
        if token:
            headers[conn.auth_header] = token if conn.auth_scheme == "none" \
                else f"{conn.auth_scheme} {token}"
        base = conn.base_url.rstrip("/") + ("/" + params.path.lstrip("/") if params.path else "")
        policy = http.RetryPolicy(retries=params.retries, max_wait=params.retry_max_wait_seconds)
        pages = _Pages(params, base)
        records: list[Any] = []
        url = pages.first()
        with http.new_client(params.timeout_seconds) as client:
            for number in range(1, params.max_pages + 1):
                response = _get(ctx, client, url, headers, policy, [token])
                body = _json(response)
                items = _records(body, params.records_path)
                records.extend(items)
                ctx.log(f"Page {number}: {len(items)} records.")
                next_url = pages.next(response, body, items)
                if next_url is None:
                    break
                url = next_url
            else:
                ctx.log(f"Stopped after {params.max_pages} pages (max_pages); the API may "
                        "have more records.")
        table = pd.json_normalize([r if isinstance(r, dict) else {"value": r} for r in records])
        ctx.log(f"Read {len(table)} records.")
        return {"table": table}

    def infer_schema(self, ctx: Context, params: HttpJsonParams) -> dict[str, Schema | None]:
        # The fields are only known from a response; validation does not call APIs.
        return {"table": None}


class _Pages:
    """The URL of each page in turn, per the pagination style."""

    def __init__(self, params: HttpJsonParams, base: str) -> None:
        self.params, self.base = params, base
        self.page, self.offset = params.start_page, 0
        self.cursor: Any = None
        self.seen: set[str] = set()

    def _url(self, extra: dict[str, Any]) -> str:
        query: list[tuple[str, Any]] = [(q.name, q.value) for q in self.params.query_params]
        query += [(k, str(v)) for k, v in extra.items()]
        return str(httpx.URL(self.base).copy_merge_params(query))

    def _paged(self) -> dict[str, Any]:
        p = self.params
        size = {p.page_size_param: p.page_size} if p.page_size_param else {}
        if p.pagination == "page":
            return {p.page_param: self.page, **size}
        if p.pagination == "offset":
            return {p.offset_param: self.offset, **size}
        return {}

    def first(self) -> str:
        return self._url(self._paged())

    def next(self, response: httpx.Response, body: Any, items: list[Any]) -> str | None:
        p = self.params
        if p.pagination in ("page", "offset"):
            # An empty page, or a short one when the API was told the page size, is the last.
            if not items or (p.page_size_param and len(items) < p.page_size):
                return None
            self.page += 1
            self.offset += len(items)
            return self._url(self._paged())
        if p.pagination == "cursor":
            cursor = dig(body, p.cursor_path)
            # The same cursor twice would loop until max_pages: treat it as the end.
            if cursor in (_MISSING, None, "", self.cursor) or isinstance(cursor, (dict, list)):
                return None
            self.cursor = cursor
            return self._url({p.cursor_param: cursor})
        if p.pagination == "link_header":
            link = response.links.get("next", {}).get("url")
            url = urljoin(str(response.url), link) if link else None
            if url is None or url in self.seen:
                return None
            if _origin(url) != _origin(self.base):
                # The token would go along to a host the connection does not name.
                raise OperatorError(f"The next page's link leads to {_origin(url)}, not to "
                                    "the connection's host; it was not followed.",
                                    field="pagination")
            self.seen.add(url)
            return url
        return None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def _get(ctx: Context, client: httpx.Client, url: str, headers: dict[str, str],
         policy: http.RetryPolicy, secrets: list[str]) -> httpx.Response:
    try:
        response = http.request(client, "GET", url, ctx=ctx, field="connection",
                                policy=policy, headers=headers)
    except http.HttpFailure as exc:
        raise OperatorError(str(exc), field="connection") from None
    if response.is_success:
        return response
    what = f"{http.where(url)} answered {http.describe(response, secrets)}"
    if response.status_code in (401, 403):
        raise OperatorError(f"The API refused the connection's credentials: {what}",
                            field="connection")
    if 300 <= response.status_code < 400:
        location = response.headers.get("Location", "")
        raise OperatorError(f"{http.where(url)} redirects to {http.where(location)}; use the "
                            "final address in the connection's base URL or the path.",
                            field="path")
    if http.retryable(response.status_code):
        raise OperatorError(f"{what} (after {policy.retries} retries).", field="connection")
    raise OperatorError(what, field="path")


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise OperatorError(f"{http.where(str(response.url))} did not answer with JSON "
                            f"(Content-Type: {response.headers.get('Content-Type', 'none')}).",
                            field="path") from None


def _records(body: Any, path: str) -> list[Any]:
    found = dig(body, path)
    if isinstance(found, list):
        return found
    where = f"records_path {path!r}" if path else "The response"
    if found is _MISSING:
        raise OperatorError(f"The response has no {path!r}{_keys_hint(body)}",
                            field="records_path")
    raise OperatorError(f"{where} is {type(found).__name__ if found is not None else 'null'}, "
                        f"not a list of records{_keys_hint(found)}", field="records_path")


def _keys_hint(value: Any) -> str:
    if isinstance(value, dict) and value:
        return "; its keys are: " + ", ".join(list(map(str, value))[:20]) + "."
    return "."
