"""Residents as the bot remembers them, and grid workers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.errors import Conflict, NotFound
from api.models import Address, GridWorker, Resident
from api.schemas import GridWorkerCreate


def get_resident(session: Session, openid: str) -> Resident:
    """A resident with their addresses, most recently used first."""
    resident = session.scalars(select(Resident).where(Resident.openid == openid)).first()
    if resident is None:
        raise NotFound("no resident with that openid")
    resident.addresses.sort(key=lambda a: a.last_used_at, reverse=True)
    return resident


def register_grid_worker(session: Session, data: GridWorkerCreate, now: datetime) -> GridWorker:
    worker = GridWorker(
        openid=data.openid, name=data.name, phone=data.phone, communities=data.communities, active=True, created_at=now
    )
    session.add(worker)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict("a grid worker with that openid is registered") from None
    return worker


def get_grid_worker(session: Session, openid: str) -> GridWorker:
    worker = session.scalars(select(GridWorker).where(GridWorker.openid == openid, GridWorker.active)).first()
    if worker is None:
        raise NotFound("no active grid worker with that openid")
    return worker


def openids_in_communities(session: Session, communities: list[str]) -> list[str]:
    """Residents with an address in any of ``communities`` and a WeChat openid."""
    rows = session.scalars(
        select(Resident.openid)
        .join(Address, Address.resident_id == Resident.id)
        .where(Address.community.in_(communities), Resident.openid.is_not(None))
        .distinct()
    )
    return sorted(o for o in rows if o)
