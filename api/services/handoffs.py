"""Chats handed to a person, and giving them back to the bot."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from api.errors import Conflict, Forbidden, NotFound
from api.models import Address, Handoff, HandoffNote, Resident, StaffUser, WorkOrder
from api.schemas import HandoffCreate
from api.services import desk
from api.services.audit import record
from api.services.outbound import BotClient, DeliveryFailed
from api.services.principals import STAFF_ROLES, Principal
from api.views import chat

log = logging.getLogger(__name__)


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
    _give_out(session, now)
    session.refresh(handoff)
    return handoff, True


def _give_out(session: Session, now: datetime) -> None:
    """The round robin's turn after the queue or an agent's load changed; should it fail, the chat stays
    in the queue and the scheduler's next pass gives it out (its error is logged, not the caller's)."""
    try:
        desk.auto_assign(session, now)
    except SQLAlchemyError:
        session.rollback()
        log.exception("the round robin failed; the scheduler tries again")


def list_handoffs(session: Session, status: str | None) -> tuple[list[Handoff], int]:
    query = select(Handoff)
    if status:
        query = query.where(Handoff.status == status)
    return list(session.scalars(query.order_by(Handoff.created_at))), count_handoffs(session, status)


def count_handoffs(session: Session, status: str | None) -> int:
    """How many handoffs (of a status), counted by the database (the console's top bar polls it)."""
    query = select(func.count()).select_from(Handoff)
    if status:
        query = query.where(Handoff.status == status)
    return session.scalar(query) or 0


def take_handoff(session: Session, handoff_id: int, principal: Principal, now: datetime) -> Handoff:
    """The chat becomes this agent's; one assigned by a supervisor is taken by its agent (or a supervisor);
    one the round robin gave out may be taken by anyone (it only suggested whose it should be).

    One conditional UPDATE takes it, so of two members of staff taking at the same instant exactly one
    is told the chat is theirs; the other learns who holds it (409)."""
    handoff = _get(session, handoff_id)
    may_take = Handoff.status == "waiting"
    if not principal.may_approve:
        may_take &= or_(
            Handoff.assigned_to.is_(None),
            Handoff.assigned_to == principal.name,
            Handoff.assigned_by == desk.ROUND_ROBIN,
        )
    if not _update_if(session, handoff_id, may_take, status="active", taken_at=now, taken_by=principal.name):
        session.refresh(handoff)
        if handoff.status != "waiting":
            raise _not_waiting(session, handoff)
        raise Forbidden(f"这个会话已指派给{display_name(session, handoff.assigned_to)}，只有他/她或班长可以接管")
    record(session, now, principal.name, "handoff.take", f"handoff:{handoff.id}")
    session.commit()
    session.refresh(handoff)
    return handoff


def _update_if(session: Session, handoff_id: int, condition: ColumnElement[bool], **values: Any) -> bool:
    """Change the handoff only while ``condition`` holds, in one UPDATE: a check and a write that another
    request cannot come between. False (and the transaction rolled back) when it no longer held."""
    changed = session.execute(
        update(Handoff)
        .where(Handoff.id == handoff_id, condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount:  # type: ignore[attr-defined]
        return True
    session.rollback()
    return False


def _not_waiting(session: Session, handoff: Handoff) -> Conflict:
    """The refusal of a change that needs a waiting chat: who holds it, or that it has ended."""
    if handoff.status == "active":
        return Conflict(f"这个会话已由{display_name(session, handoff.taken_by)}接管", code="transition_not_allowed")
    return Conflict("这个会话已结束", code="transition_not_allowed")


def display_name(session: Session, principal_name: str | None) -> str:
    """A member of staff as colleagues know them: the display name, else the username (not "staff:…")."""
    username = (principal_name or "").removeprefix("staff:")
    user = session.scalars(select(StaffUser).where(StaffUser.username == username)).first()
    named = user.display_name.strip() if user and user.display_name else ""
    return named or username


def assign_handoff(session: Session, handoff_id: int, principal: Principal, username: str, now: datetime) -> Handoff:
    """A supervisor gives a waiting chat to an active agent (or another supervisor); a chat taken
    meanwhile is not assigned (one conditional UPDATE)."""
    if not principal.may_approve:
        raise Forbidden("only a supervisor may assign a chat")
    handoff = _get(session, handoff_id)
    user = session.scalars(select(StaffUser).where(StaffUser.username == username)).first()
    if user is None or not user.active or user.role not in STAFF_ROLES:  # never a technician (12.1)
        raise NotFound(f"no active member of staff is called {username}")
    assigned_to = f"staff:{user.username}"
    given = {"assigned_to": assigned_to, "assigned_at": now, "assigned_by": principal.name}
    if not _update_if(session, handoff_id, Handoff.status == "waiting", **given):
        session.refresh(handoff)
        raise _not_waiting(session, handoff)
    record(session, now, principal.name, "handoff.assign", f"handoff:{handoff.id}", assigned_to)
    session.commit()
    session.refresh(handoff)
    return handoff


def add_note(session: Session, handoff_id: int, principal: Principal, text: str, now: datetime) -> HandoffNote:
    """A private note on the chat: staff only, never sent to the resident."""
    handoff = _get(session, handoff_id)
    note = HandoffNote(handoff_id=handoff.id, author=principal.name, text=text, created_at=now)
    session.add(note)
    record(session, now, principal.name, "handoff.note", f"handoff:{handoff.id}")
    session.commit()
    return note


def notes(session: Session, handoff_id: int) -> list[HandoffNote]:
    _get(session, handoff_id)
    query = select(HandoffNote).where(HandoffNote.handoff_id == handoff_id).order_by(HandoffNote.id)
    return list(session.scalars(query))


def resident_orders(session: Session, handoff: Handoff, limit: int = 20) -> list[WorkOrder]:
    """The resident's orders, newest first: what the chat may be about."""
    query = select(WorkOrder).where(WorkOrder.resident_openid == handoff.resident_openid)
    return list(session.scalars(query.order_by(WorkOrder.accepted_at.desc(), WorkOrder.id.desc()).limit(limit)))


def _resident_of(session: Session, handoff: Handoff) -> Resident | None:
    return session.scalars(select(Resident).where(Resident.openid == handoff.resident_openid)).first()


def resident_addresses(session: Session, handoff: Handoff) -> list[Address]:
    """The addresses the bot remembers for the resident, most recently used first."""
    resident = _resident_of(session, handoff)
    return sorted(resident.addresses, key=lambda a: a.last_used_at, reverse=True) if resident else []


def resident_phone(session: Session, handoff: Handoff) -> str | None:
    """The phone the resident gave the bot, if any."""
    resident = _resident_of(session, handoff)
    return resident.phone if resident else None


def link_order(session: Session, handoff_id: int, principal: Principal, order_id: int, now: datetime) -> Handoff:
    """Link the chat to one of the same resident's orders (another resident's order cannot be linked)."""
    handoff = _get(session, handoff_id)
    order = session.get(WorkOrder, order_id)
    if order is None or order.resident_openid != handoff.resident_openid:
        raise NotFound(f"the resident of this chat has no order {order_id}")
    handoff.work_order_id = order.id
    record(session, now, principal.name, "handoff.link_order", f"handoff:{handoff.id}", f"work_order:{order.id}")
    session.commit()
    return handoff


def close_handoff(session: Session, handoff_id: int, principal: Principal, bot: BotClient, now: datetime) -> Handoff:
    """Close it and resume the bot for the resident (ConversationResumed). The member of staff who
    holds the chat closes it; a supervisor may close any. The bot is resumed first (a chat whose bot
    cannot be resumed stays open), then one conditional UPDATE closes it: of two closing at once, one
    closes it and the other is told it has ended."""
    handoff = _get(session, handoff_id)
    if handoff.status == "closed":
        raise Conflict("这个会话已结束", code="transition_not_allowed")
    may_close = Handoff.status != "closed"
    if not principal.may_approve:
        if handoff.taken_by != principal.name:
            raise Forbidden("only the member of staff who holds this chat, or a supervisor, may close it")
        may_close &= Handoff.taken_by == principal.name
    try:
        bot.resume(handoff.resident_openid)
    except DeliveryFailed as exc:
        # Stays open: staff see the error and can close again once the bot answers.
        raise Conflict(f"the bot could not be resumed: {exc}", code="bot_unavailable") from None
    if not _update_if(session, handoff_id, may_close, status="closed", closed_at=now):
        raise Conflict("这个会话已结束", code="transition_not_allowed")
    record(session, now, principal.name, "handoff.close", f"handoff:{handoff.id}")
    session.commit()
    _give_out(session, now)  # the agent can take another
    session.refresh(handoff)
    return handoff


def messages(session: Session, handoff_id: int, bot: BotClient) -> list[chat.ChatMessage]:
    """The whole chat, oldest first: the bot's transcript before the handoff, then the live chat."""
    return messages_and_window(session, handoff_id, bot)[0]


def messages_and_window(
    session: Session, handoff_id: int, bot: BotClient
) -> tuple[list[chat.ChatMessage], dict[str, Any] | None]:
    """The chat, and what is left of the resident's window and quota, from one read of the outbox."""
    return conversation(_get(session, handoff_id).resident_openid, bot)


def conversation(openid: str, bot: BotClient) -> tuple[list[chat.ChatMessage], dict[str, Any] | None]:
    """The chat with a resident as the bot and the WeChat channel keep it (no database needed, so a
    caller may give its connection back before asking), and the resident's window and quota."""
    try:
        events = bot.transcript(openid)
        rows, window = bot.outbox(openid)
    except DeliveryFailed as exc:
        raise Conflict(f"the conversation cannot be read now: {exc}", code="bot_unavailable") from None
    return messages_from(events, rows), window


def messages_from(events: list[dict[str, Any]], outbox_rows: list[dict[str, Any]]) -> list[chat.ChatMessage]:
    """The chat from the conversation's events, staff messages with their state from the outbox rows."""
    outbox = {int(row["id"]): row for row in outbox_rows if row.get("id") is not None}
    return chat.chat_messages(events, outbox)


def send_message(
    session: Session, handoff_id: int, principal: Principal, text: str, bot: BotClient, now: datetime
) -> chat.ChatMessage:
    """The holder of the chat writes to the resident; kept in the conversation with its delivery state."""
    handoff = _get(session, handoff_id)
    if handoff.status == "waiting":
        raise Conflict("the handoff is waiting: take it before writing", code="transition_not_allowed")
    if handoff.taken_by != principal.name:
        raise Forbidden(f"这个会话由{display_name(session, handoff.taken_by)}接管，只有接管人可以回复")
    if handoff.status != "active":
        raise Conflict(f"the handoff is {handoff.status}", code="transition_not_allowed")
    try:
        sent = bot.send_as_staff(handoff.resident_openid, text, principal.name, now.timestamp())
    except DeliveryFailed as exc:
        raise Conflict(f"the message could not be sent: {exc}", code="bot_unavailable") from None
    record(session, now, principal.name, "handoff.message", f"handoff:{handoff.id}")
    session.commit()
    return chat.ChatMessage(now, "staff", text, chat.delivery_state(sent))


def get_handoff(session: Session, handoff_id: int) -> Handoff:
    return _get(session, handoff_id)


def assignable_staff(session: Session) -> list[StaffUser]:
    """Active members of staff a supervisor may give a chat to."""
    desk = select(StaffUser).where(StaffUser.active.is_(True), StaffUser.role.in_(STAFF_ROLES))
    return list(session.scalars(desk.order_by(StaffUser.username)))


def _get(session: Session, handoff_id: int) -> Handoff:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise NotFound(f"handoff {handoff_id} does not exist")
    return handoff
