"""Work-order routes under /api/v1."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from api.auth import MACHINE_ONLY, STAFF, STAFF_OR_MACHINE, PrincipalDep
from api.deps import ContextDep, IdPath, NowDep, OrderDep, SessionDep
from api.errors import Unprocessable
from api.models import WorkOrder
from api.schemas import (
    MAX_OFFSET,
    ActionRequest,
    AttachmentCreate,
    ContactPublic,
    Moment,
    OrderSort,
    TemperatureAnswer,
    TemperatureFinding,
    WorkOrderCreate,
    WorkOrderEventPublic,
    WorkOrderFilter,
    WorkOrderList,
    WorkOrderPublic,
)
from api.services import order_actions, quotes, resident_notices, temperature_results, work_orders
from api.services.principals import Role
from api.services.work_orders import shown
from heating_standard.lifecycle import Action
from heating_standard.orders import Category, Kind, Source, Status

router = APIRouter(prefix="/work-orders", tags=["work orders"], dependencies=[STAFF_OR_MACHINE])
SEARCH = (
    "an order number (or six of its digits), the phone's last four digits, a fragment of the community or "
    "address, or the resident's name; full-width and spaced text is read as typed"
)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WorkOrderPublic)
def create_work_order(
    body: WorkOrderCreate,
    response: Response,
    session: SessionDep,
    ctx: ContextDep,
    principal: PrincipalDep,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=128)] = None,
) -> WorkOrderPublic:
    """File a work order. A retry with the same ``Idempotency-Key`` and body returns the first order
    (200); the same key with another body is refused (422). Keys are the caller's own."""

    def filer_hears(order: WorkOrder) -> object:  # the bot's filing: its number checked two minutes on
        return resident_notices.see_that_the_filer_hears(session, order, ctx.now, ctx.filed_number_check)

    order, created = work_orders.create_work_order(
        session,
        body,
        ctx,
        idempotency_key,
        actor=principal.name,
        with_order=filer_hears if principal.role == Role.MACHINE else None,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return shown(order, principal)


@router.get("", response_model=WorkOrderList)
def list_work_orders(
    session: SessionDep,
    now: NowDep,
    principal: PrincipalDep,
    resident_openid: Annotated[str | None, Query(max_length=64)] = None,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    source: Source | None = None,
    kind: Kind | None = None,
    category: Category | None = None,
    community: Annotated[list[str] | None, Query()] = None,
    overdue: bool | None = None,
    due_before: Moment | None = None,
    q: Annotated[str | None, Query(max_length=64, description=SEARCH)] = None,
    sort: Annotated[OrderSort, Query(description="newest first, or urgency: overdue and soonest due first")] = "newest",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> WorkOrderList:
    """Orders by resident, status, source, kind, community; ``overdue=true`` lists missed deadlines;
    ``q`` searches (staff). The bot lists one resident's orders only."""
    if principal.role == Role.MACHINE and not resident_openid and not community:
        raise Unprocessable("resident_openid", "the bot lists one resident's orders, or a grid worker's communities")
    if principal.role == Role.MACHINE and q:
        raise Unprocessable("q", "searching orders is for staff")
    filters = WorkOrderFilter(
        resident_openid=resident_openid,
        status=status_,
        source=source,
        kind=kind,
        category=category,
        community=community,
        overdue=overdue,
        due_before=due_before,
        q=q,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    items, total = work_orders.list_work_orders(session, filters, now)
    return WorkOrderList(items=[shown(o, principal) for o in items], total=total)


@router.get("/{order_id}", response_model=WorkOrderPublic)
def read_work_order(order: OrderDep, principal: PrincipalDep) -> WorkOrderPublic:
    """One work order."""
    return shown(order, principal)


@router.get("/{order_id}/contact", response_model=ContactPublic, dependencies=[STAFF])
def read_contact(order: OrderDep, session: SessionDep, now: NowDep, principal: PrincipalDep) -> ContactPublic:
    """The resident's whole phone number and address, for the member of staff who must call or visit;
    every read is kept on the order's audit trail."""
    work_orders.record_contact_view(session, order, principal, now)
    return ContactPublic(phone=order.phone, address=order.address, contact_name=order.contact_name)


@router.get("/{order_id}/events", response_model=list[WorkOrderEventPublic])
def read_events(order: OrderDep, _principal: PrincipalDep) -> list[WorkOrderEventPublic]:
    """The order's audit trail, oldest first."""
    return [WorkOrderEventPublic.model_validate(e) for e in order.events]


@router.post("/{order_id}/attachments", status_code=status.HTTP_201_CREATED, response_model=WorkOrderEventPublic)
def add_attachment(
    order_id: IdPath, body: AttachmentCreate, session: SessionDep, now: NowDep, principal: PrincipalDep
) -> WorkOrderEventPublic:
    """Keep a photo the resident sent on the order's audit trail (the bot names the resident)."""
    return WorkOrderEventPublic.model_validate(work_orders.attach(session, order_id, body, principal, now))


@router.post("/{order_id}/quote/resend", response_model=WorkOrderPublic, dependencies=[STAFF])
def resend_quote(order_id: IdPath, session: SessionDep, now: NowDep, principal: PrincipalDep) -> WorkOrderPublic:
    """Send the quote that waits for the resident's confirmation to them in WeChat again (10.2.2): the
    same quote, kept in the order's history; 409 when no quote waits, the resident is not on WeChat, or
    the last sending has not gone out yet."""
    return shown(quotes.resend_quote(session, order_id, principal, now), principal)


@router.post("/{order_id}/temperature-test/answer", response_model=WorkOrderPublic, dependencies=[MACHINE_ONLY])
def answer_temperature_test(
    order_id: IdPath, body: TemperatureAnswer, session: SessionDep, now: NowDep, principal: PrincipalDep
) -> WorkOrderPublic:
    """The resident's confirmation of a temperature test's readings and result in WeChat, or their dispute
    (10.3 第1条 a, b), recorded for the order's own resident; the first answer stands (409 for another)."""
    order = temperature_results.record_answer(session, order_id, body.resident_openid, body.confirmed, principal, now)
    return shown(order, principal)


@router.post("/{order_id}/temperature-test/finding", response_model=WorkOrderPublic, dependencies=[STAFF])
def record_temperature_finding(
    order_id: IdPath, body: TemperatureFinding, session: SessionDep, ctx: ContextDep, principal: PrincipalDep
) -> WorkOrderPublic:
    """For a room the test found below standard: the cause and who answers for it (10.3 第1条 c–e), and the
    fee reduction where the company's facilities were the cause, refunded by 30 June (10.3 第4条, watched) unless
    set against the next season with the resident's consent. Recorded once (409 after)."""
    return shown(temperature_results.record_finding(session, order_id, body, principal, ctx), principal)


@router.post("/{order_id}/temperature-test/refund", response_model=WorkOrderPublic, dependencies=[STAFF])
def record_temperature_refund(
    order_id: IdPath, session: SessionDep, now: NowDep, principal: PrincipalDep
) -> WorkOrderPublic:
    """The fee reduction refunded (10.3 第4条): the order's refund deadline is met."""
    return shown(temperature_results.record_refund(session, order_id, principal, now), principal)


@router.post("/{order_id}/actions/{action}", response_model=WorkOrderPublic)
def act(
    order_id: IdPath,
    action: Action,
    session: SessionDep,
    ctx: ContextDep,
    principal: PrincipalDep,
    body: ActionRequest | None = None,
) -> WorkOrderPublic:
    """Apply an action; each has its owner (403 otherwise), and one the state machine does not allow
    now answers 409 with the reason."""
    order = order_actions.perform_action(session, order_id, action, body or ActionRequest(), principal, ctx)
    return shown(order, principal)
