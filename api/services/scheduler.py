"""Escalation: reminders at 80 % of a window, breaches when it passes, and their delivery.

Creation is exactly once: each notification has a unique ``dedup_key`` (order, deadline, kind and
the deadline's time), so several API processes scanning at once, or a restart in the middle of a
scan, cannot make a second one. Delivery claims a row before sending it (``claimed_until``), so
two processes do not both send it; a failed send is retried with backoff and never dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from api.db import insert_of
from api.models import CampaignContact, Deadline, Notification, WorkOrder
from api.services.outbound import WECHAT_CHANNEL, BotClient, DeliveryFailed, WebhookNotifier
from heating_standard.lifecycle import deadline_label
from heating_standard.localtime import LOCAL_TZ
from policies.backoff import doubling

log = logging.getLogger(__name__)

CLAIM_SECONDS = 60
MAX_BACKOFF_SECONDS = 3600.0
BATCH = 200

# The bot's intent (domain.yml) for each kind of message to a resident. A kind with a dialogue of its
# own is named here; every other kind is a message the bot relays as it is (EXTERNAL_notice).
RESIDENT_INTENTS = {
    "quote_confirmation": "EXTERNAL_quote_confirmation",  # 10.2.2: the resident is asked to confirm
    "temperature_confirmation": "EXTERNAL_temperature_confirmation",  # 10.3 第1条 a: the same, for a test
    "campaign_question": "EXTERNAL_campaign_question",  # 10.1.8, 14.3.2 e: a call-back or the yearly survey
    "outage_notice": "EXTERNAL_outage_notice",  # 6.3.1
}
RELAYED_NOTICE = "EXTERNAL_notice"
# An order the bot filed: its number is sent only if the conversation does not hold it by then.
ORDER_FILED = "order_filed"


def resident_intent(kind: str) -> str:
    """The intent the bot is triggered with to deliver a resident's notification of ``kind``."""
    return RESIDENT_INTENTS.get(kind, RELAYED_NOTICE)


def handover_key(notification_id: int) -> str:
    """Names one notification to the bot. A hand-over retried after its answer was lost (a restart
    between the bot keeping the message and the backend hearing so) carries the same key, and the bot
    and the WeChat channel say it once (actions/trust.py, the channel's outbox)."""
    return f"notification:{notification_id}"


@dataclass(frozen=True)
class ScanResult:
    reminders: int
    breaches: int


def _local(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M")


def _add_once(session: Session, notification: Notification) -> int | None:
    """Insert unless a row with its dedup_key exists; the new row's id when this call created it."""
    values = {c.key: getattr(notification, c.key) for c in Notification.__table__.columns if c.key != "id"}
    values["delivery_attempts"] = 0
    statement = insert_of(session)(Notification).values(**values).on_conflict_do_nothing(index_elements=["dedup_key"])
    # RETURNING tells whether a row went in on both databases (psycopg's rowcount does not, here).
    made: int | None = session.scalar(statement.returning(Notification.id))
    return made


def notify(
    session: Session,
    *,
    kind: str,
    key: str,
    message: str,
    now: datetime,
    recipient_openid: str | None = None,
    order_id: int | None = None,
    outage_id: int | None = None,
    deadline_name: str | None = None,
    send_at: datetime | None = None,
) -> int | None:
    """Every notification is made here: to a resident in WeChat (``recipient_openid``, through the bot)
    or to staff (none: the webhook), about an order, an outage or a deadline; sent from ``send_at`` (now
    by default). Once per ``key``, however many processes ask at once; the new notification's id when this
    call made it, None when it existed."""
    return _add_once(
        session,
        Notification(
            kind=kind,
            recipient_openid=recipient_openid,
            order_id=order_id,
            outage_id=outage_id,
            deadline_name=deadline_name,
            dedup_key=key,
            message=message,
            created_at=now,
            next_attempt_at=send_at or now,
        ),
    )


def staff_feed(session: Session, after_id: int, kind: str | None, limit: int) -> list[Notification]:
    """Staff notifications (reminders, breaches …) after ``after_id``, oldest first: the feed staff poll."""
    query = select(Notification).where(Notification.id > after_id, Notification.recipient_openid.is_(None))
    if kind:
        query = query.where(Notification.kind == kind)
    return list(session.scalars(query.order_by(Notification.id).limit(limit)))


def _notify_staff(session: Session, deadline: Deadline, kind: str, now: datetime) -> bool:
    """One reminder or breach of ``deadline`` for staff, unless it exists; True when created."""
    order = session.get(WorkOrder, deadline.order_id)
    assert order is not None
    words = deadline_label(deadline.name, order.kind, order.business_type)[0]
    due = _local(deadline.due_at)
    message = (
        f"工单 {order.number} 已超过{words}时限（{due}）"
        if kind == "breach"
        else f"工单 {order.number} 的{words}时限将于 {due} 到期"
    )
    key = f"{kind}:{order.id}:{deadline.name}:{deadline.due_at.isoformat()}"
    made = notify(session, kind=kind, key=key, message=message, now=now, order_id=order.id, deadline_name=deadline.name)
    return made is not None


def scan_deadlines(session: Session, now: datetime) -> ScanResult:
    """Create the reminders and breaches that are due at ``now``; commits."""
    breaches = reminders = 0
    open_deadline = Deadline.met_at.is_(None)
    passed = select(Deadline).where(open_deadline, Deadline.breached_at.is_(None), Deadline.due_at <= now)
    for deadline in session.scalars(passed.order_by(Deadline.due_at).limit(BATCH)).all():
        breaches += _notify_staff(session, deadline, "breach", now)
        deadline.breached_at = now
        deadline.reminded_at = deadline.reminded_at or now  # a stale reminder is not sent afterwards
    nearly = select(Deadline).where(
        open_deadline, Deadline.reminded_at.is_(None), Deadline.remind_at <= now, Deadline.due_at > now
    )
    for deadline in session.scalars(nearly.order_by(Deadline.remind_at).limit(BATCH)).all():
        reminders += _notify_staff(session, deadline, "reminder", now)
        deadline.reminded_at = now
    session.commit()
    return ScanResult(reminders, breaches)


def _claim(session: Session, notification_id: int, now: datetime) -> bool:
    result = session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.delivered_at.is_(None),
            or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
        )
        .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
    )
    session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _entities(session: Session, notification: Notification) -> dict[str, Any]:
    """What the bot needs to say a resident's message: its text, and the outage or order it is about."""
    entities: dict[str, Any] = {
        "message": notification.message,
        "outage_id": notification.outage_id,
        "handover": handover_key(notification.id),
    }
    if notification.order_id is not None:
        order = session.get(WorkOrder, notification.order_id)
        entities.update(order_id=notification.order_id, order_number=order.number if order else None)
    if notification.kind == "campaign_question":  # the contact the answer is recorded for
        entities["contact_id"] = session.scalar(
            select(CampaignContact.id).where(CampaignContact.notification_id == notification.id)
        )
    return entities


def _heard_in_chat(session: Session, bot: BotClient, notification: Notification) -> bool:
    """Whether the resident heard the order's number in the conversation (the usual case: the filing
    turn answered it). Saying is not hearing: Rasa saves a turn before the WeChat channel answers it, so
    a turn whose answer says the number counts only when the channel sent that answer out (a Rasa
    process stopped in between leaves a conversation with the number and a resident without it).
    DeliveryFailed when the conversation or the channel cannot be read: tried again later."""
    order = session.get(WorkOrder, notification.order_id) if notification.order_id else None
    openid = notification.recipient_openid
    if order is None or not order.number or not openid:
        return False
    message: dict[str, Any] | None = None  # the resident's message whose turn the event answers
    for event in bot.transcript(openid):
        if event.get("event") == "user":
            message = event
        elif event.get("event") == "bot" and order.number in str(event.get("text") or ""):
            if message is None or message.get("input_channel") != WECHAT_CHANNEL or not message.get("message_id"):
                return True  # said outside a WeChat turn (a notice, another channel): sent with the saying
            if bot.answered(openid, str(message["message_id"])):
                return True
    return False


# A message for a resident who is in the middle of a form (a filing, a survey) waits until it is done:
# while a form is active, Rasa gives every message to the form, so the quote or the notice would never be
# shown (and would be taken for an answer to the form's question). A form left alone this long is
# abandoned: it is ended, and the message goes out.
BUSY_RETRY = timedelta(seconds=15)
ABANDONED_FORM = timedelta(minutes=20)


def _resident_is_busy(bot: BotClient, openid: str, now: datetime) -> bool:
    loop, latest = bot.active_loop(openid)
    if loop is None:
        return False
    if latest is not None and now.timestamp() - latest < ABANDONED_FORM.total_seconds():
        return True
    bot.end_loop(openid)
    log.info("ended a form left for %s min before sending the resident a message", ABANDONED_FORM)
    return False


def deliver_pending(session: Session, now: datetime, notifier: WebhookNotifier, bot: BotClient) -> int:
    """Send what is queued and due; returns how many were delivered."""
    query = select(Notification.id).where(
        Notification.delivered_at.is_(None),
        Notification.next_attempt_at <= now,
    )
    if not notifier.configured:
        # Without a webhook staff notifications live in the feed only; resident messages still go out.
        query = query.where(Notification.recipient_openid.is_not(None))
    delivered = 0
    for notification_id in session.scalars(query.order_by(Notification.id).limit(BATCH)).all():
        if not _claim(session, notification_id, now):
            continue  # another process has it
        notification = session.get(Notification, notification_id)
        assert notification is not None
        try:
            if _held_back(session, bot, notification, now):
                session.commit()
                continue
            _send(session, notification, notifier, bot)
        except DeliveryFailed as exc:
            notification.delivery_attempts += 1
            backoff = timedelta(seconds=doubling(notification.delivery_attempts, base=30, cap=MAX_BACKOFF_SECONDS))
            notification.next_attempt_at = now + backoff
            notification.last_error = str(exc)[:500]
            notification.claimed_until = None
            log.warning(
                "notification %s not delivered (attempt %s): %s", notification.id, notification.delivery_attempts, exc
            )
        else:
            notification.delivered_at = now
            # A resident's message now sits in the WeChat channel's outbox, which records whether the
            # platform took it, a template carried it, or it waits for staff as undelivered.
            notification.delivery_state = "handed_to_channel" if notification.recipient_openid else "delivered"
            notification.delivery_attempts += 1
            delivered += 1
        session.commit()
    return delivered


def _held_back(session: Session, bot: BotClient, notification: Notification, now: datetime) -> bool:
    """True when the notification is not sent now: a filed order's number the chat already says (done),
    or a resident busy with another matter in the chat (tried again later)."""
    if notification.kind == ORDER_FILED and _heard_in_chat(session, bot, notification):
        notification.delivered_at = now
        notification.delivery_state = "heard_in_chat"  # nothing to send
        return True
    if notification.recipient_openid and _resident_is_busy(bot, notification.recipient_openid, now):
        notification.next_attempt_at = now + BUSY_RETRY
        notification.claimed_until = None
        notification.last_error = "居民正在对话中办理另一件事（如报修登记），办完后再发"
        return True
    return False


def _send(session: Session, notification: Notification, notifier: WebhookNotifier, bot: BotClient) -> None:
    """A resident's message through the bot; staff's to the webhook. DeliveryFailed when it did not go."""
    if notification.recipient_openid:
        intent = resident_intent(notification.kind)
        bot.trigger_intent(notification.recipient_openid, intent, _entities(session, notification))
        return
    notifier.send(
        {
            "id": notification.id,
            "kind": notification.kind,
            "order_id": notification.order_id,
            "deadline": notification.deadline_name,
            "message": notification.message,
            "created_at": notification.created_at.isoformat(),
        }
    )


def latest_for_staff(session: Session, since: datetime, limit: int) -> list[Notification]:
    """Staff notifications made after ``since``, newest first."""
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.recipient_openid.is_(None), Notification.created_at > since)
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )
