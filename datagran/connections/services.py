from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError as DjangoValidationError
from pydantic import BaseModel, ValidationError

from datagran.core.exceptions import NotFound, PermanentError
from datagran.workspaces.models import Workspace
from datagran.workspaces.services import audit_record
from operators.base import params_errors
from operators.connections import KINDS, secret_fields

from . import crypto
from .models import Connection

# What the API shows in place of a stored secret; sending it back keeps the secret.
PLACEHOLDER = "********"


def _kind_model(kind: str) -> type[BaseModel]:
    if kind not in KINDS:
        raise PermanentError(f"kind: unknown connection kind {kind!r}; use one of "
                             f"{', '.join(KINDS)}.", {"fields": {"kind": ["unknown kind"]}})
    return KINDS[kind]


def _validated(kind: str, fields: dict[str, Any], stored: dict[str, Any]) -> tuple[dict, dict]:
    """Split validated fields into (plain config, secrets). A secret sent blank or as the
    placeholder keeps the stored one."""
    model_class = _kind_model(kind)
    secrets = set(secret_fields(kind))
    merged = dict(fields)
    for name in secrets:
        if merged.get(name) in (None, "", PLACEHOLDER) and name in stored:
            merged[name] = stored[name]
    try:
        model = model_class.model_validate(merged)
    except ValidationError as exc:
        errors = params_errors(exc)
        raise PermanentError(f"{errors[0]['field']}: {errors[0]['message']}",
                             {"fields": {e["field"]: [e["message"]] for e in errors}}) from None
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


def connection_update(*, connection: Connection, name: str | None,
                      fields: dict[str, Any] | None,
                      by: AbstractBaseUser | None = None) -> Connection:
    if name is not None:
        connection.name = name
    if fields is not None:
        stored = crypto.decrypt(connection.secrets_encrypted)
        config, secrets = _validated(connection.kind, {**connection.config, **fields}, stored)
        connection.config, connection.secrets_encrypted = config, crypto.encrypt(secrets)
    connection.save()
    # Which fields changed is recorded, never their values.
    audit_record(workspace_id=connection.workspace_id, actor=by, action="connection.update",
                 target=connection.name, fields=sorted(fields or {}))
    return connection


def connection_delete(*, connection: Connection, by: AbstractBaseUser | None) -> None:
    audit_record(workspace_id=connection.workspace_id, actor=by, action="connection.delete",
                 target=connection.name)
    connection.delete()


def connection_get(*, workspace_id: object, connection_id: object) -> Connection:
    try:
        return Connection.objects.get(workspace_id=workspace_id, pk=connection_id)
    except (Connection.DoesNotExist, ValueError, DjangoValidationError):
        raise NotFound("Connection not found.", {"field": "connection"}) from None


def connection_for_user(*, user: AbstractBaseUser, connection_id: object) -> Connection:
    try:
        return Connection.objects.get(pk=connection_id, workspace__memberships__user=user)
    except (Connection.DoesNotExist, ValueError, DjangoValidationError):
        raise NotFound("Connection not found.") from None


def connection_config(*, connection: Connection) -> BaseModel:
    """The connection as its kind's model, secrets decrypted: for operators only."""
    fields = {**connection.config, **crypto.decrypt(connection.secrets_encrypted)}
    return KINDS[connection.kind].model_validate(fields)


def connection_json(connection: Connection) -> dict[str, Any]:
    stored = set(crypto.decrypt(connection.secrets_encrypted))
    secrets = secret_fields(connection.kind)
    return {
        "id": str(connection.pk), "name": connection.name, "kind": connection.kind,
        "workspace": str(connection.workspace_id),
        "config": {**connection.config, **{s: PLACEHOLDER for s in secrets if s in stored}},
        "secret_fields": secrets,
        "secrets_set": sorted(stored),
        "updated_at": connection.updated_at.isoformat(),
    }
