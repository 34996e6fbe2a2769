"""Shopify orders, customers or products, through the Admin REST API."""
from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from dlt.sources.helpers.rest_client.paginators import HeaderLinkPaginator
from pydantic import Field, model_validator
from requests import Response

from ..connections import ShopifyConnection
from ._rest import Resource, RestSource, SourceParams, resource_field

PAGE = 250  # records per page: Shopify's maximum

_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "orders": (("id", "int"), ("name", "str"), ("email", "str"),
               ("created_at", "datetime"), ("updated_at", "datetime"),
               ("processed_at", "datetime"), ("cancelled_at", "datetime"),
               ("closed_at", "datetime"), ("currency", "str"), ("total_price", "float"),
               ("subtotal_price", "float"), ("total_tax", "float"),
               ("total_discounts", "float"), ("financial_status", "str"),
               ("fulfillment_status", "str")),
    "customers": (("id", "int"), ("email", "str"), ("first_name", "str"),
                  ("last_name", "str"), ("phone", "str"), ("state", "str"),
                  ("verified_email", "bool"), ("created_at", "datetime"),
                  ("updated_at", "datetime"), ("orders_count", "int"),
                  ("total_spent", "float"), ("currency", "str"), ("tags", "str")),
    "products": (("id", "int"), ("title", "str"), ("handle", "str"), ("vendor", "str"),
                 ("product_type", "str"), ("status", "str"), ("tags", "str"),
                 ("created_at", "datetime"), ("updated_at", "datetime"),
                 ("published_at", "datetime")),
}
# Shopify lists only open orders unless asked for any status.
_EXTRA: dict[str, dict[str, Any]] = {"orders": {"status": "any"}}

RESOURCES = {
    kind: Resource(label=kind.title(), path=f"{kind}.json", data_selector=kind,
                   primary_key=("id",), cursor_path="updated_at", cursor_column="updated_at",
                   columns=_COLUMNS[kind], extra=_EXTRA.get(kind, {}))
    for kind in _COLUMNS}


class ShopifyParams(SourceParams):
    connection: str = Field(..., min_length=1, description="The Shopify store.",
                            json_schema_extra={"x-connection": "shopify"})
    resource: Literal["orders", "customers", "products"] = resource_field(RESOURCES, "orders")

    @model_validator(mode="after")
    def _capped(self) -> ShopifyParams:
        if self.incremental and self.max_records is not None:
            raise ValueError("max_records: Shopify's pages are not in updated_at order, so a "
                             "capped incremental run could move the cursor past records it "
                             "did not read; leave max_records empty or turn incremental off")
        return self


class ShopLinkPaginator(HeaderLinkPaginator):
    """Follows ``Link: <...page_info=...>; rel="next"`` (the next link carries every
    filter: Shopify refuses other query params beside page_info), always on the store's own
    address: the access token is never sent to another host a link might name."""

    def __init__(self, shop_url: str) -> None:
        super().__init__()
        self.origin = urlsplit(shop_url)

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        super().update_state(response, data)
        if self._next_reference:
            link = urlsplit(self._next_reference)
            self._next_reference = urlunsplit((self.origin.scheme, self.origin.netloc,
                                               link.path, link.query, ""))


class ShopifySource(RestSource):
    """Reads a Shopify store's orders (of every status), customers or products through the
    Admin REST API (250 records a page, following the ``Link`` header's next page).
    Incremental: each run asks only for records updated since the last run's latest
    ``updated_at`` (``updated_at_min``), so changed orders are read again and counted as
    updated. Prices arrive as numbers; nested parts (line items, addresses) as JSON text.
    The connection's custom app needs the read_orders, read_customers or read_products
    scope. Pages are not in updated_at order: ``max_records`` needs incremental off.

    Example: ``{"connection": "c1", "resource": "orders", "output": "accumulated"}``.
    """

    name = "connector.shopify"
    label = "Shopify"
    description = "Orders, customers or products from a Shopify store, only what changed."
    icon = "shopping-bag"
    keywords = ("shopify", "ecommerce", "orders", "customers", "products", "store", "shop",
                "import")
    Params = ShopifyParams
    connection_model = ShopifyConnection
    resources = RESOURCES
    auth_hint = ("check the custom app's Admin API access token on the Connections screen, "
                 "and that the app has the read scope for this resource")
    example = {"connection": "c1", "resource": "orders"}

    def client(self, conn: Any) -> tuple[dict[str, Any], list[str]]:
        token = conn.access_token.get_secret_value()
        shop = conn.shop_url.rstrip("/")
        return ({"base_url": f"{shop}/admin/api/{conn.api_version}/",
                 "auth": {"type": "api_key", "name": "X-Shopify-Access-Token",
                          "api_key": token, "location": "header"},
                 "paginator": ShopLinkPaginator(shop)}, [token])

    def endpoint(self, params: Any, resource: Resource,  # noqa: ARG002
                 incremental: dict[str, Any] | None) -> dict[str, Any]:
        query: dict[str, Any] = {"limit": PAGE, **resource.extra}
        # The filter is Shopify's own (updated_at_min, inclusive), not dlt's incremental:
        # records carry the shop's UTC offset (-05:00), which dlt would compare as text
        # with the cursor (kept in UTC); the load drops the records the last run ended on.
        if incremental is not None and incremental["initial_value"] is not None:
            query["updated_at_min"] = str(incremental["initial_value"])
        return {"path": resource.path, "params": query, "data_selector": resource.data_selector}
