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
