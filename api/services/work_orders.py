"""Filing, listing and working orders; each public function owns its transaction."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.errors import Conflict, NotFound, Unprocessable
from api.models import (
    Address,
    GridWorker,
    Resident,
    StaffUser,
    WorkOrder,
    WorkOrderEvent,
)
from api.schemas import AttachmentCreate, WorkOrderCreate, WorkOrderFilter, WorkOrderPublic
from api.services import deadline_watch, media
from api.services.principals import FIELD_ROLES, Principal, Role
from api.views import search
from heating_standard import deadlines as rules
from heating_standard.addresses import parse_address
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
from heating_standard.privacy import mask_address, mask_name, mask_phone, mask_text

log = logging.getLogger(__name__)


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
    order = _new_order(session, data, ctx, sampling_plan_id)
    order.idempotency_key, order.request_fingerprint = idempotency_key, fingerprint
    order.repeat_complaint = _is_repeat_complaint(session, order)
    session.add(order)
    try:
        _store_new(session, order, actor, ctx, with_order)
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
    # the line that ties an order's number to the message or request that filed it (its correlation id)
    log.info("filed %s: %s (%s) from %s", order.number, order.kind, order.category, order.source)
    return order, True


def _new_order(session: Session, data: WorkOrderCreate, ctx: Context, sampling_plan_id: int | None) -> WorkOrder:
    """The order ``data`` files, with its deadlines and the resident it remembers; not yet added."""
    accepted_at, urgent, deadlines = plan(data, ctx)
    grid_worker = _grid_worker(session, data.forwarded_by_openid) if data.forwarded_by_openid else None
    if data.source == Source.GRID_WORKER and grid_worker is None:
        raise Unprocessable("forwarded_by_openid", "an order from a grid worker names the registered grid worker")
    parsed = parse_address(data.address) if data.address else None
    resident = _remember_resident(session, data, parsed, ctx.now)
    return WorkOrder(
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
        season=season_label(local_date(accepted_at), ctx.config),
        forwarded_by_grid_worker_id=grid_worker.id if grid_worker else None,
        external_reference=data.external_reference,
        contact_name=data.contact_name,
        business_type=data.business_type.value if data.business_type else None,
        sampling_plan_id=sampling_plan_id,
        accepted_at=accepted_at,
        appointment_at=data.appointment_at,
        deadlines=deadline_watch.first_watch(deadlines.by_name(), accepted_at, ctx.config.escalation.reminder_share),
        calendar_uncertain=deadlines.calendar_uncertain,
        created_at=ctx.now,
        updated_at=ctx.now,
    )


def _store_new(
    session: Session, order: WorkOrder, actor: str, ctx: Context, with_order: Callable[[WorkOrder], object] | None
) -> None:
    """The new order's number, its soonest deadline and its first event, in the caller's transaction."""
    session.flush()  # assigns the id the number is made from
    order.number = order_number(order.id, order.accepted_at)
    order.next_due_at = deadline_watch.next_due(order)
    session.add(
        WorkOrderEvent(
            order_id=order.id,
            action="accept",
            from_status=None,
            to_status=order.status,
            actor=actor,
            at=order.accepted_at,
            recorded_at=ctx.now,
            note=None,
            data={"source": order.source, "repeat_complaint": order.repeat_complaint},
        )
    )
    if with_order is not None:
        with_order(order)


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


# --------------------------------------------------------------------------- reading


def shown(order: WorkOrder, principal: Principal) -> WorkOrderPublic:
    """The order as this caller may see it: staff see phone and address masked (12.1); the bot sees
    its resident's own."""
    found = WorkOrderPublic.model_validate(order)
    public = WorkOrderPublic.model_validate(dict(found) | deadline_watch.due_times(order))
    if principal.role == Role.MACHINE:
        return public
    return public.model_copy(
        update={
            "description": mask_text(order.description) or "",
            "phone": mask_phone(order.phone),
            "contact_name": mask_name(order.contact_name),
            "address": mask_address(order.address, order.community, order.building),
            "unit": None if order.unit is None else "*",
            "room": None if order.room is None else "***",
        }
    )


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
    return record_without_move(session, order, "attachment", principal, now, attachment.note, data)


def record_without_move(
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
    record_without_move(session, order, "contact_viewed", principal, now)


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
    """Orders the search box's text finds among what staff see of them (``api.views.search``): the
    community and building, the family name, part of the order number, the phone's last four digits."""
    matches = [WorkOrder.search_text.contains(found.text, autoescape=True)]
    if found.number:
        matches.append(WorkOrder.number.contains(found.number, autoescape=True))
    if found.phone_tail:
        matches.append(WorkOrder.phone_tail == found.phone_tail)
    return or_(*matches)


# --------------------------------------------------------------------------- technicians


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


def _by_idempotency_key(session: Session, key: str) -> WorkOrder | None:
    return session.scalars(select(WorkOrder).where(WorkOrder.idempotency_key == key)).first()


def _grid_worker(session: Session, openid: str) -> GridWorker | None:
    return session.scalars(select(GridWorker).where(GridWorker.openid == openid, GridWorker.active)).first()


def find(session: Session, order_id: int) -> WorkOrder | None:
    """One order by id, or None."""
    return session.get(WorkOrder, order_id)


def by_ids(session: Session, order_ids: list[int]) -> dict[int, WorkOrder]:
    """The orders with these ids, by id."""
    return {o.id: o for o in session.scalars(select(WorkOrder).where(WorkOrder.id.in_(order_ids)))}
