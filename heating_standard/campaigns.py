"""The call-back campaign of 10.1.8 and the yearly survey of 14.3.2 e, as rules.

- 10.1.8: "对上一供暖季所有报装企业，安排专人开展回访、建档，确保回访率达 100%；省级以上互联网+及诉求全部开展回访及
  建档；上一年度市级热线等诉求要按比例对用户进行当面或电话回访": every new connection (报装) and every provincial or
  互联网+督查 order of the last heating year is called back; the city hotline's by a share the company sets.
- 14.3.2 e: "供热经营企业每年应组织一次热用户供暖服务质量调查": once a year, every resident who follows the account
  is asked.

Each contact answers 满意, 基本满意 or 不满意; the figures are the share called back and the share satisfied
(满意 and 基本满意) among those who answered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from heating_standard.deadlines import HeatingSeason
from heating_standard.orders import Code, Source


class CampaignKind(Code):
    CALLBACK = "callback"  # 10.1.8
    SURVEY = "survey"  # 14.3.2 e


CLAUSES: dict[CampaignKind, str] = {CampaignKind.CALLBACK: "10.1.8", CampaignKind.SURVEY: "14.3.2 e"}


class Rating(Code):
    SATISFIED = "satisfied"
    BASICALLY = "basically_satisfied"
    UNSATISFIED = "unsatisfied"


# 10.1.8: the sources called back whole (省级以上互联网+及诉求); the city hotline's by the company's share.
ALL_CALLED_BACK = frozenset({Source.PROVINCIAL_HOTLINE, Source.INTERNET_SUPERVISION})
SHARED_CALLED_BACK = frozenset({Source.CITY_HOTLINE})


def last_heating_year(today: date, seasons: Sequence[HeatingSeason]) -> tuple[date, date] | None:
    """10.1.8's "上一供暖季": the heating year (1 July to 1 July) of the last season that has ended."""
    ended = [s for s in seasons if s.end < today]
    if not ended:
        return None
    season = max(ended, key=lambda s: s.end)
    return date(season.start.year, 7, 1), date(season.end.year, 7, 1)


def question(kind: CampaignKind, standard: str, number: str | None = None) -> str:
    """What the resident is asked, with the three answers as numbers."""
    answers = "回复“1”满意，“2”基本满意，“3”不满意。"
    if kind == CampaignKind.CALLBACK:
        return (
            f"【服务回访】您上一供暖季办理的工单 {number or ''} 已办结。依据《{standard}》10.1.8，我们对上一供暖季的"
            f"报装和诉求开展回访，请您对办理情况评价：{answers}"
        )
    return (
        f"【供暖服务质量调查】依据《{standard}》14.3.2，我们每年开展一次热用户供暖服务质量调查。"
        f"请您对本公司的供暖服务评价：{answers}"
    )


@dataclass(frozen=True)
class Figures:
    contacts: int
    answered: int
    satisfied: int
    basically: int
    unsatisfied: int

    @property
    def answered_rate(self) -> float | None:
        """回访率 (10.1.8: 100 %) or the survey's response rate."""
        return self.answered / self.contacts if self.contacts else None

    @property
    def satisfied_rate(self) -> float | None:
        """满意 and 基本满意 among those who answered."""
        return (self.satisfied + self.basically) / self.answered if self.answered else None


def figures(contacts: int, ratings: Iterable[str | None]) -> Figures:
    given = [r for r in ratings if r]
    return Figures(
        contacts=contacts,
        answered=len(given),
        satisfied=given.count(Rating.SATISFIED.value),
        basically=given.count(Rating.BASICALLY.value),
        unsatisfied=given.count(Rating.UNSATISFIED.value),
    )
