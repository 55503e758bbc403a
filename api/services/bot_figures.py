"""The bot's own figures per Beijing day, as staff see whether it learns: what the conversations say
(counted by the WeChat channel from the tracker store: channels/figures.py) beside what the backend keeps
(orders the bot filed without a person, the review queue).

- ``filed_alone``: orders the bot filed (accepted by the machine token) for a resident who had no chat
  handed to a person in the 24 hours before;
- ``model``: the model in force at the end of the day (or now, for today): the repository's build or a
  candidate (bot_models.in_force_at);
- ``kept_for_review``: messages the bot reported as unsure that day; ``review_waiting``: groups not yet
  approved at the end of the day (as the queue stands now: a group labelled again is counted as waiting
  from its creation).

A past day's conversation figures do not change: they are asked of the channel once and kept
(``bot_days``), so a page over a season reads the conversations of today only.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from api.db import insert_of
from api.models import BotDay, GridWorker, Handoff, ReviewItem, ReviewOccurrence, WorkOrder, WorkOrderEvent
from api.services import bot_models
from api.services.outbound import BotClient, DeliveryFailed
from heating_standard.localtime import LOCAL_TZ

MAX_DAYS = 92
# The channel's figures, as it names them (channels/figures.py).
CONVERSATION_FIGURES = (
    "messages",
    "understood",
    "unsure",
    "clarified",
    "not_understood",
    "out_of_scope",
    "handed_over",
)
HANDOFF_BEFORE = timedelta(hours=24)
# A day is kept once it has been over for this long: a turn that began before midnight is saved by then.
SETTLED = timedelta(minutes=10)


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=LOCAL_TZ)
    return start, start + timedelta(days=1)


def _filed_alone(session: Session, start: datetime, end: datetime) -> int:
    filed = session.execute(
        select(WorkOrder.resident_openid, GridWorker.openid, WorkOrderEvent.at)
        .join(WorkOrder, WorkOrder.id == WorkOrderEvent.order_id)
        .outerjoin(GridWorker, GridWorker.id == WorkOrder.forwarded_by_grid_worker_id)
        .where(
            WorkOrderEvent.action == "accept",
            WorkOrderEvent.actor == "machine",
            WorkOrderEvent.at >= start,
            WorkOrderEvent.at < end,
        )
    ).tuples()
    handed: dict[str, list[datetime]] = {}
    for openid, at in session.execute(
        select(Handoff.resident_openid, Handoff.created_at).where(
            Handoff.created_at >= start - HANDOFF_BEFORE, Handoff.created_at < end
        )
    ).tuples():
        handed.setdefault(openid, []).append(at)
    # a grid worker's order is filed in the grid worker's chat: their hand-overs are the ones that count
    return sum(
        1
        for resident, grid_worker, at in filed
        if not any(at - HANDOFF_BEFORE <= when <= at for when in handed.get(resident or grid_worker or "", []))
    )


def _review(session: Session, start: datetime, end: datetime) -> tuple[int, int]:
    kept = session.scalar(
        select(func.count()).where(ReviewOccurrence.created_at >= start, ReviewOccurrence.created_at < end)
    )
    waiting = session.scalar(
        select(func.count()).where(
            ReviewItem.created_at < end,
            or_(ReviewItem.approved_at.is_(None), ReviewItem.approved_at >= end),
        )
    )
    return int(kept or 0), int(waiting or 0)


def _conversations(
    session: Session, bot: BotClient, first: date, today: date, now: datetime
) -> tuple[dict[str, Any], str | None]:
    """Each day's conversation figures by ISO date: the settled days kept before, the rest asked of the
    channel (and the settled ones among them kept); with the reason when the channel cannot be read."""
    kept = {
        row.day.isoformat(): row.figures
        for row in session.scalars(select(BotDay).where(BotDay.day >= first, BotDay.day <= today))
    }
    missing = [
        first + timedelta(days=n)
        for n in range((today - first).days + 1)
        if (first + timedelta(days=n)).isoformat() not in kept
    ]
    if not missing:
        return kept, None
    try:
        asked = {d.get("day"): d for d in bot.figures(missing[0], missing[-1])}
    except DeliveryFailed as exc:
        return kept, str(exc)
    for day in missing:
        figures = asked.get(day.isoformat())
        if not figures:
            continue
        kept[day.isoformat()] = figures
        if _bounds(day)[1] + SETTLED <= now:
            settled = {name: int(figures.get(name) or 0) for name in CONVERSATION_FIGURES}
            statement = insert_of(session)(BotDay).values(day=day, figures=settled, counted_at=now)
            session.execute(statement.on_conflict_do_nothing(index_elements=["day"]))
    session.commit()
    return kept, None


def daily(session: Session, bot: BotClient, today: date, days: int, now: datetime) -> dict[str, Any]:
    """The last ``days`` days up to ``today``, oldest first; the conversation figures are null, with the
    reason, when the channel cannot be read."""
    first = today - timedelta(days=days - 1)
    conversations, problem = _conversations(session, bot, first, today, now)
    rows = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        start, end = _bounds(day)
        said = conversations.get(day.isoformat()) or {}
        kept, waiting = _review(session, start, end)
        row: dict[str, Any] = {"day": day.isoformat()}
        row.update({name: said.get(name) if said else None for name in CONVERSATION_FIGURES})
        row.update(
            {"filed_alone": _filed_alone(session, start, end), "kept_for_review": kept, "review_waiting": waiting}
        )
        model = bot_models.in_force_at(session, min(end, now))
        row["model"] = None if model is None else {"id": model.id, "source": model.source}
        rows.append(row)
    return {"days": rows, "conversations_unavailable": problem}
