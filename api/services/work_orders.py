"""Filing and reading work orders."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.domain import deadlines
from api.domain.work_orders import Status
from api.errors import Conflict, NotFound
from api.models import WorkOrder
from api.schemas import WorkOrderCreate

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def order_number(order_id: int, accepted_at: datetime) -> str:
    """A human-readable number: GD + local acceptance date + the order's id, e.g. GD20261127000042."""
    return f"GD{accepted_at.astimezone(LOCAL_TZ):%Y%m%d}{order_id:06d}"


def create_work_order(
    session: Session, data: WorkOrderCreate, now: datetime, idempotency_key: str | None = None
) -> tuple[WorkOrder, bool]:
    """File an order; returns (order, created). A known idempotency key returns the first order."""
    if idempotency_key:
        existing = _by_idempotency_key(session, idempotency_key)
        if existing is not None:
            return existing, False
    accepted_at = data.accepted_at or now
    order = WorkOrder(
        kind=data.kind.value,
        category=data.category.value,
        source=data.source.value,
        status=Status.ACCEPTED.value,
        description=data.description,
        resident_openid=data.resident_openid,
        phone=data.phone,
        address=data.address,
        urgent=data.urgent,
        accepted_at=accepted_at,
        response_due_at=deadlines.response_due_at(accepted_at),
        idempotency_key=idempotency_key,
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    try:
        session.flush()  # assigns the id the number is made from
        order.number = order_number(order.id, accepted_at)
        session.commit()
    except IntegrityError:
        # Two retries of one create raced; the other one won: return its order.
        session.rollback()
        existing = _by_idempotency_key(session, idempotency_key) if idempotency_key else None
        if existing is None:
            raise Conflict("the work order could not be stored; try again") from None
        return existing, False
    return order, True


def get_work_order(session: Session, order_id: int) -> WorkOrder:
    """One order by id, or NotFound."""
    order = session.get(WorkOrder, order_id)
    if order is None:
        raise NotFound(f"work order {order_id} does not exist")
    return order


def _by_idempotency_key(session: Session, key: str) -> WorkOrder | None:
    return session.scalars(select(WorkOrder).where(WorkOrder.idempotency_key == key)).first()
