"""A quote waiting for the resident's confirmation (10.2.2: no work before it): what the order page shows of
it, and sending it to the resident in WeChat once more. Recording and confirming a quote are actions
(``order_actions``); the message asking the resident is ``resident_notices.ask_to_confirm_quote``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import Conflict, Forbidden, NotFound
from api.models import Notification, WorkOrder
from api.services.order_actions import order_state
from api.services.principals import STAFF_ROLES, Principal
from api.services.resident_notices import QUOTE_CONFIRMATION, ask_to_confirm_quote
from api.services.work_orders import record_without_move
from heating_standard.lifecycle import Action, TransitionRefused, next_status

QUOTE_RESENT = "resend_quote"  # the history's word for a quote asked of the resident again


@dataclass(frozen=True)
class PendingQuote:
    """A quote waiting for the resident's confirmation (10.2.2), as the order page shows it: what it
    asks, when it was recorded, and each time it was sent to the resident in WeChat."""

    items: list[dict[str, Any]]
    total: Decimal
    quoted_at: datetime | None
    quoted_by: str | None
    sendings: list[Notification]
    on_wechat: bool

    @property
    def waiting_to_go(self) -> bool:
        """The latest sending has not reached the WeChat channel yet (queued or being retried)."""
        return bool(self.sendings) and self.sendings[-1].delivered_at is None


def pending_quote(session: Session, order: WorkOrder) -> PendingQuote | None:
    """The order's quote while the resident has still to confirm it (10.2.2: no work before), else None."""
    if order.quote_items is None or order.quote_total is None or order.quote_confirmed_at is not None:
        return None
    quoted = next((e for e in reversed(order.events) if e.action == Action.QUOTE.value), None)
    since = quoted.recorded_at if quoted is not None else order.accepted_at
    sendings = session.scalars(
        select(Notification)
        .where(
            Notification.order_id == order.id,
            Notification.kind == QUOTE_CONFIRMATION,
            Notification.created_at >= since,
        )
        .order_by(Notification.id)
    ).all()
    return PendingQuote(
        items=list(order.quote_items),
        total=order.quote_total,
        quoted_at=quoted.at if quoted is not None else None,
        quoted_by=quoted.actor if quoted is not None else None,
        sendings=list(sendings),
        on_wechat=bool(order.resident_openid),
    )


def resend_quote(session: Session, order_id: int, principal: Principal, now: datetime) -> WorkOrder:
    """10.2.2: the quote waiting for the resident's confirmation is sent to them in WeChat once more: the
    same quote (nothing about it changes, no second quote), through the bot as the first sending went,
    and kept in the order's history. Refused (409) when no quote waits for the resident, when the
    resident is not on WeChat (a paper confirmation is recorded instead), and while the last sending
    has not gone out yet."""
    order = session.get(WorkOrder, order_id, with_for_update=True)
    if order is None:
        raise NotFound(f"work order {order_id} does not exist")
    if principal.role not in STAFF_ROLES:
        raise Forbidden("staff re-send a quote")
    try:
        next_status(order_state(order), Action.CONFIRM_QUOTE)
    except TransitionRefused:
        raise Conflict("这张工单没有等待居民确认的报价，无需重新发送", code="no_pending_quote") from None
    if not order.resident_openid:
        raise Conflict(
            "这位居民没有通过微信报修，报价无法在微信中发送；请当面或电话告知，并记录居民书面确认（10.2.2）",
            code="no_wechat",
        )
    waiting = pending_quote(session, order)
    assert waiting is not None  # the state machine said a quote waits
    if waiting.waiting_to_go:
        raise Conflict("上一次发送的报价还在等待发出，无需重复发送", code="quote_waiting_to_go")
    ask_to_confirm_quote(session, order, now, sending=len(waiting.sendings) + 1)
    order.updated_at = now
    data = {"quote_total": f"{order.quote_total:.2f}"}
    record_without_move(session, order, QUOTE_RESENT, principal, now, data=data)
    return order
