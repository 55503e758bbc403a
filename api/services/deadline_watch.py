"""The scheduler's watch over an order's deadlines: one ``Deadline`` row per deadline an order has, with
its reminder (at the operator file's share of the window), and whether it was met, reminded or breached.

The windows themselves are the standard's (``heating_standard.deadlines``); an order's due times are
set when it is filed (``work_orders.create_work_order``) and moved by its actions
(``order_actions``); ``scheduler.scan_deadlines`` reads these rows to remind and escalate.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.models import Deadline, WorkOrder


def due_at(order: WorkOrder, name: str) -> datetime | None:
    """The due time of the order's deadline ``name`` (one of ``heating_standard.lifecycle.DEADLINE_NAMES``)."""
    due: datetime | None = getattr(order, f"{name}_due_at")
    return due


def remind_at(starts_at: datetime, due: datetime, share: float) -> datetime:
    """When staff are reminded: ``share`` of the way through the window (its end, for an empty window)."""
    return starts_at + (due - starts_at) * share if due > starts_at else due


def new_deadline(order: WorkOrder, name: str, starts_at: datetime, share: float) -> Deadline | None:
    """The watch of one deadline of a new order, if the order has that deadline."""
    due = due_at(order, name)
    if due is None:
        return None
    return Deadline(
        order_id=order.id, name=name, starts_at=starts_at, due_at=due, remind_at=remind_at(starts_at, due, share)
    )


def watch(session: Session, order: WorkOrder, name: str, starts_at: datetime, share: float) -> None:
    """Create or move the watch of one deadline of an existing ``order``."""
    due = due_at(order, name)
    # One row per deadline name; the history of what was met when is on the order's events and
    # call-back tasks.
    existing = session.scalars(select(Deadline).where(Deadline.order_id == order.id, Deadline.name == name)).first()
    if due is None:
        if existing is not None:
            session.delete(existing)
        return
    reminder = remind_at(starts_at, due, share)
    if existing is None:
        session.add(Deadline(order_id=order.id, name=name, starts_at=starts_at, due_at=due, remind_at=reminder))
    elif existing.due_at != due or existing.met_at is not None:
        # A moved deadline (an extension, a new completion time, a repeat complaint's further call-back) is
        # watched afresh: a new reminder, a new breach.
        existing.starts_at = starts_at
        existing.due_at = due
        existing.remind_at = reminder
        existing.met_at = None
        existing.reminded_at = None
        existing.breached_at = None


def meet(session: Session, order: WorkOrder, names: Iterable[str], at: datetime) -> None:
    """The deadlines ``names`` of the order, those still open, are met at ``at``."""
    for name in names:
        deadline = session.scalars(
            select(Deadline).where(Deadline.order_id == order.id, Deadline.name == name, Deadline.met_at.is_(None))
        ).first()
        if deadline is not None:
            deadline.met_at = at


def next_due(session: Session, order: WorkOrder) -> datetime | None:
    """The soonest deadline of the order still to meet (the order list's urgency)."""
    session.flush()
    return session.scalar(
        select(func.min(Deadline.due_at)).where(Deadline.order_id == order.id, Deadline.met_at.is_(None))
    )


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
