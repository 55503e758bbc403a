"""Work-order routes under /api/v1."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from pydantic import AwareDatetime

from api.auth import PrincipalDep
from api.domain.state_machine import Action
from api.domain.work_orders import Kind, Source, Status
from api.routes.deps import ContextDep, NowDep, SessionDep
from api.schemas import (
    ActionRequest,
    AttachmentCreate,
    WorkOrderCreate,
    WorkOrderEventPublic,
    WorkOrderFilter,
    WorkOrderList,
    WorkOrderPublic,
)
from api.services import work_orders

router = APIRouter(prefix="/work-orders", tags=["work orders"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WorkOrderPublic)
def create_work_order(
    body: WorkOrderCreate,
    response: Response,
    session: SessionDep,
    ctx: ContextDep,
    principal: PrincipalDep,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> WorkOrderPublic:
    """File a work order. A retry with the same ``Idempotency-Key`` returns the first order (200)."""
    order, created = work_orders.create_work_order(session, body, ctx, idempotency_key, actor=principal.name)
    if not created:
        response.status_code = status.HTTP_200_OK
    return WorkOrderPublic.model_validate(order)


@router.get("", response_model=WorkOrderList)
def list_work_orders(
    session: SessionDep,
    now: NowDep,
    _principal: PrincipalDep,
    resident_openid: str | None = None,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    source: Source | None = None,
    kind: Kind | None = None,
    community: Annotated[list[str] | None, Query()] = None,
    overdue: bool | None = None,
    due_before: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> WorkOrderList:
    """Orders by resident, status, source, kind, community; ``overdue=true`` lists missed deadlines."""
    filters = WorkOrderFilter(
        resident_openid=resident_openid,
        status=status_,
        source=source,
        kind=kind,
        community=community,
        overdue=overdue,
        due_before=due_before,
        limit=limit,
        offset=offset,
    )
    items, total = work_orders.list_work_orders(session, filters, now)
    return WorkOrderList(items=[WorkOrderPublic.model_validate(o) for o in items], total=total)


@router.get("/{order_id}", response_model=WorkOrderPublic)
def read_work_order(order_id: int, session: SessionDep, _principal: PrincipalDep) -> WorkOrderPublic:
    """One work order."""
    return WorkOrderPublic.model_validate(work_orders.get_work_order(session, order_id))


@router.get("/{order_id}/events", response_model=list[WorkOrderEventPublic])
def read_events(order_id: int, session: SessionDep, _principal: PrincipalDep) -> list[WorkOrderEventPublic]:
    """The order's audit trail, oldest first."""
    order = work_orders.get_work_order(session, order_id)
    return [WorkOrderEventPublic.model_validate(e) for e in order.events]


@router.post("/{order_id}/attachments", status_code=status.HTTP_201_CREATED, response_model=WorkOrderEventPublic)
def add_attachment(
    order_id: int, body: AttachmentCreate, session: SessionDep, now: NowDep, principal: PrincipalDep
) -> WorkOrderEventPublic:
    """Keep a photo the resident sent on the order's audit trail."""
    return WorkOrderEventPublic.model_validate(work_orders.attach(session, order_id, body, principal.name, now))


@router.post("/{order_id}/actions/{action}", response_model=WorkOrderPublic)
def act(
    order_id: int,
    action: Action,
    session: SessionDep,
    ctx: ContextDep,
    principal: PrincipalDep,
    body: ActionRequest | None = None,
) -> WorkOrderPublic:
    """Apply an action; one the state machine does not allow now answers 409 with the reason."""
    order = work_orders.perform_action(session, order_id, action, body or ActionRequest(), principal, ctx)
    return WorkOrderPublic.model_validate(order)
