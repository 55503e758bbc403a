"""Announcements to every follower (5.2.5, 6.1.1, 9.2.1): composed from the operator's facts
(``heating_standard.announcements``), previewed with the followers they would reach, scheduled and approved
by a supervisor within the platform's four mass-sends a natural month, and sent once by the scheduler through
the WeChat channel (``channels/announcements.py``).

The states: ``draft`` → (approve) ``approved`` → (the scheduler, at its time) ``sending`` → ``sent``; the
platform refused it (the month's four spent elsewhere): ``failed``; the channel cannot say whether the platform
got it: ``unconfirmed``, and a supervisor checks the platform's record and marks it sent, or releases it to be
sent again under a new key. A draft or an approved one not yet sent may be cancelled. The channel or the
platform down: the announcement stays approved and is tried again with backoff.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from api.errors import Conflict, NotFound, Unprocessable
from api.models import Announcement
from api.schemas import AnnouncementCreate, AnnouncementPreview
from api.services.audit import record
from api.services.outbound import BotClient, DeliveryFailed
from api.services.principals import Principal
from api.services.scheduler import notify
from heating_standard import announcements as rules
from heating_standard.announcements import AnnouncementKind
from heating_standard.deadlines import season_of
from heating_standard.localtime import LOCAL_TZ, local_date
from heating_standard.operator import OperatorFile
from policies.backoff import doubling
from policies.wechat import MASS_SENDS_PER_MONTH

log = logging.getLogger(__name__)

# What counts against the month's four: whatever is going out or went out, or may have.
SPENDING = ("approved", "sending", "sent", "unconfirmed")
# A sending claimed this long ago without an answer (the process stopped): asked again, under the same key,
# which the channel answers from its record.
STALE_SENDING = timedelta(minutes=5)
MAX_BACKOFF_SECONDS = 3600.0


def _facts(data: AnnouncementCreate, config: OperatorFile) -> rules.Facts:
    """The announcement's facts. Its season: for the commissioning, the first to start after it; for the start
    of heating, the first to start after the sending (else the one running, which is then too late)."""
    seasons = config.seasons()
    after = data.commissioning_to if data.kind == AnnouncementKind.COMMISSIONING else None
    after = after or local_date(data.scheduled_at)
    coming = [s for s in seasons if s.start > after]
    season = min(coming, key=lambda s: s.start) if coming else season_of(after, seasons)
    return rules.Facts(
        season=season,
        commissioning_from=data.commissioning_from,
        commissioning_to=data.commissioning_to,
        price_from=data.price_from,
        fee_standard=str(config.service.get("fee_standard") or ""),
    )


def compose(data: AnnouncementCreate, config: OperatorFile, now: datetime) -> str:
    if data.scheduled_at < now:
        raise Unprocessable("scheduled_at", "发送时间不能早于现在")
    try:
        return rules.compose(data.kind, _facts(data, config), config.company.standard, data.scheduled_at)
    except rules.AnnouncementRefused as exc:
        raise Unprocessable(exc.field, exc.reason) from None


def month_used(session: Session, moment: datetime, leaving_out: int | None = None) -> int:
    """Announcements of ``moment``'s Beijing month that spend one of its four."""
    local = moment.astimezone(LOCAL_TZ)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (first + timedelta(days=32)).replace(day=1)
    query = select(func.count()).where(
        Announcement.status.in_(SPENDING), Announcement.scheduled_at >= first, Announcement.scheduled_at < following
    )
    if leaving_out is not None:
        query = query.where(Announcement.id != leaving_out)
    return session.scalar(query) or 0


def _followers(bot: BotClient) -> int | None:
    try:
        return bot.followers()
    except DeliveryFailed:
        log.info("the follower count is not available now", exc_info=True)
        return None


def preview(
    session: Session, data: AnnouncementCreate, config: OperatorFile, bot: BotClient, now: datetime
) -> AnnouncementPreview:
    text = compose(data, config, now)
    used = month_used(session, data.scheduled_at)
    return AnnouncementPreview(text=text, recipients=_followers(bot), month_used=used, month_quota=MASS_SENDS_PER_MONTH)


def create(
    session: Session, data: AnnouncementCreate, config: OperatorFile, principal: Principal, now: datetime
) -> Announcement:
    """A draft: the text is composed now, from the operator's facts as they are, and is what will be sent."""
    text = compose(data, config, now)
    facts = data.model_dump(mode="json", exclude={"kind", "scheduled_at"}, exclude_none=True)
    announcement = Announcement(
        kind=data.kind.value,
        text=text,
        facts=facts,
        scheduled_at=data.scheduled_at,
        status="draft",
        key="",
        attempts=0,
        created_by=principal.name,
        created_at=now,
        updated_at=now,
    )
    session.add(announcement)
    session.flush()
    announcement.key = f"announcement:{announcement.id}"
    record(session, now, principal.name, "announcement.create", f"announcement:{announcement.id}", data.kind.value)
    session.commit()
    return announcement


def get(session: Session, announcement_id: int) -> Announcement:
    found = session.get(Announcement, announcement_id)
    if found is None:
        raise NotFound(f"announcement {announcement_id} does not exist")
    return found


def listed(session: Session, limit: int = 100) -> list[Announcement]:
    return list(session.scalars(select(Announcement).order_by(Announcement.scheduled_at.desc()).limit(limit)))


def _move(session: Session, announcement: Announcement, from_states: tuple[str, ...], values: dict[str, Any]) -> None:
    """One conditional update: of two supervisors acting at once, one moves it (409 for the other)."""
    moved = session.execute(
        update(Announcement)
        .where(Announcement.id == announcement.id, Announcement.status.in_(from_states))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount == 0:  # type: ignore[attr-defined]
        session.rollback()
        raise Conflict("this announcement is no longer in a state that allows it", code="announcement_moved")
    session.commit()
    session.refresh(announcement)


def approve(
    session: Session, announcement_id: int, principal: Principal, bot: BotClient, now: datetime
) -> Announcement:
    """A supervisor approves the draft they previewed: it goes out at its time, if the month has room."""
    announcement = get(session, announcement_id)
    if announcement.scheduled_at < now:
        raise Unprocessable("scheduled_at", "发送时间已过：请取消后重新安排")
    if month_used(session, announcement.scheduled_at, leaving_out=announcement.id) >= MASS_SENDS_PER_MONTH:
        raise Conflict(
            f"本月的群发次数已用完（微信服务号每月{MASS_SENDS_PER_MONTH}次）：请改到下个月发送", code="no_mass_quota"
        )
    values = {
        "status": "approved",
        "approved_by": principal.name,
        "approved_at": now,
        "recipients": _followers(bot),
        "next_attempt_at": announcement.scheduled_at,
        "updated_at": now,
    }
    _move(session, announcement, ("draft",), values)
    record(session, now, principal.name, "announcement.approve", f"announcement:{announcement.id}", announcement.kind)
    session.commit()
    return announcement


def cancel(session: Session, announcement_id: int, principal: Principal, now: datetime) -> Announcement:
    announcement = get(session, announcement_id)
    _move(session, announcement, ("draft", "approved"), {"status": "cancelled", "updated_at": now})
    record(session, now, principal.name, "announcement.cancel", f"announcement:{announcement.id}", announcement.kind)
    session.commit()
    return announcement


def settle(session: Session, announcement_id: int, sent: bool, principal: Principal, now: datetime) -> Announcement:
    """An unconfirmed sending, checked on the platform by a supervisor: it went out (``sent``), or it did not,
    and it is sent again at the next pass under a new key (the channel keeps the old one as unknown)."""
    announcement = get(session, announcement_id)
    if sent:
        values: dict[str, Any] = {"status": "sent", "sent_at": now, "updated_at": now}
    else:
        values = {
            "status": "approved",
            "key": f"announcement:{announcement.id}:{announcement.attempts + 1}",
            "next_attempt_at": now,
            "updated_at": now,
        }
    _move(session, announcement, ("unconfirmed",), values)
    action = "announcement.confirm_sent" if sent else "announcement.release"
    record(session, now, principal.name, action, f"announcement:{announcement.id}", announcement.kind)
    session.commit()
    return announcement


def send_due(session: Session, now: datetime, bot: BotClient) -> int:
    """The scheduler's pass: each approved announcement whose time has come, claimed with one conditional
    update (two backends never send one), sent through the channel; returns how many went out."""
    due = session.scalars(
        select(Announcement.id).where(
            or_(
                (Announcement.status == "approved") & (Announcement.next_attempt_at <= now),
                (Announcement.status == "sending") & (Announcement.updated_at <= now - STALE_SENDING),
            )
        )
    ).all()
    sent = 0
    for announcement_id in due:
        claimed = session.execute(
            update(Announcement)
            .where(
                Announcement.id == announcement_id,
                or_(
                    Announcement.status == "approved",
                    (Announcement.status == "sending") & (Announcement.updated_at <= now - STALE_SENDING),
                ),
            )
            .values(status="sending", attempts=Announcement.attempts + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            sent += _send(session, get(session, announcement_id), now, bot)
    return sent


def _send(session: Session, announcement: Announcement, now: datetime, bot: BotClient) -> int:
    key, text = announcement.key, announcement.text
    session.commit()  # no database connection is held while the channel and the platform answer
    try:
        answer = bot.announce(key, text)
    except DeliveryFailed as exc:
        delay = doubling(announcement.attempts - 1, base=60.0, cap=MAX_BACKOFF_SECONDS)
        announcement.status, announcement.last_error = "approved", str(exc)[:500]
        announcement.next_attempt_at = now + timedelta(seconds=delay)
        session.commit()
        return 0
    if answer["status"] == "sent":
        announcement.status, announcement.msg_id, announcement.sent_at = "sent", str(answer.get("msg_id")), now
        session.commit()
        return 1
    refused = answer["status"] == "refused"
    announcement.status = "failed" if refused else "unconfirmed"
    announcement.last_error = str(answer.get("detail") or answer.get("errcode") or "")[:500]
    message = (
        f"公告“{announcement.text[:20]}…”被微信平台拒绝（{answer.get('errcode')}），没有发出"
        if refused
        else f"公告“{announcement.text[:20]}…”发送结果未知：请在公众平台的群发记录中核实，再在控制台确认"
    )
    notify(session, kind="announcement_problem", key=f"announcement:{announcement.key}", message=message, now=now)
    session.commit()
    return 0
