"""Working days by the State Council's holiday schedule, including make-up working weekends (调休).

Years come from three places, in this order:
1. the operator's override file (a year's holidays and make-up working days, for years the
   package does not know yet, or to correct it);
2. the ``chinesecalendar`` package (it knows the years it was released with);
3. otherwise Monday to Friday, and every answer for that year is marked uncertain, so orders
   can carry ``calendar_uncertain`` and the backend can warn. An unknown year never crashes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar


@dataclass(frozen=True)
class YearSchedule:
    """An operator-supplied year: its days off (holidays) and its make-up working days."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()


@dataclass(frozen=True)
class WorkingDay:
    """Whether a day is a working day, and whether that answer rests on a known schedule."""

    working: bool
    certain: bool


def _package_years() -> frozenset[int]:
    return frozenset(day.year for day in chinese_calendar.holidays)


@dataclass(frozen=True)
class WorkingCalendar:
    """Answers "is this a working day" for any date; pure once built."""

    overrides: Mapping[int, YearSchedule] = field(default_factory=dict)
    package_years: frozenset[int] = field(default_factory=_package_years)

    def day(self, day: date) -> WorkingDay:
        """The working-day status of ``day``."""
        override = self.overrides.get(day.year)
        if override is not None:
            if day in override.workdays:
                return WorkingDay(True, True)
            if day in override.holidays:
                return WorkingDay(False, True)
            return WorkingDay(day.weekday() < 5, True)
        if day.year in self.package_years:
            return WorkingDay(bool(chinese_calendar.is_workday(day)), True)
        return WorkingDay(day.weekday() < 5, False)

    def covers(self, year: int) -> bool:
        """True when ``year`` follows a published schedule (override or package)."""
        return year in self.overrides or year in self.package_years

    def add_working_days(self, start: date, days: int) -> tuple[date, bool]:
        """The ``days``-th working day after ``start`` (``start`` itself not counted).

        Returns the date and whether every day counted was certain.
        """
        if days < 0:
            raise ValueError("days must not be negative")
        certain = True
        current = start
        remaining = days
        while remaining:
            current += timedelta(days=1)
            status = self.day(current)
            certain = certain and status.certain
            if status.working:
                remaining -= 1
        return current, certain

    def uncovered_years(self, years: Iterable[int]) -> list[int]:
        """The given years for which only the Monday-to-Friday fallback is available."""
        return sorted({year for year in years if not self.covers(year)})
