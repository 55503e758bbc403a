"""Call-back tasks (10.1.6): the list staff work from, and the survey the bot runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.errors import Conflict, NotFound
from api.models import CallbackTask, WorkOrder
from api.services.audit import record
from api.services.outbound import BotClient, DeliveryFailed


def list_callbacks(session: Session, status: str | None, now: datetime) -> tuple[list[CallbackTask], int]:
    """Tasks by status: open, overdue or done; oldest deadline first."""
    query = select(CallbackTask)
    if status == "open":
        query = query.where(CallbackTask.done_at.is_(None))
    elif status == "overdue":
        query = query.where(CallbackTask.done_at.is_(None), CallbackTask.due_at < now)
    elif status == "done":
        query = query.where(CallbackTask.done_at.is_not(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.order_by(CallbackTask.due_at).limit(500))), total


def send_survey(session: Session, task_id: int, bot: BotClient, now: datetime, actor: str = "system") -> CallbackTask:
    """Ask the bot to run the satisfaction survey with the resident on WeChat."""
    task = session.get(CallbackTask, task_id)
    if task is None:
        raise NotFound(f"call-back task {task_id} does not exist")
    if task.done_at is not None:
        raise Conflict("this call-back is done", code="transition_not_allowed")
    if task.face_to_face_required:
        raise Conflict("a repeat complaint is called back face to face first (10.1.7)", code="face_to_face")
    earlier = session.scalar(
        select(func.count()).where(
            CallbackTask.order_id == task.order_id,
            CallbackTask.done_at.is_(None),
            CallbackTask.sequence < task.sequence,
        )
    )
    if earlier:
        raise Conflict("an earlier call-back of this order is still to be made", code="transition_not_allowed")
    order = session.get(WorkOrder, task.order_id)
    assert order is not None
    if not order.resident_openid:
        raise Conflict("the resident has no WeChat account on this order; call back by phone", code="no_wechat")
    try:
        bot.trigger_intent(
            order.resident_openid, "EXTERNAL_callback_survey", {"order_number": order.number, "order_id": order.id}
        )
    except DeliveryFailed as exc:
        raise Conflict(f"the bot could not start the survey: {exc}", code="bot_unavailable") from None
    task.survey_sent_at = now
    record(session, now, actor, "callback.survey", f"work_order:{order.id}")
    session.commit()
    return task


def next_of(session: Session, order_id: int) -> CallbackTask | None:
    """The earliest call-back of the order still to make (10.1.6, 10.1.7)."""
    return session.scalars(
        select(CallbackTask)
        .where(CallbackTask.order_id == order_id, CallbackTask.done_at.is_(None))
        .order_by(CallbackTask.sequence)
    ).first()
