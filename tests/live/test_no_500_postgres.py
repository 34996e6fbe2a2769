"""Issue 14, S10 against the real PostgreSQL behind daphne: SQLite stores or compares what
PostgreSQL refuses (a NUL character, text longer than its column), so these requests answered
500 only in production. Also a websocket path that no route matches, over a real socket."""
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.live.server import REDIS_URL, LiveServer

pytestmark = pytest.mark.services
OWN_REDIS = f"{REDIS_URL}/10"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    env = {"BROKER_URL": OWN_REDIS, "CHANNEL_LAYER_URL": OWN_REDIS, "CACHE_URL": OWN_REDIS}
    with LiveServer(mode="redis", workers=0, extra_env=env) as live:
        yield live


def refused(server: LiveServer, method: str, path: str, body: object = None,
            status: int = 400) -> dict:
    code, content = server.request(method, path, body)
    assert code == status, (code, content[:300])
    return json.loads(content)


def test_a_nul_character_is_refused_in_a_query_and_in_a_body(server: LiveServer) -> None:
    for path in ("/api/pipelines/?search=a%00b", "/api/runs/?search=a%00b",
                 "/api/runs/?trigger=a%00b"):
        assert "NUL" in refused(server, "GET", path)["message"]
    before = len(server.api("GET", "/api/pipelines/"))
    graph = {"nodes": [{"id": "a", "operator": "connector.sample_dataset",
                        "params": {"dataset": "iris"}, "label": "evil\x00"}], "edges": []}
    body = refused(server, "POST", "/api/pipelines/", {"name": "nul", "graph": graph})
    assert body["message"].startswith("body: the text at graph.nodes.0.label holds a NUL")
    assert len(server.api("GET", "/api/pipelines/")) == before


def test_text_longer_than_its_column_is_a_400_naming_it(server: LiveServer) -> None:
    workspace = server.api("GET", "/api/workspaces/")[0]["id"]
    email = "m" * 250 + "@example.com"  # Django's e-mail check allows 320; the column 254
    body = refused(server, "POST", f"/api/workspaces/{workspace}/invitations/",
                   {"email": email})
    assert body["message"] == "email: at most 254 characters; this one has 262."
    audit = server.api("GET", f"/api/workspaces/{workspace}/audit/")
    assert not [e for e in audit if e["action"] == "member.invite"]


def test_a_member_id_beyond_64_bits_is_not_found(server: LiveServer) -> None:
    workspace = server.api("GET", "/api/workspaces/")[0]["id"]
    refused(server, "PATCH", f"/api/workspaces/{workspace}/members/{2**64 + 1}/",
            {"role": "viewer"}, status=404)


def test_a_websocket_path_no_route_matches_is_refused_at_the_handshake(
        server: LiveServer) -> None:
    for path in ("/ws/nope/", "/ws/runs/not-a-uuid/"):
        with pytest.raises(InvalidStatus) as refusal:
            connect(server.ws_url + path,
                    additional_headers={"Authorization": f"Token {server.token}"},
                    open_timeout=10)
        assert refusal.value.response.status_code == 403
    assert "No route found" not in server.log("daphne")
    assert server.api("GET", "/api/workspaces/")  # the server answers as before
