"""KPIs of 14.4 for a period, from the orders, call-backs and outages in the database: the queries
find the records, heating_standard.kpis counts them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, or_, select
from sqlalchemy.orm import Session

from api.models import CallbackTask, Deadline, Outage, RoomTemperatureTest, WorkOrder
from api.schemas import KpiReport, KpiValue
from api.services import deadline_watch
from heating_standard import kpis
from heating_standard.deadlines import season_of
from heating_standard.localtime import local_date
from heating_standard.operator import OperatorFile
from heating_standard.orders import Category, Kind, Status, household_key, withdrawn

# heating_standard.orders.withdrawn, as a query condition.
WITHDRAWN = or_(
    WorkOrder.status.in_([Status.RETURNED.value, Status.CANCELLED.value]),
    and_(WorkOrder.status == Status.CLOSED.value, WorkOrder.completed_at.is_(None)),
)


def compute(
    session: Session, start: datetime, end: datetime, config: OperatorFile, now: datetime
) -> dict[str, kpis.Ratio]:
    """Every KPI over orders accepted in [start, end) (C: tests made in it); S over the season the period starts in."""
    in_period = and_(WorkOrder.accepted_at >= start, WorkOrder.accepted_at < end)
    return {
        "accident_rate": _accident_rate(session, start, end, config, now),
        "repair_response_rate": _repair_response_rate(session, in_period, now),
        "room_temperature_compliance": _room_temperature(session, start, end),
        **kpis.complaint_rates(_complaints(session, in_period), now),
    }


def _accident_rate(session: Session, start: datetime, end: datetime, config: OperatorFile, now: datetime) -> kpis.Ratio:
    """14.4.1 over the season containing the period's first day (or its last, for a period that starts
    before the season); without a season, no figure."""
    season = season_of(local_date(start), config.seasons()) or season_of(local_date(end), config.seasons())
    area = config.company.heated_area_m2 or 0.0
    if season is None:
        return kpis.accident_rate([], start, start, start, area)
    season_start, season_end = season.bounds()
    counted_until = min(end, now, season_end)
    outages = session.scalars(
        select(Outage).where(
            Outage.started_at < counted_until, or_(Outage.restored_at.is_(None), Outage.restored_at > season_start)
        )
    ).all()
    spans = [
        kpis.OutageSpan(o.started_at, o.restored_at or counted_until, o.heated_area_m2, o.cause_code) for o in outages
    ]
    return kpis.accident_rate(spans, season_start, season_end, counted_until, area)


def _repair_response_rate(session: Session, in_period: object, now: datetime) -> kpis.Ratio:
    """Q (14.4.2): each repair by its window, a leak's 1 hour (10.2.3) or the visit's (10.2.4)
    (``heating_standard.kpis.repair_window``); one still inside its window is not yet due."""
    window = case((WorkOrder.category == Category.LEAK.value, kpis.LEAK_WINDOW), else_=kpis.VISIT_WINDOW)
    rows = session.execute(
        select(Deadline.due_at, Deadline.met_at)
        .select_from(WorkOrder)
        .outerjoin(Deadline, and_(Deadline.order_id == WorkOrder.id, Deadline.name == window))
        .where(in_period, WorkOrder.kind == Kind.REPAIR.value, ~WITHDRAWN)  # type: ignore[arg-type]
    ).all()
    return kpis.repair_response_rate((kpis.Repair(due, met) for due, met in rows), now)


def _room_temperature(session: Session, start: datetime, end: datetime) -> kpis.Ratio:
    """C (14.4.3): every household tested in [start, end) once (a test counts by when it was made, not when
    its order was filed: a sampling plan books the whole season's visits at once), by its latest test that
    counts (one recorded outside 5.1's conditions does not), whether the sampling plan or a request brought
    it."""
    rows = session.execute(
        select(
            WorkOrder.id,
            WorkOrder.community,
            WorkOrder.building,
            WorkOrder.room,
            WorkOrder.resident_id,
            WorkOrder.completed_at,
            WorkOrder.measured_temperature,
            RoomTemperatureTest.excluded,
        )
        .outerjoin(RoomTemperatureTest, RoomTemperatureTest.order_id == WorkOrder.id)
        .where(
            WorkOrder.kind == Kind.TEMPERATURE_TEST.value,
            WorkOrder.measured_temperature.is_not(None),
            WorkOrder.completed_at >= start,
            WorkOrder.completed_at < end,
        )
    ).all()
    tests = []
    for row in rows:
        # A household by its address; without one, by the resident; else the order stands alone.
        home = household_key(row.community, row.building, row.room) or (
            f"resident:{row.resident_id}" if row.resident_id else f"order:{row.id}"
        )
        tests.append(kpis.TemperatureTest(home, row.completed_at, row.measured_temperature, row.excluded))
    return kpis.room_temperature_compliance(tests)


def _complaints(session: Session, in_period: object) -> list[kpis.Complaint]:
    orders = session.scalars(
        select(WorkOrder).where(in_period, WorkOrder.kind == Kind.COMPLAINT.value)  # type: ignore[arg-type]
    ).all()
    tasks: dict[int, list[CallbackTask]] = {o.id: [] for o in orders}
    if tasks:
        for task in session.scalars(
            select(CallbackTask).where(CallbackTask.order_id.in_(tasks)).order_by(CallbackTask.sequence)
        ):
            tasks[task.order_id].append(task)
    found = []
    for order in orders:
        done = [t for t in tasks[order.id] if t.done_at is not None]
        latest = max(done, key=lambda t: (t.done_at, t.sequence)) if done else None
        first = tasks[order.id][0] if tasks[order.id] else None
        found.append(
            kpis.Complaint(
                reasonable=order.reasonable is not False,
                withdrawn=withdrawn(order.status, order.completed_at is not None),
                completed_at=order.completed_at,
                completion_due_at=deadline_watch.due_at(order, "completion"),
                reply_due_at=deadline_watch.due_at(order, "reply"),
                rescheduled_late=bool(order.rescheduled_late),
                process_satisfied=latest.process_satisfied if latest else None,
                result_satisfied=latest.result_satisfied if latest else None,
                first_callback_at=first.done_at if first else None,
                first_callback_due_at=first.due_at if first else None,
            )
        )
    return found


def shown(ratio: kpis.Ratio) -> KpiValue:
    return KpiValue(
        name=ratio.name,
        clause=ratio.clause,
        value=ratio.value,
        numerator=ratio.numerator,
        denominator=ratio.denominator,
        target=ratio.target_text,
        met=ratio.met,
        pending=ratio.pending,
    )


# Shown apart from Table 1's KPIs: the rates 14.4.6 lets a company publish.
PUBLISHED = ("complaint_on_time_rate", "complaint_completion_rate")


def report(session: Session, start: datetime, end: datetime, config: OperatorFile, now: datetime) -> KpiReport:
    """The KPIs of 14.4 (Table 1), the call-back coverage of 10.1.6 and the published rates of 14.4.6
    for [start, end), as the API and the console show them."""
    values = compute(session, start, end, config, now)
    coverage = values.pop("complaint_callback_coverage")
    published = [shown(values.pop(name)) for name in PUBLISHED]
    return KpiReport(
        start=start,
        end=end,
        kpis=[shown(v) for v in values.values()],
        callback_coverage=shown(coverage),
        published=published,
    )
