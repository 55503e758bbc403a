"""Live updates of the console (server-sent events) that cost nothing between two looks.

A stream is an async generator: between its looks at the chat it only sleeps on the event loop, so it
holds no database session, no pooled connection and no worker thread. Each look runs in a worker
thread of the streams' own limiter (at most ``CONSOLE_STREAM_WORKERS`` at once, so streams never take
the threads or connections that ordinary requests need), opens its own short session, and checks the
member of staff's login again: a stream ends at logout or when the session expires. Each member of
staff may hold ``CONSOLE_STREAMS_PER_STAFF`` streams in one process; the next one is refused (429), and
the ones already open go on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import TypeVar

import anyio
import anyio.to_thread
from fastapi import Request
from fastapi.responses import StreamingResponse

from api.console.security import LoginRequired
from api.errors import AppError, NotFound
from api.settings import Settings

T = TypeVar("T")

# What the page shows when its stream ends for good (console.js puts it in the banner).
LOGGED_OUT = "登录已失效，本页已停止实时更新。请重新登录。"
GONE = "这个会话已不存在，本页已停止实时更新。"


class TooManyStreams(AppError):
    """A member of staff already holds as many live streams as allowed."""

    status_code = 429
    code = "too_many_streams"


def refusal(limit: int) -> str:
    return f"您已打开 {limit} 个实时更新的会话页面（每人最多 {limit} 个）。请关闭不用的会话页面后刷新本页。"


def sse(event: str, data: str = "{}") -> str:
    """One server-sent event."""
    return f"event: {event}\ndata: {data}\n\n"


class LiveStreams:
    """The console's open streams in this process, and the limiter their looks run under."""

    def __init__(self, per_staff: int, poll_seconds: float, lifetime_seconds: float, workers: int) -> None:
        self.per_staff = per_staff
        self.poll_seconds = poll_seconds
        self.lifetime_seconds = lifetime_seconds
        self.limiter = anyio.CapacityLimiter(workers)
        self.open: Counter[str] = Counter()

    @classmethod
    def from_settings(cls, settings: Settings) -> LiveStreams:
        return cls(
            settings.console_streams_per_staff,
            settings.console_stream_poll_seconds,
            settings.console_stream_lifetime_seconds,
            settings.console_stream_workers,
        )

    async def look(self, read: Callable[..., T], *args: object) -> T:
        """``read(*args)`` in a worker thread of the streams' limiter; the thread is returned after."""
        return await anyio.to_thread.run_sync(partial(read, *args), limiter=self.limiter)

    def respond(self, request: Request, staff: str, read: Callable[[], dict[str, str]]) -> StreamingResponse:
        """The stream of ``read``'s events for ``staff`` (refused with 429 beyond their cap)."""
        self.admit(staff)
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(self.events(request, staff, read), media_type="text/event-stream", headers=headers)

    def admit(self, staff: str) -> None:
        """Refuse a new stream of a member of staff who holds the most allowed."""
        if self.open[staff] >= self.per_staff:
            raise TooManyStreams(refusal(self.per_staff))

    async def events(self, request: Request, staff: str, read: Callable[[], dict[str, str]]) -> AsyncIterator[str]:
        """An event named after each of ``read()``'s fingerprints that changed (``changed``: the chat;
        ``bar``: the top bar's counts), a keep-alive when none did; ``ended`` with the reason when the
        login or the chat is gone. Counted against ``staff`` while open."""
        if self.open[staff] >= self.per_staff:  # another stream was admitted since this one was
            yield sse("ended", refusal(self.per_staff))
            return
        self.open[staff] += 1
        try:
            last, waited = None, 0.0
            while waited < self.lifetime_seconds:
                if last is not None:
                    await anyio.sleep(self.poll_seconds)
                    waited += self.poll_seconds
                    if await request.is_disconnected():
                        return
                try:
                    current = await self.look(read)
                except LoginRequired:
                    yield sse("ended", LOGGED_OUT)
                    return
                except NotFound:
                    yield sse("ended", GONE)
                    return
                if last is None:
                    yield "retry: 2000\n\n"  # the first look: what later ones are compared with
                else:
                    changed = [name for name, value in current.items() if last.get(name) != value]
                    yield "".join(sse(name) for name in changed) if changed else ": keep-alive\n\n"
                last = current
        finally:
            self.open[staff] -= 1
            if self.open[staff] <= 0:
                del self.open[staff]
