"""The kinds of saved connection: what each needs, and which of its fields are secret.

A field typed ``SecretStr`` is a secret: encrypted at rest, never returned by the API, never
logged. The API validates a connection's fields against its kind's model; an operator asks
its context for the connection and gets this model back, secrets included."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class ConnectionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")


# A host name or an IP address: nothing a driver would read as something else (a socket
# folder, several hosts, options).
DatabaseHost = Annotated[str, Field(pattern=r"^[A-Za-z0-9._:-]{1,253}$",
                                    description="Host name or IP address of the server.")]

# On a connection that actions send through: a real send is refused, a dry run still shows
# what would be sent (enforced in operators/actions).
DryRunOnly = Annotated[bool, Field(
    description="Only dry runs: actions show what they would send through this connection "
    "and refuse to really send anything.")]


class PostgresConnection(ConnectionConfig):
    host: DatabaseHost = "127.0.0.1"
    port: int = Field(5432, ge=1, le=65535)
    database: str
    user: str
    password: SecretStr = SecretStr("")
    dry_run_only: DryRunOnly = False


class MySQLConnection(ConnectionConfig):
    host: DatabaseHost = "127.0.0.1"
    port: int = Field(3306, ge=1, le=65535)
    database: str
    user: str
    password: SecretStr = SecretStr("")
    dry_run_only: DryRunOnly = False


class SQLiteConnection(ConnectionConfig):
    path: str = Field(min_length=1, max_length=1000,
                      description="The SQLite file, relative to the server's SQLite folder "
                      "(DATAGRAN_SQLITE_ROOT), or :memory:.")
    dry_run_only: DryRunOnly = False


class HttpConnection(ConnectionConfig):
    base_url: str = Field(description="e.g. https://api.example.com/v1")
    auth_header: str = Field("Authorization", description="Header that carries the token.")
    auth_scheme: Literal["Bearer", "Token", "none"] = "Bearer"
    token: SecretStr = SecretStr("")


class HubSpotConnection(ConnectionConfig):
    base_url: str = "https://api.hubapi.com"
    access_token: SecretStr
    dry_run_only: DryRunOnly = False


class SalesforceConnection(ConnectionConfig):
    instance_url: str = Field(description="e.g. https://yourcompany.my.salesforce.com")
    api_version: str = "v61.0"
    access_token: SecretStr
    dry_run_only: DryRunOnly = False


class StripeConnection(ConnectionConfig):
    base_url: str = "https://api.stripe.com"
    api_key: SecretStr = Field(description="A secret or restricted key (sk_... or rk_...).")


class ShopifyConnection(ConnectionConfig):
    shop_url: str = Field(description="e.g. https://your-shop.myshopify.com")
    api_version: str = Field("2024-10", pattern=r"^\d{4}-\d{2}$",
                             description="The Admin API version, e.g. 2024-10.")
    access_token: SecretStr = Field(description="The custom app's Admin API access token.")


class GoogleSheetsConnection(ConnectionConfig):
    service_account_json: SecretStr = Field(
        description="The service account's key file (JSON), pasted whole. Share the sheet "
        "with the service account's e-mail address.")
    base_url: str = "https://sheets.googleapis.com"
    token_url: str = Field("https://oauth2.googleapis.com/token",
                           description="Where the service account trades its signed "
                           "assertion for an access token.")


class ZendeskConnection(ConnectionConfig):
    base_url: str = Field(description="e.g. https://yourcompany.zendesk.com")
    email: str = Field(description="The agent's e-mail address the API token belongs to.")
    api_token: SecretStr


class MailchimpConnection(ConnectionConfig):
    base_url: str = Field(description="e.g. https://us21.api.mailchimp.com (the data centre "
                          "is the end of the API key)")
    api_key: SecretStr


class FilesConnection(ConnectionConfig):
    url: str = Field(min_length=1, max_length=2000,
                     description="Where the files are: s3://bucket/folder, gs://bucket/folder, "
                     "az://container/folder, https://host/folder, or a folder relative to "
                     "the server's files folder (DATAGRAN_FILES_ROOT).")
    endpoint_url: str = Field("", max_length=2000,
                              description="S3-compatible storage only: its endpoint, e.g. "
                              "https://minio.example.com (empty: Amazon S3).")
    key: str = Field("", max_length=500, description="Access key id (S3), account name "
                     "(Azure); empty for public files.")
    secret: SecretStr = Field(SecretStr(""), description="Secret access key (S3), account key "
                              "(Azure), or a service account's JSON (Google Cloud Storage).")
    region: str = Field("", max_length=100, description="S3 region, e.g. eu-west-1.")


class SqlAlchemyConnection(ConnectionConfig):
    url: SecretStr = Field(description="A SQLAlchemy database URL, e.g. "
                           "postgresql+psycopg://user:password@host:5432/db; its dialect "
                           "must be installed on the server.")
    dry_run_only: DryRunOnly = False


class WebhookConnection(ConnectionConfig):
    url: str
    secret: SecretStr = Field(SecretStr(""), description="Key for the HMAC-SHA256 signature.")
    dry_run_only: DryRunOnly = False


KINDS: dict[str, type[ConnectionConfig]] = {
    "postgresql": PostgresConnection,
    "mysql": MySQLConnection,
    "sqlite": SQLiteConnection,
    "http": HttpConnection,
    "hubspot": HubSpotConnection,
    "salesforce": SalesforceConnection,
    "webhook": WebhookConnection,
    "stripe": StripeConnection,
    "shopify": ShopifyConnection,
    "google_sheets": GoogleSheetsConnection,
    "zendesk": ZendeskConnection,
    "mailchimp": MailchimpConnection,
    "files": FilesConnection,
    "sqlalchemy": SqlAlchemyConnection,
}


def secret_fields(kind: str) -> list[str]:
    model = KINDS[kind]
    return [name for name, f in model.model_fields.items() if f.annotation is SecretStr]
