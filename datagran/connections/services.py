from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError as DjangoValidationError
from pydantic import BaseModel, ValidationError

from datagran.core.exceptions import Conflict, FieldError, NotFound
from datagran.pipelines.selectors import pipelines_naming
from datagran.workspaces.models import Workspace
from datagran.workspaces.services import audit_record
from operators.base import OperatorError, params_errors
from operators.connections import KINDS, ConnectionConfig, secret_fields

from . import crypto
from .models import Connection
from .sql_settings import files_root, sql_connection_check, sqlite_root

if TYPE_CHECKING:
    from operators.connectors._connection import CheckResult

# What the API shows in place of a stored secret; sending it back keeps the secret.
PLACEHOLDER = "********"
ERR_IN_USE = ("{name} is used by {pipelines}: remove it from {them} before deleting "
              "the connection.")
ERR_SECRETS_CLEARED = ("The connection now points at another host, so its stored secrets "
                       "({names}) were cleared; enter them again. ")


def _kind_model(kind: str) -> type[BaseModel]:
    if kind not in KINDS:
        raise FieldError(f"kind: unknown connection kind {kind!r}; use one of "
                             f"{', '.join(KINDS)}.", {"kind": ["unknown kind"]})
    return KINDS[kind]


def _validated(kind: str, fields: dict[str, Any], stored: dict[str, Any]) -> tuple[dict, dict]:
    """Split validated fields into (plain config, secrets). A secret sent blank or as the
    placeholder keeps the stored one."""
    model_class = _kind_model(kind)
    secrets = set(secret_fields(kind))
    merged = dict(fields)
    for name in secrets:
        if merged.get(name) in (None, "", PLACEHOLDER):
            # Kept, or (nothing stored) left unset: the placeholder is never a secret.
            merged.pop(name, None)
            if name in stored:
                merged[name] = stored[name]
    try:
        model = model_class.model_validate(merged)
    except ValidationError as exc:
        errors = params_errors(exc)
        raise FieldError(f"{errors[0]['field']}: {errors[0]['message']}",
                             {e["field"]: [e["message"]] for e in errors}) from None
    sql_connection_check(model)
    data = model.model_dump()
    config = {k: v for k, v in data.items() if k not in secrets}
    secret_values = {k: data[k].get_secret_value() for k in secrets if data[k] is not None}
    return config, {k: v for k, v in secret_values.items() if v}


def connection_create(*, workspace: Workspace, user: AbstractBaseUser | None, name: str,
                      kind: str, fields: dict[str, Any]) -> Connection:
    config, secrets = _validated(kind, fields, {})
    audit_record(workspace_id=workspace.pk, actor=user, action="connection.create", target=name,
                 kind=kind)
    return Connection.objects.create(workspace=workspace, name=name, kind=kind, config=config,
                                     secrets_encrypted=crypto.encrypt(secrets), created_by=user)


def _destinations(config: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Where a connection's secrets are sent: scheme, host and port of each URL field, and
    the host and port of a database."""
    found: dict[str, tuple[str, ...]] = {}
    for name, value in config.items():
        if isinstance(value, str) and "://" in value:
            url = urlsplit(value.strip())
            try:
                port = str(url.port or "")
            except ValueError:
                port = url.netloc  # a malformed port: compare the whole authority
            found[name] = (url.scheme.lower(), (url.hostname or "").lower(), port)
    if "host" in config:
        found["host"] = (str(config["host"]).strip().lower(), str(config.get("port", "")))
    return found


def connection_update(*, connection: Connection, name: str | None,
                      fields: dict[str, Any] | None,
                      by: AbstractBaseUser | None = None) -> tuple[Connection, list[str]]:
    """Change a connection; returns it and the names of the secrets cleared. Secrets are
    dropped when the connection would send them to another host (a changed URL's scheme,
    host or port, or a database host) unless the same request enters them again."""
    cleared: list[str] = []
    changed = ["updated_at"]  # only these are written: a concurrent key rotation stays
    if name is not None:
        connection.name = name
        changed.append("name")
    if fields is not None:
        stored = crypto.decrypt(connection.secrets_encrypted)
        merged = {**connection.config, **fields}
        config, secrets = _validated(connection.kind, merged, stored)
        if _destinations(config) != _destinations(connection.config):
            cleared = sorted(k for k in stored if fields.get(k) in (None, "", PLACEHOLDER))
            try:
                config, secrets = _validated(connection.kind, merged, {})
            except FieldError as exc:  # a secret the kind requires was not re-entered
                names = ", ".join(cleared)
                raise FieldError(ERR_SECRETS_CLEARED.format(names=names) + exc.message,
                                 exc.fields) from None
        connection.config, connection.secrets_encrypted = config, crypto.encrypt(secrets)
        changed += ["config", "secrets_encrypted"]
    connection.save(update_fields=changed)
    # Which fields changed is recorded, never their values.
    audit_record(workspace_id=connection.workspace_id, actor=by, action="connection.update",
                 target=connection.name, fields=sorted(fields or {}), secrets_cleared=cleared)
    return connection, cleared


def connection_usage(*, workspace_id: object) -> dict[str, list[dict[str, str]]]:
    """{connection id: the pipelines ({"id", "name"}) whose current version has a node naming
    it in its params}, for every connection of the workspace that one uses."""
    ids = [str(pk) for pk in Connection.objects.filter(workspace_id=workspace_id)
           .values_list("pk", flat=True)]
    return pipelines_naming(workspace_id=workspace_id, ids=ids)


def connection_delete(*, connection: Connection, by: AbstractBaseUser | None) -> None:
    """Delete a connection no pipeline uses; Conflict naming the pipelines otherwise."""
    users = connection_usage(workspace_id=connection.workspace_id).get(str(connection.pk))
    if users:
        names = ", ".join(f"“{p['name']}”" for p in users)
        raise Conflict(ERR_IN_USE.format(
            name=connection.name, pipelines=names, them="it" if len(users) == 1 else "them"),
            {"connection": [f"used by {names}"]})
    audit_record(workspace_id=connection.workspace_id, actor=by, action="connection.delete",
                 target=connection.name)
    connection.delete()


def connection_get(*, workspace_id: object, connection_id: object) -> Connection:
    try:
        return Connection.objects.get(workspace_id=workspace_id, pk=connection_id)
    except (Connection.DoesNotExist, ValueError, DjangoValidationError):
        raise NotFound("Connection not found.", {"connection": ["not found"]}) from None


def connection_for_user(*, user: AbstractBaseUser, connection_id: object) -> Connection:
    try:
        return Connection.objects.get(pk=connection_id, workspace__memberships__user=user)
    except (Connection.DoesNotExist, ValueError, DjangoValidationError):
        raise NotFound("Connection not found.") from None


def connection_for_operator(*, workspace_id: object, connection_id: str,
                            kind: str | list[str]) -> tuple[str, BaseModel]:
    """(name, config) of the workspace's connection an operator asked for by id, which must be
    of ``kind`` (or one of them): an OperatorError on the operator's ``connection`` field
    otherwise. What a run's, a lookup's and an alert's contexts give operators."""
    try:
        connection = connection_get(workspace_id=workspace_id, connection_id=connection_id)
    except NotFound:
        raise OperatorError(f"Connection {connection_id!r} does not exist in this workspace.",
                            field="connection") from None
    kinds = [kind] if isinstance(kind, str) else kind
    if connection.kind not in kinds:
        raise OperatorError(f"Connection '{connection.name}' is a {connection.kind} "
                            f"connection; this needs {' or '.join(kinds)}.", field="connection")
    return connection.name, connection_config(connection=connection)


def connection_config(*, connection: Connection) -> BaseModel:
    """The connection as its kind's model, secrets decrypted: for operators only."""
    fields = {**connection.config, **crypto.decrypt(connection.secrets_encrypted)}
    return KINDS[connection.kind].model_validate(fields)


def _test(model: BaseModel) -> CheckResult:
    # Imported here: the connectors package loads pandas (see sql_settings).
    from operators.connectors._connection import check_connection

    assert isinstance(model, ConnectionConfig)
    return check_connection(model, url_allowlist=list(settings.DATAGRAN["URL_ALLOWLIST"]),
                            sqlite_root=sqlite_root(), files_root=files_root())


def connection_test(*, connection: Connection, by: AbstractBaseUser | None) -> CheckResult:
    """Reach a saved connection's system and use its credentials once."""
    result = _test(connection_config(connection=connection))
    audit_record(workspace_id=connection.workspace_id, actor=by, action="connection.test",
                 target=connection.name, kind=connection.kind, ok=result.ok)
    return result


def connection_test_fields(*, workspace: Workspace, kind: str, fields: dict[str, Any],
                           stored: Connection | None, by: AbstractBaseUser | None
                           ) -> CheckResult:
    """Test fields not saved yet (the form's Test). Secrets left blank or as the placeholder
    are the stored connection's, and only while the fields point where it does: its secrets
    never go to another host, as when saving (connection_update)."""
    secrets: dict[str, Any] = {}
    if stored is not None:
        if stored.kind != kind:
            raise FieldError(f"kind: the connection is a {stored.kind} connection.",
                             {"kind": ["differs from the stored connection's"]})
        merged = {**stored.config, **fields}
        config, _ = _validated(kind, {**merged, **{s: "x" for s in secret_fields(kind)}}, {})
        if _destinations(config) == _destinations(stored.config):
            secrets = crypto.decrypt(stored.secrets_encrypted)
        fields = merged
    config, new_secrets = _validated(kind, fields, secrets)
    result = _test(KINDS[kind].model_validate({**config, **new_secrets}))
    audit_record(workspace_id=workspace.pk, actor=by, action="connection.test",
                 target=stored.name if stored else "(unsaved)", kind=kind, ok=result.ok)
    return result
