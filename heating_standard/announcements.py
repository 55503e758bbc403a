"""Announcements the standard requires to every resident, composed from the operator's facts (never typed
free-hand) and checked against the clause's timing.

- 5.2.5: the commissioning (供暖调试) and the start of heating are announced; 6.1.1: filling and commissioning
  are finished seven to ten days before the season, and announced in advance.
- 9.2.1: a change of the approved price is told to the residents in time.

They go to every follower by the platform's mass-send, four a natural month (``policies.wechat``); the
backend schedules, a supervisor approves (``api/services/announcements.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from heating_standard.deadlines import HeatingSeason
from heating_standard.localtime import local_date
from heating_standard.orders import Code

# 6.1.1: filling and commissioning are finished this many days before the season, at least and at most.
COMMISSIONING_DONE_DAYS = (7, 10)


class AnnouncementKind(Code):
    COMMISSIONING = "commissioning"  # 5.2.5, 6.1.1
    HEATING_START = "heating_start"  # 5.2.5
    PRICE_CHANGE = "price_change"  # 9.2.1


CLAUSES: dict[AnnouncementKind, str] = {
    AnnouncementKind.COMMISSIONING: "5.2.5、6.1.1",
    AnnouncementKind.HEATING_START: "5.2.1、5.2.5",
    AnnouncementKind.PRICE_CHANGE: "9.2.1",
}


class AnnouncementRefused(ValueError):
    """The announcement would break its clause; ``field`` names what to correct."""

    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Facts:
    """What an announcement is made of: the season (the operator's dates), the commissioning days the
    supervisor sets, the new price's first day and its words (the operator's fee standard)."""

    season: HeatingSeason | None = None
    commissioning_from: date | None = None
    commissioning_to: date | None = None
    price_from: date | None = None
    fee_standard: str = ""


def _day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def compose(kind: AnnouncementKind, facts: Facts, standard: str, send_at: datetime) -> str:
    """The announcement's text; AnnouncementRefused when a fact is missing or its timing breaks the clause
    (it must go out before what it announces)."""
    sent_on = local_date(send_at)
    if kind == AnnouncementKind.PRICE_CHANGE:
        return _price_change(facts, standard, sent_on)
    season = facts.season
    if season is None:
        raise AnnouncementRefused("season", "运营配置中没有这个采暖期的起止日期（5.2.1）")
    period = f"本采暖期供热时间为{_day(season.start)}至{_day(season.end)}"
    if kind == AnnouncementKind.HEATING_START:
        if sent_on >= season.start:
            raise AnnouncementRefused("scheduled_at", "正式供暖的公告须在供暖开始前发出（5.2.5）")
        return (
            f"【供热公告】依据市、县人民政府确定的供热起止时间，{period}，{_day(season.start)}起正式供暖"
            f"（《{standard}》5.2.1、5.2.5）。室内温度不达标、暖气漏水等问题，可随时在本公众号报修或投诉。"
        )
    begin, end = facts.commissioning_from, facts.commissioning_to
    if begin is None or end is None or end < begin:
        raise AnnouncementRefused("commissioning_to", "请填写注水调试的起止日期")
    least, most = COMMISSIONING_DONE_DAYS
    if not least <= (season.start - end).days <= most:
        raise AnnouncementRefused("commissioning_to", f"注水调试须在供热期前{least}至{most}天完成（6.1.1）")
    if sent_on >= begin:
        raise AnnouncementRefused("scheduled_at", "注水调试的公告须在调试开始前发出（6.1.1：提前进行公告）")
    return (
        f"【供热公告】{period}。供热系统将于{_day(begin)}至{_day(end)}注水、调试（《{standard}》5.2.5、6.1.1），"
        "请检查家中暖气阀门、管道和散热器，发现跑冒滴漏请关闭阀门并在本公众号报修。"
    )


def _price_change(facts: Facts, standard: str, sent_on: date) -> str:
    if facts.price_from is None:
        raise AnnouncementRefused("price_from", "请填写新价格的执行日期")
    if sent_on >= facts.price_from:
        raise AnnouncementRefused("scheduled_at", "价格调整须在执行前告知热用户（9.2.1）")
    fee = facts.fee_standard.strip()
    if not fee:
        raise AnnouncementRefused("fee_standard", "运营配置中没有核准的收费标准（service.fee_standard）")
    return (
        f"【热价调整公告】经物价部门核准，自{_day(facts.price_from)}起执行新的供热收费标准：{fee}"
        f"（《{standard}》9.2.1）。"
    )
