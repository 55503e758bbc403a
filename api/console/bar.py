"""The top bar of every console page: chats waiting, deadlines breached and reminded, and when a resident
last wrote in a chat this member of staff holds. Each page's one live stream carries its ``bar`` event
(the chat page's stream, or ``/console/alerts/stream`` elsewhere): the page then fetches ``/console/alerts``,
and the browser rings and notifies (console.js)."""

from __future__ import annotations

import json
import time

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from api.models import Deadline, Handoff
from api.services.outbound import BotClient, DeliveryFailed

# The most chats of one member of staff whose residents the top bar watches.
HELD_CHATS = 20


def counts(session: Session, staff_name: str) -> tuple[dict[str, int], list[str]]:
    """The counts (chats waiting, of them given to this member of staff, deadlines breached, deadlines
    reminded and not yet breached), and the residents of the chats this member of staff holds or was given."""
    open_deadlines = select(func.count()).select_from(Deadline).where(Deadline.met_at.is_(None))
    reminded = open_deadlines.where(Deadline.reminded_at.is_not(None), Deadline.breached_at.is_(None))
    # the waiting chats counted once, in one pass (every page's stream looks each second)
    waiting, given, unassigned = session.execute(
        select(
            func.count(),
            func.count().filter(Handoff.assigned_to == staff_name),
            func.count().filter(Handoff.assigned_to.is_(None)),
        ).where(Handoff.status == "waiting")
    ).one()
    found = {
        "waiting": waiting,
        "given": given,
        "unassigned": unassigned,
        "breached": session.scalar(open_deadlines.where(Deadline.breached_at.is_not(None))) or 0,
        "reminded": session.scalar(reminded) or 0,
    }
    held = or_(Handoff.taken_by == staff_name, Handoff.assigned_to == staff_name)
    mine = select(Handoff.resident_openid).where(Handoff.status.in_(("waiting", "active")), held)
    return found, list(session.scalars(mine.order_by(Handoff.id.desc()).limit(HELD_CHATS)))


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
