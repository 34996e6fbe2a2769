"""Django's Redis cache with its connection pools shared by the whole process.

Django makes a cache backend per request context under ASGI, and each new backend made a new
connection pool: every request that touched the cache (a rate-limited prediction, a login)
opened a Redis connection, and redis-py read its own package metadata from disk to introduce
itself. Here the pools live as long as the process, one per server and set of options."""
from __future__ import annotations

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

_pools: dict[str, Any] = {}
_lock = threading.Lock()


class SharedPoolRedisCacheClient(RedisCacheClient):
    def _get_connection_pool(self, write: bool) -> Any:
        server = self._servers[self._get_connection_pool_index(write)]
        key = f"{server} {self._pool_class!r} {sorted(self._pool_options.items(), key=str)!r}"
        pool = _pools.get(key)
        if pool is None:
            with _lock:
                pool = _pools.get(key)
                if pool is None:
                    pool = _pools[key] = self._pool_class.from_url(server, **self._pool_options)
        return pool


class SharedPoolRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedPoolRedisCacheClient
