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
}


def secret_fields(kind: str) -> list[str]:
    model = KINDS[kind]
    return [name for name, f in model.model_fields.items() if f.annotation is SecretStr]
