"""The KPIs of 14.4 under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from api.auth import STAFF
from api.deps import ContextDep, SessionDep
from api.errors import Unprocessable
from api.schemas import (
    KpiReport,
    Moment,
)
from api.services import kpis

router = APIRouter()


@router.get("/kpis", response_model=KpiReport, tags=["KPIs"], dependencies=[STAFF])
def read_kpis(session: SessionDep, ctx: ContextDep, start: Moment, end: Moment) -> KpiReport:
    """The KPIs of 14.4 with Table 1 targets for orders accepted in [start, end)."""
    if end <= start:
        raise Unprocessable("end", "end must come after start")
    return kpis.report(session, start, end, ctx.config, ctx.now)
