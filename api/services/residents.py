"""One resident's personal data (12.1 and the personal-information law behind it): found by WeChat
openid or phone, exported on request, erased on request, and erased by the scheduler once the
operator file's retention period has passed since an order was finished.

Erasing keeps what the company is judged by (kind, category, dates, deadlines, satisfaction, the
community) and removes whom it was about: contact data, the home's unit and room, free text that may
name the resident, photos, the chat summary and notes, and on the conversation side the transcript,
the channel's messages and photos."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from api.db import checkpoint
from api.errors import Conflict, NotFound, Unprocessable
from api.models import (
    Address,
    CallbackTask,
    Handoff,
    HandoffNote,
    MediaFile,
    Notification,
    Resident,
    WorkOrder,
    WorkOrderEvent,
)
from api.services import audit, review
from api.services.outbound import BotClient, DeliveryFailed
from heating_standard.orders import Status, phone_key
from heating_standard.privacy import ERASED, mask_phone, mask_text, message_key

log = logging.getLogger(__name__)

# Orders whose service is over: they may be erased (an open one is still being worked).
FINISHED = (Status.CLOSED.value, Status.RETURNED.value, Status.CANCELLED.value)
PURGE_BATCH = 200
# What an event's data holds of the resident: a photo's address and the platform's id of it.
EVENT_DATA_ERASED = ("url", "media_id")


def _orders(session: Session, openid: str | None, phone: str | None) -> list[WorkOrder]:
    found = []
    if openid:
        found.append(WorkOrder.resident_openid == openid)
    key = phone_key(phone)
    if key:
        found.append(WorkOrder.phone_key == key)
    if not found:
        raise Unprocessable("openid", "name the resident by WeChat openid or phone")
    return list(session.scalars(select(WorkOrder).where(or_(*found)).order_by(WorkOrder.id)))


def _find(session: Session, openid: str | None, phone: str | None) -> tuple[list[WorkOrder], list[Resident]]:
    """The resident's orders and records: by WeChat openid, or by phone compared by its digits (the
    records behind the orders found, whatever way the phone was written); NotFound when there are none."""
    orders = _orders(session, openid, phone)
    conditions: list[ColumnElement[bool]] = [
        Resident.id.in_({o.resident_id for o in orders if o.resident_id is not None})
    ]
    if openid:
        conditions.append(Resident.openid == openid)
    if phone:
        conditions.append(Resident.phone == phone)
    residents = list(session.scalars(select(Resident).where(or_(*conditions)).order_by(Resident.id)))
    if not residents and not orders:
        raise NotFound("no resident is known by this openid or phone")
    return orders, residents


def _openids(openid: str | None, orders: list[WorkOrder], residents: list[Resident]) -> list[str]:
    """Every WeChat user the data belongs to: the one named, and those of the orders and records found."""
    found = {openid, *(o.resident_openid for o in orders), *(r.openid for r in residents)}
    return sorted(o for o in found if o)


def export(session: Session, openid: str | None, phone: str | None, bot: BotClient) -> dict[str, Any]:
    """Everything kept of one resident, as JSON; the conversation from the bot when it answers."""
    orders, residents = _find(session, openid, phone)
    resident = next((r for r in residents if openid and r.openid == openid), residents[0] if residents else None)
    openids = _openids(openid, orders, residents)
    result: dict[str, Any] = {
        "resident": _row(resident, ("openid", "phone", "name", "created_at", "updated_at")) if resident else None,
        "addresses": [
            _row(a, ("text", "community", "building", "unit", "room", "account_number", "last_used_at"))
            for r in residents
            for a in r.addresses
        ],
        "work_orders": [_order_kept(session, o) for o in orders],
        "chats_with_staff": _chats_kept(session, openids),
        "messages_sent": _messages_kept(session, openids, [o.id for o in orders]),
        "conversation": None,
    }
    if openids:
        try:
            result["conversation"] = [
                {k: e.get(k) for k in ("event", "timestamp", "text")}
                for user in openids
                for e in bot.transcript(user)
                if e.get("event") in ("user", "bot")
            ]
        except DeliveryFailed as exc:
            result["conversation_unavailable"] = str(exc)
    return result


def _order_kept(session: Session, order: WorkOrder) -> dict[str, Any]:
    """One order as kept: its fields, events, call-backs and photos."""
    callbacks = session.scalars(select(CallbackTask).where(CallbackTask.order_id == order.id))
    photos = session.scalars(select(MediaFile).where(MediaFile.order_id == order.id))
    return {
        **_row(order, _ORDER_FIELDS),
        "events": [_row(e, ("action", "actor", "at", "note", "data")) for e in order.events],
        "call_backs": [
            _row(t, ("sequence", "due_at", "done_at", "method", "process_satisfied", "result_satisfied", "note"))
            for t in callbacks
        ],
        "photos": [_row(m, ("media_id", "state", "content_type", "size", "stored_at")) for m in photos],
    }


def _chats_kept(session: Session, openids: list[str]) -> list[dict[str, Any]]:
    """The resident's chats with staff, with the staff's notes."""
    handoffs = session.scalars(select(Handoff).where(Handoff.resident_openid.in_(openids)))
    return [
        {
            **_row(h, ("reason", "summary", "status", "created_at", "closed_at")),
            "notes": [
                _row(n, ("text", "created_at"))
                for n in session.scalars(select(HandoffNote).where(HandoffNote.handoff_id == h.id))
            ],
        }
        for h in list(handoffs)
    ]


def _messages_kept(session: Session, openids: list[str], order_ids: list[int]) -> list[dict[str, Any]]:
    """What was sent to the resident: to their WeChat, or about their orders to them."""
    sent = session.scalars(
        select(Notification).where(
            or_(
                Notification.recipient_openid.in_(openids),
                and_(Notification.order_id.in_(order_ids), Notification.recipient_openid.is_not(None)),
            )
        )
    )
    return [_row(n, ("kind", "message", "created_at", "delivered_at")) for n in sent]


_ORDER_FIELDS = (
    "number",
    "kind",
    "category",
    "source",
    "status",
    "description",
    "phone",
    "address",
    "contact_name",
    "accepted_at",
    "completed_at",
    "result",
    "measured_temperature",
)


def _row(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    values = {}
    for name in fields:
        value = getattr(obj, name)
        values[name] = value.isoformat() if isinstance(value, datetime) else value
    return values


def erase(
    session: Session, openid: str | None, phone: str | None, reason: str, bot: BotClient, actor: str, now: datetime
) -> dict[str, int]:
    """Erase one resident on their request. Refused while any of their orders is still being worked; the
    conversation side is erased first, so a bot that is down leaves everything as it was (retry)."""
    orders, residents = _find(session, openid, phone)
    working = [o.number for o in orders if o.status not in FINISHED]
    if working:
        raise Conflict(f"orders still being worked: {', '.join(str(n) for n in working)}; close them first")
    openids = _openids(openid, orders, residents)
    media_ids = list(session.scalars(select(MediaFile.media_id).where(MediaFile.order_id.in_([o.id for o in orders]))))
    kept_for_review: list[str] = []
    for user in openids:
        try:
            # the ids of their messages name what the review queue kept of them (by hash only)
            said = [e.get("message_id") for e in bot.transcript(user) if e.get("event") == "user"]
            kept_for_review += [message_key(user, str(m)) for m in said if m]
            bot.forget(user, media_ids)
        except DeliveryFailed as exc:
            raise Conflict(
                f"the conversation side could not erase the chat: {exc}; nothing was erased here, try again",
                code="bot_unavailable",
            ) from None
    for order in orders:
        erase_order(session, order, now)
    for handoff in session.scalars(select(Handoff).where(Handoff.resident_openid.in_(openids))):
        _erase_handoff(session, handoff)
    for note in session.scalars(select(Notification).where(Notification.recipient_openid.in_(openids))):
        _erase_message(note)
    for resident in residents:
        session.delete(resident)  # its addresses go with it
    review.forget(session, kept_for_review)
    who = f"openid {openid[:4]}…" if openid else f"phone {mask_phone(phone)}"
    audit.record(session, now, actor, "resident_erased", who, f"{len(orders)} orders; {reason}")
    session.commit()
    checkpoint(session)
    return {"work_orders": len(orders), "resident": len(residents)}


def _erase_message(note: Notification) -> None:
    """A message sent to a resident loses its recipient, its text and the key that named them (an
    outage notice's key carries the openid, so that each resident is told once)."""
    note.recipient_openid, note.message = None, ERASED
    note.dedup_key = f"erased:{note.id}"


def erase_order(session: Session, order: WorkOrder, now: datetime) -> None:
    """Whom an order was about, removed; what it was, kept (for the KPIs and the monthly review)."""
    order.phone = order.phone_key = order.contact_name = order.address = None
    order.building = order.unit = order.room = None
    order.resident_openid = None
    order.resident_id = None
    order.description = ERASED
    order.result = mask_text(order.result)
    if order.temperature_test is not None:  # the readings and result stay; the note may name people
        order.temperature_test.note = mask_text(order.temperature_test.note)
    order.personal_data_erased_at = now
    for event in session.scalars(select(WorkOrderEvent).where(WorkOrderEvent.order_id == order.id)):
        event.note = ERASED if event.note else None
        if event.data and any(key in event.data for key in EVENT_DATA_ERASED):
            event.data = {key: value for key, value in event.data.items() if key not in EVENT_DATA_ERASED}
    for task in session.scalars(select(CallbackTask).where(CallbackTask.order_id == order.id)):
        task.note = ERASED if task.note else None
    for photo in session.scalars(select(MediaFile).where(MediaFile.order_id == order.id)):
        session.delete(photo)
    for note in session.scalars(select(Notification).where(Notification.order_id == order.id)):
        note.recipient_openid = None
    for handoff in session.scalars(select(Handoff).where(Handoff.work_order_id == order.id)):
        _erase_handoff(session, handoff)


def _erase_handoff(session: Session, handoff: Handoff) -> None:
    handoff.summary = None
    handoff.resident_openid = f"erased-{handoff.id}"
    for note in session.scalars(select(HandoffNote).where(HandoffNote.handoff_id == handoff.id)):
        session.delete(note)


# Retention is counted in days: the scheduler applies it once a day, not at every pass.
RETENTION_EVERY = timedelta(days=1)


def retention_due(now: datetime, last: datetime | None) -> bool:
    """Whether a day has passed since the retention period was last applied."""
    return last is None or now - last >= RETENTION_EVERY


def purge_expired(session: Session, now: datetime, retention_days: int) -> int:
    """12.1: orders finished more than the retention period ago lose their personal data; messages sent
    and messages kept for review older than the period go; residents with nothing left inside the period
    are removed. In batches, each committed; the number of orders."""
    cutoff = now - timedelta(days=retention_days)
    erased = 0
    while True:
        expired = session.scalars(
            select(WorkOrder)
            .where(
                WorkOrder.status.in_(FINISHED),
                WorkOrder.updated_at < cutoff,
                WorkOrder.personal_data_erased_at.is_(None),
            )
            .limit(PURGE_BATCH)
        ).all()
        for order in expired:
            erase_order(session, order, now)
        session.commit()
        erased += len(expired)
        if len(expired) < PURGE_BATCH:
            break
    while True:
        sent = session.scalars(
            select(Notification)
            .where(Notification.recipient_openid.is_not(None), Notification.created_at < cutoff)
            .limit(PURGE_BATCH)
        ).all()
        for note in sent:
            _erase_message(note)  # an outage notice is on no order: it goes by its own age
        session.commit()
        if len(sent) < PURGE_BATCH:
            break
    review.purge(session, cutoff)  # residents' words kept for review go by their own age too
    while True:
        stale = session.scalars(
            select(Resident)
            .where(
                Resident.updated_at < cutoff,
                ~select(WorkOrder.id)
                .where(WorkOrder.resident_id == Resident.id, WorkOrder.personal_data_erased_at.is_(None))
                .exists(),
                ~select(Address.id).where(Address.resident_id == Resident.id, Address.last_used_at >= cutoff).exists(),
            )
            .limit(PURGE_BATCH)
        ).all()
        for resident in stale:
            session.delete(resident)
        session.commit()
        if len(stale) < PURGE_BATCH:
            checkpoint(session)
            return erased


def prune_conversations(bot: BotClient, now: datetime, retention_days: int) -> bool:
    """12.1 on the conversation side: the WeChat channel deletes what it and the tracker store keep from
    before the retention period. True when done; False when the bot is down (asked again next pass)."""
    try:
        bot.prune(now - timedelta(days=retention_days))
    except DeliveryFailed as exc:
        log.warning("conversations not pruned, asked again next pass: %s", exc)
        return False
    return True
