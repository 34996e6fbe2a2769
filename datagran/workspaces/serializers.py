"""Input and output of the workspace, member, invitation and audit endpoints."""
from __future__ import annotations

from typing import Any

from rest_framework import serializers

from datagran.core.fields import IsoDateTimeField, ObjectField

from .models import Role


class WorkspaceOutput(serializers.Serializer):
    """A workspace the caller belongs to (``role`` and ``personal`` annotated by
    ``workspace_list``)."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)
    personal = serializers.BooleanField()


class MemberOutput(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField(source="user.username")
    email = serializers.EmailField(source="user.email", allow_blank=True)
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationInput(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.CharField(default=Role.EDITOR)


class InvitationOutput(serializers.Serializer):
    email = serializers.EmailField()
    link = serializers.URLField(help_text="The invitation link, shown this once.")


class InvitationAcceptOutput(serializers.Serializer):
    workspace = serializers.UUIDField(source="workspace_id")
    role = serializers.ChoiceField(choices=Role.choices)


class EmailInput(serializers.Serializer):
    email = serializers.EmailField()


class EmailVerificationOutput(serializers.Serializer):
    email = serializers.EmailField()
    sent = serializers.BooleanField()


class EmailOutput(serializers.Serializer):
    email = serializers.EmailField()


class MemberRoleInput(serializers.Serializer):
    # Checked by member_set_role, whose message names the roles.
    role = serializers.CharField(required=False, default="", allow_blank=True)


class MemberRoleOutput(serializers.Serializer):
    user_id = serializers.IntegerField()
    role = serializers.ChoiceField(choices=Role.choices)


class OwnershipTransferInput(serializers.Serializer):
    user_id = serializers.IntegerField()


class AuditEntryOutput(serializers.Serializer):
    at = IsoDateTimeField(source="created_at")
    action = serializers.CharField()
    target = serializers.CharField()
    detail = ObjectField()
    actor = serializers.SerializerMethodField()

    def get_actor(self, entry: Any) -> str | None:
        return entry.actor.get_username() if entry.actor else None


class AuditQuery(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=100_000, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=200, default=50)
    action = serializers.CharField(max_length=50, required=False, allow_blank=True)


class PendingInvitationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)
    invited_by = serializers.SerializerMethodField()
    at = IsoDateTimeField(source="created_at")
    expires_at = IsoDateTimeField()

    def get_invited_by(self, invitation: Any) -> str | None:
        return invitation.invited_by.get_username() if invitation.invited_by else None


class ApiTokenInput(serializers.Serializer):
    # Checked by api_token_create, whose message says what a name is for.
    name = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=10_000)


class ApiTokenOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The key's first characters, to recognise it.")
    created_at = IsoDateTimeField()
    last_used_at = IsoDateTimeField(allow_null=True)
    revoked_at = IsoDateTimeField(allow_null=True)


class ApiTokenCreatedOutput(ApiTokenOutput):
    key = serializers.CharField(help_text="The key, shown this once: only its digest is kept.")
