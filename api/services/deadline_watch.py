"""An order's deadlines and their watch: one ``Deadline`` row per deadline an order has, the one home of
its due time, with its reminder (at the operator file's share of the window), and whether it was met,
reminded or breached.

The windows themselves are the standard's (``heating_standard.deadlines``); an order's deadlines are
set when it is filed (``work_orders.create_work_order``) and met or moved by its actions
(``order_actions``); ``scheduler.scan_deadlines`` reads these rows to remind and escalate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import Deadline, WorkOrder


def named(order: WorkOrder, name: str) -> Deadline | None:
    """The order's deadline ``name`` (one of ``heating_standard.lifecycle.DEADLINE_NAMES``), met or not;
    None when the order has no such deadline."""
    return next((d for d in order.deadlines if d.name == name), None)


def due_at(order: WorkOrder, name: str) -> datetime | None:
    """The due time of the order's deadline ``name``, met or not."""
    deadline = named(order, name)
    return deadline.due_at if deadline else None


def due_times(order: WorkOrder) -> dict[str, datetime]:
    """Every deadline of the order by name, as the API shows them (``response_due_at``, …)."""
    return {f"{d.name}_due_at": d.due_at for d in order.deadlines}


def remind_at(starts_at: datetime, due: datetime, share: float) -> datetime:
    """When staff are reminded: ``share`` of the way through the window (its end, for an empty window)."""
    return starts_at + (due - starts_at) * share if due > starts_at else due


def first_watch(due: dict[str, datetime], starts_at: datetime, share: float) -> list[Deadline]:
    """The watch of a new order's deadlines (``heating_standard.deadlines.Deadlines.by_name``)."""
    return [
        Deadline(name=name, starts_at=starts_at, due_at=at, remind_at=remind_at(starts_at, at, share))
        for name, at in due.items()
    ]


@dataclass(frozen=True)
class Rewatch:
    """A deadline an action moves (or sets): watched afresh from ``starts_at``, once the action's own are met."""

    name: str
    due: datetime
    starts_at: datetime


def watch(order: WorkOrder, moved: Rewatch, share: float) -> None:
    """Set or move one deadline of an existing ``order``. One row per deadline name; the history of what was
    met when is on the order's events and call-back tasks."""
    existing = named(order, moved.name)
    reminder = remind_at(moved.starts_at, moved.due, share)
    if existing is None:
        order.deadlines.append(
            Deadline(name=moved.name, starts_at=moved.starts_at, due_at=moved.due, remind_at=reminder)
        )
    elif existing.due_at != moved.due or existing.met_at is not None:
        # A moved deadline (an extension, a new completion time, a repeat complaint's further call-back) is
        # watched afresh: a new reminder, a new breach.
        existing.starts_at = moved.starts_at
        existing.due_at = moved.due
        existing.remind_at = reminder
        existing.met_at = None
        existing.reminded_at = None
        existing.breached_at = None


def meet(order: WorkOrder, names: Iterable[str], at: datetime) -> None:
    """The deadlines ``names`` of the order, those still open, are met at ``at``."""
    wanted = set(names)
    for deadline in order.deadlines:
        if deadline.name in wanted and deadline.met_at is None:
            deadline.met_at = at


def next_due(order: WorkOrder) -> datetime | None:
    """The soonest deadline of the order still to meet (the order list's urgency, kept in
    ``WorkOrder.next_due_at`` for its index)."""
    return min((d.due_at for d in order.deadlines if d.met_at is None), default=None)


def of_order(session: Session, order_id: int) -> list[Deadline]:
    """Every watched deadline of the order, soonest first (met or not)."""
    return list(session.scalars(select(Deadline).where(Deadline.order_id == order_id).order_by(Deadline.due_at)))


def open_of(session: Session, order_ids: list[int]) -> list[tuple[Deadline, str, str | None]]:
    """The open deadlines of these orders, soonest first, each with its order's kind and business type (the
    deadline's words depend on them)."""
    rows = session.execute(
        select(Deadline, WorkOrder.kind, WorkOrder.business_type)
        .join(WorkOrder, WorkOrder.id == Deadline.order_id)
        .where(Deadline.order_id.in_(order_ids), Deadline.met_at.is_(None))
        .order_by(Deadline.due_at)
    )
    return [(row, kind, business_type) for row, kind, business_type in rows]
