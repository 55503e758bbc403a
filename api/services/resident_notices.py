"""What a work order's resident is told in WeChat, through the bot: the order's number once filed, the quote
to confirm (10.2.2), a new completion time (10.1.4), an application refused (9.1.2). The texts are
``heating_standard.notices``; every notification is made by ``scheduler.notify``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from api.models import GridWorker, WorkOrder
from api.services import deadline_watch
from api.services.scheduler import ORDER_FILED, notify
from heating_standard import notices
from heating_standard.orders import Category, Source
from heating_standard.words import EXCLUSION_WORDS, ROOM_WORDS, word

QUOTE_CONFIRMATION = "quote_confirmation"
TEMPERATURE_CONFIRMATION = "temperature_confirmation"


def tell_resident(session: Session, order: WorkOrder, kind: str, key: str, message: str, now: datetime) -> bool:
    """A message to the order's resident in WeChat, once per ``key``; False without WeChat."""
    if not order.resident_openid:
        return False
    notify(
        session,
        kind=kind,
        key=f"{kind}:{order.id}:{key}",
        message=message,
        now=now,
        recipient_openid=order.resident_openid,
        order_id=order.id,
    )
    return True


def filed_message(order: WorkOrder) -> str:
    """What a resident is told of an order filed for them: its number and the first promise (a leak's
    handling, 10.2.3; else the response, 10.1.4), in Beijing time; the bot's filings and staff's say the same."""
    handle, response = deadline_watch.due_at(order, "handle"), deadline_watch.due_at(order, "response")
    leak = order.category == Category.LEAK and handle is not None
    return notices.filed_notice(order.number or "", leak, handle if leak else response)


def see_that_the_filer_hears(session: Session, order: WorkOrder, now: datetime, check_after: timedelta) -> bool:
    """An order the bot filed: ``check_after`` later (2 minutes: longer than the platform's retries and a
    restart of the Rasa server) the scheduler looks whether the conversation says its number, and sends
    it through the bot when it does not (the Rasa server stopped after the order was filed and before the
    answer went out, and the platform gave up its retries). Once per order, in the caller's transaction.
    False for an order not filed in WeChat, or with the check turned off (no ``check_after``)."""
    if not check_after:
        return False
    openid = order.resident_openid
    if openid is None and order.forwarded_by_grid_worker_id is not None:
        grid_worker = session.get(GridWorker, order.forwarded_by_grid_worker_id)
        openid = grid_worker.openid if grid_worker else None
    if not openid or order.source not in (Source.WECHAT, Source.GRID_WORKER):
        return False
    made = notify(
        session,
        kind=ORDER_FILED,
        key=f"{ORDER_FILED}:{order.id}",
        message=filed_message(order),
        now=now,
        recipient_openid=openid,
        order_id=order.id,
        send_at=now + check_after,
    )
    return made is not None


def ask_to_confirm_quote(session: Session, order: WorkOrder, now: datetime, sending: int = 1) -> None:
    """10.2.2: the resident confirms the quote; one reached in WeChat is asked there, through the bot
    (``sending``: the first time, or the how-manieth re-sending of the same quote)."""
    if order.quote_items is None or order.quote_total is None:
        return
    message = notices.quote_notice(order.number or "", order.quote_items, f"{order.quote_total:.2f}")
    key = now.isoformat() if sending == 1 else f"{now.isoformat()}#{sending}"
    tell_resident(session, order, QUOTE_CONFIRMATION, key, message, now)


def ask_to_confirm_temperature(session: Session, order: WorkOrder, now: datetime) -> None:
    """10.3 第1条 a: the resident confirms a temperature test's readings and result; one reached in WeChat is
    asked there, through the bot."""
    test = order.temperature_test
    if test is None or order.measured_temperature is None:
        return
    excluded = word(EXCLUSION_WORDS, test.excluded) if test.excluded else None
    message = notices.temperature_result_notice(
        order.number or "", word(ROOM_WORDS, test.room), list(test.readings), order.measured_temperature, excluded
    )
    tell_resident(session, order, TEMPERATURE_CONFIRMATION, now.isoformat(), message, now)
