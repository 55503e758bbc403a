"""A resident's personal data under /api/v1 (12.1): exported and erased on request."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.auth import SUPERVISORS, PrincipalDep
from api.deps import BotDep, NowDep, SessionDep
from api.schemas import (
    ResidentErase,
    ResidentErased,
)
from api.services import audit, residents

router = APIRouter()


@router.get("/personal-data", tags=["residents"], dependencies=[SUPERVISORS])
def export_resident(
    bot: BotDep,
    session: SessionDep,
    now: NowDep,
    principal: PrincipalDep,
    openid: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    phone: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
) -> dict[str, Any]:
    """Everything kept of one resident (12.1), by WeChat openid or phone; the read is audited."""
    found = residents.export(session, openid, phone, bot)
    audit.record(session, now, principal.name, "resident_exported", f"openid {openid[:4]}…" if openid else "phone")
    session.commit()
    return found


@router.post("/personal-data/erase", response_model=ResidentErased, tags=["residents"], dependencies=[SUPERVISORS])
def erase_resident(
    body: ResidentErase, bot: BotDep, session: SessionDep, now: NowDep, principal: PrincipalDep
) -> ResidentErased:
    """Erase one resident's personal data on their request (12.1); refused while an order is worked."""
    erased = residents.erase(session, body.openid, body.phone, body.reason, bot, principal.name, now)
    return ResidentErased(**erased)
