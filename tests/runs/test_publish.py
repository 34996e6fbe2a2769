"""Publishing run events to a real Redis channel layer (DB 7) through a TCP proxy: after the
connection to Redis drops, the next event still arrives (each stale pooled connection fails
once as it is next used; that event was lost)."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer

from datagran.runs import publish
from tests.proxy import TcpProxy

pytestmark = pytest.mark.services
REDIS_DB = 7  # its own: the live tests run beside it
REDIS = f"redis://127.0.0.1:6379/{REDIS_DB}"


def layer_settings(url: str) -> dict[str, Any]:
    return {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                        "CONFIG": {"hosts": [{"address": url, "socket_timeout": 30}]}}}


async def published(listener: RedisChannelLayer, channel: str, seq: int) -> dict | None:
    """Publish one event from this process's publisher; what the listener got, if anything."""
    await asyncio.wrap_future(publish.publish([("run_test", {"seq": seq})]))
    try:
        return await asyncio.wait_for(listener.receive(channel), 3)
    except TimeoutError:
        return None


def test_an_event_published_after_the_connection_dropped_still_arrives(settings) -> None:
    with TcpProxy(6379) as proxy:
        settings.CHANNEL_LAYERS = layer_settings(f"redis://127.0.0.1:{proxy.port}/{REDIS_DB}")
        assert isinstance(get_channel_layer(), RedisChannelLayer)

        async def scenario() -> list[dict | None]:
            listener = RedisChannelLayer(hosts=[REDIS])
            channel = await listener.new_channel()
            await listener.group_add("run_test", channel)
            first = await published(listener, channel, 1)
            proxy.drop()  # Redis restarted, or an idle connection was cut
            second = await published(listener, channel, 2)
            await listener.flush()
            return [first, second]

        # In a thread of its own: earlier tests (Playwright's sync API) may leave an event
        # loop running in this one, where asyncio.run() refuses to start.
        with ThreadPoolExecutor(1) as pool:
            first, second = pool.submit(asyncio.run, scenario()).result()
    assert first == {"type": "run.event", "event": {"seq": 1}}
    assert second == {"type": "run.event", "event": {"seq": 2}}
