"""The room-temperature sampling plan under /api/v1 (5.4): the household list and the plans."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.auth import STAFF, SUPERVISORS, PrincipalDep
from api.deps import ContextDep, NowDep, SessionDep
from api.schemas import (
    HouseholdImport,
    HouseholdImportResult,
    SamplingPlanCreate,
    SamplingPlanList,
    SamplingPlanPublic,
)
from api.services import sampling

router = APIRouter()


@router.post("/households/import", response_model=HouseholdImportResult, tags=["sampling"], dependencies=[SUPERVISORS])
def import_households(body: HouseholdImport, session: SessionDep, now: NowDep) -> HouseholdImportResult:
    """The company's household list for the sampling plan (5.4.3): added or updated by address."""
    created, updated, total = sampling.import_households(session, body.households, now)
    return HouseholdImportResult(created=created, updated=updated, total=total)


@router.get("/sampling-plans", response_model=SamplingPlanList, tags=["sampling"], dependencies=[STAFF])
def list_sampling_plans(session: SessionDep) -> SamplingPlanList:
    """The seasons' room-temperature sampling plans, newest first, with their visits booked and done."""
    return SamplingPlanList(items=sampling.list_plans(session))


@router.post(
    "/sampling-plans",
    status_code=status.HTTP_201_CREATED,
    response_model=SamplingPlanPublic,
    tags=["sampling"],
    dependencies=[SUPERVISORS],
)
def create_sampling_plan(
    body: SamplingPlanCreate, session: SessionDep, ctx: ContextDep, principal: PrincipalDep
) -> SamplingPlanPublic:
    """Draw the season's plan (5.4.2–5.4.4) and book a temperature-test visit per household drawn."""
    plan = sampling.create_plan(session, body, ctx, principal)
    return sampling.shown(session, plan)
