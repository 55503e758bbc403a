"""The top bar of every console page: chats waiting, deadlines breached and reminded, and when a resident
last wrote in a chat this member of staff holds. Each page's one live stream carries its ``bar`` event
(the chat page's stream, or ``/console/alerts/stream`` elsewhere): the page then fetches ``/console/alerts``,
and the browser rings and notifies (console.js)."""

from __future__ import annotations

import json
import time

from api.services.outbound import BotClient, DeliveryFailed

# A look asks the channel at most this often for the same chats (every page of a desk looks each second).
ASK_EVERY_SECONDS = 3.0
# by the channel's client (one per backend app) and the chats: (when asked, the answer)
_asked: dict[tuple[int, tuple[str, ...]], tuple[float, float | None]] = {}


def last_written(bot: BotClient, openids: list[str]) -> float | None:
    """When a resident last wrote in one of these chats (the channel's view; 0 for none); None when the
    channel cannot say. The answer for the same chats is reused for ``ASK_EVERY_SECONDS``, so a desk's
    pages, each looking every second, ask the channel a few times a minute, not once a second each."""
    if not openids:
        return 0.0
    key, now = (id(bot), tuple(sorted(openids))), time.monotonic()
    seen = _asked.get(key)
    if seen is not None and now - seen[0] < ASK_EVERY_SECONDS:
        return seen[1]
    try:
        heard: float | None = max(bot.last_written(openids).values(), default=0.0)
    except DeliveryFailed:
        heard = None
    if len(_asked) > 1000:
        _asked.clear()
    _asked[key] = (now, heard)
    return heard


def fingerprint(bot: BotClient, found: dict[str, int], mine: list[str]) -> str:
    """What a stream compares from one look to the next: the counts, and when a resident last wrote in
    one of ``mine`` (asked after the look's session is closed)."""
    return json.dumps([found, last_written(bot, mine)])
