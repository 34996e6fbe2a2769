"""The generic REST API source: dlt's declarative ``rest_api`` configuration edited in a form
(the connection's base URL and token, a path, a paginator, a data selector, an incremental
cursor), for the APIs Datagran does not ship a source for. It loads like every source,
through ``_dlt.load``."""
from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import pandas as pd
import requests
from dlt.common.jsonpath import compile_path
from dlt.sources.helpers.rest_client.paginators import (
    BasePaginator,
    HeaderLinkPaginator,
    JSONResponseCursorPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    SinglePagePaginator,
)
from pydantic import Field, field_validator, model_validator

from ..actions import http
from ..base import Context, Operator, OperatorError, Params, Port, Schema
from ..connections import HttpConnection
from ..errors import causes
from . import _dlt
from ._connection import load_connection
from ._rest import SourceParams

Paginator = Literal["single_page", "page_number", "offset", "cursor", "header_link"]
# Saved pipelines name the paginator as the node did before it ran on dlt.
_OLD_PAGINATION = {"none": "single_page", "page": "page_number", "offset": "offset",
                   "cursor": "cursor", "link_header": "header_link"}
_DOT_PATH = r"^([^.\s]+(\.[^.\s]+)*)?$"
_PARAM = r"^[A-Za-z0-9_.\[\]-]{1,100}$"
_OPTIONAL_PARAM = r"^([A-Za-z0-9_.\[\]-]{1,100})?$"
_MISSING = object()


class QueryParam(Params):
    name: str = Field(..., pattern=_PARAM, description="The query parameter's name.")
    value: str = Field("", max_length=2000, description="Its value.")


class HttpJsonParams(SourceParams):
    connection: str = Field(..., min_length=1, description="The API to call: its base URL "
                            "and token.", json_schema_extra={"x-connection": "http"})
    path: str = Field("", max_length=2000,
                      description="Added to the connection's base URL, e.g. /customers.")
    query_params: list[QueryParam] = Field(default_factory=list, max_length=50,
                                           description="Query parameters sent with each "
                                           "request.")
    data_selector: str = Field("", pattern=_DOT_PATH, max_length=500,
                               description="Where the list of records is in the response, "
                               "as a dot path such as data.items; empty if the response is "
                               "the list.")
    paginator: Paginator = Field(
        "single_page", description="How the API hands out further pages: none (one page), "
        "a page number, an offset, a cursor from the response or a Link: rel=next header.",
        json_schema_extra={"x-labels": {"single_page": "One page", "page_number":
                                        "Page number", "offset": "Offset",
                                        "cursor": "Cursor in the response",
                                        "header_link": "Link header"}})
    page_param: str = Field("page", pattern=_PARAM,
                            description="Page number paginator: the page number parameter.")
    start_page: int = Field(1, ge=0, le=1_000_000,
                            description="Page number paginator: the first page's number.")
    page_size_param: str = Field("", pattern=_OPTIONAL_PARAM,
                                 description="Page or offset paginator: the parameter for "
                                 "records per page (e.g. per_page or limit); empty sends "
                                 "none and reads until an empty page.")
    page_size: int = Field(100, ge=1, le=10_000,
                           description="Records per page, sent in page_size_param.")
    offset_param: str = Field("offset", pattern=_PARAM,
                              description="Offset paginator: the offset parameter.")
    cursor_param: str = Field("cursor", pattern=_PARAM,
                              description="Cursor paginator: the parameter for the cursor.")
    cursor_path: str = Field("next_cursor", pattern=_DOT_PATH, max_length=500,
                             description="Cursor paginator: where the next cursor is in the "
                             "response, as a dot path; no cursor means the last page.")
    max_pages: int = Field(100, ge=1, le=100_000, description="Stop after this many pages.")
    incremental_cursor: str = Field(
        "", pattern=_DOT_PATH, max_length=500,
        description="Incremental loading: the field of each record that grows when it "
        "changes (e.g. updated_at, or meta.updated for a nested one); the next run keeps "
        "only records from the last run's highest value on. Empty: every run reads all.")
    incremental_param: str = Field(
        "", pattern=_OPTIONAL_PARAM,
        description="Incremental loading: the query parameter that tells the API where to "
        "start (e.g. since or updated_after); it receives the last run's highest cursor "
        "value. Empty: the API is asked for everything and older records are dropped.")
    incremental_start: str = Field("", max_length=200,
                                   description="Incremental loading: the cursor value of the "
                                   "first run (e.g. 2024-01-01T00:00:00Z); empty: all.")
    primary_key: list[str] = Field(default_factory=list, max_length=10,
                                   description="The fields that identify a record (e.g. id), "
                                   "for the accumulated output and for updated records.")
    timeout_seconds: float = Field(30, ge=1, le=120, description="Time limit per request.")
    retries: int = Field(3, ge=0, le=http.MAX_RETRIES,
                         description="Retries on HTTP 429, 5xx or a network failure.")
    retry_max_wait_seconds: float = Field(60, gt=0, le=http.MAX_WAIT_SECONDS,
                                          description="Longest wait before a retry, even if "
                                          "the API asks for more (Retry-After).")

    @model_validator(mode="before")
    @classmethod
    def _saved_names(cls, raw: Any) -> Any:
        """Params saved before the node ran on dlt: records_path, pagination."""
        if not isinstance(raw, dict):
            return raw
        raw = dict(raw)
        if "records_path" in raw and "data_selector" not in raw:
            raw["data_selector"] = raw.pop("records_path")
        if "pagination" in raw and "paginator" not in raw:
            old = raw.pop("pagination")
            raw["paginator"] = _OLD_PAGINATION.get(old, old) if isinstance(old, str) else old
        return raw

    @field_validator("path")
    @classmethod
    def _relative_path(cls, path: str) -> str:
        # An absolute URL here would escape the connection's base URL.
        if "://" in path or path.startswith("//") or any(c in path for c in "?#\\"):
            raise ValueError("must be a path such as /customers; put query parameters in "
                             "query_params")
        return path

    @field_validator("primary_key")
    @classmethod
    def _key_fields(cls, key: list[str]) -> list[str]:
        for i, name in enumerate(key):
            if not name or len(name) > 200 or any(c.isspace() for c in name):
                raise ValueError(f"primary_key.{i}: {name!r} is not a field name")
        return key

    @model_validator(mode="after")
    def _consistent(self) -> HttpJsonParams:
        paging = [p for p in {"page_number": [self.page_param, self.page_size_param],
                              "offset": [self.offset_param, self.page_size_param],
                              "cursor": [self.cursor_param]}.get(self.paginator, []) if p]
        if self.incremental_param in paging:
            raise ValueError(f"incremental_param: {self.incremental_param!r} is the "
                             "paginator's parameter")
        owned = [*paging, self.incremental_param] if self.incremental_param and \
            self.incremental_cursor else paging
        for i, q in enumerate(self.query_params):
            if q.name in owned:
                raise ValueError(f"query_params.{i}: {q.name!r} is set by the paginator or "
                                 "the incremental cursor")
        if self.output == "accumulated" and not self.primary_key:
            raise ValueError("output: the accumulated table merges records by their primary "
                             "key; set primary_key (e.g. id) or choose new records")
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


def jsonpath(path: str) -> str:
    """A dot path as the JSONPath dlt reads: every part quoted, so a key may hold any
    character; digits index a list."""
    if not path:
        return "$"
    parts = [f"[{p}]" if p.isdigit() else "['" + p.replace("\\", "\\\\").replace("'", "\\'")
             + "']" for p in path.split(".")]
    return "$" + "".join(parts)


class HttpJson(Operator):
    """Reads records from a JSON web API through an HTTP connection (its base URL and
    token), with dlt's REST client: the records found at the data selector, across pages
    (page number, offset, a cursor in the response, or the Link header) up to ``max_pages``;
    nested fields become ``a.b`` columns. HTTP 429 and 5xx answers are retried, waiting as
    the API asks (Retry-After) up to a limit. With an incremental cursor (a field that grows,
    such as ``updated_at``), each run keeps only the records from the last successful run's
    highest value on, and can send that value to the API in a query parameter (``since``).

    Example: ``{"connection": "c1", "path": "/v1/customers", "data_selector": "data",
    "paginator": "cursor", "cursor_param": "starting_after", "cursor_path": "next"}``.
    """

    name = "connector.http_json"
    label = "REST API"
    description = "Records from any JSON web API, across its pages, only what changed."
    category = "connector"
    icon = "globe"
    keywords = ("http", "api", "rest", "json", "web", "fetch", "get", "pagination", "import",
                "incremental")
    outputs = (Port("table", "table"),)
    Params = HttpJsonParams
    # The data behind the same params changes: never reused from the cache.
    reuse_output = False
    example = {"connection": "c1",
               "path": "/v1/customers",
               "data_selector": "data",
               "paginator": "cursor",
               "cursor_param": "starting_after",
               "cursor_path": "next"}

    def run(self, ctx: Context, params: HttpJsonParams) -> dict[str, pd.DataFrame]:
        key = _dlt.state_key(self.name, params.model_dump(mode="json"))
        cursor = params.incremental_cursor if params.incremental else ""
        prev = _dlt.previous(ctx, key, keyed=bool(params.primary_key))
        start = prev.cursor if prev is not None and prev.cursor is not None \
            else _typed(params.incremental_start) if params.incremental_start else None
        call = _Call(ctx, params, cursor=cursor, start=start)
        source = call.source(params, cursor)
        with call.session:
            try:
                table = _dlt.load(ctx, source, key=key,
                                  prev=prev if cursor or params.output == "accumulated"
                                  else None, output=params.output,
                                  max_records=params.max_records)
            except OperatorError as exc:
                if exc.field == "resource":  # an HTTP 404: this node has a path, no resource
                    exc.field = "path"
                raise
        if call.paginator.stopped:
            ctx.log(f"Stopped after {params.max_pages} pages (max_pages); the API may have "
                    "more records.")
        return {"table": table}

    def sample(self, ctx: Context, params: HttpJsonParams) -> pd.DataFrame:
        """The first page's first 100 records (from incremental_start, if set), without
        touching the node's incremental state."""
        one = params.model_copy(update={"max_pages": 1})
        cursor = params.incremental_cursor if params.incremental else ""
        call = _Call(ctx, one, cursor=cursor,
                     start=_typed(params.incremental_start) if params.incremental_start
                     else None)
        source = call.source(params, cursor)
        with call.session:
            try:
                for frame in _dlt._chunks(source.records, None):
                    return frame.head(100)
            except Exception as exc:  # noqa: BLE001 - said for people
                raise _dlt.explain(exc, source) from None
        return pd.DataFrame()

    def infer_schema(self, ctx: Context, params: HttpJsonParams) -> dict[str, Schema | None]:
        # The fields are only known from a response (validation does not call APIs): the
        # columns of the last succeeded run with these params, once there is one.
        return {"table": ctx.known_schema(_dlt.state_key(self.name,
                                                         params.model_dump(mode="json")))}


class _Call:
    """dlt's rest_api resource for the params, over the connection's checked session."""

    def __init__(self, ctx: Context, params: HttpJsonParams, *, cursor: str,
                 start: Any) -> None:
        from dlt.sources.rest_api import rest_api_resources

        conn = load_connection(ctx, params.connection, HttpConnection)
        self.name = getattr(ctx, "connection_names", {}).get(params.connection, "The API")
        token = conn.token.get_secret_value()
        headers = {"Accept": "application/json"}
        self.secrets = [token]
        if token:
            headers[conn.auth_header] = token if conn.auth_scheme == "none" \
                else f"{conn.auth_scheme} {token}"
            self.secrets.append(headers[conn.auth_header])
        base = conn.base_url.rstrip("/") + ("/" + params.path.lstrip("/")
                                            if params.path else "")
        self.fetch = _dlt.Fetch()
        self.session = _dlt.checked_session(
            ctx, name=self.name, secrets=self.secrets, fetch=self.fetch,
            timeout=params.timeout_seconds, retries=params.retries,
            max_wait=params.retry_max_wait_seconds)
        # A redirect is answered, not followed: requests would send the token header along.
        self.session.max_redirects = 0
        self.paginator = _paginator(params, base)
        query: dict[str, Any] = {}
        for q in params.query_params:
            # dlt reads {...} in params as its placeholders: the user's braces are literal.
            query.setdefault(q.name, []).append(q.value.replace("{", "{{").replace("}", "}}"))
        query = {k: v[0] if len(v) == 1 else v for k, v in query.items()}
        endpoint: dict[str, Any] = {"path": "", "params": query,
                                    # Compiled once: dlt parses a string on every page.
                                    "data_selector": compile_path(
                                        jsonpath(params.data_selector)),
                                    "paginator": self.paginator}
        if cursor:
            endpoint["incremental"] = {"cursor_path": cursor, "initial_value": start,
                                       "range_start": "closed"}
            if params.incremental_param and start is not None:
                query[params.incremental_param] = "{incremental.start_value}"
        config: Any = {"client": {"base_url": base, "headers": headers,
                                  "session": self.session},
                       "resources": [{"name": "records", "endpoint": endpoint,
                                      "primary_key": params.primary_key or None}],
                       "resource_defaults": {"max_table_nesting": 0}}
        try:
            self.records = rest_api_resources(config)[0]
        except Exception as exc:  # noqa: BLE001 - a config the API cannot take is the user's
            self.session.close()
            raise OperatorError(f"{self.name}: {http.redact(str(exc), self.secrets)[:400]}"
                                ) from None

    def source(self, params: HttpJsonParams, cursor: str) -> _dlt.Source:
        return _dlt.Source(name=self.name, records=_checked(self.records, self.name),
                           secrets=self.secrets, primary_key=list(params.primary_key),
                           cursor_column=cursor or None, fetch=self.fetch,
                           auth_hint="check the token of the connection on the Connections "
                           "screen")


def _typed(value: str) -> Any:
    """The first run's cursor value as the records hold it: a number stays a number."""
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        return value


def _checked(records: Any, name: str) -> Any:
    """The records, with what went wrong in a page said in the node's terms: a page that is
    not JSON, records not where the data selector says, a redirect."""
    try:
        yield from records
    except Exception as exc:  # noqa: BLE001 - turned into messages for people or re-raised
        for cause in causes(exc):
            if isinstance(cause, OperatorError):
                raise cause from None
            if isinstance(cause, requests.TooManyRedirects) and cause.response is not None:
                location = cause.response.headers.get("Location", "")
                raise OperatorError(
                    f"{name}: {http.where(cause.response.url)} redirects to "
                    f"{http.where(location)}; use the final address in the connection's base "
                    "URL or the path.", field="path") from None
            if isinstance(cause, requests.JSONDecodeError):
                raise OperatorError(
                    f"{name}: malformed page: the server answered something that is not "
                    "JSON; check the connection's base URL and the path.", field="path") \
                    from None
        raise


class _Counted(BasePaginator):
    """Stops after ``max_pages`` pages (noting it stopped early) and checks that the
    records are where the data selector says."""

    max_pages: int = 100
    pages: int = 0
    stopped: bool = False
    selector: str = ""

    def _setup(self, params: HttpJsonParams) -> None:
        self.max_pages, self.selector = params.max_pages, params.data_selector
        self.pages, self.stopped = 0, False

    def _counted(self, response: requests.Response, data: list[Any] | None) -> None:
        self.pages += 1
        if not data or (len(data) == 1 and isinstance(data[0], dict)):
            _check_records(response, self.selector)
        if self.has_next_page and self.pages >= self.max_pages:
            self._has_next_page = False
            self.stopped = True


def _check_records(response: requests.Response, selector: str) -> None:
    """A page's records must be a list at the data selector (dlt reads a missing path as no
    records, and one object as one record)."""
    body = response.json()
    found = dig(body, selector)
    if isinstance(found, list):
        return
    if found is _MISSING:
        raise OperatorError(f"The response has no {selector!r}{_keys_hint(body)}",
                            field="data_selector")
    where = f"data_selector {selector!r}" if selector else "The response"
    raise OperatorError(f"{where} is {type(found).__name__ if found is not None else 'null'}, "
                        f"not a list of records{_keys_hint(found)}", field="data_selector")


def _keys_hint(value: Any) -> str:
    if isinstance(value, dict) and value:
        return "; its keys are: " + ", ".join(list(map(str, value))[:20]) + "."
    return "."


class _Single(_Counted, SinglePagePaginator):
    def update_state(self, response: requests.Response, data: list[Any] | None = None) -> None:
        SinglePagePaginator.update_state(self, response, data)
        self._counted(response, data)


class _Pages(_Counted, PageNumberPaginator):
    """dlt's page number paginator; a page shorter than the page size asked for is the
    last, and the page size goes in its own parameter."""

    def __init__(self, params: HttpJsonParams) -> None:
        PageNumberPaginator.__init__(self, base_page=params.start_page, page=params.start_page,
                                     page_param=params.page_param, total_path=None,
                                     stop_after_empty_page=True)
        self._setup(params)
        self.size_param, self.size = params.page_size_param, params.page_size

    def update_request(self, request: Any) -> None:
        PageNumberPaginator.update_request(self, request)
        if self.size_param:
            request.params[self.size_param] = self.size

    def update_state(self, response: requests.Response, data: list[Any] | None = None) -> None:
        PageNumberPaginator.update_state(self, response, data)
        if self.size_param and data is not None and len(data) < self.size:
            self._has_next_page = False
        self._counted(response, data)


class _Offsets(_Counted, OffsetPaginator):
    """dlt's offset paginator, advancing by the records received; the page size is sent
    only when it has a parameter."""

    def __init__(self, params: HttpJsonParams) -> None:
        OffsetPaginator.__init__(self, limit=params.page_size, offset=0,
                                 offset_param=params.offset_param,
                                 limit_param=params.page_size_param or "limit",
                                 total_path=None, stop_after_empty_page=True)
        self._setup(params)
        self.send_size = bool(params.page_size_param)

    def _update_request_limit(self, request: Any) -> None:
        if self.send_size:
            OffsetPaginator._update_request_limit(self, request)

    def update_state(self, response: requests.Response, data: list[Any] | None = None) -> None:
        self.value_step = len(data or [])
        OffsetPaginator.update_state(self, response, data)
        if self.send_size and data is not None and len(data) < self.limit:
            self._has_next_page = False
        self._counted(response, data)


class _Cursor(_Counted, JSONResponseCursorPaginator):
    """dlt's cursor paginator; the same cursor twice (which would loop) or one that is not a
    plain value ends the reading."""

    def __init__(self, params: HttpJsonParams) -> None:
        JSONResponseCursorPaginator.__init__(self, cursor_path=jsonpath(params.cursor_path),
                                             cursor_param=params.cursor_param)
        self._setup(params)
        self.last: Any = None

    def update_state(self, response: requests.Response, data: list[Any] | None = None) -> None:
        JSONResponseCursorPaginator.update_state(self, response, data)
        cursor = self._next_reference
        if cursor is not None and (cursor == self.last or isinstance(cursor, (dict, list))):
            self._next_reference = None
        self.last = self._next_reference
        self._counted(response, data)


class _Links(_Counted, HeaderLinkPaginator):
    """dlt's Link header paginator; a next page on another host is refused (the token
    would go along) and a link seen before ends the reading."""

    def __init__(self, params: HttpJsonParams, base: str) -> None:
        HeaderLinkPaginator.__init__(self, links_next_key="next")
        self._setup(params)
        self.origin, self.seen = _origin(base), set[str]()

    def update_state(self, response: requests.Response, data: list[Any] | None = None) -> None:
        HeaderLinkPaginator.update_state(self, response, data)
        link = self._next_reference
        if link is not None:
            url = urljoin(str(response.url), link)
            if _origin(url) != self.origin:
                raise OperatorError(f"The next page's link leads to {_origin(url)}, not to "
                                    "the connection's host; it was not followed.",
                                    field="paginator")
            self._next_reference = None if url in self.seen else url
            self.seen.add(url)
        self._counted(response, data)


def _paginator(params: HttpJsonParams, base: str) -> _Counted:
    if params.paginator == "page_number":
        return _Pages(params)
    if params.paginator == "offset":
        return _Offsets(params)
    if params.paginator == "cursor":
        return _Cursor(params)
    if params.paginator == "header_link":
        return _Links(params, base)
    single = _Single()
    single._setup(params)
    return single


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
