"""Rasa's calls to the action server, retried while it restarts; a turn that still cannot run is
abandoned whole, never half-saved.

Rasa 3.6 calls the action server once. When the call fails (the action server was killed, or is
restarting), Rasa logs "the actions events are lost", carries on as if the action had returned
nothing and saves the conversation: a resident who confirmed an order gets an empty answer and no
order. Here the Rasa server's action endpoint is replaced, when the channel starts, by one that:

- retries a call that could not reach the action server (connection refused or cut, or a balancer's
  502/503/504), with short backoff for up to about ``RETRY_SECONDS``: the launcher (or the balancer's
  other action server) is back within that time, and each action is safe to run again (filing carries
  an idempotency key derived from the message);
- when the action server stays away, raises ``TurnAbandoned``. It derives from ``BaseException`` on
  purpose: Rasa's processor catches every ``Exception`` an action raises and saves the turn as if the
  action had run. This one unwinds the whole turn before the conversation is saved, so the channel
  can keep the message and run the same turn again later (``channels/held.py``), exactly once.
- after an abandoned turn, for ``OPEN_SECONDS``, a call that cannot connect is abandoned at once,
  so the residents writing during an outage hear at once that their message is kept.

A call that reached the action server and failed there (an error in an action, a timeout) is not
retried: that is Rasa's behaviour, unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

log = logging.getLogger(__name__)

# Waits between attempts: about 20 s in all, under Rasa's 60-second conversation lock.
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 3.0, 3.0, 3.0, 3.0, 4.0)
# Answers of a balancer with no action server behind it.
RETRIED_STATUSES = frozenset({502, 503, 504})
OPEN_SECONDS = 10.0


class TurnAbandoned(BaseException):  # noqa: N818 - not an error of the turn: the turn is put off whole
    """The action server could not be reached: the turn is unwound before Rasa saves it."""


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
                # Rasa's request() takes "headers" and "params" out of the keyword arguments it is given
                answer = await super().request(method, subpath, content_type, compress, **dict(kwargs))
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
    """Gives the Rasa agent (and its processor, which makes the actions) the retrying endpoint; a second
    call changes nothing."""
    endpoint = getattr(agent, "action_endpoint", None)
    if endpoint is None:
        return
    if not isinstance(endpoint, RetryingActionEndpoint):
        endpoint = RetryingActionEndpoint.around(endpoint, **options)
        agent.action_endpoint = endpoint
    processor = getattr(agent, "processor", None)
    if processor is not None and processor.action_endpoint is not endpoint:
        processor.action_endpoint = endpoint
