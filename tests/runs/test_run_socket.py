"""The run websocket, in process: the channel layer may drop messages (LIMITS.md: 124 of 500
lost, silently), so the consumer must fill a gap in seq from the database."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connection
from rest_framework.authtoken.models import Token

from datagran.runs import publish
from datagran.runs.consumers import CLOSE_REVOKED
from datagran.runs.models import Run, RunEvent
from datagran.runs.publish import run_group, workspace_group
from datagran.workspaces.models import Role
from datagran.workspaces.services import membership_add, workspace_create
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


def socket_for(path: str, token: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(application(), path,
                                 headers=[(b"authorization", f"Token {token}".encode())])


@pytest.fixture
def shared_run(api, user, other_user) -> tuple[Any, str, str]:
    """A run in a workspace owned by alice where mallory is an editor: (workspace, run id,
    mallory's token)."""
    workspace = workspace_create(name="Team", owner=user)
    membership_add(workspace=workspace, user=other_user, role=Role.EDITOR)
    pipeline = api.post("/api/pipelines/", {"name": "P", "graph": chain_graph(),
                                            "workspace": str(workspace.pk)},
                        format="json").json()
    run_id = api.post(f"/api/pipelines/{pipeline['id']}/runs/").json()["id"]
    return workspace, run_id, Token.objects.get_or_create(user=other_user)[0].key


def test_a_removed_member_s_open_sockets_close_and_get_nothing_more(
        api, other_user, shared_run) -> None:
    workspace, run_id, token = shared_run

    async def scenario() -> None:
        publish.use_loop(asyncio.get_running_loop())  # as the embedded server does
        run_socket = socket_for(f"/ws/runs/{run_id}/", token)
        workspace_socket = socket_for(f"/ws/workspaces/{workspace.pk}/", token)
        assert (await run_socket.connect())[0] and (await workspace_socket.connect())[0]
        assert (await run_socket.receive_json_from())["type"] == "snapshot"
        removed = await database_sync_to_async(api.delete)(
            f"/api/workspaces/{workspace.pk}/members/{other_user.pk}/")
        assert removed.status_code == 204
        for socket in (run_socket, workspace_socket):
            assert await socket.receive_output(timeout=5) == {"type": "websocket.close",
                                                               "code": CLOSE_REVOKED}
        # The run's next event reaches neither socket.
        event = (await database_sync_to_async(record_events)(run_id, 1))[0]
        layer = get_channel_layer()
        await layer.group_send(run_group(run_id), {"type": "run.event", "event": event})
        await layer.group_send(workspace_group(workspace.pk),
                               {"type": "run.event", "event": event})
        assert await run_socket.receive_nothing(timeout=0.5)
        assert await workspace_socket.receive_nothing(timeout=0.1)

    async_to_sync(scenario)()


def test_sockets_re_check_membership_on_their_own(api, other_user, shared_run,
                                                   settings) -> None:
    # Removed without a signal (a raw delete, or a message the layer lost): the periodic
    # re-check closes the socket.
    settings.DATAGRAN = {**settings.DATAGRAN, "SOCKET_POLL_SECONDS": 0.2}
    workspace, run_id, token = shared_run

    async def scenario() -> None:
        socket = socket_for(f"/ws/workspaces/{workspace.pk}/", token)
        assert (await socket.connect())[0]
        await database_sync_to_async(lambda: connection.cursor().execute(
            "DELETE FROM workspaces_membership WHERE user_id = %s", [other_user.pk]))()
        assert await socket.receive_output(timeout=5) == {"type": "websocket.close",
                                                          "code": CLOSE_REVOKED}

    async_to_sync(scenario)()


def test_a_socket_that_hears_nothing_reads_the_missed_events_from_the_database(
        api, user, settings) -> None:
    # The channel layer lost the run's last events, the final one too: no later event will
    # reveal the gap, so the socket reads the database when it has heard nothing for a while.
    settings.DATAGRAN = {**settings.DATAGRAN, "SOCKET_POLL_SECONDS": 0.2}
    pipeline = api.post("/api/pipelines/", {"name": "P", "graph": chain_graph()},
                        format="json").json()
    run_id = api.post(f"/api/pipelines/{pipeline['id']}/runs/").json()["id"]
    token = Token.objects.get(user=user).key

    async def scenario() -> list[dict]:
        socket = socket_for(f"/ws/runs/{run_id}/", token)
        assert (await socket.connect())[0]
        snapshot = await socket.receive_json_from()
        await database_sync_to_async(record_events)(run_id, 2)  # never published
        received = [await socket.receive_json_from(timeout=5) for _ in range(2)]
        await socket.disconnect()
        return [snapshot, *received]

    snapshot, *events = async_to_sync(scenario)()
    assert [e["seq"] for e in events] == [snapshot["seq"] + 1, snapshot["seq"] + 2]
