"""Input and output of the connection endpoints. A stored secret is never sent back: the
output shows the placeholder in its place and lists which secrets are set."""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from datagran.core.fields import IsoDateTimeField
from operators.connections import KINDS, secret_fields

from . import crypto
from .models import Connection
from .services import ERR_SECRETS_CLEARED, PLACEHOLDER


class ConnectionInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.CharField(max_length=30)
    fields = serializers.DictField(required=False, default=dict,
                                   help_text="The kind's fields (see /api/connections/kinds/).")
    workspace = serializers.UUIDField(required=False)


class ConnectionUserOutput(serializers.Serializer):
    """A pipeline whose current version uses the connection."""

    id = serializers.UUIDField()
    name = serializers.CharField()


class ConnectionOutput(serializers.Serializer):
    """A connection; ``used_by`` is filled when the view passes the workspace's usage
    (context ``usage``: {connection id: pipelines})."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    kind = serializers.CharField()
    workspace = serializers.UUIDField(source="workspace_id")
    config = serializers.SerializerMethodField(
        help_text=f"The fields, each stored secret shown as {PLACEHOLDER!r}.")
    secret_fields = serializers.SerializerMethodField()
    secrets_set = serializers.SerializerMethodField()
    used_by = serializers.SerializerMethodField(
        help_text="The pipelines whose current version has a node using this connection.")
    updated_at = IsoDateTimeField()

    @extend_schema_field(ConnectionUserOutput(many=True))
    def get_used_by(self, connection: Connection) -> list[dict[str, Any]]:
        usage = self.context.get("usage") or {}
        return ConnectionUserOutput(usage.get(str(connection.pk), []), many=True).data

    def get_config(self, connection: Connection) -> dict[str, Any]:
        stored = _stored_secrets(connection)
        return {**connection.config, **{s: PLACEHOLDER for s in secret_fields(connection.kind)
                                        if s in stored}}

    def get_secret_fields(self, connection: Connection) -> list[str]:
        return secret_fields(connection.kind)

    def get_secrets_set(self, connection: Connection) -> list[str]:
        return sorted(_stored_secrets(connection))


def _stored_secrets(connection: Connection) -> set[str]:
    return set(crypto.decrypt(connection.secrets_encrypted))


class ConnectionUpdateOutput(ConnectionOutput):
    """The connection after a change; when the change pointed it at another host, the
    secrets that were cleared and a message saying so."""

    secrets_cleared = serializers.ListField(child=serializers.CharField(), required=False)
    message = serializers.CharField(required=False)

    def to_representation(self, connection: Connection) -> dict[str, Any]:
        data = super().to_representation(connection)
        cleared = self.context.get("secrets_cleared")
        if cleared:
            data["secrets_cleared"] = cleared
            data["message"] = ERR_SECRETS_CLEARED.format(names=", ".join(cleared)).strip()
        return data


class ConnectionKindOutput(serializers.Serializer):
    """A kind of connection (given as its name) and the JSON Schema of its fields."""

    kind = serializers.CharField(source="*")
    schema = serializers.SerializerMethodField()
    secret_fields = serializers.SerializerMethodField()

    def get_schema(self, kind: str) -> dict[str, Any]:
        return KINDS[kind].model_json_schema()

    def get_secret_fields(self, kind: str) -> list[str]:
        return secret_fields(kind)


class ConnectionTestInput(serializers.Serializer):
    """Fields to test before saving; ``connection``: the saved connection they edit, whose
    secrets stand in for those left blank (only while the fields point where it does)."""

    kind = serializers.CharField(max_length=30)
    fields = serializers.DictField(required=False, default=dict)
    connection = serializers.UUIDField(required=False, allow_null=True)
    workspace = serializers.UUIDField(required=False)


class ConnectionTestOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    message = serializers.CharField(help_text="What worked, or plainly what failed.")
