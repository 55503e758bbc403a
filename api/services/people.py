"""Residents as the bot remembers them, and grid workers."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.errors import AppError, Conflict, NotFound
from api.models import Address, GridWorker, LoginFailure, Resident, WorkOrder
from api.schemas import GridWorkerCreate
from api.services.audit import record


def get_resident(session: Session, openid: str) -> Resident:
    """A resident with their addresses, most recently used first."""
    resident = session.scalars(select(Resident).where(Resident.openid == openid)).first()
    if resident is None:
        raise NotFound("no resident with that openid")
    resident.addresses.sort(key=lambda a: a.last_used_at, reverse=True)
    return resident


# The one-time binding code: 8 characters without look-alikes (0/O, 1/I/L), about 40 bits, so that
# guessing one through the bot is hopeless under the failure limit below.
BIND_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
BIND_CODE_LENGTH = 8
BIND_CODE_TTL = timedelta(hours=72)
BIND_FAILURES = 5  # per WeChat user ...
BIND_WINDOW = timedelta(hours=1)  # ... per hour


class TooManyBindAttempts(AppError):
    status_code = 429
    code = "too_many_attempts"


def _code_hash(code: str) -> str:
    normal = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()


def shown_code(code: str) -> str:
    """ "K7MXQ4PA" -> "K7MX-Q4PA", easier to read out and type."""
    return f"{code[:4]}-{code[4:]}"


def _issue_code(worker: GridWorker, now: datetime) -> str:
    code = "".join(secrets.choice(BIND_ALPHABET) for _ in range(BIND_CODE_LENGTH))
    worker.bind_code_hash = _code_hash(code)
    worker.bind_code_expires_at = now + BIND_CODE_TTL
    return shown_code(code)


def register_grid_worker(
    session: Session, data: GridWorkerCreate, now: datetime, actor: str = "system"
) -> tuple[GridWorker, str | None]:
    """A grid worker with their communities; without an openid, also their one-time binding code."""
    worker = GridWorker(
        openid=data.openid,
        name=data.name,
        phone=data.phone,
        communities=data.communities,
        active=True,
        created_at=now,
        bound_at=now if data.openid else None,
    )
    code = None if data.openid else _issue_code(worker, now)
    session.add(worker)
    try:
        session.flush()
        record(session, now, actor, "grid_worker.register", f"grid_worker:{worker.id}", "、".join(data.communities))
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict("a grid worker with that openid is registered") from None
    return worker, code


def new_bind_code(session: Session, worker_id: int, now: datetime, actor: str) -> tuple[GridWorker, str]:
    """A fresh code (the old one stops working), e.g. for a new phone; the binding moves when it is used."""
    worker = session.get(GridWorker, worker_id)
    if worker is None:
        raise NotFound(f"grid worker {worker_id} does not exist")
    code = _issue_code(worker, now)
    record(session, now, actor, "grid_worker.new_code", f"grid_worker:{worker.id}")
    session.commit()
    return worker, code


def bind_grid_worker(session: Session, openid: str, code: str, now: datetime) -> GridWorker:
    """The sender of a valid, unexpired code becomes that grid worker's WeChat. Wrong codes count
    against the sender: after BIND_FAILURES within BIND_WINDOW every attempt is refused (429)."""
    key = f"bind:{openid}"[:64]
    failures = session.scalar(
        select(func.count()).where(LoginFailure.username == key, LoginFailure.at > now - BIND_WINDOW)
    )
    if (failures or 0) >= BIND_FAILURES:
        raise TooManyBindAttempts("too many wrong codes; try again in an hour or ask the heating company")
    worker = session.scalars(
        select(GridWorker).where(GridWorker.bind_code_hash == _code_hash(code), GridWorker.active)
    ).first()
    if worker is None or worker.bind_code_expires_at is None or worker.bind_code_expires_at <= now:
        session.add(LoginFailure(username=key, address="wechat", at=now))
        session.commit()
        raise NotFound("no grid worker has that code, or it has expired")
    taken = session.scalars(select(GridWorker).where(GridWorker.openid == openid, GridWorker.id != worker.id)).first()
    if taken is not None:
        raise Conflict("this WeChat account is bound to another grid worker")
    worker.openid = openid
    worker.bound_at = now
    worker.bind_code_hash = None
    worker.bind_code_expires_at = None
    record(session, now, f"wechat:{openid}"[:96], "grid_worker.bind", f"grid_worker:{worker.id}")
    session.commit()
    return worker


def grid_workers(session: Session) -> list[GridWorker]:
    return list(session.scalars(select(GridWorker).order_by(GridWorker.active.desc(), GridWorker.name)))


def set_grid_worker_active(session: Session, worker_id: int, active: bool, now: datetime, actor: str) -> GridWorker:
    worker = session.get(GridWorker, worker_id)
    if worker is None:
        raise NotFound(f"grid worker {worker_id} does not exist")
    worker.active = active
    record(
        session, now, actor, "grid_worker.activate" if active else "grid_worker.deactivate", f"grid_worker:{worker.id}"
    )
    session.commit()
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


def orders_forwarded(session: Session) -> dict[int, int]:
    """How many orders each grid worker forwarded, by the grid worker's id."""
    rows = session.execute(
        select(WorkOrder.forwarded_by_grid_worker_id, func.count())
        .where(WorkOrder.forwarded_by_grid_worker_id.is_not(None))
        .group_by(WorkOrder.forwarded_by_grid_worker_id)
    ).all()
    return {int(worker): int(count) for worker, count in rows if worker is not None}


def grid_worker(session: Session, worker_id: int | None) -> GridWorker | None:
    """A grid worker by id (None for None)."""
    return session.get(GridWorker, worker_id) if worker_id is not None else None
