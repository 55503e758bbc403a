"""Notifications, call-backs, handoffs, outages, KPIs and the backend's status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy import select

from api.auth import MACHINE_ONLY, STAFF, STAFF_OR_MACHINE, SUPERVISORS, PrincipalDep
from api.domain.chat import ChatMessage
from api.errors import Unprocessable
from api.models import Notification, WorkOrder
from api.routes.deps import ContextDep, IdPath, NowDep, SessionDep
from api.schemas import (
    MAX_ID,
    CallbackTaskList,
    CallbackTaskPublic,
    HandoffCreate,
    HandoffList,
    HandoffMessage,
    HandoffMessageCreate,
    HandoffMessageList,
    HandoffPublic,
    HouseholdImport,
    HouseholdImportResult,
    KpiReport,
    Moment,
    NotificationList,
    NotificationPublic,
    OutageCreate,
    OutageList,
    OutagePreview,
    OutagePublic,
    OutageUpdate,
    ResidentErase,
    ResidentErased,
    SamplingPlanCreate,
    SamplingPlanList,
    SamplingPlanPublic,
)
from api.services import audit, callbacks, handoffs, kpis, outages, residents, sampling
from heating_standard.localtime import local_date
from heating_standard.privacy import mask_text

router = APIRouter()


@router.get("/notifications", response_model=NotificationList, tags=["notifications"], dependencies=[STAFF_OR_MACHINE])
def list_notifications(
    session: SessionDep,
    after_id: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> NotificationList:
    """Staff notifications (reminders, breaches) after ``after_id``, oldest first: poll with the last id."""
    query = select(Notification).where(Notification.id > after_id, Notification.recipient_openid.is_(None))
    if kind:
        query = query.where(Notification.kind == kind)
    rows = session.scalars(query.order_by(Notification.id).limit(limit))
    return NotificationList(items=[NotificationPublic.model_validate(n) for n in rows])


@router.get("/callbacks", response_model=CallbackTaskList, tags=["call-backs"], dependencies=[STAFF])
def list_callbacks(
    session: SessionDep,
    now: NowDep,
    status_: Annotated[str | None, Query(alias="status", pattern="^(open|overdue|done)$")] = None,
) -> CallbackTaskList:
    items, total = callbacks.list_callbacks(session, status_, now)
    return CallbackTaskList(items=[CallbackTaskPublic.model_validate(t) for t in items], total=total)


@router.post(
    "/callbacks/{task_id}/survey", response_model=CallbackTaskPublic, tags=["call-backs"], dependencies=[SUPERVISORS]
)
def send_survey(
    task_id: IdPath, request: Request, session: SessionDep, now: NowDep, principal: PrincipalDep
) -> CallbackTaskPublic:
    """The bot asks the resident for process and result satisfaction on WeChat (a supervisor decides)."""
    task = callbacks.send_survey(session, task_id, request.app.state.bot, now, principal.name)
    return CallbackTaskPublic.model_validate(task)


@router.post(
    "/handoffs",
    status_code=status.HTTP_201_CREATED,
    response_model=HandoffPublic,
    tags=["handoffs"],
    dependencies=[MACHINE_ONLY],
    responses={200: {"model": HandoffPublic, "description": "the resident's open handoff, already there"}},
)
def open_handoff(body: HandoffCreate, response: Response, session: SessionDep, now: NowDep) -> HandoffPublic:
    """The bot hands a chat to a person; an open one for the same resident is returned (200) instead."""
    handoff, created = handoffs.open_handoff(session, body, now)
    if not created:
        response.status_code = status.HTTP_200_OK
    return HandoffPublic.model_validate(handoff)


@router.get("/handoffs", response_model=HandoffList, tags=["handoffs"], dependencies=[STAFF])
def list_handoffs(
    session: SessionDep,
    status_: Annotated[str | None, Query(alias="status", pattern="^(waiting|active|closed)$")] = None,
) -> HandoffList:
    items, total = handoffs.list_handoffs(session, status_)
    # A summary quotes the resident, who may have typed a phone number: staff see it masked (12.1).
    shown = [HandoffPublic.model_validate(h) for h in items]
    return HandoffList(items=[h.model_copy(update={"summary": mask_text(h.summary)}) for h in shown], total=total)


@router.post("/handoffs/{handoff_id}/take", response_model=HandoffPublic, tags=["handoffs"], dependencies=[STAFF])
def take_handoff(handoff_id: IdPath, session: SessionDep, now: NowDep, principal: PrincipalDep) -> HandoffPublic:
    return HandoffPublic.model_validate(handoffs.take_handoff(session, handoff_id, principal, now))


@router.get(
    "/handoffs/{handoff_id}/messages", response_model=HandoffMessageList, tags=["handoffs"], dependencies=[STAFF]
)
def read_handoff_messages(handoff_id: IdPath, request: Request, session: SessionDep) -> HandoffMessageList:
    """The chat, oldest first, with the bot's transcript before the handoff; staff messages carry their
    delivery state (sent, sent_as_template, pending, undelivered)."""
    found = handoffs.messages(session, handoff_id, request.app.state.bot)
    return HandoffMessageList(items=[_shown_message(m) for m in found], total=len(found))


@router.post(
    "/handoffs/{handoff_id}/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=HandoffMessage,
    tags=["handoffs"],
    dependencies=[STAFF],
)
def write_handoff_message(
    handoff_id: IdPath,
    body: HandoffMessageCreate,
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: PrincipalDep,
) -> HandoffMessage:
    """The member of staff holding the chat writes to the resident (403 for anyone else, 409 unless held)."""
    sent = handoffs.send_message(session, handoff_id, principal, body.text, request.app.state.bot, now)
    return _shown_message(sent)


def _shown_message(message: ChatMessage) -> HandoffMessage:
    return HandoffMessage.model_validate(
        {
            "at": message.at,
            "from": message.sender,
            "text": message.text,
            "delivery": message.delivery,
            "media_id": message.media_id,
        }
    )


@router.post("/handoffs/{handoff_id}/close", response_model=HandoffPublic, tags=["handoffs"], dependencies=[STAFF])
def close_handoff(
    handoff_id: IdPath, request: Request, session: SessionDep, now: NowDep, principal: PrincipalDep
) -> HandoffPublic:
    """Close the handoff and give the conversation back to the bot: its holder, or a supervisor."""
    return HandoffPublic.model_validate(
        handoffs.close_handoff(session, handoff_id, principal, request.app.state.bot, now)
    )


@router.post("/outages/preview", response_model=OutagePreview, tags=["outages"], dependencies=[STAFF])
def preview_outage(body: OutageCreate, session: SessionDep) -> OutagePreview:
    """The notice residents would receive, and how many; nothing is stored or sent."""
    return outages.preview_outage(session, body)


@router.post(
    "/outages",
    status_code=status.HTTP_201_CREATED,
    response_model=OutagePublic,
    tags=["outages"],
    dependencies=[STAFF],
)
def create_outage(body: OutageCreate, session: SessionDep, now: NowDep, principal: PrincipalDep) -> OutagePublic:
    """Record an outage; over 24 h expected, residents of the communities are notified (6.3.1), which
    needs a supervisor."""
    return OutagePublic.model_validate(outages.create_outage(session, body, principal, now))


@router.patch("/outages/{outage_id}", response_model=OutagePublic, tags=["outages"], dependencies=[STAFF])
def update_outage(
    outage_id: IdPath, body: OutageUpdate, session: SessionDep, now: NowDep, principal: PrincipalDep
) -> OutagePublic:
    """Extend (residents are told again: a supervisor) or mark restored."""
    return OutagePublic.model_validate(outages.update_outage(session, outage_id, body, principal, now))


@router.get("/outages", response_model=OutageList, tags=["outages"], dependencies=[STAFF_OR_MACHINE])
def list_outages(
    session: SessionDep, now: NowDep, community: Annotated[str | None, Query(max_length=64)] = None
) -> OutageList:
    """Active outages, for one community when given."""
    return OutageList(items=[OutagePublic.model_validate(o) for o in outages.active_outages(session, now, community)])


@router.get("/kpis", response_model=KpiReport, tags=["KPIs"], dependencies=[STAFF])
def read_kpis(session: SessionDep, ctx: ContextDep, start: Moment, end: Moment) -> KpiReport:
    """The KPIs of 14.4 with Table 1 targets for orders accepted in [start, end)."""
    if end <= start:
        raise Unprocessable("end", "end must come after start")
    return kpis.report(session, start, end, ctx.config, ctx.now)


@router.get("/status", tags=["health"], dependencies=[STAFF_OR_MACHINE])
def backend_status(request: Request, session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    """Warnings operators must act on: sample configuration, years the working-day calendar lacks."""
    calendar = ctx.config.calendar()
    today = local_date(ctx.now)
    years = {today.year, today.year + 1}
    uncertain_orders = session.scalars(
        select(WorkOrder.number)
        .where(WorkOrder.calendar_uncertain.is_(True), WorkOrder.next_due_at.is_not(None))
        .limit(20)
    ).all()
    missing = calendar.uncovered_years(years)
    warnings = []
    if missing:
        warnings.append(
            f"working-day calendar lacks {', '.join(map(str, missing))}: add the State Council schedule to "
            f"calendar_overrides in {ctx.config.source}; until then Monday-Friday is counted"
        )
    if ctx.config.is_sample:
        warnings.append(f"the operator configuration is the shipped sample ({ctx.config.source}); confirm its values")
    scheduler = request.app.state.scheduler_state
    return {
        "status": "warning" if warnings else "ok",
        "warnings": warnings,
        "calendar": {"uncovered_years": missing, "uncertain_orders": uncertain_orders},
        "operator_config": {"source": ctx.config.source, "sample": ctx.config.is_sample},
        "scheduler": {
            "enabled": request.app.state.settings.scheduler_enabled,
            "last_run_at": scheduler.get("last_run_at"),
            "last_error": scheduler.get("last_error"),
        },
        "now": ctx.now.isoformat(),
    }


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


@router.get("/personal-data", tags=["residents"], dependencies=[SUPERVISORS])
def export_resident(
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: PrincipalDep,
    openid: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    phone: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
) -> dict[str, Any]:
    """Everything kept of one resident (12.1), by WeChat openid or phone; the read is audited."""
    found = residents.export(session, openid, phone, request.app.state.bot)
    audit.record(session, now, principal.name, "resident_exported", f"openid {openid[:4]}…" if openid else "phone")
    session.commit()
    return found


@router.post("/personal-data/erase", response_model=ResidentErased, tags=["residents"], dependencies=[SUPERVISORS])
def erase_resident(
    body: ResidentErase, request: Request, session: SessionDep, now: NowDep, principal: PrincipalDep
) -> ResidentErased:
    """Erase one resident's personal data on their request (12.1); refused while an order is worked."""
    erased = residents.erase(session, body.openid, body.phone, body.reason, request.app.state.bot, principal.name, now)
    return ResidentErased(**erased)
