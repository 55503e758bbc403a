"""The season's room-temperature sampling plan (5.4.2–5.4.4): the household list, the draw, and a
temperature-test visit per drawn household. The rules (size, spread, the draw) are
heating_standard.sampling; this module loads, applies and stores."""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.errors import Conflict, Unprocessable
from api.models import Address, Household, SamplingPlan, WorkOrder
from api.schemas import HouseholdIn, SamplingPlanCreate, SamplingPlanPublic, WorkOrderCreate
from api.services import work_orders
from api.services.principals import Principal
from heating_standard import sampling
from heating_standard.addresses import parse_address
from heating_standard.localtime import LOCAL_TZ, local_date
from heating_standard.operator import Company
from heating_standard.orders import Category, Kind, Source, household_key

MAX_PLAN_DAYS = 180
# Visits are booked on the hour from 9:00, eight a day per slot row, spread evenly over the plan's days.
FIRST_HOUR, SLOTS = 9, 8


def import_households(session: Session, rows: list[HouseholdIn], now: datetime) -> tuple[int, int, int]:
    """Add or update households by their address (community, building, room); all or nothing. A key
    named twice in one list is added once and then updated."""
    keyed = []
    for number, row in enumerate(rows, start=1):
        parsed = parse_address(row.address)
        key = household_key(parsed.community, parsed.building, parsed.room)
        if key is None or parsed.community is None:
            raise Unprocessable("households", f"row {number}: the address names no community, building and room")
        keyed.append((key, parsed, row))
    known = {h.key: h for h in session.scalars(select(Household).where(Household.key.in_({k for k, _, _ in keyed})))}
    created = updated = 0
    for key, parsed, row in keyed:
        household = known.get(key)
        if household is None:
            household = Household(key=key, address=parsed.text, community=parsed.community, created_at=now)
            session.add(household)
            known[key] = household
            created += 1
        else:
            updated += 1
        household.position = row.position.value if row.position else None
        household.orientation = row.orientation.value if row.orientation else None
        household.floor_level = row.floor_level.value if row.floor_level else None
        household.updated_at = now
    session.commit()
    total = session.scalar(select(func.count()).select_from(Household)) or 0
    return created, updated, total


def population(session: Session) -> dict[str, tuple[str, sampling.Household]]:
    """Every household known: the company's list, and the homes residents gave (their attributes
    unknown); by key, with the address a visit goes to."""
    known: dict[str, tuple[str, sampling.Household]] = {}
    for h in session.scalars(select(Household)):
        known[h.key] = (
            h.address,
            sampling.Household(
                h.key,
                sampling.Position(h.position) if h.position else None,
                sampling.Orientation(h.orientation) if h.orientation else None,
                sampling.FloorLevel(h.floor_level) if h.floor_level else None,
            ),
        )
    for a in session.scalars(select(Address).where(Address.room.is_not(None))):
        key = household_key(a.community, a.building, a.room)
        if key is not None and key not in known:
            known[key] = (a.text, sampling.Household(key))
    return known


def create_plan(
    session: Session, body: SamplingPlanCreate, ctx: work_orders.Context, principal: Principal
) -> SamplingPlan:
    """Draw the plan and book a visit for each household drawn; one plan per season (5.4.4)."""
    today = local_date(ctx.now)
    if body.first_day <= today:
        raise Unprocessable("first_day", "the plan's visits start tomorrow at the earliest")
    if body.last_day < body.first_day or (body.last_day - body.first_day).days >= MAX_PLAN_DAYS:
        raise Unprocessable("last_day", f"the plan runs from first_day for 1 to {MAX_PLAN_DAYS} days")
    season = work_orders.season_label(body.first_day, ctx.config)
    if session.scalar(select(SamplingPlan.id).where(SamplingPlan.season == season)) is not None:
        raise Conflict(f"the {season} season has its sampling plan already (5.4.4: one for the whole season)")
    known = population(session)
    users, area, size = _size(ctx.config.company, len(known))
    seed = body.seed if body.seed is not None else secrets.randbelow(2**31)
    drawn = sampling.draw((h for _, h in known.values()), size, seed)
    plan = SamplingPlan(
        season=season,
        population=users,
        share=sampling.sample_share(area),
        size=size,
        seed=seed,
        first_day=body.first_day,
        last_day=body.last_day,
        collector=body.collector,
        spread={
            "wanted": {s: {v.value: n for v, n in c.items()} for s, c in drawn.wanted.items()},
            "achieved": {s: {v.value: n for v, n in c.items()} for s, c in drawn.achieved.items()},
            "shortfalls": drawn.shortfalls,
        },
        created_by=principal.name,
        created_at=ctx.now,
    )
    session.add(plan)
    session.flush()
    _book_visits(session, plan, [known[h.key][0] for h in drawn.chosen], ctx, principal)
    session.commit()
    return plan


def _size(company: Company, known: int) -> tuple[int, float, int]:
    """5.4.2: the company's heat users, its heated area, and the households to sample — at least the share
    of every heat user, however many the household list holds (which must reach it)."""
    area, users = company.heated_area_m2, company.users
    if not area:
        raise Unprocessable("heated_area_m2", "5.4.2 sizes the plan by the heated area: set company.heated_area_m2")
    if not users:
        raise Unprocessable("users", "采集户数按热用户总户数计（5.4.2）：请在运营配置中填写 company.users")
    if not known:
        raise Unprocessable("households", "no household is known: import the household list first")
    size = sampling.sample_size(users, area)
    if known < size:
        raise Unprocessable(
            "households",
            f"入户采集不少于热用户总户数的{sampling.sample_share(area):.0%}（5.4.2），即{users}户中至少{size}户；"
            f"户表只有{known}户，请先导入完整户表",
        )
    return users, area, size


def _book_visits(
    session: Session, plan: SamplingPlan, addresses: list[str], ctx: work_orders.Context, principal: Principal
) -> None:
    """A visit for each household drawn, on the hour from 9:00, spread over the plan's days (5.4.4)."""
    days = (plan.last_day - plan.first_day).days + 1
    for number, address in enumerate(addresses):
        day = plan.first_day + timedelta(days=number * days // len(addresses))
        visit = datetime.combine(day, time(FIRST_HOUR + number % SLOTS), LOCAL_TZ)
        visit_order = WorkOrderCreate(
            kind=Kind.TEMPERATURE_TEST,
            category=Category.ROOM_TEMPERATURE,
            source=Source.SAMPLING,
            description=f"室温采集计划（5.4.4）{plan.season} 第{number + 1}户，采集人员：{plan.collector}",
            address=address,
            appointment_at=visit,
        )
        work_orders.create_work_order(
            session, visit_order, ctx, actor=principal.name, commit=False, sampling_plan_id=plan.id
        )


def shown(session: Session, plan: SamplingPlan) -> SamplingPlanPublic:
    """A plan with how many of its visits are booked and done."""
    visits = session.scalar(select(func.count()).where(WorkOrder.sampling_plan_id == plan.id)) or 0
    done = (
        session.scalar(
            select(func.count()).where(
                WorkOrder.sampling_plan_id == plan.id, WorkOrder.measured_temperature.is_not(None)
            )
        )
        or 0
    )
    return SamplingPlanPublic.model_validate(plan).model_copy(update={"visits": visits, "done": done})


def list_plans(session: Session) -> list[SamplingPlanPublic]:
    return [shown(session, p) for p in session.scalars(select(SamplingPlan).order_by(SamplingPlan.id.desc()))]


def household_count(session: Session) -> int:
    """How many households the company's list holds (5.4.3)."""
    return session.scalar(select(func.count()).select_from(Household)) or 0
