"""Damage claims arising from an order (13.3–13.8), under /api/v1/work-orders/{id}/claim."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.auth import STAFF, PrincipalDep
from api.deps import ContextDep, IdPath, SessionDep
from api.schemas import ClaimCreate, ClaimStep, WorkOrderPublic
from api.services import claims
from api.services.work_orders import shown

router = APIRouter(prefix="/work-orders", tags=["claims"], dependencies=[STAFF])


@router.post("/{order_id}/claim", status_code=status.HTTP_201_CREATED, response_model=WorkOrderPublic)
def open_claim(
    order_id: IdPath, body: ClaimCreate, session: SessionDep, ctx: ContextDep, principal: PrincipalDep
) -> WorkOrderPublic:
    """Open the order's damage claim: the loss, whether anyone was injured (13.4), whether the insurer came and
    counted it with the resident and photos were kept (13.3); 409 when the order has one."""
    return shown(claims.open_claim(session, order_id, body, principal, ctx.now), principal)


@router.post("/{order_id}/claim/steps", response_model=WorkOrderPublic)
def advance_claim(
    order_id: IdPath, body: ClaimStep, session: SessionDep, ctx: ContextDep, principal: PrincipalDep
) -> WorkOrderPublic:
    """The claim's next step: ``adjusted`` (the adjuster's sum, told to the resident, 13.8), and, by a
    supervisor, ``agreed`` (the sum agreed: due within 30 working days, watched, 13.5), ``paid``, or
    ``excluded`` (13.6: which case, told to the resident). A paid or excluded claim is closed (409)."""
    return shown(claims.advance_claim(session, order_id, body, principal, ctx), principal)
