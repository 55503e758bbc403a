"""Deadlines over real calendars (10.1.3, 10.1.4, 10.1.6, 10.2.3, 10.2.4, 9.1.4)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heating_standard.calendar import WorkingCalendar, YearSchedule
from heating_standard.deadlines import (
    DeadlineError,
    HeatingSeason,
    OrderFacts,
    Promises,
    callback_due_at,
    compute_deadlines,
    extend_reply,
    response_due_at,
)
from heating_standard.orders import BusinessType, Category, Kind, Source

SH = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkingCalendar()
# Sample 2027 schedule as an operator would enter it (New Year: 1-3 January off).
WITH_2027 = WorkingCalendar(overrides={2027: YearSchedule(holidays=frozenset({date(2027, 1, d) for d in (1, 2, 3)}))})
SEASON = HeatingSeason(start=date(2026, 11, 15), end=date(2027, 3, 15))


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


def end_of(y: int, m: int, d: int) -> datetime:
    return local(y, m, d, 23, 59, 59)


def hotline(source: Source, accepted_at: datetime, urgent: bool = False) -> OrderFacts:
    return OrderFacts(Kind.COMPLAINT, Category.ROOM_TEMPERATURE, source, urgent, accepted_at)


@pytest.mark.parametrize(
    ("case", "source", "accepted_at", "reply_due", "return_due"),
    [
        # Spring Festival 2026: 15-23 Feb off, Saturday 14 Feb a make-up working day
        (
            "city line skips Spring Festival",
            Source.CITY_HOTLINE,
            local(2026, 2, 11, 10),
            end_of(2026, 2, 25),
            end_of(2026, 2, 13),
        ),
        (
            "make-up Saturday counts",
            Source.CITY_HOTLINE,
            local(2026, 2, 13, 9),
            end_of(2026, 2, 27),
            end_of(2026, 2, 24),
        ),
        # National Day 2026: 1-7 Oct off, Saturday 10 Oct a make-up working day
        (
            "city line skips National Day",
            Source.CITY_HOTLINE,
            local(2026, 9, 30, 16),
            end_of(2026, 10, 13),
            end_of(2026, 10, 9),
        ),
        # Sunday 20 Sep 2026 is a make-up working day
        (
            "make-up Sunday counts",
            Source.PROVINCIAL_HOTLINE,
            local(2026, 9, 19, 11),
            end_of(2026, 9, 22),
            end_of(2026, 9, 20),
        ),
        (
            "acceptance day is not counted",
            Source.PROVINCIAL_HOTLINE,
            local(2026, 12, 9, 23, 50),
            end_of(2026, 12, 14),
            end_of(2026, 12, 10),
        ),
        (
            "internet supervision follows the city line",
            Source.INTERNET_SUPERVISION,
            local(2026, 12, 7, 9),
            end_of(2026, 12, 14),
            end_of(2026, 12, 8),
        ),
        (
            "first contact follows the city line",
            Source.FIRST_CONTACT,
            local(2026, 12, 7, 9),
            end_of(2026, 12, 14),
            end_of(2026, 12, 9),
        ),
    ],
)
def test_hotline_working_day_deadlines(
    case: str, source: Source, accepted_at: datetime, reply_due: datetime, return_due: datetime
) -> None:
    deadlines = compute_deadlines(hotline(source, accepted_at), CALENDAR)
    assert deadlines.reply_due_at == reply_due, case
    assert deadlines.return_due_at == return_due, case
    assert deadlines.calendar_uncertain is False


def test_local_date_decides_not_the_utc_date() -> None:
    # 2026-12-09 16:30 UTC is Thursday 10 Dec 00:30 in Shanghai
    accepted = datetime.fromisoformat("2026-12-09T16:30:00+00:00")
    deadlines = compute_deadlines(hotline(Source.CITY_HOTLINE, accepted), CALENDAR)
    assert deadlines.return_due_at == end_of(2026, 12, 14)


def test_unknown_year_counts_monday_to_friday_and_is_marked_uncertain() -> None:
    deadlines = compute_deadlines(hotline(Source.CITY_HOTLINE, local(2026, 12, 30, 10)), CALENDAR)
    # 31 Dec, Fri 1 Jan (unknown: counted), Mon 4, Tue 5, Wed 6
    assert deadlines.reply_due_at == end_of(2027, 1, 6)
    assert deadlines.calendar_uncertain is True


def test_unknown_year_with_an_operator_override_is_certain() -> None:
    deadlines = compute_deadlines(hotline(Source.CITY_HOTLINE, local(2026, 12, 30, 10)), WITH_2027)
    # 31 Dec, (1-3 Jan off), Mon 4, Tue 5, Wed 6, Thu 7
    assert deadlines.reply_due_at == end_of(2027, 1, 7)
    assert deadlines.calendar_uncertain is False
    assert WITH_2027.uncovered_years([2026, 2027, 2028]) == [2028]


def test_override_make_up_day_and_holiday_win_over_weekdays() -> None:
    calendar = WorkingCalendar(
        overrides={2030: YearSchedule(holidays=frozenset({date(2030, 2, 4)}), workdays=frozenset({date(2030, 2, 9)}))}
    )
    assert calendar.day(date(2030, 2, 4)).working is False  # a Monday off
    assert calendar.day(date(2030, 2, 9)).working is True  # a Saturday worked
    assert calendar.day(date(2030, 2, 10)).working is False  # an ordinary Sunday


def test_immediate_hotline_returns_within_two_hours_and_replies_in_two_working_days() -> None:
    accepted = local(2026, 12, 11, 17)  # a Friday
    deadlines = compute_deadlines(hotline(Source.IMMEDIATE_HOTLINE, accepted), CALENDAR)
    assert deadlines.return_due_at == accepted + timedelta(hours=2)
    assert deadlines.reply_due_at == end_of(2026, 12, 15)


def test_urgent_hotline_order_replies_within_24_hours_and_returns_at_once() -> None:
    """10.1.3 "即时回退": at once means with the first response, never a deadline already passed."""
    accepted = local(2026, 12, 11, 17)
    deadlines = compute_deadlines(hotline(Source.CITY_HOTLINE, accepted, urgent=True), CALENDAR)
    assert deadlines.reply_due_at == accepted + timedelta(hours=24)
    assert deadlines.return_due_at == deadlines.response_due_at == accepted + timedelta(minutes=30)
    season = HeatingSeason(date(2026, 12, 1), date(2027, 3, 15))  # early in a season: 90 minutes
    early = compute_deadlines(hotline(Source.CITY_HOTLINE, accepted, urgent=True), CALENDAR, [season])
    assert early.return_due_at == early.response_due_at == accepted + timedelta(minutes=90)


def test_wechat_orders_have_no_hotline_deadlines() -> None:
    deadlines = compute_deadlines(hotline(Source.WECHAT, local(2026, 12, 11, 17)), CALENDAR)
    assert deadlines.reply_due_at is None and deadlines.return_due_at is None


@pytest.mark.parametrize(
    ("accepted_at", "minutes"),
    [
        (local(2026, 11, 14, 23, 0), 30),  # the day before the season
        (local(2026, 11, 15, 0, 0), 90),  # first day
        (local(2026, 11, 29, 23, 59), 90),  # 15th day
        (local(2026, 11, 30, 0, 0), 30),  # 16th day
        (local(2027, 1, 20, 9, 0), 30),  # mid-season
    ],
)
def test_response_window_is_longer_in_the_first_15_days_of_the_season(accepted_at: datetime, minutes: int) -> None:
    assert response_due_at(accepted_at, [SEASON]) == accepted_at + timedelta(minutes=minutes)


def test_leak_is_urgent_one_hour_and_repair_arrives_in_30_minutes() -> None:
    accepted = local(2026, 12, 11, 2, 10)
    facts = OrderFacts(Kind.REPAIR, Category.LEAK, Source.WECHAT, True, accepted)
    deadlines = compute_deadlines(facts, CALENDAR)
    assert deadlines.handle_due_at == accepted + timedelta(hours=1)
    assert deadlines.arrival_due_at == accepted + timedelta(minutes=30)


def test_repair_with_appointment_arrives_by_the_appointment() -> None:
    accepted = local(2026, 12, 11, 9)
    appointment = local(2026, 12, 12, 14, 30)
    facts = OrderFacts(Kind.REPAIR, Category.EQUIPMENT, Source.WECHAT, False, accepted, appointment_at=appointment)
    assert compute_deadlines(facts, CALENDAR).arrival_due_at == appointment


PROMISES = Promises(business_days={"default": 5, "stop_heating": 3, "open_account": 4}, decision_days=2)


@pytest.mark.parametrize(
    ("business_type", "external_works", "completion", "decision"),
    [
        # 9.1.4: a new connection takes 1 day, 3 with external works; decided with it at the latest
        (BusinessType.APPLY_CONNECTION, False, end_of(2026, 12, 12), end_of(2026, 12, 12)),
        (BusinessType.APPLY_CONNECTION, True, end_of(2026, 12, 14), end_of(2026, 12, 13)),
        # 9.1.2: the others by the company's promise, by type or its default
        (BusinessType.STOP_HEATING, False, end_of(2026, 12, 14), end_of(2026, 12, 13)),
        (BusinessType.TRANSFER, False, end_of(2026, 12, 16), end_of(2026, 12, 13)),
        (BusinessType.OPEN_ACCOUNT, False, end_of(2026, 12, 15), end_of(2026, 12, 13)),  # 开户 (7.5), promised
        (BusinessType.CLOSE_ACCOUNT, False, end_of(2026, 12, 16), end_of(2026, 12, 13)),  # 销户 (7.5), default
        (None, False, end_of(2026, 12, 16), end_of(2026, 12, 13)),
    ],
)
def test_business_deadlines_by_type(
    business_type: BusinessType | None, external_works: bool, completion: datetime, decision: datetime
) -> None:
    facts = OrderFacts(
        Kind.BUSINESS,
        Category.OTHER,
        Source.COUNTER,
        False,
        local(2026, 12, 11, 9),
        external_works=external_works,
        business_type=business_type,
    )
    found = compute_deadlines(facts, CALENDAR, promises=PROMISES)
    assert (found.completion_due_at, found.decision_due_at) == (completion, decision)


def test_without_a_promise_a_business_request_has_only_its_decision() -> None:
    facts = OrderFacts(Kind.BUSINESS, Category.OTHER, Source.COUNTER, False, local(2026, 12, 11, 9))
    found = compute_deadlines(facts, CALENDAR)
    assert found.completion_due_at is None and found.decision_due_at == end_of(2026, 12, 12)
    complaint = OrderFacts(Kind.COMPLAINT, Category.SERVICE, Source.COUNTER, False, local(2026, 12, 11, 9))
    assert compute_deadlines(complaint, CALENDAR, promises=PROMISES).decision_due_at is None


def test_callback_is_due_at_the_end_of_the_third_day_across_the_year_boundary() -> None:
    assert callback_due_at(local(2026, 12, 31, 22)) == end_of(2027, 1, 3)


def test_city_extension_counts_from_the_extended_deadline() -> None:
    new_due, certain = extend_reply(Source.CITY_HOTLINE, end_of(2026, 9, 30), 10, False, CALENDAR)
    # from Wed 30 Sep: 8, 9, 10 (make-up Sat), 12, 13, 14, 15, 16, 19, 20 Oct
    assert new_due == end_of(2026, 10, 20)
    assert certain


@pytest.mark.parametrize(
    ("source", "days", "already", "message"),
    [
        (Source.CITY_HOTLINE, 3, True, "only once"),
        (Source.PROVINCIAL_HOTLINE, 6, False, "1 to 5"),
        (Source.CITY_HOTLINE, 11, False, "1 to 10"),
        (Source.CITY_HOTLINE, 0, False, "1 to 10"),
        (Source.WECHAT, 3, False, "cannot be extended"),
    ],
)
def test_extensions_outside_the_rules_are_refused(source: Source, days: int, already: bool, message: str) -> None:
    with pytest.raises(DeadlineError, match=message):
        extend_reply(source, end_of(2026, 12, 1), days, already, CALENDAR)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        response_due_at(datetime(2026, 12, 1, 8, 0))


@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2026, 12, 31)),
    days=st.integers(min_value=1, max_value=25),
)
def test_a_working_day_deadline_lands_on_a_working_day_after_exactly_n_of_them(start: date, days: int) -> None:
    due, certain = CALENDAR.add_working_days(start, days)
    assert CALENDAR.day(due).working
    assert due > start
    counted = sum(CALENDAR.day(start + timedelta(days=i)).working for i in range(1, (due - start).days + 1))
    assert counted == days
    assert certain == all(CALENDAR.covers(y) for y in range(start.year, due.year + 1))
