"""Chats handed to a person, and giving them back to the bot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.domain import chat
from api.errors import Conflict, Forbidden, NotFound
from api.models import Handoff
from api.schemas import HandoffCreate
from api.services.outbound import BotClient, DeliveryFailed
from api.services.principals import Principal


def open_handoff(session: Session, data: HandoffCreate, now: datetime) -> tuple[Handoff, bool]:
    """A waiting handoff for the resident; an open one is returned instead of a second."""
    existing = session.scalars(
        select(Handoff).where(Handoff.resident_openid == data.resident_openid, Handoff.status != "closed")
    ).first()
    if existing is not None:
        return existing, False
    handoff = Handoff(
        resident_openid=data.resident_openid, reason=data.reason, summary=data.summary, status="waiting", created_at=now
    )
    session.add(handoff)
    session.commit()
    return handoff, True


def list_handoffs(session: Session, status: str | None) -> tuple[list[Handoff], int]:
    query = select(Handoff)
    if status:
        query = query.where(Handoff.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.order_by(Handoff.created_at))), total


def take_handoff(session: Session, handoff_id: int, principal: Principal, now: datetime) -> Handoff:
    handoff = _get(session, handoff_id)
    if handoff.status != "waiting":
        raise Conflict(f"the handoff is {handoff.status}", code="transition_not_allowed")
    handoff.status = "active"
    handoff.taken_at = now
    handoff.taken_by = principal.name
    session.commit()
    return handoff


def close_handoff(session: Session, handoff_id: int, principal: Principal, bot: BotClient, now: datetime) -> Handoff:
    """Close it and resume the bot for the resident (ConversationResumed). The member of staff who
    holds the chat closes it; a supervisor may close any."""
    handoff = _get(session, handoff_id)
    if handoff.status == "closed":
        raise Conflict("the handoff is closed already", code="transition_not_allowed")
    if handoff.taken_by != principal.name and not principal.may_approve:
        raise Forbidden("only the member of staff who holds this chat, or a supervisor, may close it")
    try:
        bot.resume(handoff.resident_openid)
    except DeliveryFailed as exc:
        # Stays open: staff see the error and can close again once the bot answers.
        raise Conflict(f"the bot could not be resumed: {exc}", code="bot_unavailable") from None
    handoff.status = "closed"
    handoff.closed_at = now
    session.commit()
    return handoff


def messages(session: Session, handoff_id: int, bot: BotClient) -> list[chat.ChatMessage]:
    """The whole chat, oldest first: the bot's transcript before the handoff, then the live chat."""
    handoff = _get(session, handoff_id)
    try:
        events = bot.transcript(handoff.resident_openid)
        outbox = {int(row["id"]): row for row in bot.outbox(handoff.resident_openid) if row.get("id") is not None}
    except DeliveryFailed as exc:
        raise Conflict(f"the conversation cannot be read now: {exc}", code="bot_unavailable") from None
    return chat.chat_messages(events, outbox)


def send_message(
    session: Session, handoff_id: int, principal: Principal, text: str, bot: BotClient, now: datetime
) -> chat.ChatMessage:
    """The holder of the chat writes to the resident; kept in the conversation with its delivery state."""
    handoff = _get(session, handoff_id)
    if handoff.status == "waiting":
        raise Conflict("the handoff is waiting: take it before writing", code="transition_not_allowed")
    if handoff.taken_by != principal.name:
        raise Forbidden(f"this chat is held by {handoff.taken_by}")
    if handoff.status != "active":
        raise Conflict(f"the handoff is {handoff.status}", code="transition_not_allowed")
    try:
        sent = bot.send_as_staff(handoff.resident_openid, text, principal.name, now.timestamp())
    except DeliveryFailed as exc:
        raise Conflict(f"the message could not be sent: {exc}", code="bot_unavailable") from None
    return chat.ChatMessage(now, "staff", text, chat.delivery_state(sent))


def _get(session: Session, handoff_id: int) -> Handoff:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise NotFound(f"handoff {handoff_id} does not exist")
    return handoff
