"""Unplanned outages (6.3.1): residents are told when restoration is expected after more than 24 hours,
and told again when the expected restoration moves.

A notice goes to every resident of the communities as the company's official word, so it is composed
from fields (``heating_standard.notices``), can be previewed, and an outage whose creation or change sends
one needs a supervisor.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from api.errors import Forbidden, NotFound, Unprocessable
from api.models import Notification, Outage
from api.schemas import OutageCreate, OutagePreview, OutageUpdate
from api.services.audit import record
from api.services.people import openids_in_communities
from api.services.principals import Principal
from api.services.scheduler import notify
from heating_standard import notices
from heating_standard.deadlines import HeatingSeason, season_of
from heating_standard.localtime import local_date


def _checked(data: OutageCreate) -> tuple[str | None, str]:
    """The note and place a notice may carry; 422 naming the field otherwise."""
    if data.expected_restoration_at <= data.started_at:
        raise Unprocessable("expected_restoration_at", "restoration is expected after the outage starts")
    note = _plain_words("cause_note", data.cause_note, notices.NOTE_MAX_CHARS)
    place = _plain_words("repair_location", data.repair_location, notices.PLACE_MAX_CHARS)
    if place is None:
        raise Unprocessable("repair_location", "name where the repair is")
    return note, place


def _plain_words(field: str, text: str | None, limit: int) -> str | None:
    """``text`` as a notice may carry it (``notices.check_words``), or a 422 naming the field."""
    try:
        return notices.check_words(field, text, limit)
    except notices.NoticeRefused as exc:
        raise Unprocessable(exc.field, exc.reason) from None


def _require_supervisor(principal: Principal) -> None:
    if not principal.may_approve:
        raise Forbidden("an outage that notifies residents needs a supervisor")


def told_this_season(
    session: Session, communities: list[str], started_at: datetime, seasons: Sequence[HeatingSeason]
) -> bool:
    """6.3.1 "再次停热时应再次通知": an earlier outage of the same heating season was announced to one of
    ``communities``, so a new one there is announced whatever its expected length."""
    season = season_of(local_date(started_at), seasons)
    if season is None:
        return False
    season_start, _ = season.bounds()
    earlier = session.scalars(
        select(Outage.communities).where(
            Outage.notified_at.is_not(None), Outage.started_at >= season_start, Outage.started_at < started_at
        )
    )
    wanted = set(communities)
    return any(wanted & set(told) for told in earlier)


def preview_outage(session: Session, data: OutageCreate, seasons: Sequence[HeatingSeason]) -> OutagePreview:
    """The notice residents would receive and how many would receive it; nothing is stored or sent."""
    note, place = _checked(data)
    again = told_this_season(session, data.communities, data.started_at, seasons)
    facts = notices.OutageFacts(
        data.cause_code, note, tuple(data.communities), place, data.expected_restoration_at, False, again
    )
    notifies = again or notices.announced_on_entry(data.started_at, data.expected_restoration_at)
    recipients = len(openids_in_communities(session, data.communities)) if notifies else 0
    return OutagePreview(
        message=notices.outage_notice(facts), recipients=recipients, notifies=notifies, needs_supervisor=notifies
    )


def create_outage(
    session: Session, data: OutageCreate, principal: Principal, now: datetime, seasons: Sequence[HeatingSeason]
) -> Outage:
    note, place = _checked(data)
    again = told_this_season(session, data.communities, data.started_at, seasons)
    if again or notices.announced_on_entry(data.started_at, data.expected_restoration_at):
        _require_supervisor(principal)
    outage = Outage(
        communities=data.communities,
        heated_area_m2=data.heated_area_m2,
        started_at=data.started_at,
        expected_restoration_at=data.expected_restoration_at,
        cause_code=data.cause_code,
        cause_note=note,
        cause=notices.cause_text(data.cause_code, note),
        repair_location=place,
        created_by=principal.name,
        created_at=now,
        updated_at=now,
    )
    session.add(outage)
    session.flush()
    _notify_if_long(session, outage, now, again)
    record(session, now, principal.name, "outage.create", f"outage:{outage.id}", "、".join(data.communities))
    session.commit()
    return outage


def update_outage(session: Session, outage_id: int, data: OutageUpdate, principal: Principal, now: datetime) -> Outage:
    outage = get(session, outage_id)
    if data.cause_note is not None:
        outage.cause_note = _plain_words("cause_note", data.cause_note, notices.NOTE_MAX_CHARS)
        outage.cause = notices.cause_text(outage.cause_code or "other_emergency", outage.cause_note)
    if data.expected_restoration_at is not None:
        if data.expected_restoration_at <= outage.started_at:
            raise Unprocessable("expected_restoration_at", "restoration is expected after the outage starts")
        moved = data.expected_restoration_at != outage.expected_restoration_at
        told_again = (
            notices.announced_on_entry(outage.started_at, data.expected_restoration_at)
            or outage.notified_at is not None
        )
        if moved and told_again and data.restored_at is None:
            _require_supervisor(principal)  # residents are told (again)
        outage.expected_restoration_at = data.expected_restoration_at
    if data.restored_at is not None:
        if data.restored_at < outage.started_at:
            raise Unprocessable("restored_at", "restoration cannot come before the outage")
        outage.restored_at = data.restored_at
    outage.updated_at = now
    if outage.restored_at is None:
        _notify_if_long(session, outage, now)
    changed = data.model_dump(mode="json", exclude_none=True)
    record(session, now, principal.name, "outage.update", f"outage:{outage.id}", str(changed))
    session.commit()
    return outage


def active_outages(session: Session, now: datetime, community: str | None = None) -> list[Outage]:
    """Outages started and not restored; for one community when given."""
    rows = session.scalars(
        select(Outage)
        .where(Outage.started_at <= now, or_(Outage.restored_at.is_(None), Outage.restored_at > now))
        .order_by(Outage.started_at.desc())
    )
    return [o for o in rows if community is None or community in o.communities]


def watch(session: Session, now: datetime) -> int:
    """The scheduler's pass over unrestored outages (6.3.1, "再次停热或超时停热时应再次通知"):

    - past its expected restoration: staff are alerted, and residents who were told (or whose outage
      has lasted over 24 hours) are told that it runs over, once per expected time; staff then set a
      new time, which notifies again;
    - expected under 24 hours but running longer: residents are told now, as for a long outage.

    "Lasted over 24 hours" counts from the later of the start and the moment the outage was entered
    (``notices.lasted_a_day_on_record``): a start an agent types into the past tells nobody anything.

    Returns how many notifications were created."""
    created = 0
    unrestored = session.scalars(select(Outage).where(Outage.restored_at.is_(None), Outage.started_at <= now))
    for outage in unrestored.all():
        facts = _facts(outage)
        expected = outage.expected_restoration_at.isoformat()
        lasted_a_day = notices.lasted_a_day_on_record(outage.started_at, outage.created_at, now)
        if now >= outage.expected_restoration_at:
            overrun = notify(
                session,
                kind="outage_overrun",
                key=f"outage:{outage.id}:overrun:{expected}",
                message=f"停热#{outage.id}（{'、'.join(outage.communities)}）已超过预计恢复时间，仍未恢复："
                "请登记新的预计恢复时间或恢复时间",
                now=now,
                outage_id=outage.id,
            )
            created += overrun is not None
            if outage.notified_at is not None or lasted_a_day:
                created += _tell_residents(session, outage, notices.overrun_notice(facts), f"overrun:{expected}", now)
                outage.notified_at = outage.notified_at or now
        elif outage.notified_at is None and lasted_a_day:
            created += _tell_residents(session, outage, notices.outage_notice(facts), expected, now)
            outage.notified_at = now
            outage.notified_restoration_at = outage.expected_restoration_at
    session.commit()
    return created


def _facts(outage: Outage, extension: bool = False, again: bool = False) -> notices.OutageFacts:
    return notices.OutageFacts(
        outage.cause_code or "other_emergency",
        outage.cause_note,
        tuple(outage.communities),
        outage.repair_location,
        outage.expected_restoration_at,
        extension=extension,
        again=again,
    )


def _tell_residents(session: Session, outage: Outage, message: str, occasion: str, now: datetime) -> int:
    """One message per resident of the communities for this occasion (deduplicated by the database)."""
    told = 0
    for openid in openids_in_communities(session, outage.communities):
        made = notify(
            session,
            kind="outage_notice",
            key=f"outage:{outage.id}:{occasion}:{openid}",
            message=message,
            now=now,
            recipient_openid=openid,
            outage_id=outage.id,
        )
        told += made is not None
    return told


def _notify_if_long(session: Session, outage: Outage, now: datetime, again: bool = False) -> None:
    """One notice per resident per expected restoration time, when the outage runs over 24 h, when it follows
    one announced to its area this season (``again``), or when residents were told already and the time
    moves."""
    told = outage.notified_at is not None
    if not (again or told or notices.announced_on_entry(outage.started_at, outage.expected_restoration_at)):
        return
    if outage.notified_restoration_at == outage.expected_restoration_at:
        return
    message = notices.outage_notice(_facts(outage, extension=told, again=again and not told))
    _tell_residents(session, outage, message, outage.expected_restoration_at.isoformat(), now)
    outage.notified_at = now
    outage.notified_restoration_at = outage.expected_restoration_at


def recent(session: Session, since: datetime, limit: int = 100) -> list[Outage]:
    """Outages not restored, or restored after ``since``, newest first."""
    return list(
        session.scalars(
            select(Outage)
            .where((Outage.restored_at.is_(None)) | (Outage.restored_at > since))
            .order_by(Outage.started_at.desc())
            .limit(limit)
        )
    )


def notices_of(session: Session, outage_id: int, limit: int) -> tuple[list[Notification], int]:
    """The first ``limit`` notices the outage sent, and how many it sent in all."""
    query = select(Notification).where(Notification.outage_id == outage_id).order_by(Notification.id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.limit(limit))), total


def get(session: Session, outage_id: int) -> Outage:
    """One outage by id, or NotFound."""
    outage = session.get(Outage, outage_id)
    if outage is None:
        raise NotFound(f"outage {outage_id} does not exist")
    return outage
