"""The bot's own figures per day, counted from the conversations in the tracker store: how many messages
residents wrote, how many the bot understood, asked about, did not understand, found out of scope, and
how many chats it handed to a person. The backend adds what it keeps (filings, the review queue, the
model in force) and shows them to staff (GET /api/v1/bot-figures).

Days are Beijing days. What each figure counts, from Rasa's events:
- messages: the residents' messages (user events), not a button's payload (a leading "/", as the
  clarification's options and "都不是，转人工" send), a photo, a subscription, a grid worker's binding code,
  a message the backend triggered, or a message said again as the reading the resident chose (it was
  counted when it was written);
- unsure: messages the NLU was not sure of (``nlu_fallback``);
- clarified: questions "您是想问哪一项？" the bot asked (its ``clarifying`` slot set);
- not_understood: answers "没有理解" (the fallback actions that did not ask a question);
- out_of_scope: messages read as out of scope;
- handed_over: conversations paused for a person;
- understood: messages neither unsure, out of scope, nor answered by Rasa's core fallback.

Counting reads the tracker store in one thread of its own (``COUNTING``), one count at a time, so that a
staff member's page never takes the threads the webhook's turns use.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore

from channels.erasure import StoreCannotErase, underlying
from heating_standard.localtime import LOCAL_TZ

NOT_TYPED = ("choose_reading", "subscribe", "share_image", "bind_grid_worker")
# Rasa stores each event as JSON written by json.dumps: a payload's text, and a message said again.
PAYLOAD = '%"text": "/%'
SAID_AGAIN = '%"said_again_of"%'
COUNTING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bot-figures")
# Days the figures are asked for: a date outside is refused (and Unix times stay in range).
FIRST_YEAR, LAST_YEAR = 2000, 2100
FALLBACK_ACTIONS = ("action_fallback", "action_default_fallback")
MAX_DAYS = 92
FIGURES = ("messages", "understood", "unsure", "clarified", "not_understood", "out_of_scope", "handed_over")


def day_bounds(first: date, last: date) -> list[tuple[date, float, float]]:
    """Each Beijing day from ``first`` to ``last`` with its start and end as Unix times."""
    days = []
    day = first
    while day <= last:
        start = datetime.combine(day, time.min, tzinfo=LOCAL_TZ).timestamp()
        end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=LOCAL_TZ).timestamp()
        days.append((day, start, end))
        day += timedelta(days=1)
    return days


def daily_figures(tracker_store: Any, first: date, last: date) -> list[dict[str, Any]]:
    """The figures of each day from ``first`` to ``last`` (at most MAX_DAYS), oldest first."""
    store = underlying(tracker_store)
    if not isinstance(store, SQLTrackerStore):
        raise StoreCannotErase(f"the {type(store).__name__} tracker store keeps no figures")
    bounds = day_bounds(first, last)[:MAX_DAYS]
    if not bounds:
        return []
    counted, asked = _queries(store.SQLEvent.__table__, bounds)
    with store.session_scope() as session:
        rows = session.execute(counted).all()
        clarified = session.execute(asked).all()
    figures = [dict.fromkeys(FIGURES, 0) for _ in bounds]
    fallbacks = [0] * len(bounds)
    core = [0] * len(bounds)  # Rasa's core fallback: a confident intent no rule answers here
    for day, kind, intent, action, n in rows:
        counts = figures[int(day)]
        if kind == "pause":
            counts["handed_over"] += n
        elif kind == "action":
            fallbacks[int(day)] += n
            if action == "action_default_fallback":
                core[int(day)] += n
        elif intent not in NOT_TYPED and not str(intent or "").startswith("EXTERNAL_"):
            counts["messages"] += n
            if intent == "nlu_fallback":
                counts["unsure"] += n
            elif intent == "out_of_scope":
                counts["out_of_scope"] += n
    for day, n in clarified:
        figures[int(day)]["clarified"] = n
    for i, counts in enumerate(figures):
        counts["not_understood"] = max(fallbacks[i] - counts["clarified"], 0)
        understood = counts["messages"] - counts["unsure"] - counts["out_of_scope"] - core[i]
        counts["understood"] = max(understood, 0)
    return [{"day": day.isoformat(), **counts} for (day, _, _), counts in zip(bounds, figures, strict=True)]


def _queries(events: sa.Table, bounds: list[tuple[date, float, float]]) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """Per day of ``bounds``: the residents' messages by intent, the hand-overs and the fallbacks; and how
    many times the bot asked which reading was meant."""
    days = sa.union_all(
        *(
            sa.select(sa.literal(i).label("day"), sa.literal(start).label("start"), sa.literal(end).label("stop"))
            for i, (_, start, end) in enumerate(bounds)
        )
    ).subquery("days")
    within = sa.and_(events.c.timestamp >= days.c.start, events.c.timestamp < days.c.stop)
    counted = (
        sa.select(days.c.day, events.c.type_name, events.c.intent_name, events.c.action_name, sa.func.count())
        .select_from(events.join(days, within))
        .where(
            sa.or_(
                sa.and_(events.c.type_name == "user", ~events.c.data.like(PAYLOAD), ~events.c.data.like(SAID_AGAIN)),
                events.c.type_name == "pause",
                sa.and_(events.c.type_name == "action", events.c.action_name.in_(FALLBACK_ACTIONS)),
            )
        )
        .group_by(days.c.day, events.c.type_name, events.c.intent_name, events.c.action_name)
    )
    # the slot the bot sets when it asks which reading was meant, with a value (Rasa writes the event's
    # JSON with json.dumps' default separators)
    asked = (
        sa.select(days.c.day, sa.func.count())
        .select_from(events.join(days, within))
        .where(
            events.c.type_name == "slot",
            events.c.data.like('%"name": "clarifying"%'),
            ~events.c.data.like('%"value": null%'),
        )
        .group_by(days.c.day)
    )
    return counted, asked
