"""Sources that are a declarative configuration of dlt's ``rest_api`` source: HubSpot,
Stripe, Shopify, Salesforce, Google Sheets, and the generic REST API node. A subclass says
which connection kind it reads, its resources (endpoint, records, primary key, cursor and
declared columns) and how its client authenticates; this base does the rest through
``_dlt.load``: checked HTTP, retries, incremental cursors, accumulation, the run report and
the errors."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from ..base import Context, Operator, OperatorError, Params, Port, Schema
from ..connections import ConnectionConfig
from . import _dlt
from ._connection import load_connection

Output = Literal["new", "accumulated"]


def _own_params_first(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """The params schema (and so the form) lists a source's own params (connection,
    resource...) before the ones every source has (pydantic puts a base class's first)."""
    props = schema.get("properties", {})
    shared = [k for k in SourceParams.model_fields if k in props]
    schema["properties"] = {**{k: v for k, v in props.items() if k not in shared},
                            **{k: props[k] for k in shared}}


class SourceParams(Params):
    """The params every incremental source has, after its own."""

    model_config = ConfigDict(json_schema_extra=_own_params_first)

    incremental: bool = Field(True, description="Fetch only the records changed since the "
                              "last successful run (by the source's cursor). Off: every run "
                              "reads everything.")
    output: Output = Field("new", description="new: the records this run fetched. "
                           "accumulated: everything loaded so far, the new records merged in "
                           "by primary key.")
    max_records: int | None = Field(None, ge=1, le=100_000_000,
                                    description="Stop after this many records (empty: all).")


@dataclass(frozen=True)
class Resource:
    """One kind of record a source offers (contacts, charges, orders...)."""

    label: str
    path: str
    data_selector: str
    primary_key: tuple[str, ...] = ("id",)
    # Where the cursor is in a raw record (dlt's cursor_path) and its output column.
    cursor_path: str | None = None
    cursor_column: str | None = None
    # The cursor's value before the first run (sent to the API as the start of its filter).
    cursor_start: Any = None
    columns: tuple[tuple[str, str], ...] = ()  # declared (name, type), after renaming
    extra: dict[str, Any] = field(default_factory=dict)


class RestSource(Operator):
    """Base of the declarative REST sources (not registered itself: no ``name``)."""

    category = "connector"
    outputs = (Port("table", "table"),)
    # The data behind the same params changes: never reused from the cache.
    reuse_output = False
    connection_model: ClassVar[type[ConnectionConfig]]
    resources: ClassVar[dict[str, Resource]] = {}
    auth_hint: ClassVar[str] = "check its access token on the Connections screen"

    # --- what a subclass says ----------------------------------------------------------------
    def client(self, conn: Any) -> tuple[dict[str, Any], list[str]]:
        """dlt's client config (base_url, auth, headers, paginator) and the secrets in it."""
        raise NotImplementedError

    def endpoint(self, params: Any, resource: Resource,
                 incremental: dict[str, Any] | None) -> dict[str, Any]:
        """dlt's endpoint config for ``resource``; ``incremental`` (cursor_path,
        initial_value, range_start) goes where this API filters by it."""
        raise NotImplementedError

    def declared(self, params: Any) -> Schema:
        resource = self.resources[params.resource]
        return _dlt.declared_schema(resource.columns)

    def rename(self, params: Any) -> Any:  # noqa: ARG002
        return None

    def resource_of(self, params: Any) -> Resource:
        return self.resources[params.resource]

    def since_token(self, client: dict[str, Any]) -> Callable[[int], Any] | None:  # noqa: ARG002
        """When the API hands out its own since-token (Zendesk's ``after_cursor``): a function
        answering, given the number of records read, the token after the last page read
        whole (from the ``client`` config's paginator), which the next run continues from
        instead of the cursor column's largest value."""
        return None

    def sandbox(self, params: Any) -> Iterable[Any] | None:  # noqa: ARG002
        """The records bundled with Datagran for ``params``, in the API's own record format
        (dicts, or pages as lists of dicts), read instead of the API when the connection is
        marked dry run only (the demo's); None: this source has no sandbox data."""
        return None

    # --- running -----------------------------------------------------------------------------
    def run(self, ctx: Context, params: Any) -> dict[str, pd.DataFrame]:
        from dlt.sources.rest_api import rest_api_resources

        conn = load_connection(ctx, params.connection, self.connection_model)
        name = getattr(ctx, "connection_names", {}).get(params.connection, self.label)
        resource = self.resource_of(params)
        key = _dlt.state_key(self.name, params.model_dump(mode="json"))
        incremental = params.incremental and resource.cursor_path is not None
        prev = _dlt.previous(ctx, key, keyed=bool(resource.primary_key))
        start = prev.cursor if prev is not None and prev.cursor is not None \
            else resource.cursor_start
        client, secrets = self.client(conn)
        fetch = _dlt.Fetch()
        inc = {"cursor_path": resource.cursor_path, "initial_value": start,
               "range_start": "closed"} if incremental else None
        sandboxed = [0] if getattr(conn, "dry_run_only", False) else None
        session: Any = None
        if sandboxed is not None:
            records: Any = self._sandboxed(params, name, resource, inc, sandboxed)
        else:
            session = _dlt.checked_session(ctx, name=name, secrets=secrets, fetch=fetch,
                                           timeout=getattr(params, "timeout_seconds", 30))
            config: Any = {"client": {**client, "session": session},
                           "resources": [{"name": params.resource,
                                          "endpoint": _compiled(
                                              self.endpoint(params, resource, inc)),
                                          "primary_key": list(resource.primary_key) or None}],
                           "resource_defaults": {"max_table_nesting": 0}}
            try:
                records = rest_api_resources(config)[0]
            except Exception as exc:  # noqa: BLE001 - a config the API cannot take is the user's
                raise OperatorError(f"{name}: {exc}") from None
        source = _dlt.Source(name=name, records=records, secrets=secrets,
                             primary_key=list(resource.primary_key),
                             cursor_column=resource.cursor_column if incremental else None,
                             declared=self.declared(params), rename=self.rename(params),
                             fetch=fetch, auth_hint=self.auth_hint,
                             cursor_after=self.since_token(client) if incremental else None)
        with session or nullcontext():
            table = _dlt.load(ctx, source, key=key, prev=prev if incremental or
                              params.output == "accumulated" else None,
                              output=params.output, max_records=params.max_records)
        if sandboxed is not None:
            ctx.log(f"Dry-run connection: read {sandboxed[0]:,} sandbox "
                    f"{resource.label.lower()} bundled with Datagran; {self.label} was not "
                    "called.")
        return {"table": table}

    def _sandboxed(self, params: Any, name: str, resource: Resource,
                   inc: dict[str, Any] | None, count: list[int]) -> Any:
        """The sandbox records, filtered by the cursor as the API's incremental filter would
        be (dlt's own incremental on a dlt resource), counting the records read."""
        import dlt

        bundled = self.sandbox(params)
        if bundled is None:
            raise OperatorError(f"Connection {name!r} is marked dry run only: {self.label} is "
                                "not called through it, and Datagran has no sandbox "
                                f"{resource.label.lower()} to read instead. Choose a "
                                "connection that is not dry run only.", field="connection")

        records = dlt.resource(iter(bundled), name=params.resource, max_table_nesting=0)
        if inc is not None:
            records.apply_hints(incremental=dlt.sources.incremental(**inc))

        def counted(items: Iterable[Any]) -> Iterator[Any]:
            for item in items:
                count[0] += len(item) if isinstance(item, list) else 1
                yield item

        return counted(records)

    def infer_schema(self, ctx: Context, params: Any) -> dict[str, Schema | None]:
        return {"table": self.declared(params)}


def _compiled(endpoint: dict[str, Any]) -> dict[str, Any]:
    """The endpoint with its data selector compiled once: dlt parses a string on every page
    (about 1 ms each)."""
    from dlt.common.jsonpath import compile_path

    if isinstance(endpoint.get("data_selector"), str):
        endpoint["data_selector"] = compile_path(endpoint["data_selector"])
    return endpoint


def resource_field(resources: dict[str, Resource], default: str) -> Any:
    """The ``resource`` param: a picker of the source's resources."""
    return Field(default, description="Which records to read.",
        json_schema_extra={"x-labels": {k: r.label for k, r in resources.items()}})


def names(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)
