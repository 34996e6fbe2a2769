"""Workspaces: every user has a personal one, sees only their own, and roles gate writes."""
from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from datagran.workspaces.models import Membership, Workspace
from datagran.workspaces.services import membership_add, workspace_create, workspace_personal
from tests.conftest import token_client
from tests.graphs import chain_graph

pytestmark = pytest.mark.django_db


def test_a_user_made_with_the_orm_has_a_personal_workspace_they_own() -> None:
    user = get_user_model().objects.create_user("bob")
    assert Membership.objects.get(workspace=user.personal_workspace, user=user).role == "owner"


def test_createsuperuser_gives_a_personal_workspace_too() -> None:
    call_command("createsuperuser", username="root", email="r@example.com", interactive=False,
                 stdout=io.StringIO())
    assert Workspace.objects.filter(personal_for__username="root").exists()


def test_a_user_made_by_bulk_create_gets_one_on_first_use() -> None:
    [user] = get_user_model().objects.bulk_create([get_user_model()(username="bulk")])
    assert workspace_personal(user=user).personal_for == user


def test_create_api_token_prints_a_working_token(user) -> None:
    out = io.StringIO()
    call_command("create_api_token", "alice", stdout=out)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {out.getvalue().strip()}")
    assert client.get("/api/workspaces/").status_code == 200


def test_create_api_token_names_an_unknown_user() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("create_api_token", "ghost")


def test_the_workspace_list_shows_only_the_callers_workspaces(api, user, other_user) -> None:
    shared = workspace_create(name="Team", owner=other_user)
    membership_add(workspace=shared, user=user, role="viewer")
    workspace_create(name="Secret", owner=other_user)
    listed = {w["name"]: w["role"] for w in api.get("/api/workspaces/").json()}
    assert listed == {"alice's workspace": "owner", "Team": "viewer"}


def test_a_viewer_can_read_but_not_change_or_run(user, other_user) -> None:
    team = workspace_create(name="Team", owner=other_user)
    membership_add(workspace=team, user=user, role="viewer")
    owner_api, viewer_api = token_client(other_user), token_client(user)
    pipeline = owner_api.post("/api/pipelines/", {"name": "P", "graph": chain_graph(),
                                                  "workspace": str(team.pk)},
                              format="json").json()
    url = f"/api/pipelines/{pipeline['id']}/"
    assert viewer_api.get(url).status_code == 200
    assert viewer_api.patch(url, {"name": "mine"}, format="json").status_code == 403
    assert viewer_api.post(f"{url}runs/").status_code == 403
    assert viewer_api.delete(url).status_code == 403
    response = viewer_api.post("/api/pipelines/", {"name": "x", "workspace": str(team.pk)},
                               format="json")
    assert response.status_code == 403 and "editor" in response.json()["message"]


def test_naming_a_workspace_one_is_not_a_member_of_is_not_found(api, other_user) -> None:
    foreign = workspace_create(name="Theirs", owner=other_user)
    response = api.post("/api/pipelines/", {"name": "x", "workspace": str(foreign.pk)},
                        format="json")
    assert response.status_code == 404
    assert api.get(f"/api/datasets/?workspace={foreign.pk}").status_code == 404
    assert api.get("/api/datasets/?workspace=not-a-uuid").status_code == 404
