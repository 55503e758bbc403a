"""Reminders of unpaid fees (9.2.2: "以张贴告知、短信、微信通知等形式告知用户进行催费（保留催费证明）"), with their
proof kept.

A supervisor sends the households the company's billing shows in arrears (address, phone, sum) and the day
to pay by. Each household's residents known on WeChat (by the phone, else by the home of an address they
gave) are sent the reminder through the bot, as a personal notice (the channel's customer-service message
inside the 48-hour window, else a template message). A household with nobody on WeChat, and a message the
channel could not deliver, is listed for staff to phone; the call is recorded with who made it and what was
said. Every reminder, sent or phoned, is kept: the proof 9.2.2 asks for.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import NotFound, Unprocessable
from api.models import Address, FeeReminder, Notification, Resident
from api.schemas import FeeReminderPublic, FeeReminderSend
from api.services import deliveries
from api.services.audit import record
from api.services.outbound import BotClient
from api.services.principals import Principal
from api.services.scheduler import notify
from heating_standard import notices
from heating_standard.addresses import parse_address
from heating_standard.localtime import LOCAL_TZ, local_date
from heating_standard.orders import household_key, phone_key

FEE_REMINDER = "fee_reminder"
# Delivery states after which a household still has to be phoned.
NOT_REACHED = frozenset({"undelivered"})


def _wechat_residents(session: Session) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Residents on WeChat by their phone's digits and by the homes of their addresses."""
    by_phone: dict[str, set[str]] = {}
    by_home: dict[str, set[str]] = {}
    rows = session.execute(
        select(Resident.openid, Resident.phone, Address.community, Address.building, Address.room)
        .outerjoin(Address, Address.resident_id == Resident.id)
        .where(Resident.openid.is_not(None))
    )
    for openid, phone, community, building, room in rows:
        if not openid:
            continue
        key = phone_key(phone)
        if key:
            by_phone.setdefault(key, set()).add(openid)
        home = household_key(community, building, room)
        if home:
            by_home.setdefault(home, set()).add(openid)
    return by_phone, by_home


def send(session: Session, body: FeeReminderSend, standard: str, principal: Principal, now: datetime) -> str:
    """Remind every household of ``body``; the batch's name. Nothing is kept when one row is refused."""
    if body.pay_by < local_date(now):
        raise Unprocessable("pay_by", "交费期限不能早于今天")
    by_phone, by_home = _wechat_residents(session)
    batch = f"{now.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M} {principal.name}"[:64]
    for number, household in enumerate(body.households, start=1):
        amount = f"{household.amount:.2f}"
        try:
            message = notices.fee_reminder_notice(household.address, amount, body.pay_by, standard)
        except notices.NoticeRefused as exc:
            session.rollback()
            raise Unprocessable("households", f"第{number}行：{exc.reason}") from None
        parsed = parse_address(household.address)
        home = household_key(parsed.community, parsed.building, parsed.room) if parsed else None
        key = phone_key(household.phone)
        openids = (by_phone.get(key, set()) if key else set()) | (by_home.get(home, set()) if home else set())
        base: dict[str, Any] = {"batch": batch, "address": household.address, "phone": household.phone}
        base.update(amount=household.amount, pay_by=body.pay_by, created_by=principal.name, created_at=now)
        if not openids:
            session.add(FeeReminder(**base))
            continue
        for openid in sorted(openids):
            reminder = FeeReminder(**base, recipient_openid=openid)
            session.add(reminder)
            session.flush()
            reminder.notification_id = notify(
                session,
                kind=FEE_REMINDER,
                key=f"{FEE_REMINDER}:{reminder.id}",
                message=message,
                now=now,
                recipient_openid=openid,
            )
    record(session, now, principal.name, "fee_reminders.send", batch, f"{len(body.households)} households")
    session.commit()
    return batch


def batches(session: Session, limit: int = 20) -> list[str]:
    rows = session.scalars(
        select(FeeReminder.batch).group_by(FeeReminder.batch).order_by(FeeReminder.batch.desc()).limit(limit)
    )
    return list(rows)


def of_batch(session: Session, batch: str, bot: BotClient) -> list[FeeReminderPublic]:
    """The batch's reminders, each with what became of its WeChat message (the channel asked once per
    resident) and whether staff must phone the household."""
    reminders = list(session.scalars(select(FeeReminder).where(FeeReminder.batch == batch).order_by(FeeReminder.id)))
    ids = [r.notification_id for r in reminders if r.notification_id is not None]
    notes = {n.id: n for n in session.scalars(select(Notification).where(Notification.id.in_(ids)))} if ids else {}
    known, _ = deliveries.notice_deliveries(list(notes.values()), bot)
    states = {d.notification.id: d.delivery.state for d in known}
    shown = []
    for reminder in reminders:
        state = states.get(reminder.notification_id) if reminder.notification_id else None
        to_phone = reminder.phoned_at is None and (reminder.recipient_openid is None or state in NOT_REACHED)
        public = FeeReminderPublic.model_validate(reminder)
        shown.append(public.model_copy(update={"delivery": state, "to_phone": to_phone}))
    return shown


def record_call(session: Session, reminder_id: int, note: str, principal: Principal, now: datetime) -> FeeReminder:
    """The household was reminded by phone: who called, when, what was said (the proof)."""
    reminder = session.get(FeeReminder, reminder_id)
    if reminder is None:
        raise NotFound(f"fee reminder {reminder_id} does not exist")
    reminder.phoned_at, reminder.phoned_by, reminder.phone_note = now, principal.name, note
    record(session, now, principal.name, "fee_reminders.called", f"fee_reminder:{reminder.id}", None)
    session.commit()
    return reminder
