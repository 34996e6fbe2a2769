"""The run websocket, in process: the channel layer may drop messages (LIMITS.md: 124 of 500
lost, silently), so the consumer must fill a gap in seq from the database."""
from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from rest_framework.authtoken.models import Token

from datagran.runs.models import Run, RunEvent
from datagran.runs.publish import run_group
from tests.graphs import chain_graph

pytestmark = pytest.mark.django_db(transaction=True)


def application():
    from channels.routing import URLRouter

    from datagran.core.ws import websocket_stack
    from datagran.runs.routing import websocket_urlpatterns

    return websocket_stack(URLRouter(websocket_urlpatterns))


def record_events(run_id: str, count: int) -> list[dict]:
    run = Run.objects.get(pk=run_id)
    events = []
    for _ in range(count):
        run.seq += 1
        events.append(RunEvent.objects.create(run=run, seq=run.seq, type="log",
                                              payload={"node_id": "a", "lines": [str(run.seq)]}))
    run.save(update_fields=["seq"])
    return [e.as_message() for e in events]


def test_a_gap_in_seq_is_filled_from_the_database_in_order(api, user) -> None:
    pipeline = api.post("/api/pipelines/", {"name": "P", "graph": chain_graph()},
                        format="json").json()
    run_id = api.post(f"/api/pipelines/{pipeline['id']}/runs/").json()["id"]
    token = Token.objects.get(user=user).key

    async def scenario() -> list[dict]:
        socket = WebsocketCommunicator(application(), f"/ws/runs/{run_id}/",
                                       headers=[(b"authorization", f"Token {token}".encode())])
        connected, _ = await socket.connect()
        assert connected
        snapshot = await socket.receive_json_from()
        events = await database_sync_to_async(record_events)(run_id, 3)
        # Only the last of three events reaches the layer: the first two were "dropped".
        await get_channel_layer().group_send(run_group(run_id),
                                             {"type": "run.event", "event": events[-1]})
        received = [snapshot] + [await socket.receive_json_from() for _ in range(3)]
        # A duplicate of an event already sent is not forwarded again.
        await get_channel_layer().group_send(run_group(run_id),
                                             {"type": "run.event", "event": events[0]})
        assert await socket.receive_nothing(timeout=0.3)
        await socket.disconnect()
        return received

    received = async_to_sync(scenario)()
    first = received[0]["seq"]
    assert received[0]["type"] == "snapshot"
    assert [m["seq"] for m in received[1:]] == [first + 1, first + 2, first + 3]
    assert [m["lines"] for m in received[1:]] == [[str(first + i)] for i in (1, 2, 3)]


def test_a_socket_for_a_run_of_another_workspace_is_closed(api, other_user) -> None:
    pipeline = api.post("/api/pipelines/", {"name": "P", "graph": chain_graph()},
                        format="json").json()
    run_id = api.post(f"/api/pipelines/{pipeline['id']}/runs/").json()["id"]
    token, _ = Token.objects.get_or_create(user=other_user)

    async def scenario() -> bool:
        socket = WebsocketCommunicator(application(), f"/ws/runs/{run_id}/",
                                       headers=[(b"authorization", f"Token {token}".encode())])
        connected, _ = await socket.connect()
        return connected

    assert async_to_sync(scenario)() is False


def connects(run_id: str, token: str, *, host: str, origin: str | None,
             scheme: str = "ws") -> bool:
    """Whether a socket with this Host and Origin is accepted (and gets its snapshot)."""
    headers = [(b"authorization", f"Token {token}".encode()), (b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))

    async def scenario() -> bool:
        socket = WebsocketCommunicator(application(), f"/ws/runs/{run_id}/", headers=headers)
        socket.scope["scheme"] = scheme
        connected, _ = await socket.connect()
        if connected:
            assert (await socket.receive_json_from())["type"] == "snapshot"
            await socket.disconnect()
        return connected

    return async_to_sync(scenario)()


def test_the_origin_must_match_the_page_in_scheme_host_and_port(api, user, settings) -> None:
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example.com", "https://*.corp.example"]
    pipeline = api.post("/api/pipelines/", {"name": "P", "graph": chain_graph()},
                        format="json").json()
    run_id = api.post(f"/api/pipelines/{pipeline['id']}/runs/").json()["id"]
    token = Token.objects.get(user=user).key
    page = "localhost:8000"
    # The page's own origin, a trusted one, and a client that sends none (token only).
    assert connects(run_id, token, host=page, origin="http://localhost:8000")
    assert connects(run_id, token, host="localhost", origin="http://localhost")
    assert connects(run_id, token, host=page, origin="https://localhost:8000", scheme="wss")
    assert connects(run_id, token, host=page, origin="https://app.example.com")
    assert connects(run_id, token, host=page, origin="https://ci.corp.example")
    assert connects(run_id, token, host=page, origin=None)
    # Another port or scheme of the same host is another origin (another app on the box).
    for origin in ["http://localhost:1234", "https://localhost:8000", "http://localhost",
                   "https://localhost", "http://app.example.com", "https://app.example.com:444",
                   "http://evil.example:8000", "null", "http://localhost:notaport"]:
        assert not connects(run_id, token, host=page, origin=origin), origin
    assert not connects(run_id, token, host=page, origin="http://localhost:8000", scheme="wss")
    # A Host outside ALLOWED_HOSTS is nobody's page.
    assert not connects(run_id, token, host="evil.example:8000",
                        origin="http://evil.example:8000")
