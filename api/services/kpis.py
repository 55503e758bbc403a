"""KPIs of 14.4 for a period, from the orders, call-backs and outages in the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from api.models import CallbackTask, Outage, WorkOrder
from api.schemas import KpiReport, KpiValue
from heating_standard import kpis
from heating_standard.operator import OperatorFile
from heating_standard.orders import Kind, Status


def compute(
    session: Session, start: datetime, end: datetime, config: OperatorFile, now: datetime
) -> dict[str, kpis.Ratio]:
    """Every KPI over orders accepted (or outages overlapping) in [start, end)."""
    in_period = and_(WorkOrder.accepted_at >= start, WorkOrder.accepted_at < end)

    repairs = session.scalar(select(func.count()).where(in_period, WorkOrder.kind == Kind.REPAIR.value)) or 0
    responded_in_time = (
        session.scalar(
            select(func.count()).where(
                in_period,
                WorkOrder.kind == Kind.REPAIR.value,
                WorkOrder.responded_at.is_not(None),
                WorkOrder.responded_at <= WorkOrder.response_due_at,
            )
        )
        or 0
    )

    readings = session.scalars(
        select(WorkOrder.measured_temperature).where(
            in_period, WorkOrder.kind == Kind.TEMPERATURE_TEST.value, WorkOrder.measured_temperature.is_not(None)
        )
    ).all()

    complaint_callbacks = (
        select(CallbackTask)
        .join(WorkOrder, WorkOrder.id == CallbackTask.order_id)
        .where(in_period, WorkOrder.kind == Kind.COMPLAINT.value, CallbackTask.done_at.is_not(None))
        .subquery()
    )
    called_back = session.scalar(select(func.count()).select_from(complaint_callbacks)) or 0
    process_ok = (
        session.scalar(
            select(func.count())
            .select_from(complaint_callbacks)
            .where(complaint_callbacks.c.process_satisfied.is_(True))
        )
        or 0
    )
    result_ok = (
        session.scalar(
            select(func.count())
            .select_from(complaint_callbacks)
            .where(complaint_callbacks.c.result_satisfied.is_(True))
        )
        or 0
    )
    completed_complaints = (
        session.scalar(
            select(func.count()).where(
                in_period,
                WorkOrder.kind == Kind.COMPLAINT.value,
                WorkOrder.completed_at.is_not(None),
                WorkOrder.status != Status.CANCELLED.value,
            )
        )
        or 0
    )

    outages = session.scalars(
        select(Outage).where(Outage.started_at < end, (Outage.restored_at.is_(None)) | (Outage.restored_at > start))
    ).all()
    spans = [kpis.OutageSpan(o.started_at, o.restored_at or min(now, end), o.heated_area_m2) for o in outages]
    area = config.company.heated_area_m2 or 0.0

    return {
        "accident_rate": kpis.accident_rate(spans, start, end, area),
        "repair_response_rate": kpis.repair_response_rate(responded_in_time, repairs),
        "room_temperature_compliance": kpis.room_temperature_compliance(r for r in readings if r is not None),
        "complaint_process_satisfaction": kpis.complaint_process_satisfaction(process_ok, called_back),
        "complaint_result_satisfaction": kpis.complaint_result_satisfaction(result_ok, called_back),
        "complaint_callback_coverage": kpis.callback_coverage(called_back, completed_complaints),
    }


def shown(ratio: kpis.Ratio) -> KpiValue:
    return KpiValue(
        name=ratio.name,
        clause=ratio.clause,
        value=ratio.value,
        numerator=ratio.numerator,
        denominator=ratio.denominator,
        target=ratio.target_text,
        met=ratio.met,
    )


def report(session: Session, start: datetime, end: datetime, config: OperatorFile, now: datetime) -> KpiReport:
    """The KPIs of 14.4 and the call-back coverage of 10.1.6 for [start, end), as the API and the
    console show them."""
    values = compute(session, start, end, config, now)
    coverage = values.pop("complaint_callback_coverage")
    return KpiReport(start=start, end=end, kpis=[shown(v) for v in values.values()], callback_coverage=shown(coverage))
