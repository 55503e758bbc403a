"""Damage claims (13.3–13.8) and the refunds of a heating season (10.3 第4条, printed 10.4), as rules.

- 13.3: after a loss the insurer (where the company is insured, 13.1 "宜") comes at once and counts the loss
  with the resident; photos are kept.
- 13.4: an injury: emergency services at once (the record says so).
- 13.5: what the company pays is paid within 30 working days of the agreement on the sum.
- 13.6: what the company does not answer for (a–d), told to the resident with the reason.
- 13.8: the loss adjuster's sum is told to the resident as soon as it arrives.
- 10.3 第4条 (printed 10.4): a refund due after the season is made by 30 June of the year the season ends,
  or, with the resident's consent, set against the next season's payment.
"""

from __future__ import annotations

from datetime import date, datetime

from heating_standard.calendar import WorkingCalendar
from heating_standard.deadlines import working_days_after
from heating_standard.localtime import end_of_local_day
from heating_standard.orders import Code

PAYMENT_WORKING_DAYS = 30  # 13.5


class Exclusion(Code):
    """13.6: the losses the company does not answer for."""

    RESIDENT_FACILITIES = "resident_facilities"  # a) the resident's own heating facilities
    ALTERED_BY_RESIDENT = "altered_by_resident"  # b) facilities the resident altered
    DEVELOPER_WARRANTY = "developer_warranty"  # c) within the developer's maintenance period
    INDIRECT_LOSS = "indirect_loss"  # d) indirect losses


EXCLUSION_CLAUSES: dict[Exclusion, str] = {
    Exclusion.RESIDENT_FACILITIES: "13.6 a",
    Exclusion.ALTERED_BY_RESIDENT: "13.6 b",
    Exclusion.DEVELOPER_WARRANTY: "13.6 c",
    Exclusion.INDIRECT_LOSS: "13.6 d",
}


def payment_due(agreed_at: datetime, calendar: WorkingCalendar) -> tuple[datetime, bool]:
    """13.5: the end of the 30th working day after the agreement on the sum; and whether the calendar was
    sure of every day counted."""
    return working_days_after(agreed_at, PAYMENT_WORKING_DAYS, calendar)


def refund_due(season_end: date) -> datetime:
    """10.3 第4条: 23:59:59 Beijing time on 30 June of the year the heating season ends."""
    return end_of_local_day(date(season_end.year, 6, 30))
