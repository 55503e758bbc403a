"""The rest of the shared rules, table by table: addresses, urgency, the order's life, KPIs, notices,
masking and Beijing time. Run in both environments (the backend's Python 3.11, the bot's 3.10)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from heating_standard import kpis, notices, privacy
from heating_standard.addresses import find_community, parse_address, to_digits
from heating_standard.lifecycle import (
    DEADLINE_LABELS,
    DEADLINE_NAMES,
    MEETS,
    OPEN_STATES,
    Action,
    OrderState,
    TransitionRefused,
    allowed_actions,
    missing_field,
    next_status,
)
from heating_standard.localtime import aware, end_of_local_day, local_date
from heating_standard.orders import Category, Kind, Status, is_urgent


@pytest.mark.parametrize(
    ("text", "community", "building", "unit", "room"),
    [
        ("阳光小区3号楼2单元501", "阳光小区", "3", "2", "501"),
        ("我家住在阳光小区三号楼二单元五零一", "阳光小区", "3", "2", "501"),
        ("幸福家园 3-2-501", "幸福家园", "3", "2", "501"),
        ("山东省威海市环翠区和平小区12栋1门302室", "和平小区", "12", "1", "302"),
        ("朝阳小区5号楼", "朝阳小区", "5", None, None),
    ],
)
def test_addresses_are_split_the_same_way_everywhere(
    text: str, community: str, building: str, unit: str | None, room: str | None
) -> None:
    parsed = parse_address(text)
    assert (parsed.community, parsed.building, parsed.unit, parsed.room) == (community, building, unit, room)
    assert parsed.complete is (room is not None)


def test_chinese_numerals_become_digits() -> None:
    assert to_digits("三号楼二单元") == "3号楼2单元"


@pytest.mark.parametrize(
    ("category", "flagged", "urgent"),
    [(Category.LEAK, False, True), (Category.NO_HEAT, False, False), (Category.NO_HEAT, True, True)],
)
def test_leaks_are_always_urgent(category: Category, flagged: bool, urgent: bool) -> None:
    assert is_urgent(category, flagged) is urgent  # 10.2.3


@pytest.mark.parametrize(
    ("kind", "path", "end"),
    [
        (Kind.REPAIR, [Action.RESPOND, Action.DISPATCH, Action.ARRIVE, Action.COMPLETE], Status.COMPLETED),
        (Kind.COMPLAINT, [Action.RESPOND, Action.COMPLETE, Action.CALLBACK, Action.CLOSE], Status.CLOSED),
        (Kind.COMPLAINT, [Action.RETURN, Action.CLOSE], Status.CLOSED),
        (Kind.REPAIR, [Action.CANCEL, Action.CLOSE], Status.CLOSED),
    ],
)
def test_an_order_moves_through_its_states(kind: Kind, path: list[Action], end: Status) -> None:
    state = OrderState(status=Status.ACCEPTED, kind=kind)
    for action in path:
        status = next_status(state, action)
        # completing plans one call-back (the service records the tasks; heating_standard.deadlines.callback_plan)
        state = OrderState(status=status, kind=kind, callbacks_pending=int(status == Status.COMPLETED))
    assert state.status == end


def test_a_repeat_complaint_is_closed_only_after_its_further_call_back() -> None:
    """10.1.7: two call-backs; the order is called back after the first and closed after the second."""
    completed = OrderState(Status.COMPLETED, Kind.COMPLAINT, callbacks_pending=2)
    assert next_status(completed, Action.CALLBACK) == Status.CALLED_BACK
    waiting = OrderState(Status.CALLED_BACK, Kind.COMPLAINT, callbacks_pending=1)
    with pytest.raises(TransitionRefused, match="10.1.7"):
        next_status(waiting, Action.CLOSE)
    assert next_status(waiting, Action.CALLBACK) == Status.CALLED_BACK
    done = OrderState(Status.CALLED_BACK, Kind.COMPLAINT, callbacks_pending=0)
    assert next_status(done, Action.CLOSE) == Status.CLOSED
    with pytest.raises(TransitionRefused, match="计划的回访都已完成"):
        next_status(done, Action.CALLBACK)


@pytest.mark.parametrize(
    ("state", "action", "refused"),
    [
        (OrderState(Status.RESPONDED, Kind.COMPLAINT), Action.MARK_UNREASONABLE, None),
        (OrderState(Status.CLOSED, Kind.COMPLAINT), Action.MARK_UNREASONABLE, None),  # judged after the fact too
        (OrderState(Status.RESPONDED, Kind.REPAIR), Action.MARK_UNREASONABLE, "只有投诉"),
        (OrderState(Status.RESPONDED, Kind.COMPLAINT, reasonable=False), Action.MARK_UNREASONABLE, "已经认定为不合理"),
        (OrderState(Status.RESPONDED, Kind.COMPLAINT), Action.MARK_REASONABLE, "已经认定为合理"),
        (OrderState(Status.CANCELLED, Kind.COMPLAINT), Action.MARK_UNREASONABLE, "工单已撤销，不能认定为不合理投诉"),
        (OrderState(Status.RESPONDED, Kind.REPAIR, completion_due=True), Action.RESCHEDULE, None),
        (OrderState(Status.RESPONDED, Kind.CONSULTATION), Action.RESCHEDULE, "没有可以调整的办结时间"),
        (OrderState(Status.COMPLETED, Kind.REPAIR, completion_due=True), Action.RESCHEDULE, "已完成，不能调整办结"),
    ],
)
def test_judging_and_rescheduling_are_allowed_where_they_mean_something(
    state: OrderState, action: Action, refused: str | None
) -> None:
    if refused is None:
        assert next_status(state, action) == state.status  # neither moves the order
    else:
        with pytest.raises(TransitionRefused, match=refused):
            next_status(state, action)


@pytest.mark.parametrize(
    ("action", "state", "given", "missing"),
    [
        (Action.DISPATCH, OrderState(Status.RESPONDED, Kind.REPAIR), set(), "technician"),
        (Action.COMPLETE, OrderState(Status.ARRIVED, Kind.TEMPERATURE_TEST), {"result"}, "temperature_test"),
        (Action.COMPLETE, OrderState(Status.ARRIVED, Kind.REPAIR), set(), None),
        (Action.RESCHEDULE, OrderState(Status.RESPONDED, Kind.REPAIR), {"promised_at"}, "reason"),
        (
            Action.CALLBACK,
            OrderState(Status.COMPLETED, Kind.COMPLAINT),
            {"method", "process_satisfied"},
            "result_satisfied",
        ),
        (Action.RETURN, OrderState(Status.ACCEPTED, Kind.COMPLAINT), {"note"}, None),
        (Action.CANCEL, OrderState(Status.RESPONDED, Kind.REPAIR), set(), "note"),
        # 9.1.2: a business request not yet accepted is refused with the reason and a suggestion
        (Action.CANCEL, OrderState(Status.ACCEPTED, Kind.BUSINESS), {"note", "reason"}, "suggestion"),
        (Action.CANCEL, OrderState(Status.RESPONDED, Kind.BUSINESS), {"note"}, None),  # accepted, then withdrawn
    ],
)
def test_each_action_names_what_it_must_record(
    action: Action, state: OrderState, given: set[str], missing: str | None
) -> None:
    found = missing_field(action, state, given)
    assert (found[0] if found else None) == missing


def test_on_site_work_is_not_completed_from_the_desk_nor_after_an_open_quote() -> None:
    with pytest.raises(TransitionRefused):
        next_status(OrderState(Status.RESPONDED, Kind.REPAIR), Action.COMPLETE)
    assert Action.COMPLETE not in allowed_actions(OrderState(Status.ARRIVED, Kind.REPAIR, quote_pending=True))
    assert Action.COMPLETE in allowed_actions(OrderState(Status.ARRIVED, Kind.REPAIR))


def test_every_open_state_may_be_extended_or_cancelled_and_no_closed_one() -> None:
    for status in Status:
        actions = allowed_actions(OrderState(status, Kind.COMPLAINT))
        assert (Action.CANCEL in actions) is (status in OPEN_STATES)


def test_what_each_action_meets_names_only_known_deadlines() -> None:
    assert set(MEETS[Action.CANCEL]) == set(DEADLINE_NAMES)
    assert all(clause for _, clause in DEADLINE_LABELS.values())  # each deadline names its clause
    assert all(set(names) <= set(DEADLINE_NAMES) for names in MEETS.values())
    assert "handle" in MEETS[Action.ARRIVE]  # 10.2.3: a leak is handled once staff are on site


def test_kpi_ratios_and_their_targets() -> None:
    t0 = datetime(2026, 12, 1, tzinfo=timezone.utc)
    in_time, late = kpis.Repair(t0, t0), kpis.Repair(t0, t0 + timedelta(minutes=1))
    assert kpis.repair_response_rate([in_time] * 9 + [late]).met is False  # Q must be 100 %
    assert kpis.repair_response_rate([]).value is None  # no denominator, no figure
    start = datetime(2026, 12, 1, tzinfo=timezone.utc)
    season_end = start + timedelta(hours=100)
    burst = kpis.OutageSpan(start, start + timedelta(hours=11), 1000.0, "pipe_burst")
    power = kpis.OutageSpan(start, start + timedelta(hours=50), 9000.0, "power_outage")  # not the company's (3.6)
    rate = kpis.accident_rate([burst, power], start, season_end, season_end, 50_000.0)
    assert rate.value == pytest.approx(11 * 1000 / (100 * 50_000)) and rate.met is False  # over the 2‰ ceiling
    assert rate.target_text == "≤ 2‰"
    # counted up to a moment inside the season, over the whole season's time
    so_far = kpis.accident_rate([burst], start, season_end, start + timedelta(hours=5), 50_000.0)
    assert (so_far.numerator, so_far.denominator) == (5 * 1000, 100 * 50_000)


def test_room_temperature_compliance_counts_households_by_their_latest_test() -> None:
    """14.4.3, 3.8: 合格户数 / 检测总户数; 18.0 °C passes (5.1)."""
    t0 = datetime(2026, 12, 1, tzinfo=timezone.utc)
    tests = [
        kpis.TemperatureTest("A", t0, 17.0),
        kpis.TemperatureTest("A", t0 + timedelta(days=2), 18.0),  # retested after the repair: passes
        kpis.TemperatureTest("B", t0 + timedelta(days=2), 19.0),
        kpis.TemperatureTest("B", t0 + timedelta(days=1), 17.9),  # older, whatever the order given
        kpis.TemperatureTest("C", t0, 17.9),
    ]
    rate = kpis.room_temperature_compliance(tests)
    assert (rate.numerator, rate.denominator) == (2, 3) and rate.met is False


def test_complaint_rates_follow_reasonable_complaints_and_the_set_time() -> None:
    """14.4.4/14.4.5 over T, every reasonable complaint; t only within the set time; 14.4.6 and 10.1.6."""
    t0 = datetime(2026, 12, 1, tzinfo=timezone.utc)
    due = t0 + timedelta(hours=72)
    done = {"completed_at": t0 + timedelta(hours=5), "completion_due_at": due, "first_callback_due_at": due}
    called = {**done, "first_callback_at": t0 + timedelta(hours=6)}
    complaints = [
        kpis.Complaint(**called, process_satisfied=True, result_satisfied=True),  # type: ignore[arg-type]
        kpis.Complaint(**called, process_satisfied=True, result_satisfied=False),  # type: ignore[arg-type]
        # finished after the promise: process satisfied but not in time
        kpis.Complaint(  # type: ignore[arg-type]
            **{**called, "completed_at": due + timedelta(hours=1)}, process_satisfied=True, result_satisfied=True
        ),
        # a promise moved after it had passed does not make the order timely
        kpis.Complaint(**called, rescheduled_late=True, process_satisfied=True, result_satisfied=True),  # type: ignore[arg-type]
        kpis.Complaint(),  # open, not called back: in T, in nothing else
        kpis.Complaint(**called, reasonable=False, process_satisfied=True, result_satisfied=True),  # type: ignore[arg-type]
        kpis.Complaint(withdrawn=True),
        # called back after its 3 days
        kpis.Complaint(  # type: ignore[arg-type]
            **{**called, "first_callback_at": due + timedelta(days=1)}, process_satisfied=False, result_satisfied=True
        ),
    ]
    rates = kpis.complaint_rates(complaints)
    counted = {name: (r.numerator, r.denominator) for name, r in rates.items()}
    # T: all but the unreasonable and the withdrawn = 6; coverage over the 6 completed ones, reasonable or not
    assert counted == {
        "complaint_process_satisfaction": (2, 6),  # the first two
        "complaint_result_satisfaction": (4, 6),  # first, third, fourth, last
        "complaint_on_time_rate": (3, 6),  # first, second, last
        "complaint_completion_rate": (5, 6),  # all but the open one
        "complaint_callback_coverage": (5, 6),  # all but the one called back late
    }
    assert rates["complaint_on_time_rate"].met is None  # 14.4.6 publishes it without a target


def test_a_complaint_whose_time_is_still_running_is_not_yet_due_rather_than_missed() -> None:
    """Only what is due is judged: a complaint not finished before its promise (10.1.4), or finished and
    inside its call-back's three days (10.1.6), neither meets nor misses P and B (14.4.4, 14.4.5)."""
    t0 = datetime(2026, 12, 1, tzinfo=timezone.utc)
    promise, callback_due = t0 + timedelta(hours=72), t0 + timedelta(days=4)
    now = t0 + timedelta(hours=10)
    finished = {"completed_at": t0 + timedelta(hours=5), "completion_due_at": promise}
    complaints = [
        kpis.Complaint(**finished, first_callback_due_at=callback_due),  # type: ignore[arg-type]  # call-back not yet due
        kpis.Complaint(completion_due_at=promise),  # still inside its promise
        kpis.Complaint(completion_due_at=t0 + timedelta(hours=1)),  # its promise has passed: missed
        kpis.Complaint(  # type: ignore[arg-type]
            **finished,
            first_callback_due_at=callback_due,
            first_callback_at=t0 + timedelta(hours=6),
            process_satisfied=True,
            result_satisfied=True,
        ),
        # moved only after the promise had passed: never in time again (P), though B may still come
        kpis.Complaint(completion_due_at=promise, rescheduled_late=True),
    ]
    rates = kpis.complaint_rates(complaints, now)
    p, b = rates["complaint_process_satisfaction"], rates["complaint_result_satisfaction"]
    assert (p.numerator, p.denominator, p.pending) == (1, 5, 2) and p.value == 1 / 3 and p.met is False
    assert (b.numerator, b.denominator, b.pending) == (1, 5, 3) and b.value == 1 / 2 and b.met is False
    coverage = rates["complaint_callback_coverage"]
    assert (coverage.numerator, coverage.denominator, coverage.pending) == (1, 2, 1) and coverage.met is True
    only_waiting = kpis.complaint_rates(complaints[:2], now)["complaint_process_satisfaction"]
    assert only_waiting.not_yet_due and only_waiting.value is None and only_waiting.met is None  # "未到期"
    later = kpis.complaint_rates(complaints[:2], callback_due + timedelta(seconds=1))
    assert later["complaint_process_satisfaction"].pending == 0 and later["complaint_process_satisfaction"].met is False
    assert kpis.complaint_rates(complaints)["complaint_process_satisfaction"].pending == 0  # no clock: all due
    open_repair = kpis.Repair(now + timedelta(minutes=5), None)
    repairs = kpis.repair_response_rate([open_repair, open_repair], now)
    assert repairs.not_yet_due and repairs.met is None
    met = kpis.Repair(now, now - timedelta(minutes=1))
    missed = kpis.Repair(now - timedelta(minutes=1), None)  # its window has ended unmet
    mixed = kpis.repair_response_rate([met, missed, open_repair], now)
    assert (mixed.numerator, mixed.denominator, mixed.pending, mixed.value) == (1, 3, 1, 0.5)


def test_q_counts_each_repair_by_the_window_the_standard_sets_for_it() -> None:
    """14.4.2 with 10.2.3 and 10.2.4: a leak by its hour to be handled, any other repair by its visit."""
    assert kpis.repair_window(Category.LEAK) == "handle" and kpis.repair_window("leak") == "handle"
    assert {kpis.repair_window(c) for c in Category if c != Category.LEAK} == {"arrival"}
    accepted = datetime(2026, 12, 1, 8, tzinfo=timezone.utc)
    # a leak on site after 80 minutes missed 10.2.3, though someone called back within 30 minutes
    leak = kpis.Repair(accepted + timedelta(hours=1), accepted + timedelta(minutes=80))
    # an appointment kept to the minute is in time however long after acceptance
    booked = kpis.Repair(accepted + timedelta(days=1), accepted + timedelta(days=1))
    q = kpis.repair_response_rate([leak, booked], accepted + timedelta(days=2))
    assert (q.numerator, q.denominator, q.pending) == (1, 2, 0)


def test_a_notice_is_composed_from_fields_and_refuses_links_and_numbers() -> None:
    facts = notices.OutageFacts(
        "pipe_burst", "已定位漏点", ("阳光小区",), "东门", datetime(2026, 12, 11, 12, tzinfo=timezone.utc), False
    )
    text = notices.outage_notice(facts)
    assert text.startswith("【停热通知】因供热管网突发漏水抢修（已定位漏点）") and "12月11日20:00" in text
    for bad in ("详见 http://x.cn", "电话13800138000", "<b>"):
        with pytest.raises(notices.NoticeRefused):
            notices.check_words("cause_note", bad, notices.NOTE_MAX_CHARS)


ENTERED = datetime(2026, 12, 10, 2, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("started", "hours_later", "told"),
    [
        (ENTERED, 24, False),  # exactly a day: not over it
        (ENTERED, 24.1, True),
        (ENTERED - timedelta(days=6), 0.1, False),  # a start typed six days back tells nobody at once
        (ENTERED - timedelta(days=6), 23.9, False),
        (ENTERED - timedelta(days=6), 24.1, True),  # a day on record, still not restored
        (ENTERED + timedelta(hours=5), 24.1, False),  # a later start counts from the start
        (ENTERED + timedelta(hours=5), 29.1, True),
    ],
)
def test_an_unannounced_outage_is_told_after_a_day_the_system_saw_pass(
    started: datetime, hours_later: float, told: bool
) -> None:
    now = ENTERED + timedelta(hours=hours_later)
    assert notices.lasted_a_day_on_record(started, ENTERED, now) is told  # 6.3.1


def test_an_outage_expected_over_a_day_is_announced_on_entry() -> None:
    assert notices.announced_on_entry(ENTERED, ENTERED + timedelta(hours=24, minutes=1))
    assert not notices.announced_on_entry(ENTERED, ENTERED + timedelta(hours=24))


@pytest.mark.parametrize(
    ("value", "masked"),
    [("13800138000", "138****8000"), ("0631-5201234", "063*-***1234"), (None, None)],
)
def test_phone_numbers_are_masked(value: str | None, masked: str | None) -> None:
    assert privacy.mask_phone(value) == masked  # 12.1


def test_addresses_names_and_free_text_are_masked() -> None:
    assert privacy.mask_address("阳光小区3号楼2单元501", "阳光小区", "3") == "阳光小区3号楼****"
    assert privacy.mask_name("张三丰") == "张**"
    assert privacy.mask_text("请拨13800138000") == "请拨138****8000"


def test_days_are_beijing_days_whatever_the_clock() -> None:
    late_utc = datetime(2026, 12, 9, 16, 30, tzinfo=timezone.utc)  # 00:30 on the 10th in Beijing
    assert local_date(late_utc) == date(2026, 12, 10)
    assert end_of_local_day(date(2026, 12, 10)).astimezone(timezone.utc).hour == 15
    with pytest.raises(ValueError):
        aware(datetime(2026, 12, 10, 8, 0))


@pytest.mark.parametrize(
    ("text", "community"),
    [
        ("和平小区停暖了", "和平小区"),
        ("我是阳光小区的，停热了吗", "阳光小区"),
        ("我住在幸福里", "幸福里"),
        ("锦华苑停热了吗", "锦华苑"),
        ("阳光小区3号楼停了", "阳光小区"),
        ("金色家园停暖了", "金色家园"),
        # no community named: the bot asks instead of guessing
        ("我们小区停暖了什么时候恢复", None),
        ("咱小区咋停暖了", None),
        ("这个小区停暖了吗", None),
        ("家里停暖了", None),
        ("暖气片里没水", None),
        ("俺们那里停了", None),
        ("停暖会提前通知吗", None),
        ("老城区停热了", None),
    ],
)
def test_a_community_named_without_a_building_is_found_and_pronouns_are_not_one(
    text: str, community: str | None
) -> None:
    assert find_community(text) == community
