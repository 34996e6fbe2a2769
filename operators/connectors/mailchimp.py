"""Mailchimp audience members or campaigns, through the Marketing API 3.0."""
from __future__ import annotations

import base64
from typing import Any, Literal

from pydantic import Field, model_validator

from ..base import Context, OperatorError
from ..connections import MailchimpConnection
from . import _dlt
from ._connection import load_connection
from ._rest import Resource, RestSource, SourceParams, resource_field

PAGE = 1000  # records per page: Mailchimp's maximum count
USER = "datagran"  # basic auth: any user name, the API key as password
MAX_AUDIENCES = 1000
# Nested parts that become plain columns: an audience's merge fields (FNAME, LNAME, ...), a
# campaign's settings (subject_line, title, ...).
_FLATTENED = ("merge_fields.", "settings.")

RESOURCES = {
    "members": Resource(
        label="Audience members", path="lists/{list_id}/members", data_selector="members",
        primary_key=("id",), cursor_path="last_changed", cursor_column="last_changed",
        cursor_start="1970-01-01T00:00:00+00:00",
        columns=(("id", "str"), ("email_address", "str"), ("status", "str"),
                 ("full_name", "str"), ("FNAME", "str"), ("LNAME", "str"),
                 ("email_type", "str"), ("language", "str"), ("vip", "bool"),
                 ("member_rating", "int"), ("timestamp_signup", "datetime"),
                 ("timestamp_opt", "datetime"), ("last_changed", "datetime"),
                 ("stats.avg_open_rate", "float"), ("stats.avg_click_rate", "float"),
                 ("list_id", "str"))),
    # A campaign's figures change after it is sent, and campaigns are few: every run reads
    # them all (the accumulated output still merges by id).
    "campaigns": Resource(
        label="Campaigns", path="campaigns", data_selector="campaigns", primary_key=("id",),
        columns=(("id", "str"), ("web_id", "int"), ("type", "str"), ("status", "str"),
                 ("create_time", "datetime"), ("send_time", "datetime"),
                 ("emails_sent", "int"), ("title", "str"), ("subject_line", "str"),
                 ("recipients.list_id", "str"), ("report_summary.open_rate", "float"),
                 ("report_summary.click_rate", "float"))),
}


class MailchimpParams(SourceParams):
    connection: str = Field(..., min_length=1, description="The Mailchimp account.",
                            json_schema_extra={"x-connection": "mailchimp"})
    resource: Literal["members", "campaigns"] = resource_field(RESOURCES, "members")
    list_id: str = Field("", max_length=32, pattern=r"^[A-Za-z0-9]*$",
                         description="The audience whose members to read (its id, e.g. "
                         "a1b2c3d4e5; Audience → Settings → Audience name and defaults). "
                         "Not used for campaigns.",
                         json_schema_extra={"x-options-from": "source", "x-free-text": True})

    @model_validator(mode="after")
    def _audience(self) -> MailchimpParams:
        if self.resource == "members" and not self.list_id:
            raise ValueError("list_id: choose the audience whose members to read")
        return self


class MailchimpSource(RestSource):
    """Reads the members of a Mailchimp audience, or the account's campaigns, through the
    Marketing API (1,000 records a page by ``offset`` up to ``total_items``). Members'
    merge fields (FNAME, LNAME, ...) are columns of their own. Incremental for members:
    each run asks only for members changed since the last run's latest ``last_changed``
    (``since_last_changed``), so new subscribers and changes (unsubscribes, new merge field
    values) both arrive. Campaigns are read whole each run: their figures change after
    they are sent.

    Example: ``{"connection": "c1", "resource": "members", "list_id": "a1b2c3d4e5"}``.
    """

    name = "connector.mailchimp"
    label = "Mailchimp"
    description = "Audience members or campaigns from Mailchimp, only what changed."
    icon = "mail"
    keywords = ("mailchimp", "email", "newsletter", "audience", "subscribers", "members",
                "campaigns", "marketing", "import")
    Params = MailchimpParams
    connection_model = MailchimpConnection
    resources = RESOURCES
    auth_hint = ("check the API key on the Connections screen, and that the base URL's data "
                 "centre (us21 in https://us21.api.mailchimp.com) is the end of the key")
    example = {"connection": "c1", "resource": "members", "list_id": "a1b2c3d4e5"}

    def client(self, conn: Any) -> tuple[dict[str, Any], list[str]]:
        key = conn.api_key.get_secret_value()
        return ({"base_url": conn.base_url.rstrip("/") + "/3.0/",
                 "auth": {"type": "http_basic", "username": USER, "password": key},
                 "paginator": {"type": "offset", "limit": PAGE, "limit_param": "count",
                               "offset_param": "offset", "total_path": "total_items"}},
                _secrets(key))

    def endpoint(self, params: Any, resource: Resource,
                 incremental: dict[str, Any] | None) -> dict[str, Any]:
        # Each record's own _links (a dozen URLs) are left out.
        query: dict[str, Any] = {"exclude_fields": f"_links,{resource.data_selector}._links"}
        endpoint: dict[str, Any] = {"path": resource.path, "params": query,
                                    "data_selector": resource.data_selector}
        if params.resource == "members":
            # list_id is letters and digits (checked): the path cannot be steered.
            endpoint["path"] = resource.path.format(list_id=params.list_id)
            query.update(sort_field="last_changed", sort_dir="ASC")
            if incremental is not None:
                # Mailchimp writes last_changed as 2024-01-31T10:00:00+00:00, the form the
                # cursor is kept in: dlt compares them as they are.
                query["since_last_changed"] = "{incremental.start_value}"
                endpoint["incremental"] = incremental
        return endpoint

    def rename(self, params: Any) -> Any:  # noqa: ARG002
        def renamed(column: str) -> str:
            for prefix in _FLATTENED:
                if column.startswith(prefix):
                    return column.removeprefix(prefix)
            return column
        return renamed

    # --- the params form -----------------------------------------------------------------
    def options(self, ctx: Context, params: dict[str, Any], field: str) -> list[str]:
        """The account's audiences (their ids), for ``list_id``."""
        if field != "list_id":
            return super().options(ctx, params, field)
        connection_id = params.get("connection")
        if not isinstance(connection_id, str) or not connection_id:
            raise OperatorError("Choose the connection first.", field="connection")
        conn = load_connection(ctx, connection_id, MailchimpConnection)
        name = getattr(ctx, "connection_names", {}).get(connection_id, self.label)
        key = conn.api_key.get_secret_value()
        secrets = _secrets(key)
        session = _dlt.checked_session(ctx, name=name, secrets=secrets, timeout=10, retries=1)
        try:
            with session:
                answer = session.get(conn.base_url.rstrip("/") + "/3.0/lists",
                                     params={"count": str(MAX_AUDIENCES),
                                             "fields": "lists.id,lists.name"},
                                     auth=(USER, key))
                answer.raise_for_status()
                lists = answer.json().get("lists")
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message for people
            raise _dlt.explain(exc, _dlt.Source(name=name, records=[], secrets=secrets,
                                                auth_hint=self.auth_hint)) from None
        if not isinstance(lists, list):
            raise OperatorError(f"{name}: the list of audiences is not what Mailchimp "
                                "sends; check the connection's base URL.", field="connection")
        return [str(a["id"]) for a in lists if isinstance(a, dict) and a.get("id")]


def _secrets(key: str) -> list[str]:
    """The key, and the basic auth header value that carries it."""
    return [key, base64.b64encode(f"{USER}:{key}".encode()).decode()]
