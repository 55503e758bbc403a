"""The conversation side's background passes outlive a pass that fails."""

from __future__ import annotations

import asyncio

from bot.loops import every


async def test_a_failing_pass_is_logged_and_the_next_one_comes() -> None:
    passes: list[int] = []
    third = asyncio.Event()

    async def one_pass() -> None:
        passes.append(len(passes) + 1)
        if len(passes) == 3:
            third.set()
        if len(passes) < 3:
            raise ConnectionError("the database is restarting")

    loop = asyncio.ensure_future(every(0, one_pass, "a test's passes"))
    await asyncio.wait_for(third.wait(), timeout=10)
    loop.cancel()
    assert passes[:3] == [1, 2, 3]
