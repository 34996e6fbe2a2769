from __future__ import annotations

from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datagran.core.exceptions import FieldError

from .members import (
    email_verification_send,
    email_verify,
    invitation_accept,
    invitation_create,
    member_remove,
    member_set_role,
    ownership_transfer,
)
from .models import Membership, Role, Workspace
from .selectors import workspace_for_request, workspace_list


class WorkspaceListApi(APIView):
    def get(self, request: Request) -> Response:
        roles = dict(Membership.objects.filter(user=request.user).values_list(
            "workspace_id", "role"))
        return Response([
            {"id": str(w.pk), "name": w.name, "role": roles[w.pk],
             "personal": w.personal_for_id == request.user.pk}
            for w in workspace_list(user=request.user)
        ])


def _owned(request: Request, workspace_id: str) -> Workspace:
    return workspace_for_request(user=request.user, workspace_id=workspace_id,
                                 min_role=Role.OWNER)


class MemberListApi(APIView):
    def get(self, request: Request, workspace_id: str) -> Response:
        workspace = workspace_for_request(user=request.user, workspace_id=workspace_id)
        return Response([{"user_id": m.user_id, "username": m.user.get_username(),
                          "email": m.user.email, "role": m.role}
                         for m in workspace.memberships.select_related("user")])


class InvitationInput(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.CharField(default=Role.EDITOR)


class InvitationApi(APIView):
    def post(self, request: Request, workspace_id: str) -> Response:
        workspace = _owned(request, workspace_id)
        data = InvitationInput(data=request.data)
        data.is_valid(raise_exception=True)
        _, link = invitation_create(
            workspace=workspace, by=request.user, email=data.validated_data["email"],
            role=data.validated_data["role"],
            accept_url=request.build_absolute_uri("/api/invitations/TOKEN/accept/"))
        return Response({"email": data.validated_data["email"], "link": link},
                        status=status.HTTP_201_CREATED)


class InvitationAcceptApi(APIView):
    def post(self, request: Request, token: str) -> Response:
        membership = invitation_accept(token=token, user=request.user)
        return Response({"workspace": str(membership.workspace_id), "role": membership.role})


class EmailInput(serializers.Serializer):
    email = serializers.EmailField()


class EmailVerificationApi(APIView):
    """POST {"email"}: mail that address a link that makes it the caller's (an invitation
    admits only the user whose address it was sent to)."""

    def post(self, request: Request) -> Response:
        data = EmailInput(data=request.data)
        data.is_valid(raise_exception=True)
        email_verification_send(
            user=request.user, email=data.validated_data["email"],
            verify_url=request.build_absolute_uri("/api/invitations/TOKEN/verify-email/"))
        return Response({"email": data.validated_data["email"], "sent": True},
                        status=status.HTTP_202_ACCEPTED)


class EmailVerifyApi(APIView):
    def post(self, request: Request, token: str) -> Response:
        return Response({"email": email_verify(user=request.user, token=token)})


class MemberDetailApi(APIView):
    def patch(self, request: Request, workspace_id: str, user_id: int) -> Response:
        workspace = _owned(request, workspace_id)
        membership = member_set_role(workspace=workspace, by=request.user, user_id=user_id,
                                     role=str(request.data.get("role", "")))
        return Response({"user_id": membership.user_id, "role": membership.role})

    def delete(self, request: Request, workspace_id: str, user_id: int) -> Response:
        member_remove(workspace=_owned(request, workspace_id), by=request.user,
                      user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OwnershipTransferApi(APIView):
    def post(self, request: Request, workspace_id: str) -> Response:
        try:
            user_id = int(request.data.get("user_id"))
        except (TypeError, ValueError):
            raise FieldError("user_id: required.", {"user_id": ["required"]}
                                 ) from None
        ownership_transfer(workspace=_owned(request, workspace_id), by=request.user,
                           user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditListApi(APIView):
    """Sensitive actions in a workspace (promotions, deletions, connection and member
    changes): for its owners."""

    def get(self, request: Request, workspace_id: str) -> Response:
        workspace = _owned(request, workspace_id)
        return Response([{"at": e.created_at.isoformat(), "action": e.action,
                          "target": e.target, "detail": e.detail,
                          "actor": e.actor.get_username() if e.actor else None}
                         for e in workspace.audit.select_related("actor")[:500]])
