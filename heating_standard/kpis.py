"""The service KPIs of 14.4 with the targets of Table 1."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

# 5.1: a room passes at 18.0 °C or more.
ROOM_TEMPERATURE_STANDARD = 18.0

# Each figure's name and how it is counted here, in the words of the monthly report's definitions sheet.
DEFINITIONS: dict[str, tuple[str, str]] = {
    "accident_rate": (
        "事故率 S",
        "S = Σ(停热时长 × 停热面积) ÷ (统计期时长 × 供热面积)；停热事件取与统计期重叠的部分，"
        "未恢复的计至统计期末或当前时刻；供热面积取运营配置。目标 ≤ 2‰。",
    ),
    "repair_response_rate": (
        "报修响应率 Q",
        "Q = n ÷ N；N 为统计期内受理的报修工单数，n 为其中在响应时限（10.1.4）内响应的工单数。目标 100%。",
    ),
    "room_temperature_compliance": (
        "室温合格率 C",
        "C = a ÷ A；A 为统计期内受理并记录了实测室温的测温工单数，a 为其中实测室温 ≥ 18℃（5.1）的工单数。目标 ≥ 99%。",
    ),
    "complaint_process_satisfaction": (
        "投诉处理过程满意率 P",
        "P = t ÷ T；T 为统计期内受理并已回访的投诉工单数，t 为其中回访时对处理过程表示满意的工单数。目标 100%。",
    ),
    "complaint_result_satisfaction": (
        "投诉处理结果满意率 B",
        "B = m ÷ T；T 同上，m 为其中回访时对处理结果表示满意的工单数。目标 ≥ 90%。",
    ),
    "complaint_callback_coverage": (
        "投诉回访率",
        "已回访的投诉工单数 ÷ 已办结（未撤销）的投诉工单数，均按统计期内受理计（10.1.6 要求全部回访）。目标 100%。",
    ),
}


@dataclass(frozen=True)
class Ratio:
    """numerator / denominator against a target; ``value`` is None without a denominator."""

    name: str
    clause: str
    numerator: float
    denominator: float
    target: float
    at_most: bool = False  # the target is a ceiling (accident rate), not a floor

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value <= self.target if self.at_most else self.value >= self.target

    @property
    def target_text(self) -> str:
        if self.at_most:
            return f"≤ {self.target * 1000:g}‰"
        return f"≥ {self.target * 100:g}%" if self.target < 1 else "= 100%"


@dataclass(frozen=True)
class OutageSpan:
    """An outage's effect inside the period: how long and over how much heated area."""

    started_at: datetime
    ended_at: datetime
    area_m2: float


def accident_rate(
    outages: Iterable[OutageSpan], period_start: datetime, period_end: datetime, heated_area_m2: float
) -> Ratio:
    """S = Σ(outage time × outage area) / (period time × heated area) ≤ 2‰ (14.4.1)."""
    total = 0.0
    for outage in outages:
        start = max(outage.started_at, period_start)
        end = min(outage.ended_at, period_end)
        if end > start:
            total += (end - start).total_seconds() / 3600 * outage.area_m2
    hours = max(0.0, (period_end - period_start).total_seconds() / 3600)
    return Ratio("accident_rate", "14.4.1", total, hours * heated_area_m2, 0.002, at_most=True)


def repair_response_rate(responded_in_time: int, repairs: int) -> Ratio:
    """Q = n / N = 100 % (14.4.2): repairs responded to within their window."""
    return Ratio("repair_response_rate", "14.4.2", responded_in_time, repairs, 1.0)


def room_temperature_compliance(readings: Iterable[float]) -> Ratio:
    """C = a / A ≥ 99 % (14.4.3): tested rooms at 18.0 °C or more."""
    values = list(readings)
    passing = sum(1 for v in values if v >= ROOM_TEMPERATURE_STANDARD)
    return Ratio("room_temperature_compliance", "14.4.3", passing, len(values), 0.99)


def complaint_process_satisfaction(satisfied: int, called_back: int) -> Ratio:
    """P = t / T = 100 % (14.4.4)."""
    return Ratio("complaint_process_satisfaction", "14.4.4", satisfied, called_back, 1.0)


def complaint_result_satisfaction(satisfied: int, called_back: int) -> Ratio:
    """B = m / T ≥ 90 % (14.4.5)."""
    return Ratio("complaint_result_satisfaction", "14.4.5", satisfied, called_back, 0.9)


def callback_coverage(called_back: int, completed: int) -> Ratio:
    """10.1.6: every complaint is called back."""
    return Ratio("complaint_callback_coverage", "10.1.6", called_back, completed, 1.0)
