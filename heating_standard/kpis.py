"""The service KPIs of 14.4 with the targets of Table 1, and the rates 14.4.6 lets a company publish.

Read exactly (the standard prints 14.4's first and last items as 10.4.1 and 10.4.7):
- S (14.4.1, 3.6): Σ(outage time × outage area) of the company's own accidents over the whole season's
  normal heating time × heated area;
- Q (14.4.2): repairs responded to within the set time over all repairs: a leak handled within 1 hour
  (10.2.3), any other repair reached within 30 minutes or by its appointment (10.2.4);
- C (14.4.3, 3.8): passing households over tested households, every household once by its latest test
  made under 5.1's conditions, whether the sampling plan (5.4) or a request (10.3) brought it;
- P (14.4.4, 3.9): reasonable complaints handled within the set time with a satisfied process, over all
  reasonable complaints T; B (14.4.5, 3.10): reasonable complaints with a satisfied result, over T.
Pure functions over plain records: the backend queries, this module counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from heating_standard.notices import is_company_accident
from heating_standard.orders import Category
from heating_standard.temperature_tests import ROOM_TEMPERATURE_STANDARD

# Each figure's name and how it is counted here, in the words of the monthly report's definitions sheet.
DEFINITIONS: dict[str, tuple[str, str]] = {
    "accident_rate": (
        "运行事故率 S",
        "S = Σ(停热时长 × 停热面积) ÷ (整个采暖季应正常供热时长 × 供热面积)（14.4.1、3.6）；只计供热经营企业"
        "自身事故造成的停热（管网漏水、换热站或热源故障、突发故障抢修；供电、供水中断和外部施工损坏不计）；"
        "分母取统计期所在采暖季的全部时长，分子计至统计期末或当前时刻；供热面积取运营配置。目标 ≤ 2‰。",
    ),
    "repair_response_rate": (
        "供热设施抢修响应率 Q",
        "Q = n ÷ N（14.4.2）；N 为统计期内受理的报修工单数（回退、撤销的除外），n 为其中在规定时间内到场处置的"
        "工单数：跑冒滴漏 1 小时内到场处置（10.2.3），其他报修 30 分钟内到达现场、预约的按约定时间到达（10.2.4）。"
        "时限未到且尚未到场的工单暂不计入（未到期）。目标 100%。",
    ),
    "room_temperature_compliance": (
        "热用户室温合格率 C",
        "C = a ÷ A（14.4.3、3.8）；A 为统计期内测过室温的户数（室温采集计划的入户采集和居民申请的上门测温合并，"
        "按户计，一户只计一次），a 为其中最近一次有效测温 ≥ 18℃（5.1）的户数。实测温度为三次读数的平均值"
        "（5.4.6 d）；不满足 5.1 条件（如室外温度低于供热系统最低设计温度）或未按 5.4.6 方法测量的测温记录为"
        "无效，注明原因，不计入。目标 ≥ 99%。",
    ),
    "complaint_process_satisfaction": (
        "投诉过程满意率 P",
        "P = t ÷ T（14.4.4、3.9）；T 为统计期内受理的合理投诉总次数（未被认定为不合理，回退、撤销的除外），"
        "t 为其中在规定时间内办结（承诺办结时间及热线答复时限内，调整办结时间须在原时间之前）且最近一次回访"
        "对处理过程表示满意的次数。目标 100%。",
    ),
    "complaint_result_satisfaction": (
        "投诉结果满意率 B",
        "B = m ÷ T（14.4.5、3.10）；T 同上，m 为其中最近一次回访对处理结果表示满意的次数。目标 ≥ 90%。",
    ),
    "complaint_on_time_rate": (
        "投诉处理及时率",
        "在规定时间内办结的合理投诉数 ÷ T（14.4.6 可公布的指标）。",
    ),
    "complaint_completion_rate": (
        "投诉办结率",
        "已办结的合理投诉数 ÷ T（14.4.6 可公布的指标）。",
    ),
    "complaint_callback_coverage": (
        "投诉回访率",
        "服务后三日内回访的投诉数 ÷ 已办结的投诉数，按统计期内受理计"
        "（10.1.6：三日内回访，投诉回访率 100%）。目标 100%。",
    ),
}


@dataclass(frozen=True)
class Ratio:
    """numerator / denominator against a target, as the standard counts them (e.g. t and T of 14.4.4).

    ``pending`` of the denominator's items are not yet due: they have not counted in the numerator yet
    and the time set for them has not passed (a complaint whose promise or call-back window is still
    open), so they are neither met nor missed. The figure is taken over the items that are due: ``value``
    is numerator / (denominator − pending), None while nothing is due; ``met`` judges only those."""

    name: str
    clause: str
    numerator: float
    denominator: float
    target: float
    at_most: bool = False  # the target is a ceiling (accident rate), not a floor
    published: bool = False  # 14.4.6: a rate the company may publish, without a target in Table 1
    pending: float = 0

    @property
    def due(self) -> float:
        """The denominator's items that are decided: counted in the numerator, or past their time."""
        return self.denominator - self.pending

    @property
    def not_yet_due(self) -> bool:
        """Something is counted, and none of it is due yet (shown "未到期", neither met nor missed)."""
        return self.denominator > 0 and self.due <= 0

    @property
    def value(self) -> float | None:
        return self.numerator / self.due if self.due > 0 else None

    @property
    def met(self) -> bool | None:
        if self.value is None or self.published:
            return None
        return self.value <= self.target if self.at_most else self.value >= self.target

    @property
    def target_text(self) -> str:
        if self.published:
            return "—"
        if self.at_most:
            return f"≤ {self.target * 1000:g}‰"
        return f"≥ {self.target * 100:g}%" if self.target < 1 else "= 100%"


@dataclass(frozen=True)
class OutageSpan:
    """An outage: when it stopped the heat, when it came back (or now), over how much area, and why."""

    started_at: datetime
    ended_at: datetime
    area_m2: float
    cause_code: str | None = None


def accident_rate(
    outages: Iterable[OutageSpan],
    season_start: datetime,
    season_end: datetime,
    counted_until: datetime,
    heated_area_m2: float,
) -> Ratio:
    """S = Σ(outage time × outage area) / (season time × heated area) ≤ 2‰ (14.4.1): the company's own
    accidents only (3.6), counted from the season's start up to ``counted_until``; the denominator is
    the whole season."""
    end = min(counted_until, season_end)
    total = 0.0
    for outage in outages:
        if not is_company_accident(outage.cause_code):
            continue
        start, stop = max(outage.started_at, season_start), min(outage.ended_at, end)
        if stop > start:
            total += (stop - start).total_seconds() / 3600 * outage.area_m2
    hours = max(0.0, (season_end - season_start).total_seconds() / 3600)
    return Ratio("accident_rate", "14.4.1", total, hours * heated_area_m2, 0.002, at_most=True)


# 14.4.2's "规定时间" for a repair: a leak is handled within 1 hour (10.2.3); any other repair is reached
# within 30 minutes or by the appointment (10.2.4). The name of the order's deadline that holds it.
LEAK_WINDOW, VISIT_WINDOW = "handle", "arrival"


def repair_window(category: Category | str) -> str:
    """The deadline that decides whether a repair of ``category`` counts in Q's n (14.4.2)."""
    return LEAK_WINDOW if category == Category.LEAK else VISIT_WINDOW


@dataclass(frozen=True)
class Repair:
    """What Q needs of one repair accepted in the period (not returned or cancelled): its window's due time
    (``repair_window``) and when the window was met (staff on site), if it was."""

    due_at: datetime | None
    met_at: datetime | None


def repair_response_rate(repairs: Iterable[Repair], now: datetime | None = None) -> Ratio:
    """Q = n / N = 100 % (14.4.2): n repairs met within their window. A repair not met whose window is still
    open at ``now`` is not yet due (neither in time nor late); one met after its window is late. A repair
    without a window (none applies) counts once it is met."""
    items = list(repairs)
    in_time = sum(1 for r in items if r.met_at is not None and (r.due_at is None or r.met_at <= r.due_at))
    waiting = sum(1 for r in items if r.met_at is None and (r.due_at is None or now is not None and r.due_at >= now))
    return Ratio("repair_response_rate", "14.4.2", in_time, len(items), 1.0, pending=waiting)


@dataclass(frozen=True)
class TemperatureTest:
    """One room-temperature test: the household, when, the measured temperature, and why it does not count
    (``heating_standard.temperature_tests.Exclusion``: outside 5.1's conditions or 5.4.6's method), if so."""

    household: str
    tested_at: datetime
    temperature: float
    excluded: str | None = None


def room_temperature_compliance(tests: Iterable[TemperatureTest]) -> Ratio:
    """C = a / A ≥ 99 % (14.4.3, 3.8): every household tested in the period, however the test came (the
    sampling plan's or the resident's request), once, by its latest test made under 5.1's conditions; a
    test recorded as outside them is left out. 18.0 °C passes (5.1)."""
    latest: dict[str, TemperatureTest] = {}
    for test in tests:
        if test.excluded is not None:
            continue
        known = latest.get(test.household)
        if known is None or test.tested_at >= known.tested_at:
            latest[test.household] = test
    passing = sum(1 for t in latest.values() if t.temperature >= ROOM_TEMPERATURE_STANDARD)
    return Ratio("room_temperature_compliance", "14.4.3", passing, len(latest), 0.99)


@dataclass(frozen=True)
class Complaint:
    """What the complaint KPIs need of one complaint accepted in the period."""

    reasonable: bool = True
    withdrawn: bool = False  # returned (not the company's, 10.1.3) or cancelled
    completed_at: datetime | None = None
    completion_due_at: datetime | None = None  # the promise (10.1.4 办结条)
    reply_due_at: datetime | None = None  # a hotline's reply window (10.1.4)
    rescheduled_late: bool = False  # the promise was moved only after it had passed
    process_satisfied: bool | None = None  # at the latest call-back
    result_satisfied: bool | None = None
    first_callback_at: datetime | None = None
    first_callback_due_at: datetime | None = None

    @property
    def counted(self) -> bool:
        """In T: a reasonable complaint the company kept (14.4.4 合理投诉)."""
        return self.reasonable and not self.withdrawn

    @property
    def in_time(self) -> bool:
        """Finished within the set time: by the promise and the hotline's reply window; a promise moved
        after it had passed does not make a late order timely."""
        if self.completed_at is None or self.rescheduled_late:
            return False
        return all(due is None or self.completed_at <= due for due in (self.completion_due_at, self.reply_due_at))

    def completion_open(self, now: datetime | None) -> bool:
        """Not finished, and no time set for finishing it has passed yet (10.1.4): it may still be
        finished by them. ``now`` None: every window has passed."""
        if now is None or self.completed_at is not None:
            return False
        return all(due is None or now <= due for due in (self.completion_due_at, self.reply_due_at))

    def callback_open(self, now: datetime | None) -> bool:
        """Finished, not called back yet, and the call-back's three days (10.1.6) have not passed."""
        if now is None or self.completed_at is None or self.first_callback_at is not None:
            return False
        return self.first_callback_due_at is None or now <= self.first_callback_due_at


def complaint_rates(complaints: Iterable[Complaint], now: datetime | None = None) -> dict[str, Ratio]:
    """P and B (14.4.4, 14.4.5) over T, the on-time and completion rates of 14.4.6, and the call-back
    coverage of 10.1.6.

    At ``now``, a complaint that has not counted yet is pending while its time is still running: P's
    (finished within the set time, 14.4.4, then called back) while it may still be finished in time, or
    was and its call-back's three days (10.1.6) are not over; B's (a satisfied result, 14.4.5) likewise,
    on time or not. Only a complaint whose time has passed counts as missed. ``now`` None: every time
    has passed (the figures as the standard defines them, nothing pending)."""
    every = list(complaints)
    kept = [c for c in every if c.counted]
    completed = [c for c in every if c.completed_at is not None and not c.withdrawn]

    def may_be_in_time(c: Complaint) -> bool:
        # a promise moved only after it had passed never makes the order timely again
        return c.completion_open(now) and not c.rescheduled_late

    rates = (
        _share(
            "complaint_process_satisfaction",
            "14.4.4",
            1.0,
            kept,
            counts=lambda c: c.in_time and c.process_satisfied is True,
            running=lambda c: may_be_in_time(c) or (c.in_time and c.callback_open(now)),
        ),
        _share(
            "complaint_result_satisfaction",
            "14.4.5",
            0.9,
            kept,
            counts=lambda c: c.result_satisfied is True,
            running=lambda c: c.completion_open(now) or c.callback_open(now),
        ),
        _share(
            "complaint_callback_coverage",
            "10.1.6",
            1.0,
            completed,
            counts=_called_back_in_time,
            running=lambda c: c.callback_open(now),
        ),
        _share("complaint_on_time_rate", "14.4.6", 1.0, kept, lambda c: c.in_time, may_be_in_time, published=True),
        _share(
            "complaint_completion_rate",
            "14.4.6",
            1.0,
            kept,
            counts=lambda c: c.completed_at is not None,
            running=lambda c: c.completion_open(now),
            published=True,
        ),
    )
    return {rate.name: rate for rate in rates}


def _called_back_in_time(c: Complaint) -> bool:
    """Called back within its three days (10.1.6)."""
    return c.first_callback_at is not None and (
        c.first_callback_due_at is None or c.first_callback_at <= c.first_callback_due_at
    )


def _share(
    name: str,
    clause: str,
    target: float,
    complaints: list[Complaint],
    counts: Callable[[Complaint], bool],
    running: Callable[[Complaint], bool],
    published: bool = False,
) -> Ratio:
    """The complaints that count over all of them; pending, those that have not counted yet while their
    time is still ``running``."""
    met = sum(1 for c in complaints if counts(c))
    pending = sum(1 for c in complaints if not counts(c) and running(c))
    return Ratio(name, clause, met, len(complaints), target, published=published, pending=pending)
