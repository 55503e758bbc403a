"""Rasa's calls to the action server, retried while it restarts; a turn that still cannot run is
abandoned whole, never half-saved.

Rasa 3.6 calls the action server once. When the call fails (the action server was killed, or is
restarting), Rasa logs "the actions events are lost", carries on as if the action had returned
nothing and saves the conversation: a resident who confirmed an order gets an empty answer and no
order. Here the Rasa server's action endpoint is replaced, when the channel starts, by one that:

- retries a call that could not reach the action server, or whose connection was cut while it ran
  (refused, reset, a balancer's 502/503 with no action server behind it), with short backoff for about
  20 s: the launcher (or the balancer's other action server) is back within that time, and each action
  is safe to run again (filing carries an idempotency key of the filing, not of the attempt);
- when the action server stays away, raises ``TurnAbandoned``. It derives from ``BaseException`` on
  purpose: Rasa's processor catches every ``Exception`` an action raises and saves the turn as if the
  action had run. This one unwinds the whole turn before the conversation is saved, so the channel
  can keep the message and run the same turn again later (``channels/held.py``), exactly once.
- after an abandoned turn, for ``OPEN_SECONDS``, a call that cannot connect is abandoned at once,
  so the residents writing during an outage hear at once that their message is kept.

A turn started through Rasa's HTTP API (the backend's notices, the spool's retried filing) that is
abandoned answers 500 there, so the caller tries again later; it is not kept by the channel.

A call that reached the action server and failed there (an error in an action, a timeout, a
balancer's 504) is not retried: that is Rasa's behaviour, unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from bot.metrics import correlation_headers

log = logging.getLogger(__name__)

# Waits between attempts: about 20 s in all, under Rasa's 60-second conversation lock.
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 3.0, 3.0, 3.0, 3.0, 4.0)
# Answers of a balancer with no action server behind it (504, a timeout, may have run the action: not retried).
RETRIED_STATUSES = frozenset({502, 503})
OPEN_SECONDS = 10.0


class TurnAbandoned(BaseException):  # noqa: N818 - not an error of the turn: the turn is put off whole
    """The action server could not be reached: the turn is unwound before Rasa saves it."""


class ActionServerAway(RasaException):
    """What Rasa's HTTP API answers (500) for a triggered turn that was abandoned: try again later."""


class RetryingActionEndpoint(EndpointConfig):
    """The action server's endpoint, with retries while it is away (see the module's docstring)."""

    def __init__(
        self,
        *args: Any,
        delays: tuple[float, ...] = RETRY_DELAYS,
        clock: Callable[[], float] = time.monotonic,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.delays = delays
        self.clock = clock
        self.down_until = 0.0

    @classmethod
    def around(cls, endpoint: EndpointConfig, **options: Any) -> RetryingActionEndpoint:
        return cls(
            endpoint.url,
            endpoint.params,
            endpoint.headers,
            endpoint.basic_auth,
            endpoint.token,
            endpoint.token_name,
            endpoint.cafile,
            **options,
            **endpoint.kwargs,
        )

    async def request(
        self,
        method: str = "post",
        subpath: str | None = None,
        content_type: str | None = "application/json",
        compress: bool = False,
        **kwargs: Any,
    ) -> Any:
        failure: BaseException | None = None
        for attempt, delay in enumerate((0.0, *self.delays)):
            if attempt and self.clock() < self.down_until:
                break  # another turn just found the action server away: do not keep this one waiting
            await asyncio.sleep(delay)
            try:
                # Rasa's request() takes "headers" and "params" out of the keyword arguments it is given;
                # the action server logs under the message's correlation id
                sent = {**kwargs, "headers": {**(kwargs.get("headers") or {}), **correlation_headers()}}
                answer = await super().request(method, subpath, content_type, compress, **sent)
            except ClientResponseError as exc:
                if exc.status not in RETRIED_STATUSES:
                    raise
                failure = exc
            except aiohttp.ClientConnectionError as exc:
                failure = exc
            else:
                self.down_until = 0.0
                return answer
            log.warning("the action server did not answer (attempt %d): %s", attempt + 1, failure)
        self.down_until = self.clock() + OPEN_SECONDS
        raise TurnAbandoned(f"the action server at {self.url} cannot be reached: {failure}")


def retry_actions(agent: Any, **options: Any) -> None:
    """Gives the Rasa agent (and its processor, which makes the actions) the retrying endpoint, and its
    triggered turns an answer for an abandoned one; a second call changes nothing."""
    endpoint = getattr(agent, "action_endpoint", None)
    if endpoint is None:
        return
    if not isinstance(endpoint, RetryingActionEndpoint):
        endpoint = RetryingActionEndpoint.around(endpoint, **options)
        agent.action_endpoint = endpoint
    processor = getattr(agent, "processor", None)
    if processor is not None and processor.action_endpoint is not endpoint:
        processor.action_endpoint = endpoint
    if not getattr(agent.trigger_intent, "answers_abandoned_turns", False):
        agent.trigger_intent = _answering_abandoned_turns(agent.trigger_intent)


def _answering_abandoned_turns(trigger_intent: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """Rasa's ``trigger_intent`` route catches only ``Exception``: an abandoned turn would end the HTTP
    connection without an answer (and a balancer would replay it on the other Rasa process). It gets a
    500 instead; nothing of the turn was saved, and the caller tries again."""

    async def trigger(*args: Any, **kwargs: Any) -> None:
        try:
            await trigger_intent(*args, **kwargs)
        except TurnAbandoned as exc:
            raise ActionServerAway(str(exc)) from None

    trigger.answers_abandoned_turns = True  # type: ignore[attr-defined]
    return trigger
