"""Short-lived shared state of the WeChat channel: retried pushes, numbered options, the access token.

With ``REDIS_URL`` set every Rasa process shares one Redis; otherwise the state lives in this process
(the embedded default runs a single Rasa process). Both offer the same small async interface.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable
from typing import Any, Protocol, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class State(Protocol):
    async def get(self, key: str) -> Any: ...

    async def set(self, key: str, value: Any, ttl: float) -> None: ...

    async def add(self, key: str, value: Any, ttl: float) -> bool:
        """Set ``key`` only if it is absent; True when this call set it."""
        ...

    async def delete(self, key: str) -> None: ...

    async def incr(self, key: str, ttl: float) -> int:
        """Add one to the counter ``key`` and return it; a new counter lives ``ttl`` seconds."""
        ...

    async def renew_if(self, key: str, value: Any, ttl: float) -> bool:
        """Give ``key`` another ``ttl`` seconds if it still holds ``value``; False when it does not."""
        ...

    async def delete_if(self, key: str, value: Any) -> bool:
        """Delete ``key`` if it still holds ``value`` (in one step); False when it does not."""
        ...

    async def enqueue(self, key: str, member: str, ttl: float) -> None:
        """Put ``member`` in the ordered set ``key`` (once); the set lives ``ttl`` seconds after its last change."""
        ...

    async def queue(self, key: str) -> list[str]:
        """The members of the ordered set ``key``, in ascending string order."""
        ...

    async def dequeue(self, key: str, member: str) -> None: ...

    async def close(self) -> None: ...


class MemoryState:
    """State in this process, with expiry."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._items: dict[str, tuple[float, Any]] = {}
        self._clock = clock
        self._swept_at = 0.0

    def _live(self, key: str) -> tuple[float, Any] | None:
        item = self._items.get(key)
        if item is not None and item[0] <= self._clock():
            del self._items[key]
            return None
        return item

    async def get(self, key: str) -> Any:
        item = self._live(key)
        return None if item is None else item[1]

    async def set(self, key: str, value: Any, ttl: float) -> None:
        now = self._clock()
        self._items[key] = (now + ttl, value)
        # drop what has expired now and then: at most once a second, not on every write
        if len(self._items) > 10_000 and now - self._swept_at >= 1.0:
            self._swept_at = now
            for stale in [k for k, (until, _) in self._items.items() if until <= now]:
                del self._items[stale]

    async def add(self, key: str, value: Any, ttl: float) -> bool:
        if self._live(key) is not None:
            return False
        await self.set(key, value, ttl)
        return True

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)

    async def incr(self, key: str, ttl: float) -> int:
        item = self._live(key)
        if item is None:
            await self.set(key, 1, ttl)
            return 1
        self._items[key] = (item[0], int(item[1]) + 1)
        return int(item[1]) + 1

    async def renew_if(self, key: str, value: Any, ttl: float) -> bool:
        item = self._live(key)
        if item is None or item[1] != value:
            return False
        self._items[key] = (self._clock() + ttl, value)
        return True

    async def delete_if(self, key: str, value: Any) -> bool:
        item = self._live(key)
        if item is None or item[1] != value:
            return False
        del self._items[key]
        return True

    async def enqueue(self, key: str, member: str, ttl: float) -> None:
        item = self._live(key)
        members = set(item[1]) if item is not None else set()
        await self.set(key, members | {member}, ttl)

    async def queue(self, key: str) -> list[str]:
        item = self._live(key)
        return sorted(item[1]) if item is not None else []

    async def dequeue(self, key: str, member: str) -> None:
        item = self._live(key)
        if item is None:
            return
        rest = set(item[1]) - {member}
        if rest:
            self._items[key] = (item[0], rest)
        else:
            del self._items[key]

    async def close(self) -> None:
        self._items.clear()


# Compare and renew / delete in one step, so a holder whose key lapsed never touches the next holder's.
_RENEW_IF = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""
_DELETE_IF = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class RedisState:
    """State in Redis, shared by every Rasa process; values are stored as JSON."""

    def __init__(self, url: str, prefix: str = "wechat:") -> None:
        from redis import asyncio as redis_asyncio

        self._redis = redis_asyncio.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._prefix = prefix

    async def get(self, key: str) -> Any:
        raw = await self._redis.get(self._prefix + key)
        return None if raw is None else json.loads(raw)

    async def set(self, key: str, value: Any, ttl: float) -> None:
        await self._redis.set(self._prefix + key, json.dumps(value, ensure_ascii=False), px=max(1, int(ttl * 1000)))

    async def add(self, key: str, value: Any, ttl: float) -> bool:
        done = await self._redis.set(
            self._prefix + key, json.dumps(value, ensure_ascii=False), px=max(1, int(ttl * 1000)), nx=True
        )
        return bool(done)

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def incr(self, key: str, ttl: float) -> int:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(self._prefix + key)
            pipe.pexpire(self._prefix + key, max(1, int(ttl * 1000)), nx=True)  # the first count sets the life
            count, _ = await pipe.execute()
        return int(count)

    async def renew_if(self, key: str, value: Any, ttl: float) -> bool:
        renewed = await self._redis.eval(
            _RENEW_IF, 1, self._prefix + key, json.dumps(value, ensure_ascii=False), max(1, int(ttl * 1000))
        )
        return bool(renewed)

    async def delete_if(self, key: str, value: Any) -> bool:
        deleted = await self._redis.eval(_DELETE_IF, 1, self._prefix + key, json.dumps(value, ensure_ascii=False))
        return bool(deleted)

    async def enqueue(self, key: str, member: str, ttl: float) -> None:
        # every member scores 0, so Redis orders them by their bytes: the order the members spell
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self._prefix + key, {member: 0})
            pipe.pexpire(self._prefix + key, max(1, int(ttl * 1000)))
            await pipe.execute()

    async def queue(self, key: str) -> list[str]:
        members = await self._redis.zrange(self._prefix + key, 0, -1)
        return [m.decode() if isinstance(m, bytes) else str(m) for m in members]

    async def dequeue(self, key: str, member: str) -> None:
        await self._redis.zrem(self._prefix + key, member)

    async def close(self) -> None:
        await self._redis.close()


class ResilientState:
    """The webhook's view of the state: a Redis that is down must not stop residents being answered.

    Reads find nothing, claims succeed and counters stay at 0, so a push is answered (at worst twice
    for a retry, and without a rate limit) rather than refused; each failure is logged.
    """

    def __init__(self, inner: State) -> None:
        self.inner = inner

    async def _or(self, call: Awaitable[T], down: T, doing: str, key: str) -> T:
        """What ``call`` answers, or ``down`` when the state cannot be reached (logged)."""
        try:
            return await call
        except Exception:
            log.warning("shared state unavailable: %s %s", doing, key, exc_info=True)
            return down

    async def get(self, key: str) -> Any:
        return await self._or(self.inner.get(key), None, "reading", key)

    async def set(self, key: str, value: Any, ttl: float) -> None:
        await self._or(self.inner.set(key, value, ttl), None, "writing", key)

    async def add(self, key: str, value: Any, ttl: float) -> bool:
        return await self._or(self.inner.add(key, value, ttl), True, "claiming", key)

    async def delete(self, key: str) -> None:
        await self._or(self.inner.delete(key), None, "deleting", key)

    async def incr(self, key: str, ttl: float) -> int:
        """0 when the state is down: a limit that cannot count lets the message through."""
        return await self._or(self.inner.incr(key, ttl), 0, "counting", key)

    async def renew_if(self, key: str, value: Any, ttl: float) -> bool:
        """True when the state is down: the holder goes on, as claims succeed then."""
        return await self._or(self.inner.renew_if(key, value, ttl), True, "renewing", key)

    async def delete_if(self, key: str, value: Any) -> bool:
        return await self._or(self.inner.delete_if(key, value), False, "releasing", key)

    async def enqueue(self, key: str, member: str, ttl: float) -> None:
        await self._or(self.inner.enqueue(key, member, ttl), None, "queueing in", key)

    async def queue(self, key: str) -> list[str]:
        """Empty when the state is down: nobody is known to be ahead, and the message goes on."""
        return await self._or(self.inner.queue(key), [], "reading the queue", key)

    async def dequeue(self, key: str, member: str) -> None:
        await self._or(self.inner.dequeue(key, member), None, "leaving the queue", key)

    async def close(self) -> None:
        await self.inner.close()


def make_state(redis_url: str | None) -> State:
    return RedisState(redis_url) if redis_url else MemoryState()


async def wait_for_value(
    state: State, key: str, until: float, ready: Any = lambda value: value is not None, poll: float = 0.05
) -> Any:
    """Polls ``key`` until ``ready(value)`` or the monotonic deadline ``until`` passes; returns the value."""
    while True:
        value = await state.get(key)
        if ready(value) or time.monotonic() >= until:
            return value
        await asyncio.sleep(min(poll, max(0.0, until - time.monotonic())))
