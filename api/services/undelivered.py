"""Messages to residents the WeChat channel could not deliver (no customer-service window, no template, the
resident unfollowed), listed for staff to tell by phone; the call is recorded on the notification (who, when,
what was said). What the standard requires residents to be told (an outage, a new completion time, a quote, a
refusal, an explanation, a claim's sum) must reach them one way or the other.

The channel's outbox holds what became of each message (``deliveries``); the backend asks it once per resident,
for the messages of the last days not yet phoned, and lists the undelivered ones. Fee reminders have their own
list (``fee_reminders``), with the household to call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import Conflict, NotFound
from api.models import Notification, Resident, WorkOrder
from api.services import deliveries
from api.services.audit import record
from api.services.fee_reminders import FEE_REMINDER
from api.services.outbound import BotClient
from api.services.principals import Principal
from heating_standard.privacy import mask_phone

RECENT = timedelta(days=7)
MOST_CHECKED = 200  # messages checked with the channel in one look


@dataclass(frozen=True)
class ToPhone:
    notification: Notification
    reason: str | None
    order_number: str | None
    phone: str | None  # masked: the whole number is read on the order page, audited (12.1)


def to_phone(session: Session, bot: BotClient, now: datetime) -> tuple[list[ToPhone], bool]:
    """The recent messages the channel could not deliver and nobody has phoned about yet, newest first, and
    whether the channel answered (when it did not, none is listed: nothing is guessed)."""
    recent = list(
        session.scalars(
            select(Notification)
            .where(
                Notification.recipient_openid.is_not(None),
                Notification.delivered_at.is_not(None),
                Notification.phoned_at.is_(None),
                Notification.kind != FEE_REMINDER,
                Notification.created_at >= now - RECENT,
            )
            .order_by(Notification.id.desc())
            .limit(MOST_CHECKED)
        )
    )
    states, answered = deliveries.notice_deliveries(recent, bot)
    found = [d for d in states if d.delivery.state == "undelivered"]
    orders = {
        o.id: o
        for o in session.scalars(
            select(WorkOrder).where(
                WorkOrder.id.in_([d.notification.order_id for d in found if d.notification.order_id])
            )
        )
    }
    openids = {d.notification.recipient_openid for d in found}
    phones = dict(session.execute(select(Resident.openid, Resident.phone).where(Resident.openid.in_(openids))).all())
    listed = []
    for known in found:
        note = known.notification
        order = orders.get(note.order_id) if note.order_id else None
        phone = (order.phone if order else None) or phones.get(note.recipient_openid)
        listed.append(ToPhone(note, known.delivery.reason, order.number if order else None, mask_phone(phone)))
    return listed, answered


def record_call(session: Session, notification_id: int, note: str, principal: Principal, now: datetime) -> None:
    """The resident was told by phone; recorded once."""
    found = session.get(Notification, notification_id)
    if found is None or found.recipient_openid is None:
        raise NotFound(f"no message to a resident {notification_id}")
    if found.phoned_at is not None:
        raise Conflict("this message was told by phone already", code="phoned_already")
    found.phoned_at, found.phoned_by, found.phone_note = now, principal.name, note
    record(session, now, principal.name, "notice.phoned", f"notification:{found.id}", None)
    session.commit()
