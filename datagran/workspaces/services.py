from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from .models import AuditEntry, Membership, Role, Workspace


@transaction.atomic
def workspace_create(*, name: str, owner: AbstractBaseUser, personal: bool = False) -> Workspace:
    workspace = Workspace.objects.create(name=name, personal_for=owner if personal else None)
    Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
    return workspace


def workspace_personal(*, user: AbstractBaseUser) -> Workspace:
    """The user's personal workspace, made now if the user was created without signals
    (bulk_create, raw SQL)."""
    workspace = Workspace.objects.filter(personal_for=user).first()
    if workspace is None:
        workspace = workspace_create(name=f"{user.get_username()}'s workspace", owner=user,
                                     personal=True)
    return workspace


def membership_add(*, workspace: Workspace, user: AbstractBaseUser, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        workspace=workspace, user=user, defaults={"role": role})
    return membership


def audit_record(*, workspace_id: object, actor: AbstractBaseUser | None, action: str,
                 target: str, **detail: object) -> AuditEntry:
    return AuditEntry.objects.create(workspace_id=workspace_id, actor=actor, action=action,
                                     target=target, detail=detail)
