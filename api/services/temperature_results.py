"""What becomes of a room-temperature test's result after the visit.

- The resident's answer in WeChat to the readings and result (10.3 第1条 a): confirmed, or disputed (10.3
  第1条 b: a testing body both accept may test again; staff talk it over). The bot asks
  (``resident_notices.ask_to_confirm_temperature``) and records the answer for the order's own resident.
- For a room found below standard, the cause and who answers for it (10.3 第1条 c–e), the fee reduction
  where the company's facilities were the cause, and its refund by 30 June (10.3 第4条; the order's ``refund``
  deadline, watched by the scheduler) unless the resident agreed to set it against the next season.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from api.errors import Conflict, NotFound, Unprocessable
from api.models import RoomTemperatureTest, WorkOrder
from api.schemas import TemperatureFinding
from api.services import deadline_watch
from api.services.deadline_watch import Rewatch
from api.services.principals import Principal
from api.services.work_orders import Context, check_resident, get_work_order, record_without_move
from heating_standard import claims, temperature_tests
from heating_standard.deadlines import season_of
from heating_standard.localtime import local_date


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


def record_finding(
    session: Session, order_id: int, finding: TemperatureFinding, principal: Principal, ctx: Context
) -> WorkOrder:
    """10.3 第1条 c–e for a room the test found below standard (a test that counts); recorded once."""
    order = get_work_order(session, order_id)
    test = order.temperature_test
    if test is None or order.measured_temperature is None:
        raise Conflict("this order has no temperature test recorded", code="no_test")
    if test.excluded is not None or order.measured_temperature >= temperature_tests.ROOM_TEMPERATURE_STANDARD:
        raise Conflict("the test did not find the room below standard (10.3 第1条 c)", code="not_below_standard")
    if test.found_at is not None:
        raise Conflict("the cause of this test's result is recorded already", code="found_already")
    try:
        temperature_tests.check_finding(finding.responsibility, finding.fee_reduction)
    except temperature_tests.RecordRefused as exc:
        raise Unprocessable(exc.field, exc.reason) from None
    test.cause, test.responsibility = finding.cause, finding.responsibility.value
    test.fee_reduction, test.offset_next_season = finding.fee_reduction, finding.offset_next_season
    test.found_at = ctx.now
    if finding.fee_reduction and not finding.offset_next_season:
        season = season_of(local_date(order.accepted_at), ctx.config.seasons())
        if season is None:
            raise Unprocessable("fee_reduction", "工单受理时不在采暖期内，无法确定退费期限（10.3 第4条）")
        due = claims.refund_due(season.end)
        deadline_watch.watch(order, Rewatch("refund", due, ctx.now), ctx.config.escalation.reminder_share)
        order.next_due_at = deadline_watch.next_due(order)
    data = {"responsibility": finding.responsibility.value, "offset_next_season": finding.offset_next_season}
    if finding.fee_reduction:
        data["fee_reduction"] = f"{finding.fee_reduction:.2f}"
    record_without_move(session, order, "temperature_finding", principal, ctx.now, note=finding.cause, data=data)
    session.commit()
    return order


def record_refund(session: Session, order_id: int, principal: Principal, now: datetime) -> WorkOrder:
    """10.3 第4条: the fee reduction refunded; the order's refund deadline is met."""
    order = get_work_order(session, order_id)
    test = order.temperature_test
    if test is None or not test.fee_reduction or test.offset_next_season:
        raise Conflict("this order has no fee reduction to refund", code="no_refund")
    if test.refunded_at is not None:
        raise Conflict("the refund is recorded already", code="refunded_already")
    test.refunded_at = now
    deadline_watch.meet(order, ("refund",), now)
    order.next_due_at = deadline_watch.next_due(order)
    record_without_move(
        session, order, "temperature_refund", principal, now, data={"amount": f"{test.fee_reduction:.2f}"}
    )
    session.commit()
    return order
