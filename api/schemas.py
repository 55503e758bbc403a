"""Request and response bodies of the API, by role."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from api.views.text import control_character_at
from heating_standard.announcements import AnnouncementKind
from heating_standard.campaigns import CampaignKind
from heating_standard.campaigns import Rating as CampaignRating
from heating_standard.claims import Exclusion as ClaimExclusion
from heating_standard.notices import CAUSES
from heating_standard.orders import BusinessType, Category, Kind, Source, Status
from heating_standard.sampling import FloorLevel, Orientation, Position
from heating_standard.temperature_tests import Exclusion, Responsibility, Room, Signature

# Every time the API returns is in UTC ("...Z"), whatever zone it was computed in.
UtcDatetime = Annotated[datetime, AfterValidator(lambda v: v.astimezone(UTC))]

# Times a client may send: aware, and inside a range where deadline arithmetic cannot overflow
# (year 9999 plus a working week is past what Python's datetime holds).
EARLIEST_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(2100, 1, 1, tzinfo=UTC)


def _within_range(value: datetime) -> datetime:
    if not EARLIEST_MOMENT <= value < LATEST_MOMENT:
        raise ValueError(f"a time between {EARLIEST_MOMENT:%Y} and {LATEST_MOMENT:%Y} is expected")
    return value


Moment = Annotated[AwareDatetime, AfterValidator(_within_range)]
# Ids are PostgreSQL `integer` columns (32-bit; SQLite would take 64): a larger number is a 422, not an
# overflow in the database (found by fuzzing the scaled configuration on PostgreSQL).
MAX_ID = 2**31 - 1
MAX_OFFSET = 1_000_000
# bcrypt reads at most 72 bytes of a password.
MAX_PASSWORD_BYTES = 72

PHONE_PATTERN = r"^(?:\+?86[- ]?)?(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(?:-\d{1,6})?|\d{7,8})$"


class Strict(BaseModel):
    """Request bodies refuse unknown fields and infinite numbers, and trim text.

    Text is trimmed after validation, so a length limit holds for the text as sent, as the published
    schema says; a required text that is only blanks is refused.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        """No text carries a NUL character: PostgreSQL cannot store one (it was a 500 there, a 201 on
        SQLite), and no real text holds one."""
        if isinstance(data, dict):
            for name, value in data.items():
                texts = value if isinstance(value, list) else [value]
                if any(isinstance(text, str) and "\x00" in text for text in texts):
                    raise ValueError(f"{name} holds a NUL character")
        return data

    @model_validator(mode="after")
    def _trim_text(self) -> Self:
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            if not isinstance(value, str) or value == value.strip():
                continue
            trimmed = value.strip()
            if not trimmed and any(getattr(rule, "min_length", 0) for rule in info.metadata):
                raise ValueError(f"{name} is blank")
            setattr(self, name, trimmed)
        return self


# --------------------------------------------------------------------------- work orders


class WorkOrderCreate(Strict):
    """What a client sends to file a work order."""

    kind: Kind
    category: Category
    source: Source
    description: str = Field(min_length=1, max_length=4000)
    resident_openid: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=32, pattern=PHONE_PATTERN)
    address: str | None = Field(default=None, max_length=255)
    account_number: str | None = Field(default=None, max_length=32)
    urgent: bool = False
    accepted_at: Moment | None = None
    appointment_at: Moment | None = None
    # 9.1: what a business request is for; 报装 (apply_connection) is done in 1 day, 3 with external
    # works (9.1.4); the others by the company's promise (9.1.2).
    business_type: BusinessType | None = None
    external_works: bool = False
    # A grid worker forwarding a resident's problem (source grid_worker).
    forwarded_by_openid: str | None = Field(default=None, max_length=64)
    # The hotline's own number for an imported order (one order per source and number).
    external_reference: str | None = Field(default=None, max_length=64)
    # The name the hotline gave for the resident.
    contact_name: str | None = Field(default=None, max_length=64)

    @field_validator("phone", mode="before")
    @classmethod
    def _compact_phone(cls, value: Any) -> Any:
        return value.replace(" ", "") if isinstance(value, str) else value

    @field_validator("external_reference")
    @classmethod
    def _no_control_characters(cls, value: str | None) -> str | None:
        # the number is written into the monthly report, which cannot hold them (review N5)
        if value is not None and control_character_at(value) is not None:
            raise ValueError("a platform's order number holds no control characters")
        return value

    @model_validator(mode="after")
    def _business_fields(self) -> Self:
        if self.business_type is not None and self.kind != Kind.BUSINESS:
            raise ValueError("business_type is given for business requests only")
        if self.external_works and self.business_type != BusinessType.APPLY_CONNECTION:
            raise ValueError("external_works is asked of a new connection (business_type apply_connection) only")
        return self


# 10.2.5: the resident's satisfaction with a visit, as the technician records it on site.
SiteSatisfaction = Literal["satisfied", "basically_satisfied", "unsatisfied", "not_given"]


class WorkOrderPublic(BaseModel):
    """A work order as the API returns it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    kind: Kind
    category: Category
    source: Source
    status: Status
    description: str
    resident_openid: str | None
    phone: str | None
    address: str | None
    community: str | None
    building: str | None
    unit: str | None
    room: str | None
    urgent: bool
    season: str | None
    repeat_complaint: bool
    calendar_uncertain: bool
    external_reference: str | None
    technician: str | None = None
    technician_id: int | None = None  # the technician's account, when dispatch named one
    contact_name: str | None = None
    business_type: BusinessType | None = None
    reasonable: bool = True
    unreasonable_reason: str | None = None
    accepted_at: UtcDatetime
    appointment_at: UtcDatetime | None
    # the order's deadlines (its Deadline rows, api.services.deadline_watch.due_times); None where none applies
    response_due_at: UtcDatetime | None = None
    handle_due_at: UtcDatetime | None = None
    arrival_due_at: UtcDatetime | None = None
    return_due_at: UtcDatetime | None = None
    reply_due_at: UtcDatetime | None = None
    completion_due_at: UtcDatetime | None = None
    decision_due_at: UtcDatetime | None = None
    callback_due_at: UtcDatetime | None = None
    next_due_at: UtcDatetime | None
    responded_at: UtcDatetime | None
    arrived_at: UtcDatetime | None
    completed_at: UtcDatetime | None
    extended: bool
    extension_reason: str | None
    quote_items: list[dict[str, Any]] | None
    quote_total: Decimal | None
    quote_confirmed_at: UtcDatetime | None
    result: str | None
    measured_temperature: float | None
    temperature_test: TemperatureTestPublic | None = None
    claim: ClaimPublic | None = None
    site_satisfaction: SiteSatisfaction | None = None
    created_at: UtcDatetime


class ContactPublic(BaseModel):
    """A resident's whole phone number and address (read on purpose, and audited)."""

    phone: str | None
    address: str | None
    contact_name: str | None = None


class WorkOrderList(BaseModel):
    items: list[WorkOrderPublic]
    total: int


# The order list's order: newest first, or by urgency (overdue and soonest deadline first, then the orders
# with no open deadline, newest first).
OrderSort = Literal["newest", "urgency"]


class WorkOrderFilter(BaseModel):
    """Query parameters of the order list."""

    resident_openid: str | None = None
    status: list[Status] | None = None
    source: Source | None = None
    kind: Kind | None = None
    category: Category | None = None
    community: list[str] | None = None
    overdue: bool | None = None
    due_before: Moment | None = None
    q: str | None = Field(default=None, max_length=64)  # the search box (api.views.search)
    sort: OrderSort = "newest"
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class QuoteItem(Strict):
    """One line of a paid-repair quote (10.2.2: items, prices, materials)."""

    item: str = Field(min_length=1, max_length=200)
    material: str | None = Field(default=None, max_length=200)
    quantity: int = Field(default=1, ge=1, le=1000)
    price: Decimal = Field(ge=0, max_digits=10, decimal_places=2)


# A room reading in °C (heating_standard.temperature_tests: LOWEST to HIGHEST).
Reading = Annotated[float, Field(ge=-10, le=40)]


class TemperatureTestRecord(Strict):
    """What is recorded of a room-temperature test when it is completed (heating_standard.temperature_tests:
    5.4.5, 5.4.6, 5.1, 10.3 第1条 a)."""

    readings: list[Reading] = Field(min_length=3, max_length=3)  # 3 minutes apart (5.4.6 d)
    instrument: str = Field(min_length=1, max_length=64)  # the thermometer: its kind and number
    resolution: Decimal = Field(gt=0, le=Decimal("0.1"), max_digits=4, decimal_places=2)  # 5.4.5
    room: Room
    outdoor_temperature: float | None = Field(default=None, ge=-50, le=45)  # the surroundings (5.4.6 b)
    excluded: Exclusion | None = None  # outside 5.1's conditions or 5.4.6's method: left out of C
    signature: Signature
    note: str | None = Field(default=None, max_length=1000)  # a paper signature, a refusal, the surroundings


class TemperatureTestPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    readings: list[float]
    instrument: str
    resolution: Decimal
    room: Room
    outdoor_temperature: float | None
    excluded: Exclusion | None
    signature: Signature
    note: str | None
    resident_confirmed_at: UtcDatetime | None
    resident_disputed_at: UtcDatetime | None
    recorded_at: UtcDatetime
    cause: str | None = None
    responsibility: Responsibility | None = None
    fee_reduction: Decimal | None = None
    offset_next_season: bool = False
    refunded_at: UtcDatetime | None = None
    found_at: UtcDatetime | None = None


class TemperatureFinding(Strict):
    """10.3 第1条 c–e: a room below standard, what caused it and who answers for it; the company's facilities
    mean the fee is reduced by the rules (the sum, in 元), refunded by 30 June (10.3 第4条) or, with the
    resident's consent, set against the next season."""

    cause: str = Field(min_length=1, max_length=1000)
    responsibility: Responsibility
    fee_reduction: Decimal | None = Field(default=None, gt=0, max_digits=10, decimal_places=2)
    offset_next_season: bool = False


class ClaimCreate(Strict):
    """A damage claim arising from an order (13.3, 13.4)."""

    damage: str = Field(min_length=1, max_length=2000)
    injured: bool = False
    insurer_notified_at: Moment | None = None
    surveyed_with_resident_at: Moment | None = None
    photos_kept: bool = False


class ClaimStep(Strict):
    """The next step of a claim: ``adjusted`` (the adjuster's sum, 13.8), ``agreed`` (the sum agreed, 13.5),
    ``paid``, or ``excluded`` (13.6, with the reason)."""

    step: Literal["adjusted", "agreed", "paid", "excluded"]
    amount: Decimal | None = Field(default=None, gt=0, max_digits=12, decimal_places=2)
    at: Moment | None = None
    exclusion: ClaimExclusion | None = None
    note: str | None = Field(default=None, max_length=500)


class ClaimPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    damage: str
    injured: bool
    insurer_notified_at: UtcDatetime | None
    surveyed_with_resident_at: UtcDatetime | None
    photos_kept: bool
    adjusted_sum: Decimal | None
    adjusted_at: UtcDatetime | None
    agreed_sum: Decimal | None
    agreed_at: UtcDatetime | None
    paid_at: UtcDatetime | None
    exclusion: ClaimExclusion | None
    exclusion_note: str | None
    created_at: UtcDatetime


class TemperatureAnswer(Strict):
    """The resident's answer to a temperature test's result, as the bot heard it (10.3 第1条 a, b)."""

    resident_openid: str = Field(min_length=1, max_length=64)
    confirmed: bool


class ActionRequest(Strict):
    """The body of POST /work-orders/{id}/actions/{action}; fields beyond ``at``/``note`` by action."""

    at: Moment | None = None
    note: str | None = Field(default=None, max_length=4000)
    # A time more than the back-dating window ago: only a supervisor, and only with a reason.
    backdate_reason: str | None = Field(default=None, max_length=500)
    # The resident the bot acts for (confirm_quote, a WeChat call-back): must be the order's own.
    resident_openid: str | None = Field(default=None, max_length=64)
    # dispatch (and complete: 10.2.5 records who did the work): the named technician
    technician: str | None = Field(default=None, min_length=1, max_length=64)
    # dispatch: the technician's account instead (the order then reaches their 我的工单); its display
    # name becomes ``technician``. An outside crew is named in ``technician`` alone.
    technician_id: int | None = Field(default=None, ge=1)
    # extend (and reschedule, mark_unreasonable): why
    working_days: int | None = Field(default=None, ge=1, le=30)
    reason: str | None = Field(default=None, max_length=2000)
    # reschedule: the new completion time told to the resident (10.1.4 办结条)
    promised_at: Moment | None = None
    # cancel of a business request not yet accepted (a refusal, 9.1.2): with reason, how to solve it
    suggestion: str | None = Field(default=None, max_length=500)
    # cancel or return of a complaint the company cannot handle because the cause is not its own: the
    # explanation sent to the complainant (10.1.4, 办结条)
    explanation: str | None = Field(default=None, max_length=500)
    # quote
    quote_items: list[QuoteItem] | None = None
    # complete
    result: str | None = Field(default=None, max_length=4000)
    # complete, of a temperature test: its record (the measured temperature is the readings' mean)
    temperature_test: TemperatureTestRecord | None = None
    # complete, on site (10.2.5): the resident's satisfaction with the visit
    site_satisfaction: SiteSatisfaction | None = None
    # callback
    method: Literal["wechat", "phone", "face_to_face"] | None = None
    process_satisfied: bool | None = None
    result_satisfied: bool | None = None


class AttachmentCreate(BaseModel):
    """A photo the resident sent through WeChat (its URL and the platform's media id)."""

    model_config = ConfigDict(extra="forbid")

    # The resident who sent it (the bot names them): must be the order's own resident.
    resident_openid: str | None = Field(default=None, max_length=64)
    kind: Literal["image"] = "image"
    url: str = Field(min_length=1, max_length=1000, pattern=r"^https?://")
    media_id: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=500)


class WorkOrderEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    action: str
    from_status: str | None
    to_status: str
    actor: str
    at: UtcDatetime
    recorded_at: UtcDatetime
    note: str | None
    data: dict[str, Any] | None


# --------------------------------------------------------------------------- people


class AddressPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    text: str
    community: str | None
    building: str | None
    unit: str | None
    room: str | None
    account_number: str | None


class ResidentPublic(BaseModel):
    """What the bot may confirm instead of asking again."""

    model_config = ConfigDict(from_attributes=True)

    openid: str | None
    phone: str | None
    addresses: list[AddressPublic]


Community = Annotated[str, Field(min_length=1, max_length=64)]


class GridWorkerCreate(Strict):
    """A grid worker and their communities (11.4). Without an openid the answer carries a one-time
    code that the grid worker sends the bot ("绑定 CODE") to bind their WeChat."""

    openid: str | None = Field(default=None, min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=64)
    phone: str | None = Field(default=None, max_length=32, pattern=PHONE_PATTERN)
    communities: list[Community] = Field(min_length=1, max_length=50)


class GridWorkerPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    openid: str | None
    name: str
    phone: str | None
    communities: list[str]
    active: bool


class GridWorkerRegistered(GridWorkerPublic):
    """A new grid worker; ``bind_code`` is shown this once (only its hash is kept)."""

    bind_code: str | None = None
    bind_code_expires_at: UtcDatetime | None = None


class GridWorkerBind(Strict):
    """The bot binds a sender to the grid worker whose one-time code they sent."""

    openid: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=4, max_length=32)


class StaffUserCreate(Strict):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    display_name: str = Field(min_length=1, max_length=64)
    role: Literal["agent", "supervisor", "admin", "technician"]
    password: str = Field(min_length=8, max_length=72)

    @field_validator("password")
    @classmethod
    def _bcrypt_reads_72_bytes(cls, value: str) -> str:
        if len(value.encode("utf-8")) > MAX_PASSWORD_BYTES:
            raise ValueError(f"a password is at most {MAX_PASSWORD_BYTES} bytes (about 24 Chinese characters)")
        return value


class StaffUserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: str
    active: bool


class LoginRequest(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class LoginResponse(BaseModel):
    token: str
    expires_at: UtcDatetime
    user: StaffUserPublic


# --------------------------------------------------------------------------- notifications, call-backs


class NotificationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    order_id: int | None
    deadline_name: str | None
    message: str
    created_at: UtcDatetime
    delivered_at: UtcDatetime | None
    delivery_state: str | None


class NotificationList(BaseModel):
    items: list[NotificationPublic]


class CallbackTaskPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    due_at: UtcDatetime
    face_to_face_required: bool
    survey_sent_at: UtcDatetime | None
    done_at: UtcDatetime | None
    method: str | None
    process_satisfied: bool | None
    result_satisfied: bool | None


class CallbackTaskList(BaseModel):
    items: list[CallbackTaskPublic]
    total: int


# --------------------------------------------------------------------------- handoffs


class HandoffCreate(Strict):
    resident_openid: str = Field(min_length=1, max_length=64)
    # "erasure": the resident asked to have their personal data deleted (12.1); a person checks who asks
    reason: Literal["requested", "fallback", "anger", "erasure", "other"]
    summary: str | None = Field(default=None, max_length=4000)


class HandoffPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    resident_openid: str
    reason: str
    summary: str | None
    status: str
    created_at: UtcDatetime
    taken_at: UtcDatetime | None
    taken_by: str | None
    closed_at: UtcDatetime | None


class HandoffMessage(BaseModel):
    """One message of a handoff's chat: the resident's, the bot's, or staff's (with its delivery state)."""

    model_config = ConfigDict(populate_by_name=True)

    at: UtcDatetime
    from_: Literal["resident", "bot", "staff"] = Field(alias="from")
    text: str
    delivery: str | None = None
    # A photo the resident sent (text "[图片]"): the platform's media id, kept by the WeChat channel.
    media_id: str | None = None


class HandoffMessageList(BaseModel):
    items: list[HandoffMessage]
    total: int


class HandoffMessageCreate(Strict):
    """What the member of staff holding the chat writes to the resident."""

    text: str = Field(min_length=1, max_length=600)


class HandoffList(BaseModel):
    items: list[HandoffPublic]
    total: int


# --------------------------------------------------------------------------- outages, KPIs


class OutageCreate(Strict):
    """An outage; its notice to residents is composed from these fields (heating_standard.notices)."""

    communities: list[Community] = Field(min_length=1, max_length=50)
    heated_area_m2: float = Field(gt=0, le=1e9)
    started_at: Moment
    expected_restoration_at: Moment
    # One of heating_standard.notices.CAUSES.
    cause_code: str = Field(max_length=32, json_schema_extra={"enum": list(CAUSES)})
    # A short note in the notice, e.g. "已定位漏点"; plain words only.
    cause_note: str | None = Field(default=None, max_length=30)
    repair_location: str = Field(min_length=1, max_length=40)

    @field_validator("cause_code")
    @classmethod
    def _listed_cause(cls, value: str) -> str:
        if value not in CAUSES:
            raise ValueError(f"one of {', '.join(CAUSES)}")
        return value


class OutageUpdate(Strict):
    """An extension (new expected restoration), a corrected note, or the restoration itself."""

    expected_restoration_at: Moment | None = None
    restored_at: Moment | None = None
    cause_note: str | None = Field(default=None, max_length=30)


class OutagePreview(BaseModel):
    """What residents would receive, before anything is sent."""

    message: str
    recipients: int
    notifies: bool
    needs_supervisor: bool


class OutagePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    communities: list[str]
    heated_area_m2: float
    started_at: UtcDatetime
    expected_restoration_at: UtcDatetime
    restored_at: UtcDatetime | None
    cause_code: str | None
    cause: str
    repair_location: str
    notified_at: UtcDatetime | None


class OutageList(BaseModel):
    items: list[OutagePublic]


class KpiValue(BaseModel):
    """One KPI of 14.4 with its Table 1 target. ``pending`` of the denominator's items are not yet due
    (not counted yet, their time still running): ``value`` and ``met`` judge only the others, and are
    None while nothing is due."""

    name: str
    clause: str
    value: float | None
    numerator: float
    denominator: float
    target: str
    met: bool | None
    pending: float = 0


class KpiReport(BaseModel):
    start: UtcDatetime
    end: UtcDatetime
    kpis: list[KpiValue]
    callback_coverage: KpiValue
    # 14.4.6: the complaint on-time and completion rates a company may publish (no target in Table 1)
    published: list[KpiValue] = []


class HouseholdIn(Strict):
    """One household of the company's list (5.4.3: where it sits, which side, which floor)."""

    address: str = Field(min_length=1, max_length=255)
    position: Position | None = None
    orientation: Orientation | None = None
    floor_level: FloorLevel | None = None


class HouseholdImport(Strict):
    households: list[HouseholdIn] = Field(min_length=1, max_length=5000)


class HouseholdImportResult(BaseModel):
    created: int
    updated: int
    total: int  # households on the list now


class SamplingPlanCreate(Strict):
    """Draw the season's sampling plan (5.4.4): visits from first_day to last_day, by the collector."""

    first_day: date
    last_day: date
    collector: str = Field(min_length=1, max_length=64)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)


class SamplingPlanPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    season: str
    population: int
    share: float
    size: int
    seed: int
    first_day: date
    last_day: date
    collector: str
    spread: dict[str, Any]
    created_by: str
    created_at: UtcDatetime
    visits: int = 0
    done: int = 0


class SamplingPlanList(BaseModel):
    items: list[SamplingPlanPublic]


class ResidentErase(Strict):
    """A resident's request to erase their personal data (12.1): who, and the request as recorded."""

    openid: str | None = Field(default=None, min_length=1, max_length=64)
    phone: str | None = Field(default=None, max_length=32, pattern=PHONE_PATTERN)
    reason: str = Field(min_length=1, max_length=500)


class ResidentErased(BaseModel):
    work_orders: int
    resident: int


# --------------------------------------------------------------------------- the review queue (待学习)

ReviewReason = Literal["fallback", "clarified", "out_of_scope", "handoff", "corrected"]
ReviewStatus = Literal["open", "labelled", "approved"]
IntentName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class ReviewPrediction(Strict):
    name: IntentName
    confidence: float = Field(ge=0.0, le=1.0, strict=True)  # a number, never true/false read as 1/0


class ReviewTurn(Strict):
    who: Literal["resident", "bot"]
    text: str = Field(max_length=4000)


class ReviewReport(Strict):
    """A message the bot was unsure of (the bot reports it; the text is redacted before it is kept)."""

    # a hash of the conversation and message ids, the same when the message is reported again
    message_key: str = Field(pattern=r"^[0-9a-f]{64}$")
    text: str = Field(min_length=1, max_length=4000)
    reason: ReviewReason
    predicted: list[ReviewPrediction] = Field(default_factory=list, max_length=10)
    context: list[ReviewTurn] = Field(default_factory=list, max_length=10)
    # the reading the resident chose when the bot asked
    chosen: IntentName | None = None


class ReviewRecorded(BaseModel):
    id: int | None = Field(description="the group the message joined; null when it holds nothing to learn from")


class ReviewEntity(Strict):
    entity: Literal["address", "phone", "temperature", "time"]
    start: int = Field(ge=0, le=1000)
    end: int = Field(ge=1, le=1000)
    value: str | None = Field(default=None, max_length=1000, description="ignored: the text between start and end")


class ReviewLabel(Strict):
    intent: IntentName | None = None
    entities: list[ReviewEntity] = Field(default_factory=list, max_length=20)
    out_of_scope: bool = False


class ReviewApproval(Strict):
    """What the supervisor approves: the label they saw."""

    revision: int = Field(ge=0, le=MAX_ID)


class ReviewItemPublic(BaseModel):
    id: int
    text: str = Field(description="the wording, with personal data replaced by placeholders")
    reason: ReviewReason
    predicted: list[ReviewPrediction]
    count: int = Field(description="how many messages the group holds")
    status: ReviewStatus
    intent: str | None
    entities: list[ReviewEntity]
    labelled_by: str | None
    approved_by: str | None
    revision: int = Field(description="one more at every label; an approval names the revision it approves")
    created_at: UtcDatetime
    last_seen_at: UtcDatetime
    variants: list[str] = Field(description="other wordings of the group, most recent first")
    context: list[ReviewTurn] = Field(description="the turns around the group's latest message")
    chosen: dict[str, int] = Field(description="readings residents chose when the bot asked, with how often")


class ReviewItemList(BaseModel):
    items: list[ReviewItemPublic]
    counts: dict[str, int] = Field(description="groups in each status")


class ReviewIntent(BaseModel):
    name: str
    label: str
    examples: list[str]


class BotDayModel(BaseModel):
    id: int
    source: Literal["repository", "candidate"]


class BotDay(BaseModel):
    """One Beijing day of the bot's figures; a conversation figure is null when the channel was unreadable."""

    day: str
    messages: int | None
    understood: int | None
    unsure: int | None
    clarified: int | None
    not_understood: int | None
    out_of_scope: int | None
    handed_over: int | None
    filed_alone: int
    kept_for_review: int
    review_waiting: int
    model: BotDayModel | None = Field(description="the model in force at the end of the day (now, for today)")


class BotFigures(BaseModel):
    days: list[BotDay]
    conversations_unavailable: str | None = Field(description="why the conversation figures are missing")


class ActivateBody(Strict):
    """A model put in force (a rollout or a rollback), with the reason kept in its record."""

    reason: str = Field(min_length=2, max_length=500, description="why, for the record")


class AnnouncementCreate(Strict):
    """A notice to every follower (heating_standard.announcements), from the operator's facts; the dates
    are Beijing days."""

    kind: AnnouncementKind
    scheduled_at: Moment
    commissioning_from: date | None = None  # 6.1.1: filling and commissioning
    commissioning_to: date | None = None
    price_from: date | None = None  # 9.2.1: the new price's first day


class AnnouncementPreview(BaseModel):
    text: str
    recipients: int | None  # the followers now; None when the channel cannot say
    month_used: int  # announcements of the scheduled month already approved or sent
    month_quota: int


class AnnouncementPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: AnnouncementKind
    text: str
    scheduled_at: UtcDatetime
    status: str
    recipients: int | None
    msg_id: str | None
    attempts: int
    last_error: str | None
    created_by: str
    created_at: UtcDatetime
    approved_by: str | None
    approved_at: UtcDatetime | None
    sent_at: UtcDatetime | None


class AnnouncementList(BaseModel):
    items: list[AnnouncementPublic]


class FeeArrears(Strict):
    """A household whose fees are unpaid, as the company's billing shows it."""

    address: str = Field(min_length=1, max_length=64)
    phone: str | None = Field(default=None, max_length=32)
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)


class FeeReminderSend(Strict):
    """9.2.2: remind these households, to pay by ``pay_by`` (a Beijing day)."""

    pay_by: date
    households: list[FeeArrears] = Field(min_length=1, max_length=5000)


class FeeReminderPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    batch: str
    address: str
    phone: str | None
    amount: Decimal
    pay_by: date
    recipient_openid: str | None
    notification_id: int | None
    phoned_at: UtcDatetime | None
    phoned_by: str | None
    phone_note: str | None
    created_at: UtcDatetime
    # what became of the WeChat message (api.views.delivery words), or why a call is needed
    delivery: str | None = None
    to_phone: bool = False


class FeeReminderBatch(BaseModel):
    batch: str
    items: list[FeeReminderPublic]


class FeeReminderCall(Strict):
    note: str = Field(min_length=1, max_length=500)


class UndeliveredNotice(BaseModel):
    """A message to a resident the WeChat channel could not deliver: to be told by phone."""

    id: int
    kind: str
    message: str
    created_at: UtcDatetime
    reason: str | None
    order_id: int | None
    order_number: str | None
    phone: str | None  # masked


class UndeliveredList(BaseModel):
    items: list[UndeliveredNotice]
    channel_answered: bool


class PhonedNotice(Strict):
    note: str = Field(min_length=1, max_length=500)


class CampaignCreate(Strict):
    """Start a call-back campaign (10.1.8, last heating year's orders) or the yearly survey (14.3.2 e)."""

    kind: CampaignKind
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)  # the city hotline's share drawn again


class CampaignSummary(BaseModel):
    id: int
    kind: CampaignKind
    period: str
    label: str
    created_by: str
    created_at: UtcDatetime
    contacts: int
    answered: int
    satisfied: int
    basically_satisfied: int
    unsatisfied: int
    answered_rate: float | None
    satisfied_rate: float | None
    to_phone: int  # contacts not on WeChat and not answered yet


class CampaignList(BaseModel):
    items: list[CampaignSummary]


class CampaignContactPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int | None
    resident_openid: str | None
    rating: CampaignRating | None
    note: str | None
    answered_at: UtcDatetime | None
    answered_by: str | None
    order_number: str | None = None
    phone: str | None = None  # masked


class CampaignAnswer(Strict):
    """A contact's answer: the resident's in WeChat (the bot names them), or taken by phone (with a note)."""

    rating: CampaignRating
    resident_openid: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=500)
