from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import BooleanField, Case, F, QuerySet, Value, When

from datagran.core.exceptions import Forbidden, NotFound

from .models import ROLE_RANK, Membership, Role, Workspace
from .services import workspace_personal


def workspace_list(*, user: AbstractBaseUser) -> QuerySet[Workspace]:
    """The user's workspaces, each with the user's ``role`` in it and whether it is their
    ``personal`` one."""
    return (Workspace.objects.filter(memberships__user=user)
            .annotate(role=F("memberships__role"),
                      personal=Case(When(personal_for=user.pk, then=Value(True)),
                                    default=Value(False), output_field=BooleanField()))
            .order_by("-personal_for", "name"))


def membership_get(*, user: AbstractBaseUser, workspace_id: object) -> Membership:
    """The caller's membership; a workspace they do not belong to is reported as not found,
    so its existence does not leak."""
    try:
        return Membership.objects.select_related("workspace").get(
            user=user, workspace_id=workspace_id)
    except (Membership.DoesNotExist, ValueError, TypeError, DjangoValidationError):
        # A malformed id is as unknown as a foreign one.
        raise NotFound("Workspace not found.", {"workspace": ["not found"]}) from None


def workspace_for_request(*, user: AbstractBaseUser, workspace_id: object | None,
                          min_role: str = Role.VIEWER) -> Workspace:
    """The workspace named by the request, or the user's personal one, checked for role."""
    if workspace_id in (None, ""):
        workspace = workspace_personal(user=user)
        membership = Membership.objects.get(user=user, workspace=workspace)
    else:
        membership = membership_get(user=user, workspace_id=workspace_id)
    role_require(membership=membership, min_role=min_role)
    return membership.workspace


def role_require(*, membership: Membership, min_role: str) -> None:
    if ROLE_RANK[Role(membership.role)] < ROLE_RANK[Role(min_role)]:
        raise Forbidden(f"This needs the {min_role} role in workspace "
                        f"'{membership.workspace.name}'; you are {membership.role}.")


def role_in(*, user: AbstractBaseUser, workspace_id: object) -> str | None:
    return Membership.objects.filter(user=user, workspace_id=workspace_id).values_list(
        "role", flat=True).first()


def role_check(*, user: AbstractBaseUser, workspace_id: object, min_role: str) -> None:
    """Raise unless the user has at least ``min_role`` in the workspace."""
    role_require(membership=membership_get(user=user, workspace_id=workspace_id),
                 min_role=min_role)
