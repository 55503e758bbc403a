"""A damage claim arising from an order (13.3–13.8; the rules are ``heating_standard.claims``).

Staff open it with the loss (and whether the insurer came and counted it with the resident, 13.3, and
photos were kept) and record the adjuster's sum, which the resident is told at once (13.8). A supervisor
records the sum agreed, which is then due within 30 working days (13.5: the order's ``claim_payment``
deadline, reminded and escalated by the scheduler like the others), its payment, or why the company does not
pay (13.6, told to the resident). Every step is on the order's history.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from api.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.models import Claim, WorkOrder
from api.schemas import ClaimCreate, ClaimStep
from api.services import deadline_watch
from api.services.deadline_watch import Rewatch
from api.services.principals import Principal
from api.services.resident_notices import tell_resident
from api.services.work_orders import Context, get_work_order, record_without_move
from heating_standard import claims as rules
from heating_standard import notices
from heating_standard.words import CLAIM_EXCLUSION_WORDS

SUPERVISOR_STEPS = frozenset({"agreed", "paid", "excluded"})  # money, and a refusal: a supervisor's


def open_claim(session: Session, order_id: int, body: ClaimCreate, principal: Principal, now: datetime) -> WorkOrder:
    order = get_work_order(session, order_id)
    if order.claim is not None:
        raise Conflict("this order has its claim already", code="claim_exists")
    for name in ("insurer_notified_at", "surveyed_with_resident_at"):
        moment = getattr(body, name)
        if moment is not None and moment > now:
            raise Unprocessable(name, "不能晚于现在")
    order.claim = Claim(**body.model_dump(), created_by=principal.name, created_at=now, updated_at=now)
    record_without_move(session, order, "claim_opened", principal, now, data={"injured": body.injured})
    session.commit()
    return order


def advance_claim(session: Session, order_id: int, step: ClaimStep, principal: Principal, ctx: Context) -> WorkOrder:
    """One step of the claim; a closed claim (paid, or not the company's) takes none."""
    if step.step in SUPERVISOR_STEPS and not principal.may_approve:
        raise Forbidden("赔偿数额、赔付和不予赔偿须由班长确认（13.5、13.6）")
    order = session.get(WorkOrder, order_id, with_for_update=True)
    if order is None:
        raise NotFound(f"work order {order_id} does not exist")
    claim = order.claim
    if claim is None:
        raise Conflict("this order has no claim", code="no_claim")
    if claim.paid_at is not None or claim.exclusion is not None:
        raise Conflict("this claim is closed", code="claim_closed")
    at = step.at or ctx.now
    if at > ctx.now:
        raise Unprocessable("at", "不能晚于现在")
    data = _STEPS[step.step](session, order, claim, step, at, ctx)
    claim.updated_at = ctx.now
    order.next_due_at = deadline_watch.next_due(order)
    record_without_move(session, order, f"claim_{step.step}", principal, ctx.now, data=data)
    session.commit()
    return order


def _amount(step: ClaimStep) -> Decimal:
    """The step's sum in 元, to the fen."""
    if step.amount is None:
        raise Unprocessable("amount", "请填写金额（元）")
    return step.amount.quantize(Decimal("0.01"))


def _adjusted(
    session: Session, order: WorkOrder, claim: Claim, step: ClaimStep, at: datetime, ctx: Context
) -> dict[str, Any]:
    """13.8: the adjuster's sum, told to the resident at once."""
    amount = _amount(step)
    claim.adjusted_sum, claim.adjusted_at = amount, at
    message = notices.claim_adjusted_notice(order.number or "", str(amount))
    told = tell_resident(session, order, "claim_adjusted", str(amount), message, ctx.now)
    return {"amount": str(amount), "resident_told": told}


def _agreed(
    session: Session, order: WorkOrder, claim: Claim, step: ClaimStep, at: datetime, ctx: Context
) -> dict[str, Any]:
    """13.5: the sum agreed is due within 30 working days; watched, and the resident told by when."""
    amount = _amount(step)
    due, certain = rules.payment_due(at, ctx.config.calendar())
    claim.agreed_sum, claim.agreed_at = amount, at
    deadline_watch.watch(order, Rewatch("claim_payment", due, at), ctx.config.escalation.reminder_share)
    order.calendar_uncertain = order.calendar_uncertain or not certain
    message = notices.claim_agreed_notice(order.number or "", str(amount), due)
    told = tell_resident(session, order, "claim_agreed", str(amount), message, ctx.now)
    return {"amount": str(amount), "due_at": due.isoformat(), "resident_told": told}


def _paid(
    session: Session, order: WorkOrder, claim: Claim, step: ClaimStep, at: datetime, ctx: Context
) -> dict[str, Any]:
    if claim.agreed_at is None:
        raise Conflict("the sum is agreed before it is paid (13.5)", code="not_agreed")
    if at < claim.agreed_at:
        raise Unprocessable("at", "赔付时间不能早于商定赔偿数额的时间")
    claim.paid_at = at
    deadline_watch.meet(order, ("claim_payment",), at)
    return {"paid_at": at.isoformat()}


def _excluded(
    session: Session, order: WorkOrder, claim: Claim, step: ClaimStep, at: datetime, ctx: Context
) -> dict[str, Any]:
    """13.6: a loss the company does not answer for; the resident is told which, and why."""
    if step.exclusion is None:
        raise Unprocessable("exclusion", "请选择不承担赔偿责任的情形（13.6 a–d）")
    words, clause = CLAIM_EXCLUSION_WORDS[step.exclusion], rules.EXCLUSION_CLAUSES[step.exclusion]
    try:
        message = notices.claim_excluded_notice(order.number or "", words, clause, step.note)
    except notices.NoticeRefused as exc:
        raise Unprocessable("note", f"it is sent to the resident: {exc.reason}") from None
    claim.exclusion, claim.exclusion_note = step.exclusion.value, step.note
    told = tell_resident(session, order, "claim_excluded", step.exclusion.value, message, ctx.now)
    return {"exclusion": step.exclusion.value, "note": step.note, "resident_told": told}


_STEPS = {"adjusted": _adjusted, "agreed": _agreed, "paid": _paid, "excluded": _excluded}
