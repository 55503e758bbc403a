"""The second, exact pass over the standard's rules (#11): each changed rule, table by table, and the
property that no deadline is due at or before the order's acceptance."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heating_standard.calendar import WorkingCalendar
from heating_standard.deadlines import DeadlineError, HeatingSeason, OrderFacts, Promises, compute_deadlines
from heating_standard.lifecycle import Action, OrderState, TransitionRefused, next_status
from heating_standard.localtime import LOCAL_TZ
from heating_standard.orders import (
    BusinessType,
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

CALENDAR = WorkingCalendar()
SEASON = HeatingSeason(date(2026, 11, 15), date(2027, 3, 15))
ACCEPTED = datetime(2026, 12, 10, 10, 0, tzinfo=LOCAL_TZ)
PROMISES = Promises(
    completion_hours={
        "complaint": {"default": 72},
        "repair": {"default": 24, "leak": 4},
        "temperature_test": {"default": 48},
    },
    business_days={"default": 5},
)


@pytest.mark.parametrize("status", [Status.RESPONDED, Status.DISPATCHED, Status.ARRIVED])
def test_a_paid_repair_is_quoted_before_the_work_and_waits_for_the_resident(status: Status) -> None:
    """10.2.2: the quote comes before dispatch, arrival or the work, and holds each of them."""
    assert next_status(OrderState(status, Kind.REPAIR), Action.QUOTE) == status
    pending = OrderState(status, Kind.REPAIR, quote_pending=True)
    following = {Status.RESPONDED: Action.DISPATCH, Status.DISPATCHED: Action.ARRIVE, Status.ARRIVED: Action.COMPLETE}
    with pytest.raises(TransitionRefused, match="10.2.2"):
        next_status(pending, following[status])
    assert next_status(pending, Action.CONFIRM_QUOTE) == status
    next_status(OrderState(status, Kind.REPAIR), following[status])  # once confirmed, the work goes on


def test_nothing_to_confirm_without_a_quote() -> None:
    with pytest.raises(TransitionRefused, match="没有等待居民确认的报价"):
        next_status(OrderState(Status.ARRIVED, Kind.REPAIR), Action.CONFIRM_QUOTE)


@pytest.mark.parametrize(
    ("kind", "appointment", "arrival"),
    [
        (Kind.REPAIR, None, ACCEPTED + timedelta(minutes=30)),
        (Kind.REPAIR, ACCEPTED + timedelta(days=1), ACCEPTED + timedelta(days=1)),
        (Kind.TEMPERATURE_TEST, None, ACCEPTED + timedelta(minutes=30)),
        (Kind.TEMPERATURE_TEST, ACCEPTED + timedelta(hours=5), ACCEPTED + timedelta(hours=5)),
        (Kind.COMPLAINT, None, None),
    ],
)
def test_visits_have_an_arrival_deadline(kind: Kind, appointment: datetime | None, arrival: datetime | None) -> None:
    """10.2.4: arrive by the appointed time, else within 30 minutes; a temperature test is a visit too."""
    facts = OrderFacts(kind, Category.ROOM_TEMPERATURE, Source.WECHAT, False, ACCEPTED, appointment)
    assert compute_deadlines(facts, CALENDAR).arrival_due_at == arrival


moments = st.datetimes(
    min_value=datetime(2026, 11, 1), max_value=datetime(2027, 3, 31), timezones=st.just(timezone.utc)
)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(Kind),
    category=st.sampled_from(Category),
    source=st.sampled_from(Source),
    flagged=st.booleans(),
    accepted=moments,
    appointment_after=st.one_of(st.none(), st.timedeltas(min_value=timedelta(minutes=5), max_value=timedelta(days=7))),
    external_works=st.booleans(),
)
def test_no_deadline_is_due_at_or_before_acceptance(
    kind: Kind,
    category: Category,
    source: Source,
    flagged: bool,
    accepted: datetime,
    appointment_after: timedelta | None,
    external_works: bool,
) -> None:
    """The standard's "at once" (10.1.3 urgent returns) is modelled as with the first response, so no
    order is breached at the scheduler's first scan."""
    appointment = accepted + appointment_after if appointment_after else None
    business_type = BusinessType.APPLY_CONNECTION if external_works and kind == Kind.BUSINESS else None
    facts = OrderFacts(
        kind, category, source, is_urgent(category, flagged), accepted, appointment, external_works, business_type
    )
    if source == Source.SAMPLING and appointment is None:
        with pytest.raises(DeadlineError, match="5.4.4"):  # a sampling visit is booked by its plan
            compute_deadlines(facts, CALENDAR, [SEASON], PROMISES)
        return
    found = compute_deadlines(facts, CALENDAR, [SEASON], PROMISES)
    for name in ("response", "handle", "arrival", "return", "reply", "completion", "decision"):
        due = getattr(found, f"{name}_due_at")
        assert due is None or due > accepted, f"{name} is due at {due}, accepted {accepted}"


def facts(**values: object) -> ComplaintFacts:
    base: dict[str, object] = {"category": Category.ROOM_TEMPERATURE, "season": "2026-2027"}
    return ComplaintFacts(**{**base, **values})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("earlier", "new", "repeat"),
    [
        (facts(resident="oA"), facts(resident="oA"), True),
        (facts(resident="oA", phone="13800138000"), facts(phone="13800138000"), True),  # then by the hotline
        (facts(household="阳光小区|3|501"), facts(household="阳光小区|3|501", phone="13900139000"), True),
        (facts(resident="oA", household="阳光小区|3|501"), facts(resident="oA", household="和平小区|1|101"), False),
        (facts(resident="oA"), facts(resident="oA", category=Category.BILLING), False),
        (facts(resident="oA"), facts(resident="oA", season="2027-2028"), False),
        (facts(resident="oA"), facts(resident="oB"), False),
    ],
)
def test_a_repeat_complaint_is_the_same_household_by_any_channel(
    earlier: ComplaintFacts, new: ComplaintFacts, repeat: bool
) -> None:
    """10.1.7: the same WeChat user, phone or home, the same problem, the same season."""
    assert repeats(earlier, new) is repeat


@pytest.mark.parametrize(
    ("phone", "key"),
    [("+86 138-0013-8000", "13800138000"), ("13800138000", "13800138000"), ("0631-5201234", "06315201234"), ("", None)],
)
def test_phones_are_compared_by_their_digits(phone: str, key: str | None) -> None:
    assert phone_key(phone) == key


def test_a_home_needs_community_building_and_room() -> None:
    assert household_key("阳光小区", "3", "501") == "阳光小区|3|501"
    assert household_key("阳光小区", "3", None) is None
