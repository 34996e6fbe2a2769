"""Members of a workspace: invitations by e-mail link, role changes, removal, and transfer
of ownership. Every change is audited."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, QuerySet
from django.utils import timezone

from datagran.core.exceptions import Conflict, FieldError, NotFound, PermanentError

from .models import Invitation, Membership, Role, Workspace
from .selectors import Forbidden
from .services import audit_record

INVITATION_DAYS = 7
ERR_INVITATION_EMAIL = ("This invitation was sent to {invited}, not to your e-mail address "
                        "({yours}): sign in as the invited user, or confirm that address as "
                        "yours (POST /api/invitations/verify-email/ with it), to accept it.")
ERR_EMAIL_LINK = "This confirmation link is not valid or has expired; ask for a new one."
ERR_EMAIL_LINK_USER = ("This confirmation link was asked for by another user: sign in as "
                       "that user to use it.")
EMAIL_SALT = "datagran.workspaces.email-verification"
EMAIL_DAYS = 3
MAX_ID = 2**63 - 1  # the largest id a database column holds
ERR_NO_INVITATION = "No pending invitation with that id in this workspace."
ERR_NOT_MEMBER = "That user is not a member of this workspace."
ERR_TRANSFER_TO_SELF = ("You cannot transfer ownership to yourself: name the member who is "
                        "to become owner.")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_create(*, workspace: Workspace, by: AbstractBaseUser, email: str, role: str,
                      accept_url: str) -> tuple[Invitation, str]:
    """Store the invitation and e-mail the link; returns it and the link (shown once)."""
    if role not in Role.values or role == Role.OWNER:
        raise FieldError("role: invite as viewer or editor; transfer ownership later.",
                             {"role": ["viewer or editor"]})
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(workspace=workspace, email=email, role=role,
                                           token_hash=_digest(token), invited_by=by)
    link = accept_url.replace("TOKEN", token)
    send_mail(subject=f"You are invited to {workspace.name} on Datagran",
              message=f"{by.get_username()} invites you to the workspace '{workspace.name}' "
                      f"as {role}. Sign in to Datagran as the invited user, then open this link "
                      f"to accept within {INVITATION_DAYS} days: {link}",
              from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[email])
    audit_record(workspace_id=workspace.pk, actor=by, action="member.invite", target=email,
                 role=role)
    return invitation, link


@transaction.atomic
def invitation_accept(*, token: str, user: AbstractBaseUser) -> Membership:
    invitation = Invitation.objects.select_for_update().filter(token_hash=_digest(token)).first()
    if invitation is None or invitation.accepted_at is not None or invitation.revoked_at:
        raise NotFound("This invitation does not exist or was already used.")
    if invitation.created_at < timezone.now() - timedelta(days=INVITATION_DAYS):
        raise PermanentError("This invitation has expired; ask for a new one.")
    # The link is a bearer secret that can leak (a forwarded mail, a log); it admits only the
    # user whose e-mail address it was sent to. A user's address is a verified one: set by an
    # administrator or through a link mailed to it (email_verification_send).
    if not user.email or user.email.casefold() != invitation.email.casefold():
        raise Forbidden(ERR_INVITATION_EMAIL.format(invited=_masked(invitation.email),
                                                    yours=user.email or "none"),
                        {"email": ["not the invited address"]})
    membership, _ = Membership.objects.get_or_create(
        workspace=invitation.workspace, user=user, defaults={"role": invitation.role})
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit_record(workspace_id=invitation.workspace_id, actor=user, action="member.join",
                 target=user.get_username(), role=membership.role)
    return membership


def invitation_pending(*, workspace: Workspace) -> QuerySet[Invitation]:
    """Invitations not yet accepted, revoked or expired, newest first, with ``expires_at``."""
    lifetime = timedelta(days=INVITATION_DAYS)
    return (workspace.invitations.filter(accepted_at=None, revoked_at=None,
                                          created_at__gte=timezone.now() - lifetime)
            .select_related("invited_by")
            .annotate(expires_at=ExpressionWrapper(F("created_at") + lifetime,
                                                   output_field=DateTimeField()))
            .order_by("-created_at", "-id"))


@transaction.atomic
def invitation_revoke(*, workspace: Workspace, by: AbstractBaseUser, invitation_id: int) -> None:
    """Its link stops working; an accepted (or already revoked) invitation is not found."""
    invitation = (workspace.invitations.select_for_update()
                  .filter(pk=invitation_id, accepted_at=None, revoked_at=None).first()
                  if 0 < invitation_id <= MAX_ID else None)
    if invitation is None:
        raise NotFound(ERR_NO_INVITATION, {"invitation": ["not found"]})
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(workspace_id=workspace.pk, actor=by, action="member.invite_revoke",
                 target=invitation.email)


def email_verification_send(*, user: AbstractBaseUser, email: str, verify_url: str) -> None:
    """Mail ``email`` a link that makes it the user's address; the link works only for the
    user who asked, so holding it (or an invitation) is not enough."""
    token = signing.dumps({"u": user.pk, "e": email}, salt=EMAIL_SALT, compress=True)
    send_mail(subject="Confirm your e-mail address on Datagran",
              message=f"{user.get_username()} asked to use this address on Datagran. If that "
                      f"was you, confirm it within {EMAIL_DAYS} days while signed in: "
                      f"{verify_url.replace('TOKEN', token)}",
              from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[email])


def email_verify(*, user: AbstractBaseUser, token: str) -> str:
    """Make the address a confirmation link was sent to the user's own; returns it."""
    try:
        data = signing.loads(token, salt=EMAIL_SALT, max_age=timedelta(days=EMAIL_DAYS))
    except signing.BadSignature:  # a forged, altered or expired link
        raise FieldError(ERR_EMAIL_LINK, {"token": [ERR_EMAIL_LINK]}) from None
    if data.get("u") != user.pk:
        raise Forbidden(ERR_EMAIL_LINK_USER, {"token": [ERR_EMAIL_LINK_USER]})
    user.email = data["e"]
    user.save(update_fields=["email"])
    return user.email


def _masked(email: str) -> str:
    """a***@example.com: enough to recognise one's own address, not to harvest others'."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def _owners(workspace: Workspace) -> int:
    return workspace.memberships.filter(role=Role.OWNER).count()


@transaction.atomic
def member_set_role(*, workspace: Workspace, by: AbstractBaseUser, user_id: int,
                    role: str) -> Membership:
    if role not in Role.values:
        raise FieldError("role: use viewer, editor or owner.",
                             {"role": ["viewer, editor or owner"]})
    membership = _membership(workspace, user_id)
    if membership.role == Role.OWNER and role != Role.OWNER and _owners(workspace) == 1:
        raise Conflict("A workspace keeps at least one owner: transfer ownership first.")
    previous, membership.role = membership.role, role
    membership.save(update_fields=["role"])
    audit_record(workspace_id=workspace.pk, actor=by, action="member.role",
                 target=membership.user.get_username(), role=role, previous=previous)
    return membership


@transaction.atomic
def member_remove(*, workspace: Workspace, by: AbstractBaseUser, user_id: int) -> None:
    membership = _membership(workspace, user_id)
    if membership.role == Role.OWNER and _owners(workspace) == 1:
        raise Conflict("The last owner cannot be removed: transfer ownership first.")
    if workspace.personal_for_id == user_id:
        raise Conflict("A user cannot be removed from their personal workspace.")
    membership.delete()
    audit_record(workspace_id=workspace.pk, actor=by, action="member.remove",
                 target=membership.user.get_username())


@transaction.atomic
def ownership_transfer(*, workspace: Workspace, by: AbstractBaseUser, user_id: int) -> None:
    """The new owner becomes owner; the one who transfers stays as an editor."""
    if user_id == by.pk:  # else they would step down to editor and leave no owner at all
        raise Conflict(ERR_TRANSFER_TO_SELF)
    target = _membership(workspace, user_id)
    target.role = Role.OWNER
    target.save(update_fields=["role"])
    Membership.objects.filter(workspace=workspace, user=by).update(role=Role.EDITOR)
    audit_record(workspace_id=workspace.pk, actor=by, action="member.transfer_ownership",
                 target=target.user.get_username())


def _membership(workspace: Workspace, user_id: int) -> Membership:
    if not 0 < user_id <= MAX_ID:  # no such user; SQLite refuses to even compare it
        raise NotFound(ERR_NOT_MEMBER)
    membership = workspace.memberships.select_related("user").filter(user_id=user_id).first()
    if membership is None:
        raise NotFound(ERR_NOT_MEMBER)
    return membership
