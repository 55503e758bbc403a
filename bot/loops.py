"""The conversation side's background passes (the outbox's retries, kept turns, the filing spool) and
the loop that runs them (the waits themselves are ``policies.backoff``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def every(seconds: float, one_pass: Callable[[], Awaitable[object]], what: str) -> None:
    """Runs ``one_pass`` every ``seconds``, for ever. A pass that fails (a database restarting, a peer
    down) is logged and the next one comes as usual: the loop outlives any one failure."""
    while True:
        try:
            await one_pass()
        except Exception:
            log.exception("%s: the pass failed", what)
        await asyncio.sleep(seconds)
