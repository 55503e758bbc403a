"""Filing, listing and working orders; each public function owns its transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.domain import search
from api.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.models import (
    Address,
    CallbackTask,
    Deadline,
    GridWorker,
    Notification,
    Resident,
    StaffUser,
    WorkOrder,
    WorkOrderEvent,
)
from api.schemas import ActionRequest, AttachmentCreate, WorkOrderCreate, WorkOrderFilter
from api.services import media
from api.services.principals import FIELD_ROLES, STAFF_ROLES, SUPERVISOR_ROLES, Principal, Role
from api.services.scheduler import ORDER_FILED, add_once
from heating_standard import deadlines as rules
from heating_standard import notices
from heating_standard.addresses import parse_address
from heating_standard.lifecycle import (
    ACTION_WORDS,
    DEADLINE_NAMES,
    MEETS,
    Action,
    OrderState,
    TransitionRefused,
    is_refusal,
    missing_field,
    next_status,
)
from heating_standard.localtime import local_date
from heating_standard.operator import OperatorFile
from heating_standard.orders import (
    Category,
    ComplaintFacts,
    Kind,
    Source,
    Status,
    household_key,
    is_urgent,
    phone_key,
    repeats,
)


def order_number(order_id: int, accepted_at: datetime) -> str:
    """A human-readable number: GD + local acceptance date + the order's id, e.g. GD20261127000042."""
    return f"GD{local_date(accepted_at):%Y%m%d}{order_id:06d}"


def season_label(day: date, config: OperatorFile) -> str:
    """The heating season a day belongs to, e.g. "2026-2027"; outside a season, the coming one."""
    season = rules.season_of(day, config.seasons())
    start_year = season.start.year if season else (day.year if day.month >= 7 else day.year - 1)
    return f"{start_year}-{start_year + 1}"


@dataclass(frozen=True)
class Context:
    """What every use case needs besides the session: the clock's reading, the operator file and
    how far back staff may date what they record."""

    now: datetime
    config: OperatorFile
    backdate_window: timedelta = timedelta(minutes=15)
    supervisor_backdate_limit: timedelta = timedelta(hours=72)
    # how long after the bot filed an order its number is checked in the conversation (zero: never)
    filed_number_check: timedelta = timedelta(minutes=2)


# Who may take each action. Staff work the order; a supervisor approves returns, extensions and
# cancellations (10.1.3); only the resident confirms a quote (10.2.2): in WeChat, through the bot (the
# machine token naming the order's own resident), or, for a resident without WeChat, on paper that
# staff record with a note; a call-back is recorded by staff (phone, face to face) or by the bot for
# the resident who answered the WeChat survey. A technician records the work on site (arrival 10.2.4, the
# quote 10.2.2, completion with the visit's record 10.2.5), on the orders dispatched to them only.
ACTION_OWNERS: dict[Action, frozenset[Role]] = {
    Action.RESPOND: STAFF_ROLES,
    Action.DISPATCH: STAFF_ROLES,
    Action.ARRIVE: STAFF_ROLES | FIELD_ROLES,
    Action.QUOTE: STAFF_ROLES | FIELD_ROLES,
    Action.COMPLETE: STAFF_ROLES | FIELD_ROLES,
    Action.CLOSE: STAFF_ROLES,
    Action.RETURN: SUPERVISOR_ROLES,
    Action.EXTEND: SUPERVISOR_ROLES,
    Action.CANCEL: SUPERVISOR_ROLES,
    Action.CONFIRM_QUOTE: STAFF_ROLES | {Role.MACHINE},
    Action.CALLBACK: STAFF_ROLES | {Role.MACHINE},
    Action.RESCHEDULE: STAFF_ROLES,
    # 14.4.4: whether a complaint counts in T is a supervisor's judgement, with the reason.
    Action.MARK_UNREASONABLE: SUPERVISOR_ROLES,
    Action.MARK_REASONABLE: SUPERVISOR_ROLES,
}


def earliest_acceptance(config: OperatorFile) -> date | None:
    """The first day an order may be dated: 1 July opening the heating year of the operator file's
    first season (business requests come before the season too)."""
    first = min((season.start for season in config.seasons()), default=None)
    if first is None:
        return None
    return date(first.year if first.month >= 7 else first.year - 1, 7, 1)


def scoped_key(caller: str, key: str) -> str:
    """An Idempotency-Key as stored: scoped to its caller, so two callers' keys never meet."""
    return hashlib.sha256(f"{caller}\n{key}".encode()).hexdigest()


def request_fingerprint(data: WorkOrderCreate) -> str:
    """A hash of the request's content: the same key must come with the same request."""
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# --------------------------------------------------------------------------- filing


def plan(data: WorkOrderCreate, ctx: Context) -> tuple[datetime, bool, rules.Deadlines]:
    """The order's acceptance time, urgency and deadlines, after the checks every new order passes;
    nothing is stored (the hotline import's preview shows exactly what filing would set)."""
    accepted_at = data.accepted_at or ctx.now
    if accepted_at > ctx.now:
        raise Unprocessable("accepted_at", "accepted_at lies in the future")
    earliest = earliest_acceptance(ctx.config)
    if earliest is not None and local_date(accepted_at) < earliest:
        raise Unprocessable(
            "accepted_at", f"accepted_at lies before the heating years the operator file knows (from {earliest})"
        )
    if data.appointment_at is not None and data.appointment_at < accepted_at:
        raise Unprocessable("appointment_at", "appointment_at lies before the order was accepted")
    urgent = is_urgent(data.category, data.urgent)
    try:
        deadlines = _deadlines(data, accepted_at, urgent, ctx)
    except rules.DeadlineError as exc:
        raise Unprocessable("appointment_at", str(exc)) from None
    return accepted_at, urgent, deadlines


def _deadlines(data: WorkOrderCreate, accepted_at: datetime, urgent: bool, ctx: Context) -> rules.Deadlines:
    return rules.compute_deadlines(
        rules.OrderFacts(
            kind=data.kind,
            category=data.category,
            source=data.source,
            urgent=urgent,
            accepted_at=accepted_at,
            appointment_at=data.appointment_at,
            external_works=data.external_works,
            business_type=data.business_type,
        ),
        ctx.config.calendar(),
        ctx.config.seasons(),
        ctx.config.promises,
    )


def by_external_reference(session: Session, source: Source, reference: str) -> WorkOrder | None:
    """The order a platform's own number names, if it was filed already."""
    query = select(WorkOrder).where(WorkOrder.source == source.value, WorkOrder.external_reference == reference)
    return session.scalars(query).first()


def create_work_order(
    session: Session,
    data: WorkOrderCreate,
    ctx: Context,
    idempotency_key: str | None = None,
    actor: str = "system",
    commit: bool = True,
    sampling_plan_id: int | None = None,
    with_order: Callable[[WorkOrder], object] | None = None,
) -> tuple[WorkOrder, bool]:
    """File an order; returns (order, created).

    An idempotency key belongs to its caller: the same caller, key and request return the first order;
    the same key with a different request is refused (422), never answered with another's order.
    A platform's order number is filed once per source (409 naming the order that has it).
    ``commit=False`` leaves the order in the caller's transaction (the hotline import saves all or nothing).
    ``with_order`` adds what belongs with a new order to the same transaction (the check that the bot's
    filer heard its number), so neither is kept without the other.
    """
    if (data.source == Source.SAMPLING) != (sampling_plan_id is not None):
        raise Unprocessable("source", "visits of the room-temperature sampling plan are drawn by the plan (5.4.4)")
    fingerprint = request_fingerprint(data)
    if idempotency_key:
        idempotency_key = scoped_key(actor, idempotency_key)
        existing = _by_idempotency_key(session, idempotency_key)
        if existing is not None:
            return _same_request(existing, fingerprint), False
    if data.external_reference:
        taken = by_external_reference(session, data.source, data.external_reference)
        if taken is not None:
            raise Conflict(f"the platform's order {data.external_reference} is filed already as {taken.number}")
    accepted_at, urgent, deadlines = plan(data, ctx)
    grid_worker = _grid_worker(session, data.forwarded_by_openid) if data.forwarded_by_openid else None
    if data.source == Source.GRID_WORKER and grid_worker is None:
        raise Unprocessable("forwarded_by_openid", "an order from a grid worker names the registered grid worker")

    parsed = parse_address(data.address) if data.address else None
    resident = _remember_resident(session, data, parsed, ctx.now)
    local_day = local_date(accepted_at)
    season = season_label(local_day, ctx.config)
    order = WorkOrder(
        kind=data.kind.value,
        category=data.category.value,
        source=data.source.value,
        status=Status.ACCEPTED.value,
        description=data.description,
        resident_openid=data.resident_openid,
        resident_id=resident.id if resident else None,
        phone=data.phone,
        phone_key=phone_key(data.phone),
        address=data.address,
        community=parsed.community if parsed else None,
        building=parsed.building if parsed else None,
        unit=parsed.unit if parsed else None,
        room=parsed.room if parsed else None,
        urgent=urgent,
        season=season,
        forwarded_by_grid_worker_id=grid_worker.id if grid_worker else None,
        external_reference=data.external_reference,
        contact_name=data.contact_name,
        business_type=data.business_type.value if data.business_type else None,
        sampling_plan_id=sampling_plan_id,
        accepted_at=accepted_at,
        appointment_at=data.appointment_at,
        response_due_at=deadlines.response_due_at,
        handle_due_at=deadlines.handle_due_at,
        arrival_due_at=deadlines.arrival_due_at,
        return_due_at=deadlines.return_due_at,
        reply_due_at=deadlines.reply_due_at,
        completion_due_at=deadlines.completion_due_at,
        decision_due_at=deadlines.decision_due_at,
        calendar_uncertain=deadlines.calendar_uncertain,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    order.repeat_complaint = _is_repeat_complaint(session, order)
    session.add(order)
    try:
        session.flush()  # assigns the id the number is made from
        order.number = order_number(order.id, accepted_at)
        share = ctx.config.escalation.reminder_share
        watched = [_new_deadline(order, name, accepted_at, share) for name in DEADLINE_NAMES]
        session.add_all(d for d in watched if d is not None)
        order.next_due_at = min((d.due_at for d in watched if d is not None), default=None)
        session.add(
            WorkOrderEvent(
                order_id=order.id,
                action="accept",
                from_status=None,
                to_status=order.status,
                actor=actor,
                at=accepted_at,
                recorded_at=ctx.now,
                note=None,
                data={"source": order.source, "repeat_complaint": order.repeat_complaint},
            )
        )
        if with_order is not None:
            with_order(order)
        if commit:
            session.commit()
        else:
            session.flush()
    except IntegrityError:
        if not commit:
            raise
        # Two retries of one create raced; the other one won: return its order.
        session.rollback()
        existing = _by_idempotency_key(session, idempotency_key) if idempotency_key else None
        if existing is None:
            raise Conflict("the work order could not be stored; try again") from None
        return _same_request(existing, fingerprint), False
    return order, True


def _same_request(order: WorkOrder, fingerprint: str) -> WorkOrder:
    if order.request_fingerprint is not None and order.request_fingerprint != fingerprint:
        raise Unprocessable(
            "Idempotency-Key", "this key was used for a different request; use a new key for a new order"
        )
    return order


def _remember_resident(session: Session, data: WorkOrderCreate, parsed: Any, now: datetime) -> Resident | None:
    """The resident by openid (created on first contact), with their newest phone and address."""
    if not data.resident_openid:
        return None
    resident = session.scalars(select(Resident).where(Resident.openid == data.resident_openid)).first()
    if resident is None:
        # Two first orders of a new resident may race here: the loser reads the winner's row.
        try:
            with session.begin_nested():
                resident = Resident(openid=data.resident_openid, created_at=now, updated_at=now)
                session.add(resident)
        except IntegrityError:
            resident = session.scalars(select(Resident).where(Resident.openid == data.resident_openid)).one()
    if data.phone:
        resident.phone = data.phone
        resident.updated_at = now
    if parsed is not None:
        known = next((a for a in resident.addresses if a.text == parsed.text), None)
        if known is None:
            known = Address(
                resident_id=resident.id,
                text=parsed.text,
                community=parsed.community,
                building=parsed.building,
                unit=parsed.unit,
                room=parsed.room,
                last_used_at=now,
            )
            session.add(known)
            resident.addresses.append(known)
        known.last_used_at = now
        if data.account_number:
            known.account_number = data.account_number
    return resident


def _complaint_facts(order: WorkOrder, resident_openid: str | None) -> ComplaintFacts:
    return ComplaintFacts(
        category=Category(order.category),
        season=order.season or "",
        resident=resident_openid,
        phone=order.phone_key,
        household=household_key(order.community, order.building, order.room),
    )


def _is_repeat_complaint(session: Session, order: WorkOrder) -> bool:
    """10.1.7: the same household complained of the same problem before in this season, by any channel
    (the rule is heating_standard.orders.repeats; the query only finds the candidates)."""
    if order.kind != Kind.COMPLAINT:
        return False
    new = _complaint_facts(order, order.resident_openid)
    same_household = []
    if order.resident_id is not None:
        same_household.append(WorkOrder.resident_id == order.resident_id)
    if new.phone:
        same_household.append(WorkOrder.phone_key == new.phone)
    if new.household:
        same_household.append(
            and_(
                WorkOrder.community == order.community,
                WorkOrder.building == order.building,
                WorkOrder.room == order.room,
            )
        )
    if not same_household:
        return False
    candidates = session.scalars(
        select(WorkOrder)
        .where(
            WorkOrder.kind == Kind.COMPLAINT.value,
            WorkOrder.category == order.category,
            WorkOrder.season == order.season,
            WorkOrder.status != Status.CANCELLED.value,
            or_(*same_household),
        )
        .limit(50)
    )
    return any(repeats(_complaint_facts(c, c.resident_openid), new) for c in candidates if c is not order)


def _remind_at(starts_at: datetime, due: datetime, share: float) -> datetime:
    return starts_at + (due - starts_at) * share if due > starts_at else due


def _new_deadline(order: WorkOrder, name: str, starts_at: datetime, share: float) -> Deadline | None:
    """The scheduler's record of one deadline of a new order, if the order has that deadline."""
    due: datetime | None = getattr(order, f"{name}_due_at")
    if due is None:
        return None
    return Deadline(
        order_id=order.id, name=name, starts_at=starts_at, due_at=due, remind_at=_remind_at(starts_at, due, share)
    )


def _watch(session: Session, order: WorkOrder, name: str, starts_at: datetime, share: float) -> None:
    """Create or move the scheduler's record of one deadline of an existing ``order``."""
    due: datetime | None = getattr(order, f"{name}_due_at")
    # One row per deadline name (the scheduler's watch); the history of what was met when is on the
    # order's events and call-back tasks.
    existing = session.scalars(select(Deadline).where(Deadline.order_id == order.id, Deadline.name == name)).first()
    if due is None:
        if existing is not None:
            session.delete(existing)
        return
    remind_at = _remind_at(starts_at, due, share)
    if existing is None:
        session.add(Deadline(order_id=order.id, name=name, starts_at=starts_at, due_at=due, remind_at=remind_at))
    elif existing.due_at != due or existing.met_at is not None:
        # A moved deadline (an extension, a new completion time, a repeat complaint's further call-back) is
        # watched afresh: a new reminder, a new breach.
        existing.starts_at = starts_at
        existing.due_at = due
        existing.remind_at = remind_at
        existing.met_at = None
        existing.reminded_at = None
        existing.breached_at = None


def _next_due(order: WorkOrder, session: Session) -> datetime | None:
    session.flush()
    return session.scalar(
        select(func.min(Deadline.due_at)).where(Deadline.order_id == order.id, Deadline.met_at.is_(None))
    )


# --------------------------------------------------------------------------- reading


def get_work_order(session: Session, order_id: int) -> WorkOrder:
    """One order by id, or NotFound."""
    order = session.get(WorkOrder, order_id)
    if order is None:
        raise NotFound(f"work order {order_id} does not exist")
    return order


def attach(
    session: Session, order_id: int, attachment: AttachmentCreate, principal: Principal, now: datetime
) -> WorkOrderEvent:
    """A photo or file the resident sent, kept on the order's audit trail (the status is unchanged)."""
    order = get_work_order(session, order_id)
    if principal.role == Role.MACHINE:
        check_resident(order, attachment.resident_openid)
    data = {"kind": attachment.kind, "url": attachment.url, "media_id": attachment.media_id}
    if attachment.media_id:
        media.expect(session, order.id, attachment.media_id, now)  # copied by the scheduler
    return _record_without_move(session, order, "attachment", principal, now, attachment.note, data)


def _record_without_move(
    session: Session,
    order: WorkOrder,
    action: str,
    principal: Principal,
    now: datetime,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> WorkOrderEvent:
    """An audit event that leaves the order's status as it is (a photo, a read of contact data)."""
    event = WorkOrderEvent(
        order_id=order.id,
        action=action,
        from_status=order.status,
        to_status=order.status,
        actor=principal.name,
        at=now,
        recorded_at=now,
        note=note,
        data=data,
    )
    session.add(event)
    session.commit()
    return event


def check_resident(order: WorkOrder, resident_openid: str | None) -> None:
    """The bot acts for one resident: the order must be theirs. 404 alike for absent and foreign orders."""
    if not resident_openid or order.resident_openid != resident_openid:
        raise NotFound(f"work order {order.id} does not exist for this resident")


def record_contact_view(session: Session, order: WorkOrder, principal: Principal, now: datetime) -> None:
    """Staff read the whole phone and address: kept on the audit trail (12.1)."""
    _record_without_move(session, order, "contact_viewed", principal, now)


def list_work_orders(session: Session, filters: WorkOrderFilter, now: datetime) -> tuple[list[WorkOrder], int]:
    """Orders matching the filters, newest first (soonest due first for deadline filters), and the total."""
    conditions: list[ColumnElement[bool]] = []
    if filters.resident_openid:
        conditions.append(WorkOrder.resident_openid == filters.resident_openid)
    if filters.status:
        conditions.append(WorkOrder.status.in_([s.value for s in filters.status]))
    if filters.source:
        conditions.append(WorkOrder.source == filters.source.value)
    if filters.kind:
        conditions.append(WorkOrder.kind == filters.kind.value)
    if filters.category:
        conditions.append(WorkOrder.category == filters.category.value)
    if filters.community:
        conditions.append(WorkOrder.community.in_(filters.community))
    if filters.overdue is True:
        conditions.append(WorkOrder.next_due_at < now)
    elif filters.overdue is False:
        conditions.append(or_(WorkOrder.next_due_at.is_(None), WorkOrder.next_due_at >= now))
    if filters.due_before:
        conditions.append(WorkOrder.next_due_at < filters.due_before)
    found = search.parse(filters.q)
    if found is not None:
        conditions.append(_matching(found))
    # count(*) with the same conditions: the database can answer it from the index alone.
    total = session.scalar(select(func.count()).select_from(WorkOrder).where(*conditions)) or 0
    by_deadline = filters.overdue or filters.due_before or filters.sort == "urgency"
    order_by = WorkOrder.next_due_at.asc().nulls_last() if by_deadline else WorkOrder.id.desc()
    rows = session.scalars(
        select(WorkOrder)
        .where(*conditions)
        .order_by(order_by, WorkOrder.id.desc())
        .limit(filters.limit)
        .offset(filters.offset)
    )
    return list(rows), total


def _matching(found: search.Search) -> ColumnElement[bool]:
    """Orders the search box's text finds among what staff see of them (``api.domain.search``): the
    community and building, the family name, part of the order number, the phone's last four digits."""
    matches = [WorkOrder.search_text.contains(found.text, autoescape=True)]
    if found.number:
        matches.append(WorkOrder.number.contains(found.number, autoescape=True))
    if found.phone_tail:
        matches.append(WorkOrder.phone_tail == found.phone_tail)
    return or_(*matches)


# --------------------------------------------------------------------------- actions


def perform_action(
    session: Session, order_id: int, action: Action, request: ActionRequest, principal: Principal, ctx: Context
) -> WorkOrder:
    """Apply one action to an order under the state machine; records the audit event."""
    order = session.get(WorkOrder, order_id, with_for_update=True)
    if order is None:
        # a technician is told the same of an order that exists and is not theirs (check_dispatched_to)
        raise NotFound(NOT_YOURS if principal.role in FIELD_ROLES else f"work order {order_id} does not exist")
    _check_owner(action, principal, request, order)
    claimed = request.at or ctx.now
    if claimed > ctx.now:
        raise Unprocessable("at", "操作时间不能晚于现在")
    if claimed < order.accepted_at:
        raise Unprocessable("at", "操作时间不能早于工单受理时间")
    at = effective_time(claimed, principal, request, ctx)
    state = order_state(order)
    try:
        target = next_status(state, action)
    except TransitionRefused as exc:
        raise Conflict(exc.reason, code="transition_not_allowed") from None
    data: dict[str, Any] = {}
    if at != claimed:
        # Entered later than the window allows: deadlines and KPIs count the entry time.
        data.update(claimed_at=claimed.isoformat(), backdate_reason=request.backdate_reason)

    technician_account = None
    if action == Action.DISPATCH and request.technician_id is not None:
        technician_account = _technician_account(session, request)
        request = request.model_copy(update={"technician": technician_account.display_name})
    elif action == Action.COMPLETE and principal.role in FIELD_ROLES:
        request = request.model_copy(update={"technician": order.technician})  # 10.2.5: who did the work
    given = {name for name, value in request.model_dump(exclude_none=True).items() if value not in ("", [])}
    missing = missing_field(action, state, given, on_site=principal.role in FIELD_ROLES)
    if missing is not None:
        raise Unprocessable(*missing)
    if request.technician:
        data["technician"] = request.technician
    if action == Action.RESPOND:
        order.responded_at = at
    elif action == Action.DISPATCH:
        order.technician = request.technician
        order.technician_id = technician_account.id if technician_account else None
        if technician_account:
            data["technician_id"] = technician_account.id
    elif action == Action.ARRIVE:
        order.arrived_at = at
    elif action == Action.QUOTE:
        assert request.quote_items is not None
        order.quote_items = [item.model_dump(mode="json") for item in request.quote_items]
        order.quote_total = sum((item.price * item.quantity for item in request.quote_items), Decimal(0))
        order.quote_confirmed_at = None
        data["quote_total"] = str(order.quote_total)
        _ask_resident_to_confirm(session, order, ctx.now)
    elif action == Action.CONFIRM_QUOTE:
        order.quote_confirmed_at = at
    elif action == Action.COMPLETE:
        order.completed_at = at
        order.result = request.result or request.note
        order.measured_temperature = request.measured_temperature
        if request.site_satisfaction:
            order.site_satisfaction = request.site_satisfaction
            data["site_satisfaction"] = request.site_satisfaction
        _plan_callbacks(session, order, at, ctx)
    elif action == Action.RETURN:
        if order.return_due_at is not None and at > order.return_due_at:
            data["late"] = True  # past its window (10.1.3): the monthly review counts it
    elif action == Action.EXTEND:
        _extend(order, request, ctx)
        data.update(working_days=request.working_days, reason=request.reason)
        data["reply_due_at"] = order.reply_due_at.isoformat() if order.reply_due_at else None
    elif action == Action.RESCHEDULE:
        data.update(_reschedule(session, order, request, ctx))
    elif action == Action.MARK_UNREASONABLE:
        order.reasonable, order.unreasonable_reason = False, request.reason
        data["reason"] = request.reason
    elif action == Action.MARK_REASONABLE:
        order.reasonable, order.unreasonable_reason = True, None
    elif action == Action.CALLBACK:
        data["further_callback"] = _record_callback(session, order, request, principal, at)
        data.update(method=request.method, process_satisfied=request.process_satisfied)
        data["result_satisfied"] = request.result_satisfied
    elif action == Action.CANCEL and is_refusal(action, state):
        data.update(_refuse(session, order, request, ctx.now))
    elif action == Action.CLOSE:
        order.closed_at = at

    for name in MEETS.get(action, ()):
        deadline = session.scalars(
            select(Deadline).where(Deadline.order_id == order.id, Deadline.name == name, Deadline.met_at.is_(None))
        ).first()
        if deadline is not None:
            deadline.met_at = at
    share = ctx.config.escalation.reminder_share
    if action == Action.COMPLETE or data.get("further_callback"):
        _watch(session, order, "callback", at, share)  # the first call-back, or a repeat's next one
    elif action == Action.EXTEND:
        _watch(session, order, "reply", order.accepted_at, share)
    elif action == Action.RESCHEDULE:
        _watch(session, order, "completion", ctx.now, share)
    from_status = order.status
    order.status = target.value
    order.updated_at = ctx.now
    order.next_due_at = _next_due(order, session)
    session.add(
        WorkOrderEvent(
            order_id=order.id,
            action=action.value,
            from_status=from_status,
            to_status=order.status,
            actor=principal.name,
            at=claimed,
            recorded_at=ctx.now,
            note=request.note,
            data=data or None,
        )
    )
    session.commit()
    return order


def order_state(order: WorkOrder) -> OrderState:
    """What the state machine needs to know about the order."""
    session = Session.object_session(order)
    pending = 0
    if session is not None and order.status in (Status.COMPLETED, Status.CALLED_BACK):
        tasks = session.scalars(select(CallbackTask.done_at).where(CallbackTask.order_id == order.id)).all()
        # An order completed before call-back tasks existed still has its one call-back to make.
        pending = sum(1 for done in tasks if done is None) if tasks else int(order.status == Status.COMPLETED)
    return OrderState(
        status=Status(order.status),
        kind=Kind(order.kind),
        quote_pending=order.quote_items is not None and order.quote_confirmed_at is None,
        callbacks_pending=pending,
        reasonable=order.reasonable is not False,
        completion_due=order.completion_due_at is not None,
    )


def _check_owner(action: Action, principal: Principal, request: ActionRequest, order: WorkOrder) -> None:
    """Each action has its owner (ACTION_OWNERS); the bot may touch only its resident's order, a
    technician only the orders dispatched to their own account."""
    owners = ACTION_OWNERS[action]
    if principal.role not in owners:
        if principal.role in FIELD_ROLES:
            raise Forbidden(f"维修人员只在现场记录到场、报价和完工；{ACTION_WORDS[action]}由客服中心办理")
        if owners == SUPERVISOR_ROLES:
            raise Forbidden(f"{ACTION_WORDS[action]}须由班长审批（10.1.3）")
        raise Forbidden(f"{ACTION_WORDS[action]}由工作人员办理")
    if principal.role == Role.MACHINE:
        check_resident(order, request.resident_openid)
        if action == Action.CALLBACK and request.method != "wechat":
            raise Forbidden("机器人只记录微信回访")
    elif principal.role in FIELD_ROLES:
        check_dispatched_to(order, principal)
    elif action == Action.CONFIRM_QUOTE:
        if order.resident_openid:
            raise Forbidden("报价须由居民本人在微信中确认（10.2.2）")
        if not request.note:
            raise Unprocessable("note", "请写明居民如何确认报价（如现场签字）")


NOT_YOURS = "没有找到派给您的这张工单"


def check_dispatched_to(order: WorkOrder, principal: Principal) -> None:
    """A technician sees and works only the orders dispatched to their own account; for any other order
    the answer is the same as for one that does not exist (12.1: nothing of it is shown)."""
    if principal.staff_user_id is None or order.technician_id != principal.staff_user_id:
        raise NotFound(NOT_YOURS)


def _technician_account(session: Session, request: ActionRequest) -> StaffUser:
    """The technician's account a dispatch names: an active account of the technician role."""
    if request.technician:
        raise Unprocessable("technician", "请只选一种：维修人员账号，或外部队伍的姓名")
    user = session.get(StaffUser, request.technician_id)
    if user is None or user.role not in FIELD_ROLES:
        raise Unprocessable("technician_id", "所选账号不是维修人员")
    if not user.active:
        raise Unprocessable("technician_id", f"维修人员{user.display_name}的账号已停用")
    return user


def technician_accounts(session: Session) -> list[StaffUser]:
    """The active technicians' accounts a dispatch may name, by display name."""
    query = select(StaffUser).where(StaffUser.role.in_(FIELD_ROLES), StaffUser.active.is_(True))
    return list(session.scalars(query.order_by(StaffUser.display_name, StaffUser.username)))


def dispatched_to(session: Session, principal: Principal, finished_since: datetime) -> list[WorkOrder]:
    """The orders dispatched to this technician: every one still open, and those that left the open
    states (completed, cancelled …) after ``finished_since``."""
    if principal.role not in FIELD_ROLES or principal.staff_user_id is None:
        return []
    still_open = WorkOrder.status.in_([Status.DISPATCHED.value, Status.ARRIVED.value])
    query = select(WorkOrder).where(
        WorkOrder.technician_id == principal.staff_user_id,
        or_(still_open, WorkOrder.updated_at >= finished_since),
    )
    return list(session.scalars(query.order_by(WorkOrder.id.desc()).limit(200)))


def effective_time(claimed: datetime, principal: Principal, request: ActionRequest, ctx: Context) -> datetime:
    """When an action counts for deadlines and KPIs: the claimed time within the back-dating window,
    else the time it was entered. Further back needs a supervisor with a reason, within a limit."""
    age = ctx.now - claimed
    if age <= ctx.backdate_window:
        return claimed
    if not principal.may_approve:
        minutes = int(ctx.backdate_window.total_seconds() // 60)
        raise Unprocessable("at", f"坐席最多补录{minutes}分钟内的操作；更早的时间请班长补录，并写明原因")
    if not request.backdate_reason:
        raise Unprocessable("backdate_reason", "补录这么早的时间，须写明原因")
    if age > ctx.supervisor_backdate_limit:
        hours = int(ctx.supervisor_backdate_limit.total_seconds() // 3600)
        raise Unprocessable("at", f"最多只能补录{hours}小时内的操作")
    return ctx.now


def _extend(order: WorkOrder, request: ActionRequest, ctx: Context) -> None:
    assert request.working_days is not None and request.reason
    if order.reply_due_at is None:
        raise Conflict("this order has no reply deadline to extend", code="transition_not_allowed")
    try:
        new_due, certain = rules.extend_reply(
            Source(order.source), order.reply_due_at, request.working_days, order.extended, ctx.config.calendar()
        )
    except rules.DeadlineError as exc:
        raise Conflict(str(exc), code="transition_not_allowed") from None
    order.reply_due_at = new_due
    order.extended = True
    order.extension_reason = request.reason
    order.calendar_uncertain = order.calendar_uncertain or not certain


def _tell_resident(session: Session, order: WorkOrder, kind: str, key: str, message: str, now: datetime) -> bool:
    """A message to the order's resident in WeChat, through the bot, once per ``key``; False without WeChat."""
    if not order.resident_openid:
        return False
    add_once(
        session,
        Notification(
            kind=kind,
            recipient_openid=order.resident_openid,
            order_id=order.id,
            dedup_key=f"{kind}:{order.id}:{key}",
            message=message,
            created_at=now,
            next_attempt_at=now,
        ),
    )
    return True


def filed_message(order: WorkOrder) -> str:
    """What a resident is told of an order filed for them: its number and the first promise (a leak's
    handling, 10.2.3; else the response, 10.1.4), in Beijing time; the bot's filings and staff's say the same."""
    leak = order.category == Category.LEAK and order.handle_due_at is not None
    return notices.filed_notice(order.number or "", leak, order.handle_due_at if leak else order.response_due_at)


def see_that_the_filer_hears(session: Session, order: WorkOrder, ctx: Context) -> bool:
    """An order the bot filed: ``ctx.filed_number_check`` later (2 minutes: longer than the platform's
    retries and a restart of the Rasa server) the scheduler looks whether the conversation says its
    number, and sends it through the bot when it does not (the Rasa server stopped after the order was
    filed and before the answer went out, and the platform gave up its retries). Once per order, in the
    caller's transaction. False for an order not filed in WeChat, or with the check turned off."""
    if not ctx.filed_number_check:
        return False
    openid = order.resident_openid
    if openid is None and order.forwarded_by_grid_worker_id is not None:
        grid_worker = session.get(GridWorker, order.forwarded_by_grid_worker_id)
        openid = grid_worker.openid if grid_worker else None
    if not openid or order.source not in (Source.WECHAT, Source.GRID_WORKER):
        return False
    message = filed_message(order)
    created = add_once(
        session,
        Notification(
            kind=ORDER_FILED,
            recipient_openid=openid,
            order_id=order.id,
            dedup_key=f"{ORDER_FILED}:{order.id}",
            message=message,
            created_at=ctx.now,
            next_attempt_at=ctx.now + ctx.filed_number_check,
        ),
    )
    return created


def _ask_resident_to_confirm(session: Session, order: WorkOrder, now: datetime, sending: int = 1) -> None:
    """10.2.2: the resident confirms the quote; one reached in WeChat is asked there, through the bot
    (``sending``: the first time, or the how-manieth re-sending of the same quote)."""
    if order.quote_items is None or order.quote_total is None:
        return
    message = notices.quote_notice(order.number or "", order.quote_items, f"{order.quote_total:.2f}")
    key = now.isoformat() if sending == 1 else f"{now.isoformat()}#{sending}"
    _tell_resident(session, order, QUOTE_CONFIRMATION, key, message, now)


QUOTE_CONFIRMATION = "quote_confirmation"
QUOTE_RESENT = "resend_quote"  # the history's word for a quote asked of the resident again


@dataclass(frozen=True)
class PendingQuote:
    """A quote waiting for the resident's confirmation (10.2.2), as the order page shows it: what it
    asks, when it was recorded, and each time it was sent to the resident in WeChat."""

    items: list[dict[str, Any]]
    total: Decimal
    quoted_at: datetime | None
    quoted_by: str | None
    sendings: list[Notification]
    on_wechat: bool

    @property
    def waiting_to_go(self) -> bool:
        """The latest sending has not reached the WeChat channel yet (queued or being retried)."""
        return bool(self.sendings) and self.sendings[-1].delivered_at is None


def pending_quote(session: Session, order: WorkOrder) -> PendingQuote | None:
    """The order's quote while the resident has still to confirm it (10.2.2: no work before), else None."""
    if order.quote_items is None or order.quote_total is None or order.quote_confirmed_at is not None:
        return None
    quoted = next((e for e in reversed(order.events) if e.action == Action.QUOTE.value), None)
    since = quoted.recorded_at if quoted is not None else order.accepted_at
    sendings = session.scalars(
        select(Notification)
        .where(
            Notification.order_id == order.id,
            Notification.kind == QUOTE_CONFIRMATION,
            Notification.created_at >= since,
        )
        .order_by(Notification.id)
    ).all()
    return PendingQuote(
        items=list(order.quote_items),
        total=order.quote_total,
        quoted_at=quoted.at if quoted is not None else None,
        quoted_by=quoted.actor if quoted is not None else None,
        sendings=list(sendings),
        on_wechat=bool(order.resident_openid),
    )


def resend_quote(session: Session, order_id: int, principal: Principal, now: datetime) -> WorkOrder:
    """10.2.2: the quote waiting for the resident's confirmation is sent to them in WeChat once more: the
    same quote (nothing about it changes, no second quote), through the bot as the first sending went,
    and kept in the order's history. Refused (409) when no quote waits for the resident, when the
    resident is not on WeChat (a paper confirmation is recorded instead), and while the last sending
    has not gone out yet."""
    order = session.get(WorkOrder, order_id, with_for_update=True)
    if order is None:
        raise NotFound(f"work order {order_id} does not exist")
    if principal.role not in STAFF_ROLES:
        raise Forbidden("staff re-send a quote")
    try:
        next_status(order_state(order), Action.CONFIRM_QUOTE)
    except TransitionRefused:
        raise Conflict("这张工单没有等待居民确认的报价，无需重新发送", code="no_pending_quote") from None
    if not order.resident_openid:
        raise Conflict(
            "这位居民没有通过微信报修，报价无法在微信中发送；请当面或电话告知，并记录居民书面确认（10.2.2）",
            code="no_wechat",
        )
    waiting = pending_quote(session, order)
    assert waiting is not None  # the state machine said a quote waits
    if waiting.waiting_to_go:
        raise Conflict("上一次发送的报价还在等待发出，无需重复发送", code="quote_waiting_to_go")
    _ask_resident_to_confirm(session, order, now, sending=len(waiting.sendings) + 1)
    order.updated_at = now
    data = {"quote_total": f"{order.quote_total:.2f}"}
    _record_without_move(session, order, QUOTE_RESENT, principal, now, data=data)
    return order


def _reschedule(session: Session, order: WorkOrder, request: ActionRequest, ctx: Context) -> dict[str, Any]:
    """10.1.4 (办结条): a new completion time with its reason; the resident is told both in WeChat."""
    assert request.promised_at is not None and request.reason
    previous = order.completion_due_at
    try:
        promised = rules.reschedule(previous, request.promised_at, ctx.now, request.reason)
        message = notices.reschedule_notice(order.number or "", request.reason, promised)
    except rules.DeadlineError as exc:
        raise Unprocessable("promised_at", str(exc)) from None
    except notices.NoticeRefused as exc:
        raise Unprocessable("reason", f"the reason is sent to the resident: {exc.reason}") from None
    order.completion_due_at = promised
    late = previous is not None and ctx.now > previous
    order.rescheduled_late = order.rescheduled_late or late
    told = _tell_resident(session, order, "completion_rescheduled", promised.isoformat(), message, ctx.now)
    return {
        "reason": request.reason,
        "promised_at": promised.isoformat(),
        "previous": previous.isoformat() if previous else None,
        "late": late,
        "resident_told": told,
    }


def _refuse(session: Session, order: WorkOrder, request: ActionRequest, now: datetime) -> dict[str, Any]:
    """9.1.2: an application not accepted; the resident is told the reason and a suggestion."""
    assert request.reason and request.suggestion
    try:
        message = notices.refusal_notice(order.number or "", request.reason, request.suggestion)
    except notices.NoticeRefused as exc:
        raise Unprocessable(exc.field, f"it is sent to the resident: {exc.reason}") from None
    told = _tell_resident(session, order, "application_refused", "refused", message, now)
    return {"reason": request.reason, "suggestion": request.suggestion, "resident_told": told}


def _plan_callbacks(session: Session, order: WorkOrder, completed_at: datetime, ctx: Context) -> None:
    """10.1.6: every completed service gets a call-back; 10.1.7: a repeat complaint more, the first face
    to face (the plan is heating_standard.deadlines.callback_plan)."""
    plan = rules.callback_plan(completed_at, order.repeat_complaint, ctx.config.promises)
    order.callback_due_at = plan[0].due_at
    session.add_all(
        CallbackTask(order_id=order.id, sequence=p.sequence, due_at=p.due_at, face_to_face_required=p.face_to_face)
        for p in plan
    )


def _record_callback(
    session: Session, order: WorkOrder, request: ActionRequest, principal: Principal, at: datetime
) -> bool:
    """The earliest call-back still to make is made; the order's call-back deadline moves to the next.
    True when a further call-back is due (10.1.7)."""
    tasks = session.scalars(
        select(CallbackTask)
        .where(CallbackTask.order_id == order.id, CallbackTask.done_at.is_(None))
        .order_by(CallbackTask.sequence)
    ).all()
    if not tasks:  # completed before call-back tasks existed
        tasks = [CallbackTask(order_id=order.id, sequence=1, due_at=order.callback_due_at or at)]
        session.add(tasks[0])
    task = tasks[0]
    if task.face_to_face_required and request.method != "face_to_face" and not request.note:
        raise Unprocessable("method", "a repeat complaint is called back face to face, or the note says why not")
    task.done_at = at
    task.method = request.method
    task.process_satisfied = request.process_satisfied
    task.result_satisfied = request.result_satisfied
    task.note = request.note
    task.actor = principal.name
    if len(tasks) > 1:
        order.callback_due_at = tasks[1].due_at
        return True
    return False


def _by_idempotency_key(session: Session, key: str) -> WorkOrder | None:
    return session.scalars(select(WorkOrder).where(WorkOrder.idempotency_key == key)).first()


def _grid_worker(session: Session, openid: str) -> GridWorker | None:
    return session.scalars(select(GridWorker).where(GridWorker.openid == openid, GridWorker.active)).first()
