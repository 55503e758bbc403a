"""A resident's messages reach the bot one at a time, in the order the platform gives them.

The platform pushes each message as an HTTP request of its own. Requests of one resident sent 50 ms
apart can overtake each other anywhere before Rasa takes the conversation's lock: at the shared
state, the outbox's window, the rate limit, a second Rasa process. So every push takes a place in its
resident's queue as soon as it has been read, ordered by the platform's own order (``CreateTime``,
then ``MsgId``), and its turn starts only when every earlier message of the resident has finished.

- One turn per resident runs at a time (the ``running`` key, held under a token of its holder's own,
  renewed and released only by that holder). A message that arrives late but sorts earlier waits for
  the turn in progress, then goes first among those still waiting.
- A place is kept alive by the process that holds it (renewed every second): a process that dies
  leaves a place that lapses within ``PLACE_SECONDS``, and the next message goes on.
- The queue lives in the channel's shared state: Redis when several Rasa processes run, this
  process's memory otherwise. With Redis down, messages go on unordered rather than wait (and Rasa's
  own lock still takes them one at a time).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from channels.state import State

log = logging.getLogger(__name__)

# A place, or the running turn, of a process that stopped renewing it lapses after this many seconds.
PLACE_SECONDS = 3.0
RENEW_SECONDS = 1.0
# How long an idle resident's queue is kept (every change renews it).
QUEUE_SECONDS = 600.0
POLL_SECONDS = 0.05
_DIGITS = 20  # a MsgId is a 64-bit number: at most 20 digits


def place(create_time: Any, msg_id: Any, key: str) -> str:
    """A message's place in its resident's queue, as a string that sorts in the platform's order:
    the second it was sent, then its MsgId (events have none and go first within their second), then
    the push's own key, which makes the place unique."""
    seconds = str(create_time) if str(create_time).isdigit() else "0"
    number = str(msg_id) if str(msg_id).isdigit() else "0"
    return f"{seconds[-12:]:0>12}.{number[-_DIGITS:]:0>{_DIGITS}}|{key}"


class ResidentQueue:
    """Per-resident turns in the platform's order, over the channel's shared state."""

    def __init__(self, state: State, poll_seconds: float = POLL_SECONDS) -> None:
        self.state = state
        self.poll_seconds = poll_seconds

    @staticmethod
    def _queue_key(openid: str) -> str:
        return f"order:{openid}"

    @staticmethod
    def _alive_key(member: str) -> str:
        return f"order-alive:{member.partition('|')[2]}"

    @staticmethod
    def _running_key(openid: str) -> str:
        return f"order-running:{openid}"

    async def join(self, openid: str, member: str) -> None:
        """Take the message's place as soon as the push is known to be new (a place taken again, by a push
        taken over from a stopped process, is the same place)."""
        await self.state.enqueue(self._queue_key(openid), member, ttl=QUEUE_SECONDS)
        await self.state.set(self._alive_key(member), 1, ttl=PLACE_SECONDS)

    async def leave(self, openid: str, member: str) -> None:
        """The message is done (or needs no turn): the next one may go."""
        await self.state.dequeue(self._queue_key(openid), member)
        await self.state.delete(self._alive_key(member))

    @asynccontextmanager
    async def turn(self, openid: str, member: str) -> AsyncIterator[None]:
        """Waits until every earlier message of the resident has finished, then holds the resident's
        turn until the block ends. The turn is held under a token of this holder's own, so that two
        holders of one place (a push taken over, two retry loops) never end each other's turn. A place
        not taken yet (or lapsed) is taken on the way."""
        token = f"{member}#{uuid.uuid4().hex}"
        running = {"held": False}
        keeping = asyncio.ensure_future(self._keep_alive(openid, member, token, running))
        try:
            await self._wait_for_turn(openid, member, token)
            running["held"] = True
            yield
        finally:
            keeping.cancel()
            await self.leave(openid, member)
            if running["held"]:
                await self.state.delete_if(self._running_key(openid), token)

    async def _keep_alive(self, openid: str, member: str, token: str, running: dict[str, bool]) -> None:
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            await self.state.set(self._alive_key(member), 1, ttl=PLACE_SECONDS)
            if running["held"] and not await self.state.renew_if(self._running_key(openid), token, PLACE_SECONDS):
                log.warning("the turn of %s lapsed while it ran: this process stalled over %s s", openid, PLACE_SECONDS)

    async def _wait_for_turn(self, openid: str, member: str, token: str) -> None:
        queue_key, joins = self._queue_key(openid), 0
        while True:
            members = await self.state.queue(queue_key)
            if member not in members:
                if joins == 2:  # the state does not keep the queue (Redis down): go on unordered
                    log.warning("message order of %s not kept: the shared state lost its queue", openid)
                    return
                # not taken yet (the retry loop's turn), or lapsed while this process was stalled and
                # cleared by another process
                await self.join(openid, member)
                joins += 1
                continue
            free = not await self._anyone_ahead(queue_key, members, member)
            if free and await self.state.add(self._running_key(openid), token, ttl=PLACE_SECONDS):
                return
            await asyncio.sleep(self.poll_seconds)

    async def _anyone_ahead(self, queue_key: str, members: list[str], member: str) -> bool:
        """Whether a live place sorts before ``member``; lapsed places ahead are cleared on the way."""
        for other in members:
            if other >= member:
                return False
            if await self.state.get(self._alive_key(other)) is not None:
                return True
            # its process stopped: the platform's retry of that push takes a place again
            log.warning("the place of %s lapsed: the process that held it stopped", other.partition("|")[2])
            await self.state.dequeue(queue_key, other)
        return False
