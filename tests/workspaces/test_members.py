"""Members: invitations by e-mail link, roles, removal, ownership transfer; all audited and
visible to owners only."""
from __future__ import annotations

import re

import pytest
from django.core import mail

from datagran.workspaces.models import Membership
from datagran.workspaces.services import membership_add, workspace_create
from tests.conftest import token_client

pytestmark = pytest.mark.django_db


def accept_path(body: str) -> str:
    """The API call behind the mailed link (the settings screen's accept button makes it)."""
    token = re.findall(r"http://testserver/settings/invitations#accept=(\S+)", body)[0]
    return f"/api/invitations/{token}/accept/"


@pytest.fixture
def team(user):
    return workspace_create(name="Team", owner=user)


def test_an_invitation_link_makes_the_invitee_a_member_once(api, team, other_user,
                                                            other_api) -> None:
    other_user.email = "Mallory@Example.com"  # addresses compare without case
    other_user.save()
    response = api.post(f"/api/workspaces/{team.pk}/invitations/",
                        {"email": "mallory@example.com", "role": "viewer"}, format="json")
    assert response.status_code == 201
    [message] = mail.outbox
    assert message.to == ["mallory@example.com"] and "Team" in message.subject
    link = accept_path(message.body)
    accepted = other_api.post(link)
    assert accepted.status_code == 200 and accepted.json()["role"] == "viewer"
    assert other_api.post(link).status_code == 404  # used once
    assert Membership.objects.get(workspace=team, user=other_user).role == "viewer"


def test_only_owners_invite_change_roles_and_read_the_audit(user, other_user, team) -> None:
    membership_add(workspace=team, user=other_user, role="editor")
    editor = token_client(other_user)
    assert editor.post(f"/api/workspaces/{team.pk}/invitations/",
                       {"email": "x@example.com"}, format="json").status_code == 403
    assert editor.get(f"/api/workspaces/{team.pk}/audit/").status_code == 403
    assert editor.patch(f"/api/workspaces/{team.pk}/members/{user.pk}/", {"role": "viewer"},
                        format="json").status_code == 403


def test_roles_change_members_leave_and_ownership_moves_with_an_audit_trail(
        api, user, other_user, team) -> None:
    membership_add(workspace=team, user=other_user, role="viewer")
    base = f"/api/workspaces/{team.pk}"
    assert api.patch(f"{base}/members/{other_user.pk}/", {"role": "editor"},
                     format="json").json()["role"] == "editor"
    # The last owner can neither step down nor be removed.
    assert api.patch(f"{base}/members/{user.pk}/", {"role": "viewer"},
                     format="json").status_code == 409
    assert api.post(f"{base}/transfer-ownership/", {"user_id": other_user.pk},
                    format="json").status_code == 204
    roles = dict(Membership.objects.filter(workspace=team).values_list("user_id", "role"))
    assert roles == {user.pk: "editor", other_user.pk: "owner"}
    new_owner = token_client(other_user)
    assert new_owner.delete(f"{base}/members/{user.pk}/").status_code == 204
    trail = [e["action"] for e in new_owner.get(f"{base}/audit/").json()]
    assert trail == ["member.remove", "member.transfer_ownership", "member.role"]


def test_connection_changes_and_deletions_are_audited_without_secret_values(api, user) -> None:
    workspace = user.personal_workspace
    body = api.post("/api/connections/", {"name": "dw", "kind": "postgresql", "fields": {
        "database": "d", "user": "u", "password": "hunter2-canary"}}, format="json").json()
    api.patch(f"/api/connections/{body['id']}/", {"fields": {"password": "new-canary"}},
              format="json")
    api.delete(f"/api/connections/{body['id']}/")
    pipeline = api.post("/api/pipelines/", {"name": "gone"}, format="json").json()
    api.delete(f"/api/pipelines/{pipeline['id']}/")
    audit = api.get(f"/api/workspaces/{workspace.pk}/audit/")
    assert [e["action"] for e in audit.json()] == [
        "pipeline.delete", "connection.delete", "connection.update", "connection.create"]
    assert "canary" not in audit.content.decode()


def test_an_invitation_admits_only_the_user_it_was_sent_to(api, team, other_user,
                                                           other_api) -> None:
    """The link used to admit whoever held it: a forwarded or leaked invitation made a
    stranger a member."""
    from django.contrib.auth import get_user_model

    api.post(f"/api/workspaces/{team.pk}/invitations/",
             {"email": "bob@example.com", "role": "editor"}, format="json")
    link = accept_path(mail.outbox[0].body)
    for email in ("", "mallory@example.com", "bob@example.com.evil"):
        other_user.email = email
        other_user.save()
        response = other_api.post(link)
        assert response.status_code == 403, email
        assert "b***@example.com" in response.json()["message"]
        assert "bob@example.com" not in response.json()["message"].replace(email, "")
        assert not Membership.objects.filter(workspace=team, user=other_user).exists()
    # The invitation is still there for the person it was sent to.
    bob = get_user_model().objects.create_user("bob", email="BOB@example.com", password="pw-b-1")
    assert token_client(bob).post(link).status_code == 200
    assert Membership.objects.get(workspace=team, user=bob).role == "editor"


def test_a_user_confirms_an_address_by_mail_and_then_accepts_the_invitation_sent_to_it(
        api, team, other_user, other_api) -> None:
    """Sign-up takes no e-mail address: a user proves one with a link mailed to it, which
    works only for the user who asked, so a stranger holding the invitation cannot."""
    from django.contrib.auth import get_user_model

    api.post(f"/api/workspaces/{team.pk}/invitations/",
             {"email": "bob@example.com", "role": "viewer"}, format="json")
    invitation = accept_path(mail.outbox[0].body)
    bob = get_user_model().objects.create_user("bob", password="pw-bob-123")  # no address
    bob_api = token_client(bob)
    refused = bob_api.post(invitation)
    assert refused.status_code == 403 and "verify-email" in refused.json()["message"]
    # The stranger asks too: the link goes to bob's mailbox, and is bound to the stranger.
    for client in (other_api, bob_api):
        assert client.post("/api/invitations/verify-email/", {"email": "bob@example.com"},
                           format="json").status_code == 202
    strangers, bobs = (re.findall(r"http://testserver(\S+)", m.body)[0]
                       for m in mail.outbox[1:3])
    assert [m.to for m in mail.outbox[1:3]] == [["bob@example.com"], ["bob@example.com"]]
    assert other_api.post(bobs).status_code == 403
    assert bob_api.post(strangers).status_code == 403
    token = bobs.split("/")[3]
    assert bob_api.post(bobs.replace(token, token[:-3] + "xyz")).status_code == 400
    other_user.refresh_from_db()
    assert other_user.email == "" and other_api.post(invitation).status_code == 403
    assert bob_api.post(bobs).json() == {"email": "bob@example.com"}
    assert bob_api.post(invitation).status_code == 200
    assert Membership.objects.get(workspace=team, user=bob).role == "viewer"
    assert not Membership.objects.filter(workspace=team, user=other_user).exists()


def test_pending_invitations_are_listed_and_a_revoked_link_stops_working(
        api, team, other_user, other_api) -> None:
    other_user.email = "mallory@example.com"
    other_user.save()
    base = f"/api/workspaces/{team.pk}/invitations"
    api.post(f"{base}/", {"email": "mallory@example.com", "role": "viewer"}, format="json")
    link = accept_path(mail.outbox[0].body)
    [pending] = api.get(f"{base}/").json()
    assert pending["email"] == "mallory@example.com" and pending["invited_by"] == "alice"
    membership_add(workspace=team, user=other_user, role="editor")
    assert other_api.delete(f"{base}/{pending['id']}/").status_code == 403  # owners only
    Membership.objects.filter(workspace=team, user=other_user).delete()
    assert api.delete(f"{base}/{pending['id']}/").status_code == 204
    assert api.get(f"{base}/").json() == []
    assert other_api.post(link).status_code == 404
    assert not Membership.objects.filter(workspace=team, user=other_user).exists()
    assert api.delete(f"{base}/{pending['id']}/").status_code == 404


def test_the_audit_log_pages_newest_first_and_filters_by_action(api, team, other_user) -> None:
    membership_add(workspace=team, user=other_user, role="viewer")
    base = f"/api/workspaces/{team.pk}"
    for role in ("editor", "viewer", "editor"):
        api.patch(f"{base}/members/{other_user.pk}/", {"role": role}, format="json")
    api.post(f"{base}/invitations/", {"email": "x@example.com"}, format="json")
    first = api.get(f"{base}/audit/?page_size=2").json()
    second = api.get(f"{base}/audit/?page_size=2&page=2").json()
    assert [e["action"] for e in first + second] == [
        "member.invite", "member.role", "member.role", "member.role"]
    assert [e["detail"]["role"] for e in second] == ["viewer", "editor"]
    assert first[0]["actor"] == "alice" and first[0]["target"] == "x@example.com"
    only = api.get(f"{base}/audit/?action=member.invite").json()
    assert [e["action"] for e in only] == ["member.invite"]
    bad = api.get(f"{base}/audit/?page_size=0")
    assert bad.status_code == 400 and "page_size" in bad.json()["extra"]["fields"]
