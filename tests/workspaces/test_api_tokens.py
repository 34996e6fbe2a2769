"""Personal API tokens: made with a name in a signed-in session, the key shown once and kept
only as a digest, accepted by the API, the websockets and the prediction endpoint until
revoked; invisible to other users."""
from __future__ import annotations

import asyncio
import hashlib
import io

import pytest
from channels.testing import WebsocketCommunicator
from django.core.management import call_command
from rest_framework.test import APIClient

from datagran.workspaces.models import ApiToken
from tests.graphs import chain_graph

pytestmark = pytest.mark.django_db


def session_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def browser(user) -> APIClient:
    return session_client(user)


def make(browser: APIClient, name: str = "laptop script") -> dict:
    response = browser.post("/api/tokens/", {"name": name}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_created_key_works_against_the_api_and_only_its_digest_is_kept(browser) -> None:
    created = make(browser)
    assert created["key"].startswith(created["prefix"]) and created["name"] == "laptop script"
    row = ApiToken.objects.get(pk=created["id"])
    assert row.key_hash == hashlib.sha256(created["key"].encode()).hexdigest()
    assert created["key"] not in str(vars(row))
    response = key_client(created["key"]).get("/api/workspaces/")
    assert response.status_code == 200 and response.json()[0]["name"] == "alice's workspace"
    assert ApiToken.objects.get(pk=created["id"]).last_used_at is not None


def test_the_list_shows_name_prefix_and_use_but_never_the_key(browser) -> None:
    created = make(browser)
    key_client(created["key"]).get("/api/workspaces/")
    listed = browser.get("/api/tokens/")
    assert listed.status_code == 200
    [token] = listed.json()
    assert token["name"] == "laptop script" and token["prefix"] == created["prefix"]
    assert token["last_used_at"] and token["revoked_at"] is None
    assert "key" not in token and created["key"] not in listed.content.decode()


def test_a_revoked_key_is_refused_with_401(browser) -> None:
    created = make(browser)
    client = key_client(created["key"])
    assert client.get("/api/pipelines/").status_code == 200
    assert browser.delete(f"/api/tokens/{created['id']}/").status_code == 204
    assert client.get("/api/pipelines/").status_code == 401
    assert browser.get("/api/tokens/").json()[0]["revoked_at"]


def test_another_user_can_neither_see_nor_revoke_it(browser, other_user) -> None:
    created = make(browser)
    other = session_client(other_user)
    assert other.get("/api/tokens/").json() == []
    response = other.delete(f"/api/tokens/{created['id']}/")
    assert response.status_code == 404 and response.json()["extra"]["fields"] == {
        "id": ["not found"]}
    assert ApiToken.objects.get(pk=created["id"]).revoked_at is None
    assert key_client(created["key"]).get("/api/pipelines/").status_code == 200


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_name_is_required_and_at_most_100_characters(browser, name) -> None:
    response = browser.post("/api/tokens/", {"name": name}, format="json")
    assert response.status_code == 400 and "name" in response.json()["extra"]["fields"]
    assert not ApiToken.objects.exists()


def test_a_missing_name_is_refused_naming_the_field(browser) -> None:
    response = browser.post("/api/tokens/", {}, format="json")
    assert response.status_code == 400 and "name" in response.json()["extra"]["fields"]
    assert not ApiToken.objects.exists()


def test_a_token_cannot_mint_or_revoke_tokens(browser) -> None:
    created = make(browser)
    client = key_client(created["key"])
    response = client.post("/api/tokens/", {"name": "successor"}, format="json")
    assert response.status_code == 403 and "browser session" in response.json()["message"]
    assert client.delete(f"/api/tokens/{created['id']}/").status_code == 403
    assert ApiToken.objects.filter(revoked_at=None).count() == 1


def test_an_unknown_key_of_the_personal_form_is_401(db) -> None:
    assert key_client("dgp_not-a-real-key").get("/api/pipelines/").status_code == 401


def test_create_api_token_makes_a_named_personal_token(user) -> None:
    out = io.StringIO()
    call_command("create_api_token", "alice", stdout=out)
    key = out.getvalue().strip()
    assert ApiToken.objects.get(user=user).name == "create_api_token"
    assert key_client(key).get("/api/pipelines/").status_code == 200
    call_command("create_api_token", "alice", "--reset", stdout=io.StringIO())
    assert key_client(key).get("/api/pipelines/").status_code == 401


def test_the_prediction_endpoint_drops_a_revoked_token(browser, monkeypatch) -> None:
    from datagran.serving import services

    created = make(browser)
    client = key_client(created["key"])
    pipeline = client.post("/api/pipelines/", {"name": "P", "graph": chain_graph()},
                           format="json").json()
    url = f"/api/pipelines/{pipeline['id']}/predict"
    assert client.post(url, {"rows": []}, format="json").status_code != 401
    # Revoked in this process: refused at once.
    browser.delete(f"/api/tokens/{created['id']}/")
    assert client.post(url, {"rows": []}, format="json").status_code == 401

    # Revoked by another process (no signal here): remembered for the cache window only.
    second = make(browser, "second")
    client = key_client(second["key"])
    assert client.post(url, {"rows": []}, format="json").status_code != 401
    ApiToken.objects.filter(pk=second["id"]).update(revoked_at="2026-01-01T00:00:00Z")
    assert client.post(url, {"rows": []}, format="json").status_code != 401
    later = services.time.monotonic() + 60
    monkeypatch.setattr(services.time, "monotonic", lambda: later)
    assert client.post(url, {"rows": []}, format="json").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_the_websocket_takes_a_personal_token_until_it_is_revoked(user) -> None:
    from channels.routing import URLRouter

    from datagran.core.ws import websocket_stack
    from datagran.runs.routing import websocket_urlpatterns

    created = make(session_client(user))
    path = f"/ws/workspaces/{user.personal_workspace.pk}/"

    async def connects() -> bool:
        socket = WebsocketCommunicator(
            websocket_stack(URLRouter(websocket_urlpatterns)), path,
            headers=[(b"authorization", f"Token {created['key']}".encode())])
        connected, _ = await socket.connect()
        await socket.disconnect()
        return connected

    assert asyncio.run(connects())
    ApiToken.objects.filter(pk=created["id"]).update(revoked_at="2026-01-01T00:00:00Z")
    assert not asyncio.run(connects())
