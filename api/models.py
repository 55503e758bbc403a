"""Tables of the backend."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base, UTCDateTime
from api.views import search


class Resident(Base):
    """A heat user known by WeChat openid and/or phone (12.1: personal data, role-limited)."""

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    name: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    addresses: Mapped[list[Address]] = relationship(
        back_populates="resident", order_by="Address.id", cascade="all, delete-orphan", passive_deletes=True
    )


class Address(Base):
    """A heated home: community / building / unit / room, and its heating account number."""

    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(255))
    community: Mapped[str | None] = mapped_column(String(64), index=True)
    building: Mapped[str | None] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(16))
    room: Mapped[str | None] = mapped_column(String(16))
    account_number: Mapped[str | None] = mapped_column(String(32))
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime)

    resident: Mapped[Resident] = relationship(back_populates="addresses")


class GridWorker(Base):
    """A community grid worker (网格员) who forwards residents' problems."""

    __tablename__ = "grid_workers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Empty until the grid worker binds their WeChat by sending the bot the one-time code.
    openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    communities: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The one-time binding code, kept hashed, and until when it works.
    bind_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    bind_code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffUser(Base):
    """A member of staff of the heating company, with a role: agent, supervisor, admin, or technician
    (维修人员, who sees only the orders dispatched to this account)."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StaffSession(Base):
    """A login of a staff user; only the token's hash is kept."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    staff_user: Mapped[StaffUser] = relationship()


class WorkOrder(Base):
    """A complaint, repair, temperature test, business request or consultation."""

    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    resident_openid: Mapped[str | None] = mapped_column(String(64), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    # The phone's digits (heating_standard.orders.phone_key): finds a household's earlier complaints.
    phone_key: Mapped[str | None] = mapped_column(String(32), index=True)
    address: Mapped[str | None] = mapped_column(String(255))
    community: Mapped[str | None] = mapped_column(String(64), index=True)
    # what the board's search box finds the order by (api.views.search), written whenever it is saved
    search_text: Mapped[str | None] = mapped_column(Text)
    phone_tail: Mapped[str | None] = mapped_column(String(4), index=True)
    building: Mapped[str | None] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(16))
    room: Mapped[str | None] = mapped_column(String(16))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    season: Mapped[str | None] = mapped_column(String(16))
    repeat_complaint: Mapped[bool] = mapped_column(Boolean, default=False)
    calendar_uncertain: Mapped[bool] = mapped_column(Boolean, default=False)
    forwarded_by_grid_worker_id: Mapped[int | None] = mapped_column(ForeignKey("grid_workers.id"))
    external_reference: Mapped[str | None] = mapped_column(String(64))  # hotline's own order number
    technician: Mapped[str | None] = mapped_column(String(64))  # dispatched to (10.2.5)
    # The technician's account when dispatch named one (the order is in their 我的工单); None for an
    # outside crew named in words only.
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    business_type: Mapped[str | None] = mapped_column(String(32))  # 9.1: 报装 (9.1.4) or another
    # 5.4.4: the room-temperature sampling plan that drew this visit (source "sampling")
    sampling_plan_id: Mapped[int | None] = mapped_column(ForeignKey("sampling_plans.id"), index=True)
    contact_name: Mapped[str | None] = mapped_column(String(64))  # as the hotline gave it
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    appointment_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    # 10.1.4 (办结条): the completion time was moved only after it had passed.
    rescheduled_late: Mapped[bool] = mapped_column(Boolean, default=False)
    # 14.4.4: every complaint is reasonable unless a supervisor marks it otherwise, with the reason.
    reasonable: Mapped[bool] = mapped_column(Boolean, default=True)
    unreasonable_reason: Mapped[str | None] = mapped_column(Text)
    # 12.1: whom the order was about was erased (on request, or after the retention period)
    personal_data_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 10.2.2: a paid repair of the resident's own facilities needs a confirmed quote first.
    quote_items: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    quote_total: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    quote_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 10.2.5 / 10.3: outcome of the visit.
    result: Mapped[str | None] = mapped_column(Text)
    measured_temperature: Mapped[float | None] = mapped_column(Float)
    # 10.2.5: the resident's satisfaction with the visit, as the technician recorded it on site
    # (satisfied, basically_satisfied, unsatisfied, not_given); the call-back asks again (10.1.6).
    site_satisfaction: Mapped[str | None] = mapped_column(String(24))
    # Earliest open deadline, kept with its rows (deadline_watch.next_due): "what is overdue" is one
    # indexed range query.
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The caller's Idempotency-Key, scoped to the caller (a hash of both), and a hash of the request:
    # the same key with another body is refused, never answered with this order.
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    events: Mapped[list[WorkOrderEvent]] = relationship(back_populates="order", order_by="WorkOrderEvent.id")
    # Its deadlines' one home (api.services.deadline_watch reads and moves them); loaded with the order.
    deadlines: Mapped[list[Deadline]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True, order_by="Deadline.due_at"
    )
    # A temperature test's record (5.4.6, 10.3 第1条 a), made when it is completed.
    temperature_test: Mapped[RoomTemperatureTest | None] = relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True
    )
    # A damage claim the order gave rise to (13.3–13.8).
    claim: Mapped[Claim | None] = relationship(lazy="selectin", cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = (
        Index("ix_work_orders_next_due_at", "next_due_at"),
        Index("ix_work_orders_status", "status"),
        Index("ix_work_orders_repeat_lookup", "resident_id", "category", "season"),
        # A platform's own order number names one order: importing it again finds that order.
        UniqueConstraint("source", "external_reference", name="uq_work_orders_source_external_reference"),
    )


@event.listens_for(WorkOrder, "before_insert")
@event.listens_for(WorkOrder, "before_update")
def _searched_by(_mapper: Any, _connection: Any, order: WorkOrder) -> None:
    """An order is found by what it holds now: erased personal data is no longer found (12.1)."""
    order.search_text = search.searched(order.community, order.address, order.building, order.contact_name)
    order.phone_tail = search.phone_tail(order.phone)


class WorkOrderEvent(Base):
    """The audit trail: every transition, with who, when and a note."""

    __tablename__ = "work_order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(96))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    order: Mapped[WorkOrder] = relationship(back_populates="events")


class Deadline(Base):
    """One window of one order, watched by the scheduler (reminder at 80 %, breach at 100 %)."""

    __tablename__ = "deadlines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    # response, handle, arrival, return, reply, decision, completion, callback
    name: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    remind_at: Mapped[datetime] = mapped_column(UTCDateTime)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("order_id", "name", name="uq_deadlines_order_name"),
        Index("ix_deadlines_open_remind", "met_at", "reminded_at", "remind_at"),
        Index("ix_deadlines_open_due", "met_at", "breached_at", "due_at"),
    )


class RoomTemperatureTest(Base):
    """The record of one room-temperature test (heating_standard.temperature_tests): 5.4.6's three readings,
    instrument and surroundings, whether it counts in C (5.1's conditions), and the resident's signature
    (10.3 第1条 a). The order's ``measured_temperature`` is the readings' mean."""

    __tablename__ = "room_temperature_tests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), unique=True)
    readings: Mapped[list[float]] = mapped_column(JSON)
    instrument: Mapped[str] = mapped_column(String(64))
    resolution: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    room: Mapped[str] = mapped_column(String(16))
    outdoor_temperature: Mapped[float | None] = mapped_column(Float)
    excluded: Mapped[str | None] = mapped_column(String(32))  # why it does not count in C; None: it counts
    signature: Mapped[str] = mapped_column(String(16))  # paper, wechat, refused
    note: Mapped[str | None] = mapped_column(Text)
    # WeChat: the resident's answer to the result sent to them (confirmed, or disputed: 10.3 第1条 b)
    resident_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resident_disputed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # 10.3 第1条 c–e, 10.4: a room below standard, its cause and who answers for it; the fee reduction and its
    # refund (by 30 June, the order's "refund" deadline) or, with the resident's consent, its offset
    cause: Mapped[str | None] = mapped_column(Text)
    responsibility: Mapped[str | None] = mapped_column(String(16))
    fee_reduction: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    offset_next_season: Mapped[bool] = mapped_column(Boolean, default=False)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    found_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Claim(Base):
    """A damage claim arising from an order (13.3–13.8, heating_standard.claims): the loss, whether the insurer
    came and counted it with the resident, the adjuster's sum told to the resident, the sum agreed and its
    payment within 30 working days (the order's "claim_payment" deadline), or why the company does not pay."""

    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), unique=True)
    damage: Mapped[str] = mapped_column(Text)
    injured: Mapped[bool] = mapped_column(Boolean, default=False)  # 13.4
    insurer_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 13.3
    surveyed_with_resident_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 13.3
    photos_kept: Mapped[bool] = mapped_column(Boolean, default=False)  # 13.3
    adjusted_sum: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # 13.8
    adjusted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agreed_sum: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # 13.5
    agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    exclusion: Mapped[str | None] = mapped_column(String(32))  # 13.6
    exclusion_note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(96))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Announcement(Base):
    """A notice to every follower (heating_standard.announcements: 5.2.5, 6.1.1, 9.2.1), composed from the
    operator's facts, scheduled and approved by a supervisor, and mass-sent once by the WeChat channel
    (api.services.announcements). ``key`` names the sending to the channel; a new key is a new sending."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # draft, approved, sending, sent, unconfirmed (the platform may have it: a person checks), failed, cancelled
    status: Mapped[str] = mapped_column(String(16), index=True)
    recipients: Mapped[int | None] = mapped_column(Integer)  # followers when it was approved
    key: Mapped[str] = mapped_column(String(120), unique=True)
    msg_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(96))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(96))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FeeReminder(Base):
    """One household reminded of unpaid fees (9.2.2), the reminder's proof: in WeChat (the notification sent
    to a resident of the household, and what the channel made of it), or by phone (who called, when, and
    what was said) for a household with nobody on WeChat or a message that could not be delivered."""

    __tablename__ = "fee_reminders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch: Mapped[str] = mapped_column(String(64), index=True)  # the supervisor's sending it belongs to
    address: Mapped[str] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    pay_by: Mapped[date] = mapped_column(Date)
    recipient_openid: Mapped[str | None] = mapped_column(String(64), index=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id", ondelete="SET NULL"))
    phoned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    phoned_by: Mapped[str | None] = mapped_column(String(96))
    phone_note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(96))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Campaign(Base):
    """A call-back campaign (10.1.8) or the yearly survey (14.3.2 e), started by a supervisor
    (heating_standard.campaigns, api.services.campaigns)."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(16))  # the heating year called back, or the survey's year
    label: Mapped[str] = mapped_column(String(200))  # what was asked, and how the contacts were chosen
    created_by: Mapped[str] = mapped_column(String(96))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("kind", "period", name="uq_campaigns_kind_period"),)


class CampaignContact(Base):
    """One household asked in a campaign: in WeChat (the question sent through the bot) or by phone, and its
    answer (满意, 基本满意, 不满意) with who took it: the archive 10.1.8 asks for."""

    __tablename__ = "campaign_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id", ondelete="SET NULL"))
    resident_openid: Mapped[str | None] = mapped_column(String(64), index=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id", ondelete="SET NULL"))
    rating: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by: Mapped[str | None] = mapped_column(String(96))  # the bot (the resident in WeChat) or staff


class Notification(Base):
    """A reminder or breach for staff: shown in the console feed and sent to the notifier."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # reminder, breach, outage_notice, ...
    # Empty for staff notifications (feed and notifier webhook); a resident's openid for messages
    # the bot delivers to that resident (through Rasa's trigger_intent).
    recipient_openid: Mapped[str | None] = mapped_column(String(64))
    outage_id: Mapped[int | None] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    deadline_name: Mapped[str | None] = mapped_column(String(32))
    # Exactly once: one row per (order, deadline, kind), enforced by the database.
    dedup_key: Mapped[str] = mapped_column(String(128), unique=True)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # For a resident's message: handed_to_channel (the WeChat channel's outbox has it and tracks the
    # platform's answer), or failed. Staff notifications: delivered to the notifier webhook.
    delivery_state: Mapped[str | None] = mapped_column(String(24))
    delivery_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # A resident's message the channel could not deliver, told by phone instead: who, when, what was said.
    phoned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    phoned_by: Mapped[str | None] = mapped_column(String(96))
    phone_note: Mapped[str | None] = mapped_column(Text)


class CallbackTask(Base):
    """A call-back to the resident after the service (10.1.6); a repeat complaint has two, the first
    face to face (10.1.7)."""

    __tablename__ = "callback_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int] = mapped_column(Integer, default=1)  # 1, 2 … in the order they are due
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    face_to_face_required: Mapped[bool] = mapped_column(Boolean, default=False)
    survey_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    method: Mapped[str | None] = mapped_column(String(16))  # wechat, phone, face_to_face
    # 14.4.4 / 14.4.5: satisfied or not with the process and with the result.
    process_satisfied: Mapped[bool | None] = mapped_column(Boolean)
    result_satisfied: Mapped[bool | None] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(96))

    __table_args__ = (UniqueConstraint("order_id", "sequence", name="uq_callback_tasks_order_sequence"),)


class Handoff(Base):
    """A chat handed to a person (request, repeated misunderstanding or anger)."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_openid: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)  # waiting, active, closed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    taken_by: Mapped[str | None] = mapped_column(String(96))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A supervisor may give a waiting chat to one agent; only that agent may then take it.
    assigned_to: Mapped[str | None] = mapped_column(String(96), index=True)
    # The order the chat is about (linked by staff, or filed from the chat).
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"))
    # when it was last given to ``assigned_to``, and by whom ("system" for the desk's round robin)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_by: Mapped[str | None] = mapped_column(String(96))


class MediaFile(Base):
    """A resident's photo kept with the order: fetched from the WeChat channel, which took it from the
    platform's media API when it arrived (the platform keeps media for 3 days)."""

    __tablename__ = "media_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    media_id: Mapped[str] = mapped_column(String(128), unique=True)
    state: Mapped[str] = mapped_column(String(16), index=True)  # pending, stored, failed
    content_type: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HandoffNote(Base):
    """A private note of staff on a chat; the resident never sees it."""

    __tablename__ = "handoff_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(96))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CannedReply(Base):
    """A quick reply (快捷回复) that supervisors keep and agents insert into a chat."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(32), unique=True)
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(96))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # its number for good (Alt+1…9 in a chat): a new reply takes the next, a deleted one leaves a gap
    position: Mapped[int] = mapped_column(Integer)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # kept, so its number is not reused
    # a macro: what else one click does besides sending the text (``api.views.macros``); None: only the text
    action: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (UniqueConstraint("position", name="uq_canned_replies_position"),)


class PersonalReply(Base):
    """A quick reply of one member of staff's own, offered only to them (beside the shared ones)."""

    __tablename__ = "personal_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(96), index=True)
    title: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("owner", "title", name="uq_personal_replies_owner_title"),)


class StaffPresence(Base):
    """Where a member of staff was last seen on the desk: each open console page says so every few
    seconds over its live stream. ``handoff_id`` 0 is a page that is not a chat (the member of staff is
    on the desk); a chat's own row also says when they last typed in its reply box."""

    __tablename__ = "staff_presence"

    staff: Mapped[str] = mapped_column(String(96), primary_key=True)
    handoff_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    typing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeskSettings(Base):
    """The chat desk's settings that supervisors change in the console (one row, id 1): whether waiting
    chats are given out round-robin to agents who are online, and how many chats an agent holds at most."""

    __tablename__ = "desk_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    auto_assign: Mapped[bool] = mapped_column(Boolean, default=False)
    chat_limit: Mapped[int] = mapped_column(Integer, default=3)
    updated_by: Mapped[str | None] = mapped_column(String(96))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffAudit(Base):
    """Who did what, when: every staff action outside an order's own trail (chats, replies, logins)."""

    __tablename__ = "staff_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(96), index=True)
    action: Mapped[str] = mapped_column(String(48))
    target: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)


class LoginFailure(Base):
    """A wrong grid-worker binding code sent through the bot, counted per sender (``bind:<openid>``)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_login_failures_username_at", "username", "at"),
        Index("ix_login_failures_address_at", "address", "at"),
    )


class LoginThrottle(Base):
    """Failed staff logins in a window: per username and address (``pair``), per username from anywhere
    (``account``), per address for any username (``address``). An attempt claims one of the allowed
    failures with one conditional statement before its password is checked (api.services.staff)."""

    __tablename__ = "login_throttles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))
    username: Mapped[str] = mapped_column(String(64))  # "" for the address scope
    address: Mapped[str] = mapped_column(String(64))  # "" for the account scope
    failures: Mapped[int] = mapped_column(Integer)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    __table_args__ = (UniqueConstraint("scope", "username", "address", name="uq_login_throttles_scope_key"),)


class StaffLoginAddress(Base):
    """An address a member of staff logged in from, and when last: guessing from elsewhere does not shut
    them out of it."""

    __tablename__ = "staff_login_addresses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(64))
    last_login_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("staff_user_id", "address", name="uq_staff_login_addresses_user_address"),)


class Outage(Base):
    """An unplanned outage (6.3.1): affected communities and area, cause, expected restoration."""

    __tablename__ = "outages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    communities: Mapped[list[str]] = mapped_column(JSON)
    heated_area_m2: Mapped[float] = mapped_column(Float)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    expected_restoration_at: Mapped[datetime] = mapped_column(UTCDateTime)
    restored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The cause as residents read it, composed from cause_code and cause_note (heating_standard.notices).
    cause: Mapped[str] = mapped_column(Text)
    cause_code: Mapped[str | None] = mapped_column(String(32))
    cause_note: Mapped[str | None] = mapped_column(String(64))
    repair_location: Mapped[str] = mapped_column(String(255))
    created_by: Mapped[str | None] = mapped_column(String(96))
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified_restoration_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Household(Base):
    """A heated household, as the company's household list gives it (5.4.3: where it sits on the
    secondary network, which side, which floor), for the room-temperature sampling plan."""

    __tablename__ = "households"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)  # heating_standard.orders.household_key
    address: Mapped[str] = mapped_column(String(255))
    community: Mapped[str] = mapped_column(String(64), index=True)
    position: Mapped[str | None] = mapped_column(String(16))  # near, middle, far
    orientation: Mapped[str | None] = mapped_column(String(16))  # shaded, sunny
    floor_level: Mapped[str | None] = mapped_column(String(16))  # upper, middle, lower
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SamplingPlan(Base):
    """A season's room-temperature sampling plan (5.4.4): how many households of how many, drawn how,
    visited when and by whom; each visit is a temperature-test order."""

    __tablename__ = "sampling_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    season: Mapped[str] = mapped_column(String(16), index=True)
    population: Mapped[int] = mapped_column(Integer)  # the company's heat users (5.4.2's base)
    share: Mapped[float] = mapped_column(Float)
    size: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    collector: Mapped[str] = mapped_column(String(64))
    # each spread of 5.4.3 as wanted and as drawn, and where the draw fell short
    spread: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(96))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReviewItem(Base):
    """A wording the bot was unsure of, with its near-duplicates (one decision labels the group): kept
    redacted (12.1: heating_standard.privacy.redact), labelled by staff, approved by a supervisor, then
    trained on. ``text`` is the group's first wording; ``count`` how many messages joined it."""

    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # the wording as grouped (api.views.wording.normalized), its length, and its SHA-256: one group per
    # wording
    key: Mapped[str] = mapped_column(String(64))
    wording: Mapped[str] = mapped_column(String(1000))
    size: Mapped[int] = mapped_column(Integer, index=True)
    text: Mapped[str] = mapped_column(String(1000))
    reason: Mapped[str] = mapped_column(String(16))
    # the bot's likeliest intents when it first met the wording: [{"name", "confidence"}]
    predicted: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open, labelled, approved
    intent: Mapped[str | None] = mapped_column(String(64))
    # [{"entity", "start", "end", "value"}] over ``text``
    entities: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    labelled_by: Mapped[str | None] = mapped_column(String(96))
    labelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # one more at every label: an approval names the revision it approves
    revision: Mapped[int] = mapped_column(Integer)
    # the group's last message when it was labelled: what the decision covers, shown to the approver and
    # exported; messages that join later are counted only
    labelled_through: Mapped[int | None] = mapped_column(Integer)
    approved_by: Mapped[str | None] = mapped_column(String(96))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    occurrences: Mapped[list[ReviewOccurrence]] = relationship(
        back_populates="item", order_by="ReviewOccurrence.id", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (UniqueConstraint("key", name="uq_review_items_key"),)


class ReviewOccurrence(Base):
    """One message of a review group: its redacted text, why it was kept, what the bot read, the turns
    around it (redacted too), and the reading the resident chose when asked. ``message_key`` is a hash of
    the conversation and message ids: a message is kept once, and nothing here names the resident."""

    __tablename__ = "review_occurrences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id", ondelete="CASCADE"), index=True)
    message_key: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(String(1000))
    reason: Mapped[str] = mapped_column(String(16))
    predicted: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # [{"who": "resident" | "bot", "text"}], oldest first; the message itself is not repeated here
    context: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    chosen: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    item: Mapped[ReviewItem] = relationship(back_populates="occurrences")

    __table_args__ = (UniqueConstraint("message_key", name="uq_review_occurrences_message_key"),)


class BotDay(Base):
    """A past Beijing day's figures of the bot, as the WeChat channel counted them from the conversations
    (channels/figures.py): a closed day does not change, so it is read from the conversations once."""

    __tablename__ = "bot_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    figures: Mapped[dict[str, int]] = mapped_column(JSON)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BotModel(Base):
    """A trained model of the bot (docs/bot.md, "Training, checking, rolling out"): the repository's build
    (``source`` "repository": what `make setup` trains from data/, one row per inputs' hash) or a candidate
    trained on the repository's data and the reviewed examples approved when it was asked for (``source``
    "candidate"), with its progress while it trains and its figures beside the model it was checked
    against. ``training_slot`` is 1 while a candidate trains and NULL otherwise: being unique, it lets one
    training run at a time whoever asks."""

    __tablename__ = "bot_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # repository, candidate
    status: Mapped[str] = mapped_column(String(16), index=True)  # training, ready, failed
    # the hash of the repository's model inputs (scripts/stack/'s model_digest) it was trained on
    base_digest: Mapped[str] = mapped_column(String(64))
    # set on the repository build's row only: one row per build
    repository_digest: Mapped[str | None] = mapped_column(String(64))
    training_slot: Mapped[int | None] = mapped_column(Integer)
    # the model archive: a path relative to BOT_MODELS_DIR (candidates) or absolute (the repository build)
    file: Mapped[str | None] = mapped_column(String(500))
    sha256: Mapped[str | None] = mapped_column(String(64))
    progress: Mapped[str] = mapped_column(String(255))
    percent: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    # the reviewed examples: approved, trained on, held out, excluded as the test sets' messages
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Rasa NLU YAML: the reviewed examples trained on, and those held out to check it
    training_data: Mapped[str] = mapped_column(Text)
    held_out_data: Mapped[str] = mapped_column(Text)
    # {"candidate": {set: figures}, "running": {set: figures}}, measured in one run
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    compared_with_id: Mapped[int | None] = mapped_column(ForeignKey("bot_models.id"))
    training_seconds: Mapped[float | None] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(String(96))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("training_slot", name="uq_bot_models_training_slot"),
        UniqueConstraint("repository_digest", name="uq_bot_models_repository_digest"),
    )


class BotModelRollout(Base):
    """A model put in force by a supervisor, with why: the latest rollout of the repository's build in
    use names the model every Rasa process loads. ``previous_model_id`` is the model it replaced, which a
    rollback returns to."""

    __tablename__ = "bot_model_rollouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("bot_models.id"), index=True)
    previous_model_id: Mapped[int | None] = mapped_column(ForeignKey("bot_models.id"))
    # the rollout this one came after (0 for the first): unique, so of two supervisors switching models at
    # once from the same state only one succeeds, and the other is told to look again
    follows: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # rollout, rollback
    reason: Mapped[str] = mapped_column(String(500))
    by: Mapped[str] = mapped_column(String(96))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("follows", name="uq_bot_model_rollouts_follows"),)


class BotModelPull(Base):
    """What each Rasa process last asked the model server (its ``RASA_PROCESS`` name): the model it runs
    (the fingerprint it sent) and the one it was given, so staff see a rollout reach every process."""

    __tablename__ = "bot_model_pulls"

    process: Mapped[str] = mapped_column(String(64), primary_key=True)
    running: Mapped[str] = mapped_column(String(64))
    served: Mapped[str] = mapped_column(String(64))
    pulled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    given_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when it was first given what it was last given
