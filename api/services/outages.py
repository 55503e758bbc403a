"""Unplanned outages (6.3.1): residents are told when restoration is expected after more than 24 hours,
and told again when the expected restoration moves."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api.domain.deadlines import LOCAL_TZ
from api.errors import NotFound, Unprocessable
from api.models import Notification, Outage
from api.schemas import OutageCreate, OutageUpdate
from api.services.people import openids_in_communities
from api.services.scheduler import _add_once

NOTICE_THRESHOLD = timedelta(hours=24)


def create_outage(session: Session, data: OutageCreate, now: datetime) -> Outage:
    if data.expected_restoration_at <= data.started_at:
        raise Unprocessable("expected_restoration_at", "restoration is expected after the outage starts")
    outage = Outage(
        communities=data.communities,
        heated_area_m2=data.heated_area_m2,
        started_at=data.started_at,
        expected_restoration_at=data.expected_restoration_at,
        cause=data.cause,
        repair_location=data.repair_location,
        created_at=now,
        updated_at=now,
    )
    session.add(outage)
    session.flush()
    _notify_if_long(session, outage, now)
    session.commit()
    return outage


def update_outage(session: Session, outage_id: int, data: OutageUpdate, now: datetime) -> Outage:
    outage = session.get(Outage, outage_id)
    if outage is None:
        raise NotFound(f"outage {outage_id} does not exist")
    if data.cause:
        outage.cause = data.cause
    if data.expected_restoration_at is not None:
        if data.expected_restoration_at <= outage.started_at:
            raise Unprocessable("expected_restoration_at", "restoration is expected after the outage starts")
        outage.expected_restoration_at = data.expected_restoration_at
    if data.restored_at is not None:
        if data.restored_at < outage.started_at:
            raise Unprocessable("restored_at", "restoration cannot come before the outage")
        outage.restored_at = data.restored_at
    outage.updated_at = now
    if outage.restored_at is None:
        _notify_if_long(session, outage, now)
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


def _notify_if_long(session: Session, outage: Outage, now: datetime) -> None:
    """One notice per resident per expected restoration time, when the outage runs over 24 h."""
    if outage.expected_restoration_at - outage.started_at <= NOTICE_THRESHOLD:
        return
    if outage.notified_restoration_at == outage.expected_restoration_at:
        return
    extension = outage.notified_at is not None
    restoration = outage.expected_restoration_at.astimezone(LOCAL_TZ).strftime("%m月%d日%H:%M")
    lead = "停热延长通知" if extension else "停热通知"
    message = (
        f"【{lead}】因{outage.cause}，{'、'.join(outage.communities)}暂停供热，"
        f"抢修地点：{outage.repair_location}，预计{restoration}恢复供热。给您带来不便，敬请谅解。"
    )
    for openid in openids_in_communities(session, outage.communities):
        _add_once(
            session,
            Notification(
                kind="outage_notice",
                recipient_openid=openid,
                outage_id=outage.id,
                dedup_key=f"outage:{outage.id}:{outage.expected_restoration_at.isoformat()}:{openid}",
                message=message,
                created_at=now,
                next_attempt_at=now,
            ),
        )
    outage.notified_at = now
    outage.notified_restoration_at = outage.expected_restoration_at
