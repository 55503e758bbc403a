"""Deadlines of a work order, from the windows of the heating-service standard.

Counting rules (see the standard digest; the standard itself does not spell them out):
- hour and minute windows run on calendar time, every day: the service line is staffed 24 hours
  during the season (10.1.2);
- "N working days" ends at 23:59:59 Asia/Shanghai on the N-th working day after the day of
  acceptance; the day of acceptance does not count, since an order accepted at 23:50 would
  otherwise lose a whole day;
- "within N days" ends at 23:59:59 on the N-th calendar day after the day of the event;
- an extension adds its working days counted from the date of the deadline it extends.

Everything here is pure: times in, times out; the caller supplies ``now`` and the calendar.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from heating_standard.calendar import WorkingCalendar
from heating_standard.localtime import LOCAL_TZ, aware, end_of_local_day, local_date
from heating_standard.orders import BusinessType, Category, Kind, Source

# 10.1.4: respond within 30 minutes of acceptance; one more hour in the season's first 15 days.
RESPONSE_WINDOW = timedelta(minutes=30)
EARLY_SEASON_EXTRA = timedelta(hours=1)
EARLY_SEASON_DAYS = 15
# 10.2.3: leaks (跑、冒、滴、漏) are handled within 1 hour of the call.
LEAK_HANDLING_WINDOW = timedelta(hours=1)
# 10.2.4: arrive within 30 minutes of accepting a repair (or by the appointed time).
ARRIVAL_WINDOW = timedelta(minutes=30)
# 10.1.6: call back within 3 days after the service.
CALLBACK_DAYS = 3
# 9.1.4: a new connection is done in 1 day, 3 days with external works.
CONNECTION_DAYS = 1
CONNECTION_DAYS_WITH_EXTERNAL_WORKS = 3
# 10.1.4 (办结条), 4.4: complaints, repairs and temperature tests are finished by the company's promise.
PROMISED_KINDS = (Kind.COMPLAINT, Kind.REPAIR, Kind.TEMPERATURE_TEST)
DEFAULT = "default"


@dataclass(frozen=True)
class Promises:
    """The times the company promises (10.1.4 办结条, 4.4, 9.1.2), from the operator file.

    ``completion_hours``: kind -> category (or "default") -> hours after acceptance;
    ``business_days``: business type (or "default") -> calendar days after the application, for every
    business request but a new connection, whose days the standard sets (9.1.4);
    ``decision_days``: 9.1.2, whether an application is accepted;
    ``repeat_followup_days``: 10.1.7, the further call-back of a repeat complaint, in days after the first's due day.
    """

    completion_hours: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    business_days: Mapping[str, int] = field(default_factory=dict)
    decision_days: int = 1
    repeat_followup_days: int = 7

    def completion(self, kind: Kind, category: Category) -> timedelta | None:
        """The promised time to finish an order of this kind and category; None if none is promised."""
        if kind not in PROMISED_KINDS:
            return None
        hours = self.completion_hours.get(kind.value, {})
        found = hours.get(category.value, hours.get(DEFAULT))
        return None if found is None else timedelta(hours=found)

    def business(self, business_type: BusinessType | None) -> int | None:
        """Calendar days to finish a business request other than a new connection."""
        key = business_type.value if business_type else DEFAULT
        return self.business_days.get(key, self.business_days.get(DEFAULT))

    def missing(self) -> list[str]:
        """The promises an operator file must make before going live."""
        gaps = [
            f"promises.completion_hours.{k.value}.default"
            for k in PROMISED_KINDS
            if DEFAULT not in self.completion_hours.get(k.value, {})
        ]
        if DEFAULT not in self.business_days:
            gaps.append("promises.business_completion_days.default")
        return gaps


@dataclass(frozen=True)
class HotlineWindow:
    """Return (回退) and reply (回复) windows of one source, in working days or hours."""

    return_working_days: int | None = None
    return_hours: int | None = None
    reply_working_days: int | None = None
    max_extension_working_days: int | None = None  # None: no extension allowed


# 10.1.3 (return) and 10.1.4 (reply, extension); 首问负责制 and 互联网+督查 follow the city line.
HOTLINE_WINDOWS: dict[Source, HotlineWindow] = {
    Source.CITY_HOTLINE: HotlineWindow(return_working_days=2, reply_working_days=5, max_extension_working_days=10),
    Source.PROVINCIAL_HOTLINE: HotlineWindow(return_working_days=1, reply_working_days=3, max_extension_working_days=5),
    Source.IMMEDIATE_HOTLINE: HotlineWindow(return_hours=2, reply_working_days=2),
    Source.INTERNET_SUPERVISION: HotlineWindow(return_working_days=1, reply_working_days=5),
    Source.FIRST_CONTACT: HotlineWindow(return_working_days=2, reply_working_days=5),
}
# 10.1.4: urgent orders are replied to within 24 hours; 10.1.3: urgent ones are returned at once.
URGENT_REPLY_WINDOW = timedelta(hours=24)


class DeadlineError(ValueError):
    """A deadline rule was asked for something the standard does not allow."""


@dataclass(frozen=True)
class HeatingSeason:
    """One heating season's dates (set each year by the city government, 5.2.1)."""

    start: date
    end: date

    def in_first_days(self, day: date, days: int = EARLY_SEASON_DAYS) -> bool:
        return self.start <= day < self.start + timedelta(days=days)

    def bounds(self) -> tuple[datetime, datetime]:
        """From 00:00 of the first day to 24:00 of the last, Beijing time: its normal heating time (3.6)."""
        return (
            datetime.combine(self.start, datetime.min.time(), tzinfo=LOCAL_TZ),
            datetime.combine(self.end + timedelta(days=1), datetime.min.time(), tzinfo=LOCAL_TZ),
        )


@dataclass(frozen=True)
class Deadlines:
    """Every deadline of one order; None where the window does not apply."""

    response_due_at: datetime
    handle_due_at: datetime | None = None
    arrival_due_at: datetime | None = None
    return_due_at: datetime | None = None
    reply_due_at: datetime | None = None
    completion_due_at: datetime | None = None
    decision_due_at: datetime | None = None
    calendar_uncertain: bool = False

    def by_name(self) -> dict[str, datetime]:
        """The deadlines that apply, by their names in ``lifecycle.DEADLINE_NAMES`` (the order keeps them so)."""
        named = {
            "response": self.response_due_at,
            "handle": self.handle_due_at,
            "arrival": self.arrival_due_at,
            "return": self.return_due_at,
            "reply": self.reply_due_at,
            "decision": self.decision_due_at,
            "completion": self.completion_due_at,
        }
        return {name: due for name, due in named.items() if due is not None}


@dataclass(frozen=True)
class OrderFacts:
    """What the deadlines of a new order depend on."""

    kind: Kind
    category: Category
    source: Source
    urgent: bool
    accepted_at: datetime
    appointment_at: datetime | None = None
    external_works: bool = False  # 9.1.4: a new connection needing works outside the building
    business_type: BusinessType | None = None


def working_days_after(moment: datetime, days: int, calendar: WorkingCalendar) -> tuple[datetime, bool]:
    """End of the ``days``-th working day after the local day of ``moment``; and its certainty."""
    day, certain = calendar.add_working_days(local_date(moment), days)
    return end_of_local_day(day), certain


def calendar_days_after(moment: datetime, days: int) -> datetime:
    """End of the ``days``-th calendar day after the local day of ``moment``."""
    return end_of_local_day(local_date(moment) + timedelta(days=days))


def season_of(day: date, seasons: Sequence[HeatingSeason]) -> HeatingSeason | None:
    """The season that contains ``day``, if any."""
    return next((s for s in seasons if s.start <= day <= s.end), None)


def response_due_at(accepted_at: datetime, seasons: Sequence[HeatingSeason] = ()) -> datetime:
    """10.1.4: 30 minutes after acceptance; 90 minutes in the first 15 days of a season."""
    accepted_at = aware(accepted_at, "accepted_at")
    season = season_of(local_date(accepted_at), seasons)
    if season is not None and season.in_first_days(local_date(accepted_at)):
        return accepted_at + RESPONSE_WINDOW + EARLY_SEASON_EXTRA
    return accepted_at + RESPONSE_WINDOW


def compute_deadlines(
    facts: OrderFacts,
    calendar: WorkingCalendar,
    seasons: Sequence[HeatingSeason] = (),
    promises: Promises = Promises(),
) -> Deadlines:
    """All deadlines of a new order."""
    accepted = aware(facts.accepted_at, "accepted_at")
    if facts.source == Source.SAMPLING:
        return _sampling_visit(facts)
    handle = accepted + LEAK_HANDLING_WINDOW if facts.category == Category.LEAK else None
    arrival = None
    if facts.kind in (Kind.REPAIR, Kind.TEMPERATURE_TEST):
        # 10.2.4: at the appointed time, else within 30 minutes; a temperature test is a visit too.
        arrival = aware(facts.appointment_at, "appointment_at") if facts.appointment_at else accepted + ARRIVAL_WINDOW
    return_due, reply_due, certain = _hotline_windows(facts, accepted, calendar, seasons)
    completion, decision = _completion(facts, accepted, promises)
    return Deadlines(
        response_due_at=response_due_at(accepted, seasons),
        handle_due_at=handle,
        arrival_due_at=arrival,
        return_due_at=return_due,
        reply_due_at=reply_due,
        completion_due_at=completion,
        decision_due_at=decision,
        calendar_uncertain=not certain,
    )


def _sampling_visit(facts: OrderFacts) -> Deadlines:
    """5.4.4: the plan fixes the household, the time and the collector. The visit is confirmed with the
    household by the appointed time, made then (10.2.4), and its reading recorded the same day."""
    if facts.appointment_at is None:
        raise DeadlineError("a sampling visit has its appointed time (5.4.4)")
    visit = aware(facts.appointment_at, "appointment_at")
    return Deadlines(
        response_due_at=visit,
        arrival_due_at=visit,
        completion_due_at=max(end_of_local_day(local_date(visit)), visit + timedelta(hours=1)),
    )


def _hotline_windows(
    facts: OrderFacts, accepted: datetime, calendar: WorkingCalendar, seasons: Sequence[HeatingSeason]
) -> tuple[datetime | None, datetime | None, bool]:
    """A hotline order's return and reply due times (10.1.3, 10.1.4), and whether the calendar was sure
    of them; (None, None, True) for an order of no hotline."""
    window = HOTLINE_WINDOWS.get(facts.source)
    if window is None:
        return None, None, True
    if facts.urgent:
        # 10.1.3 "紧急类即时回退": an urgent order is returned at once or not at all, so the return
        # is due with the first response (30 minutes, or 90 early in the season), which decides
        # whether the order is the company's. A due time equal to the acceptance would breach at the
        # first scan of every urgent order. A return after the response is late (recorded on it).
        return response_due_at(accepted, seasons), accepted + URGENT_REPLY_WINDOW, True
    return_due = reply_due = None
    certain = True
    if window.return_hours is not None:
        return_due = accepted + timedelta(hours=window.return_hours)
    elif window.return_working_days is not None:
        return_due, sure = working_days_after(accepted, window.return_working_days, calendar)
        certain &= sure
    if window.reply_working_days is not None:
        reply_due, sure = working_days_after(accepted, window.reply_working_days, calendar)
        certain &= sure
    return return_due, reply_due, certain


def _completion(facts: OrderFacts, accepted: datetime, promises: Promises) -> tuple[datetime | None, datetime | None]:
    """When the order is to be finished, and a business request decided (9.1.2, 9.1.4, 10.1.4)."""
    if facts.kind != Kind.BUSINESS:
        promised = promises.completion(facts.kind, facts.category)
        return (accepted + promised if promised else None), None
    if facts.business_type == BusinessType.APPLY_CONNECTION:
        # 9.1.4: a new connection is done in 1 day, or 3 with external works.
        days: int | None = CONNECTION_DAYS_WITH_EXTERNAL_WORKS if facts.external_works else CONNECTION_DAYS
    else:
        days = promises.business(facts.business_type)  # 9.1.2: the company's promise
    completion = calendar_days_after(accepted, days) if days else None
    decision = calendar_days_after(accepted, max(promises.decision_days, 0))
    if completion is not None and decision > completion:
        decision = completion  # a request cannot be finished before it is decided
    return completion, decision


def extend_reply(
    source: Source, reply_due_at: datetime, working_days: int, already_extended: bool, calendar: WorkingCalendar
) -> tuple[datetime, bool]:
    """10.1.4: one extension of a complex case; city up to +10, provincial up to +5 working days.

    Counted from the date of the deadline it extends. Returns the new deadline and its certainty.
    """
    window = HOTLINE_WINDOWS.get(source)
    if window is None or window.max_extension_working_days is None:
        raise DeadlineError(f"orders from {source.value} cannot be extended")
    if already_extended:
        raise DeadlineError("an order can be extended only once")
    if not 1 <= working_days <= window.max_extension_working_days:
        raise DeadlineError(
            f"{source.value} orders can be extended by 1 to {window.max_extension_working_days} working days"
        )
    return working_days_after(reply_due_at, working_days, calendar)


def callback_due_at(completed_at: datetime) -> datetime:
    """10.1.6: the call-back is due by the end of the 3rd calendar day after completion."""
    return calendar_days_after(aware(completed_at, "completed_at"), CALLBACK_DAYS)


@dataclass(frozen=True)
class PlannedCallback:
    """One call-back of a completed order: when it is due and whether it is made face to face."""

    sequence: int
    due_at: datetime
    face_to_face: bool


def callback_plan(
    completed_at: datetime, repeat_complaint: bool, promises: Promises = Promises()
) -> list[PlannedCallback]:
    """10.1.6: one call-back within 3 days of the service. 10.1.7: a repeat complaint is called back more
    (加大回访): the first face to face, within the same 3 days, and a further one by the company's
    follow-up days after it, to see the problem stays solved."""
    first = callback_due_at(completed_at)
    plan = [PlannedCallback(1, first, face_to_face=repeat_complaint)]
    if repeat_complaint:
        plan.append(PlannedCallback(2, calendar_days_after(first, promises.repeat_followup_days), face_to_face=False))
    return plan


def reschedule(current_due: datetime | None, new_due: datetime, now: datetime, reason: str | None) -> datetime:
    """10.1.4 (办结条): an order that cannot be finished in time gets a new time, with the reason, both told
    to the resident. The new time lies ahead of now and after the time it replaces."""
    new_due = aware(new_due, "promised_at")
    if not (reason or "").strip():
        raise DeadlineError("a new completion time comes with the reason it is needed (10.1.4)")
    if new_due <= now:
        raise DeadlineError("the new completion time must lie ahead")
    if current_due is not None and new_due <= current_due:
        raise DeadlineError("the new completion time must come after the one it replaces")
    return new_due
