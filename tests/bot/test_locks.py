"""Conversation locks shared by several Rasa processes (bot/locks.py), on the real Redis and with it down."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import redis
from rasa.utils.endpoints import EndpointConfig

from bot.locks import SharedLockStore


def _store(port: int | None = None) -> SharedLockStore:
    url = urlsplit(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
    return SharedLockStore(
        EndpointConfig(
            url=url.hostname, port=port or url.port or 6379, db=int(url.path.strip("/") or 15), key_prefix="locktest"
        )
    )


@pytest.fixture
def stores() -> Iterator[tuple[SharedLockStore, SharedLockStore]]:
    """Two lock stores on one Redis: two Rasa processes."""
    first, second = _store(), _store()
    try:
        first.red.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required in CI and not reachable: {exc}")
        pytest.skip("Redis not reachable")
    yield first, second
    for key in first.red.scan_iter(first.key_prefix + "*"):
        first.red.delete(key)


def test_tickets_taken_at_once_by_two_processes_are_all_different(
    stores: tuple[SharedLockStore, SharedLockStore],
) -> None:
    conversation = f"o{uuid.uuid4().hex}"
    tickets: list[int] = []
    start = threading.Barrier(8)

    def take(store: SharedLockStore) -> None:
        start.wait()
        for _ in range(25):
            tickets.append(store.issue_ticket(conversation))

    threads = [threading.Thread(target=take, args=(stores[n % 2],)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(tickets) == list(range(200))  # Rasa's own store hands out duplicates here


async def test_turns_of_one_conversation_run_one_at_a_time_in_ticket_order(
    stores: tuple[SharedLockStore, SharedLockStore],
) -> None:
    conversation = f"o{uuid.uuid4().hex}"
    running, order = [], []

    async def turn(store: SharedLockStore, n: int) -> None:
        async with store.lock(conversation, wait_time_in_seconds=0.02):
            running.append(n)
            assert len(running) == 1, "two turns of one conversation at once"
            await asyncio.sleep(0.05)
            order.append(n)
            running.remove(n)

    tasks = []
    for n in range(6):
        tasks.append(asyncio.ensure_future(turn(stores[n % 2], n)))
        await asyncio.sleep(0.005)
    await asyncio.gather(*tasks)
    assert order == list(range(6))
    assert stores[0].get_lock(conversation) is None  # nobody waits: the lock is gone


async def test_with_redis_down_a_process_still_serves_its_conversations_in_order() -> None:
    down = _store(port=9)  # nothing listens there
    conversation = "oREDISDOWN"
    order = []

    async def turn(n: int) -> None:
        async with down.lock(conversation, wait_time_in_seconds=0.02):
            await asyncio.sleep(0.02)
            order.append(n)

    await asyncio.gather(*(turn(n) for n in range(3)))
    assert order == [0, 1, 2]
    assert down.local.get_lock(conversation) is None
