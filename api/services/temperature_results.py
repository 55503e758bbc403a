"""A resident's answer, in WeChat, to a room-temperature test's readings and result (10.3 第1条 a): confirmed,
or disputed (10.3 第1条 b: a testing body both accept may test again; staff talk it over). The bot asks
(``resident_notices.ask_to_confirm_temperature``) and records the answer here for the order's own resident.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from api.errors import Conflict, NotFound
from api.models import RoomTemperatureTest, WorkOrder
from api.services.principals import Principal
from api.services.work_orders import check_resident, record_without_move


def record_answer(
    session: Session, order_id: int, resident_openid: str, confirmed: bool, principal: Principal, now: datetime
) -> WorkOrder:
    """The resident's answer, once: a second answer alike is the same answer (a retried call); a different
    one is refused, as the first one stands (409)."""
    order = session.get(WorkOrder, order_id)
    if order is None:
        raise NotFound(f"work order {order_id} does not exist for this resident")
    check_resident(order, resident_openid)
    if order.temperature_test is None:
        raise Conflict("this order has no temperature test to confirm", code="nothing_to_confirm")
    column = RoomTemperatureTest.resident_confirmed_at if confirmed else RoomTemperatureTest.resident_disputed_at
    # One conditional update: of two answers arriving together, one is recorded.
    answered = session.execute(
        update(RoomTemperatureTest)
        .where(
            RoomTemperatureTest.order_id == order.id,
            RoomTemperatureTest.resident_confirmed_at.is_(None),
            RoomTemperatureTest.resident_disputed_at.is_(None),
        )
        .values({column.key: now})
        .execution_options(synchronize_session=False)
    )
    if answered.rowcount == 0:  # type: ignore[attr-defined]
        session.rollback()
        session.refresh(order.temperature_test)
        test = order.temperature_test
        if (test.resident_confirmed_at is not None) is confirmed:
            return order
        raise Conflict("the resident has answered this test already", code="answered_already")
    action = "temperature_confirmed" if confirmed else "temperature_disputed"
    record_without_move(session, order, action, principal, now)
    session.commit()
    session.refresh(order.temperature_test)
    return order
