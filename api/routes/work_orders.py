"""Work-order routes under /api/v1."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response, status

from api.auth import require_machine_client
from api.routes.deps import NowDep, SessionDep
from api.schemas import WorkOrderCreate, WorkOrderPublic
from api.services import work_orders

router = APIRouter(prefix="/work-orders", tags=["work orders"], dependencies=[Depends(require_machine_client)])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WorkOrderPublic)
def create_work_order(
    body: WorkOrderCreate,
    response: Response,
    session: SessionDep,
    now: NowDep,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> WorkOrderPublic:
    """File a work order. A retry with the same ``Idempotency-Key`` returns the first order (200)."""
    order, created = work_orders.create_work_order(session, body, now, idempotency_key)
    if not created:
        response.status_code = status.HTTP_200_OK
    return WorkOrderPublic.model_validate(order)


@router.get("/{order_id}", response_model=WorkOrderPublic)
def read_work_order(order_id: int, session: SessionDep) -> WorkOrderPublic:
    """One work order."""
    return WorkOrderPublic.model_validate(work_orders.get_work_order(session, order_id))
