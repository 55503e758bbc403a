"""Fixtures of the channel tests: a fake platform API on a real port, the shared state and outbox
backends (memory / Redis, SQLite / PostgreSQL), and a signed-push helper."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from rasa.core.channels.channel import UserMessage

from bot.stores import upgrade
from channels.delivery import Outbox, PlatformClient
from channels.state import MemoryState, RedisState, State
from fake_wechat.platform import FakePlatform

FIXTURES = Path(__file__).parent / "fixtures"
TOKEN = "test-wechat-token"
APP_ID = "wx2c2769f8efd9abc2"
APP_SECRET = "test-app-secret"
NOW = 1_796_000_000  # the fixtures' CreateTime


_NONCES = itertools.count(8412093)


def platform_args(timestamp: int = NOW, nonce: str | None = None, token: str = TOKEN) -> dict[str, str]:
    """Query arguments as the platform sends them: sha1 of the sorted token, timestamp, nonce. Each push
    has a nonce of its own unless the test names one (a signed query is bound to its body)."""
    nonce = str(next(_NONCES)) if nonce is None else nonce
    signature = hashlib.sha1("".join(sorted([token, str(timestamp), nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": str(timestamp), "nonce": nonce, "openid": "oRESIDENT0001"}


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.xml").read_bytes()


class FakeBot:
    """Stands in for Rasa: records what it was given and answers with fixed messages."""

    def __init__(self, answers: list[Any], delay: float = 0.0):
        self.answers = answers
        self.delay = delay
        self.received: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        for answer in self.answers:
            if isinstance(answer, dict):
                await message.output_channel.send_response(message.sender_id, answer)
            else:
                await message.output_channel.send_text_message(message.sender_id, answer)


class Clock:
    """A settable wall clock shared by the webhook, the outbox and the fake platform."""

    def __init__(self, now: float = NOW + 3) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest_asyncio.fixture
async def platform(clock: Clock) -> AsyncIterator[tuple[FakePlatform, str]]:
    """The fake platform API served on a free port; yields it and its base URL."""
    fake = FakePlatform(APP_ID, APP_SECRET, clock=clock)

    async def token(request: web.Request) -> web.Response:
        q = request.query
        return web.json_response(fake.token(q.get("grant_type", ""), q.get("appid", ""), q.get("secret", "")))

    def posting(method: Any) -> Any:
        async def handler(request: web.Request) -> web.Response:
            return web.json_response(method(request.query.get("access_token", ""), await request.json()))

        return handler

    async def media(request: web.Request) -> web.Response:
        found = fake.get_media(request.query.get("access_token", ""), request.query.get("media_id", ""))
        if isinstance(found, bytes):
            return web.Response(body=found, content_type="image/png")
        return web.json_response(found, content_type="text/plain")  # the platform says text/plain

    app = web.Application()
    app.router.add_get("/cgi-bin/token", token)
    app.router.add_get("/cgi-bin/media/get", media)
    app.router.add_post("/cgi-bin/message/custom/send", posting(fake.custom_send))
    app.router.add_post("/cgi-bin/message/template/send", posting(fake.template_send))
    app.router.add_post("/cgi-bin/menu/create", posting(fake.create_menu))
    app.router.add_post("/cgi-bin/message/mass/sendall", posting(fake.mass_sendall))

    async def user_get(request: web.Request) -> web.Response:
        return web.json_response(fake.user_get(request.query.get("access_token", "")))

    app.router.add_get("/cgi-bin/user/get", user_get)
    runner = web.AppRunner(app)
    await runner.setup()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    yield fake, f"http://127.0.0.1:{port}"
    await runner.cleanup()


@contextlib.asynccontextmanager
async def served(handler: Callable[[web.Request], Awaitable[web.Response]]) -> AsyncIterator[str]:
    """A platform stand-in answering every path with ``handler``, on a free port: its base URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    finally:
        await runner.cleanup()


def migrated_channel_store(url: str) -> str:
    """The channel's store at ``url``, brought to its newest migration as `make setup` does."""
    upgrade("channel", url)
    return url


def _postgres_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _unreachable(what: str, exc: Exception) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI and not reachable: {exc}")
    pytest.skip(f"{what} not reachable")


@pytest.fixture(params=["sqlite", "postgresql"])
def outbox(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[Outbox]:
    if request.param == "sqlite":
        yield Outbox(migrated_channel_store(f"sqlite:///{tmp_path / 'wechat.sqlite3'}"), clock=clock)
        return
    import sqlalchemy as sa

    try:
        box = Outbox(migrated_channel_store(_postgres_url()), clock=clock)
    except sa.exc.OperationalError as exc:
        _unreachable("PostgreSQL", exc)
    with box.engine.begin() as db:
        db.execute(sa.text("DELETE FROM wechat_outbox"))
        db.execute(sa.text("DELETE FROM wechat_contacts"))
        db.execute(sa.text("DELETE FROM wechat_media"))
        db.execute(sa.text("DELETE FROM wechat_held_turns"))
        db.execute(sa.text("DELETE FROM wechat_answered"))
        db.execute(sa.text("DELETE FROM wechat_mass_sends"))
    yield box
    box.engine.dispose()


@pytest_asyncio.fixture(params=["memory", "redis"])
async def state(request: pytest.FixtureRequest) -> AsyncIterator[State]:
    if request.param == "memory":
        yield MemoryState()
        return
    shared = RedisState(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"), prefix=f"test-{os.getpid()}:")
    try:
        await shared.set("ping", 1, ttl=5)
    except Exception as exc:  # redis.ConnectionError and friends
        _unreachable("Redis", exc)
    yield shared
    await shared._redis.flushdb()
    await shared.close()


@pytest_asyncio.fixture
async def client(platform: tuple[FakePlatform, str]) -> AsyncIterator[PlatformClient]:
    api = PlatformClient(platform[1], timeout=3)
    yield api
    await api.close()
