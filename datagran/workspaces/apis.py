from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datagran.core.api import error_responses
from datagran.core.exceptions import Forbidden

from .members import (
    email_verification_send,
    email_verify,
    invitation_accept,
    invitation_create,
    invitation_pending,
    invitation_revoke,
    member_remove,
    member_set_role,
    ownership_transfer,
)
from .models import Role, Workspace
from .selectors import workspace_for_request, workspace_list
from .serializers import (
    ApiTokenCreatedOutput,
    ApiTokenInput,
    ApiTokenOutput,
    AuditEntryOutput,
    AuditQuery,
    EmailInput,
    EmailOutput,
    EmailVerificationOutput,
    InvitationAcceptOutput,
    InvitationInput,
    InvitationOutput,
    MemberOutput,
    MemberRoleInput,
    MemberRoleOutput,
    OwnershipTransferInput,
    PendingInvitationOutput,
    WorkspaceOutput,
)
from .tokens import api_token_create, api_token_list, api_token_revoke

ERR_TOKENS_BY_TOKEN = ("API tokens are managed from a signed-in browser session (Settings → "
                       "API tokens), not with a token.")


class WorkspaceListApi(APIView):
    @extend_schema(responses={200: WorkspaceOutput(many=True), **error_responses(401)})
    def get(self, request: Request) -> Response:
        return Response(WorkspaceOutput(workspace_list(user=request.user), many=True).data)


def _owned(request: Request, workspace_id: str) -> Workspace:
    return workspace_for_request(user=request.user, workspace_id=workspace_id,
                                 min_role=Role.OWNER)


class MemberListApi(APIView):
    @extend_schema(responses={200: MemberOutput(many=True), **error_responses(401, 404)})
    def get(self, request: Request, workspace_id: str) -> Response:
        workspace = workspace_for_request(user=request.user, workspace_id=workspace_id)
        return Response(MemberOutput(workspace.memberships.select_related("user"),
                                     many=True).data)


class InvitationApi(APIView):
    @extend_schema(responses={200: PendingInvitationOutput(many=True),
                              **error_responses(401, 404)})
    def get(self, request: Request, workspace_id: str) -> Response:
        """Pending invitations (not accepted, revoked or expired), newest first."""
        workspace = workspace_for_request(user=request.user, workspace_id=workspace_id)
        return Response(PendingInvitationOutput(invitation_pending(workspace=workspace),
                                                many=True).data)

    @extend_schema(request=InvitationInput, responses={201: InvitationOutput, **error_responses()})
    def post(self, request: Request, workspace_id: str) -> Response:
        workspace = _owned(request, workspace_id)
        data = InvitationInput(data=request.data)
        data.is_valid(raise_exception=True)
        email = data.validated_data["email"]
        _, link = invitation_create(
            workspace=workspace, by=request.user, email=email, role=data.validated_data["role"],
            # The screen that accepts it (POST /api/invitations/TOKEN/accept/). The token rides
            # in the fragment, which browsers never send: no server or proxy log sees it.
            accept_url=request.build_absolute_uri("/settings/invitations") + "#accept=TOKEN")
        return Response(InvitationOutput({"email": email, "link": link}).data,
                        status=status.HTTP_201_CREATED)


class InvitationDetailApi(APIView):
    @extend_schema(responses={204: None, **error_responses(401, 403, 404)})
    def delete(self, request: Request, workspace_id: str, invitation_id: int) -> Response:
        """Revoke a pending invitation: its link stops working."""
        invitation_revoke(workspace=_owned(request, workspace_id), by=request.user,
                          invitation_id=invitation_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationAcceptApi(APIView):
    @extend_schema(request=None, responses={200: InvitationAcceptOutput, **error_responses()})
    def post(self, request: Request, token: str) -> Response:
        membership = invitation_accept(token=token, user=request.user)
        return Response(InvitationAcceptOutput(membership).data)


class EmailVerificationApi(APIView):
    """POST {"email"}: mail that address a link that makes it the caller's (an invitation
    admits only the user whose address it was sent to)."""

    @extend_schema(operation_id="invitations_verify_email_send", request=EmailInput,
                   responses={202: EmailVerificationOutput, **error_responses(400, 401)})
    def post(self, request: Request) -> Response:
        data = EmailInput(data=request.data)
        data.is_valid(raise_exception=True)
        email = data.validated_data["email"]
        email_verification_send(
            user=request.user, email=email,
            verify_url=request.build_absolute_uri("/api/invitations/TOKEN/verify-email/"))
        return Response(EmailVerificationOutput({"email": email, "sent": True}).data,
                        status=status.HTTP_202_ACCEPTED)


class EmailVerifyApi(APIView):
    @extend_schema(operation_id="invitations_verify_email_confirm", request=None,
                   responses={200: EmailOutput, **error_responses(400, 401, 403)})
    def post(self, request: Request, token: str) -> Response:
        return Response(EmailOutput({"email": email_verify(user=request.user,
                                                           token=token)}).data)


class MemberDetailApi(APIView):
    @extend_schema(request=MemberRoleInput,
                   responses={200: MemberRoleOutput, **error_responses(400, 401, 403, 404, 409)})
    def patch(self, request: Request, workspace_id: str, user_id: int) -> Response:
        workspace = _owned(request, workspace_id)
        data = MemberRoleInput(data=request.data)
        data.is_valid(raise_exception=True)
        membership = member_set_role(workspace=workspace, by=request.user, user_id=user_id,
                                     role=data.validated_data["role"])
        return Response(MemberRoleOutput(membership).data)

    @extend_schema(responses={204: None, **error_responses(400, 401, 403, 404, 409)})
    def delete(self, request: Request, workspace_id: str, user_id: int) -> Response:
        member_remove(workspace=_owned(request, workspace_id), by=request.user,
                      user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OwnershipTransferApi(APIView):
    @extend_schema(request=OwnershipTransferInput,
                   responses={204: None, **error_responses(400, 401, 403, 404, 409)})
    def post(self, request: Request, workspace_id: str) -> Response:
        data = OwnershipTransferInput(data=request.data)
        data.is_valid(raise_exception=True)
        ownership_transfer(workspace=_owned(request, workspace_id), by=request.user,
                           user_id=data.validated_data["user_id"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditListApi(APIView):
    """Sensitive actions in a workspace (promotions, deletions, connection and member
    changes): for its owners."""

    @extend_schema(parameters=[AuditQuery],
                   responses={200: AuditEntryOutput(many=True), **error_responses()})
    def get(self, request: Request, workspace_id: str) -> Response:
        """Newest first, a page at a time (``?page=``, ``?page_size=``, at most 200), of one
        ``?action=`` if given."""
        workspace = _owned(request, workspace_id)
        query = AuditQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        entries = workspace.audit.select_related("actor")
        if query.validated_data.get("action"):
            entries = entries.filter(action=query.validated_data["action"])
        size = query.validated_data["page_size"]
        start = (query.validated_data["page"] - 1) * size
        return Response(AuditEntryOutput(entries[start:start + size], many=True).data)


def _by_token(request: Request) -> None:
    # A leaked key must not be able to mint itself successors or revoke its owner's others.
    if request.auth is not None:
        raise Forbidden(ERR_TOKENS_BY_TOKEN)


class ApiTokenListApi(APIView):
    """The caller's personal API tokens (``Authorization: Token <key>``): listed with any
    credentials, made and revoked from a signed-in browser session only."""

    @extend_schema(responses={200: ApiTokenOutput(many=True), **error_responses(401, 403)})
    def get(self, request: Request) -> Response:
        return Response(ApiTokenOutput(api_token_list(user=request.user), many=True).data)

    @extend_schema(request=ApiTokenInput,
                   responses={201: ApiTokenCreatedOutput, **error_responses(400, 401, 403, 409)})
    def post(self, request: Request) -> Response:
        _by_token(request)
        data = ApiTokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        token, key = api_token_create(user=request.user, name=data.validated_data["name"])
        token.key = key
        return Response(ApiTokenCreatedOutput(token).data, status=status.HTTP_201_CREATED)


class ApiTokenDetailApi(APIView):
    @extend_schema(responses={204: None, **error_responses(401, 403, 404)})
    def delete(self, request: Request, token_id: int) -> Response:
        """Revoke the token: requests with its key are refused from now on."""
        _by_token(request)
        api_token_revoke(user=request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
