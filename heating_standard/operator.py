"""The operator file: the facts that vary by company or year (season dates, the calendar's corrections,
the company's promises, what the bot tells residents), read the same way by both environments.

``parse`` takes the file's YAML text and answers a validated ``OperatorFile``, or raises
``OperatorFileError`` naming the field. Reading the file is the caller's (``api/operator_config.py``,
``bot/operator.py``): this package does no I/O. ``choose`` says which file applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml

from heating_standard.calendar import WorkingCalendar, YearSchedule
from heating_standard.deadlines import DEFAULT, HeatingSeason, Promises
from heating_standard.orders import BusinessType, Category, Kind

SAMPLE_NAME = "operator.sample.yml"
LOCAL_NAME = "operator.yml"


class OperatorFileError(ValueError):
    """The operator file is unreadable or breaks a rule; the message names the field."""


@dataclass(frozen=True)
class Company:
    name: str = ""
    standard: str = ""
    heated_area_m2: float | None = None  # the denominator of the accident rate (14.4.1)
    # 5.4.2: the company's number of heat users (households it supplies), the base of the sampling share
    users: int | None = None
    # 13.1 recommends (宜) public liability insurance and 13.2 leaves the policy to the company: True when the
    # company holds it, False when it does not, None when the file does not say (then no insurer is named).
    liability_insurance: bool | None = None


@dataclass(frozen=True)
class Callbacks:
    # 10.1.8: the share of last year's city-hotline orders called back ("按比例"); None: the company has not
    # set it, and none is drawn
    city_hotline_share: float | None = None


@dataclass(frozen=True)
class Escalation:
    reminder_share: float = 0.8  # reminders at this share of each window


@dataclass(frozen=True)
class Privacy:
    # 12.1: days a finished order keeps the resident's personal data; None keeps it (set it before going live)
    retention_days: int | None = None


@dataclass(frozen=True)
class OperatorFile:
    """The validated operator file."""

    source: str
    is_sample: bool
    company: Company = field(default_factory=Company)
    heating_seasons: tuple[HeatingSeason, ...] = ()
    calendar_overrides: Mapping[int, YearSchedule] = field(default_factory=dict)
    escalation: Escalation = field(default_factory=Escalation)
    promises: Promises = field(default_factory=Promises)
    privacy: Privacy = field(default_factory=Privacy)
    callbacks: Callbacks = field(default_factory=Callbacks)
    # What the bot tells residents (hotline, halls, prices ...), as written in the file.
    service: Mapping[str, Any] = field(default_factory=dict)

    def seasons(self) -> list[HeatingSeason]:
        return list(self.heating_seasons)

    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar(overrides=dict(self.calendar_overrides))


def choose(configured: str | None, local_exists: bool) -> str:
    """Which file applies: OPERATOR_CONFIG if set, else config/operator.yml if present, else the shipped
    sample. Answers the configured path, or the name within config/."""
    if configured:
        return configured
    return LOCAL_NAME if local_exists else SAMPLE_NAME


def parse(text: str, source: str, is_sample: bool) -> OperatorFile:
    """The file's YAML text, validated."""
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise OperatorFileError(f"{source} is not valid YAML: {exc}") from None
    if not isinstance(raw, Mapping):
        raise OperatorFileError(f"{source} must be a mapping")
    company = _mapping(raw, "company")
    area = company.get("heated_area_m2")
    if area is not None and (not isinstance(area, (int, float)) or isinstance(area, bool) or area <= 0):
        raise OperatorFileError(f"{source}: company.heated_area_m2 must be a positive number")
    users = company.get("users")
    if users is not None:
        users = _whole(users, "company.users", 1, 100_000_000, source)
    insured = company.get("liability_insurance")
    if insured is not None and not isinstance(insured, bool):
        raise OperatorFileError(f"{source}: company.liability_insurance must be true or false (or left out)")
    escalation = _mapping(raw, "escalation")
    share = escalation.get("reminder_share", 0.8)
    if not isinstance(share, (int, float)) or isinstance(share, bool) or not 0 < share < 1:
        raise OperatorFileError(f"{source}: escalation.reminder_share must lie between 0 and 1")
    promises = _promises(_mapping(raw, "promises"), source)
    retention = _mapping(raw, "privacy").get("retention_days")
    if retention is not None:
        retention = _whole(retention, "privacy.retention_days", 30, 36500, source)
    return OperatorFile(
        source=source,
        is_sample=is_sample,
        company=Company(
            name=str(company.get("name") or ""),
            standard=str(company.get("standard") or ""),
            heated_area_m2=area,
            users=users,
            liability_insurance=insured,
        ),
        heating_seasons=tuple(_seasons(raw.get("heating_seasons"), source)),
        calendar_overrides=_overrides(raw.get("calendar_overrides"), source),
        escalation=Escalation(float(share)),
        promises=promises,
        privacy=Privacy(retention),
        callbacks=Callbacks(_share(_mapping(raw, "callbacks").get("city_hotline_share"), source)),
        service=_mapping(raw, "service"),
    )


def _share(value: Any, source: str) -> float | None:
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value <= 1:
        raise OperatorFileError(f"{source}: callbacks.city_hotline_share must lie above 0 and at most 1")
    return float(value)


def _whole(value: Any, name: str, low: int, high: int, source: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise OperatorFileError(f"{source}: {name} must be a whole number from {low} to {high}")
    return value


def _promises(raw: Mapping[str, Any], source: str) -> Promises:
    """The company's promised times: completion by kind and category (10.1.4 办结条), business requests
    (9.1.2; a new connection's days are the standard's, 9.1.4) and repeat-complaint follow-ups (10.1.7)."""
    hours: dict[str, dict[str, float]] = {}
    found = raw.get("completion_hours") or {}
    if not isinstance(found, Mapping):
        raise OperatorFileError(f"{source}: promises.completion_hours must map kinds to hours")
    kinds = {k.value for k in (Kind.COMPLAINT, Kind.REPAIR, Kind.TEMPERATURE_TEST)}
    categories = {c.value for c in Category} | {DEFAULT}
    for kind, by_category in found.items():
        if kind not in kinds or not isinstance(by_category, Mapping):
            raise OperatorFileError(
                f"{source}: promises.completion_hours.{kind}: one of {', '.join(sorted(kinds))}, "
                "mapping categories to hours"
            )
        for category, value in by_category.items():
            name = f"promises.completion_hours.{kind}.{category}"
            if category not in categories:
                raise OperatorFileError(f"{source}: {name}: not a category ({', '.join(sorted(categories))})")
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value <= 24 * 60:
                raise OperatorFileError(f"{source}: {name} must be hours, more than 0 and at most 1440")
            hours.setdefault(kind, {})[category] = float(value)
    business = raw.get("business_completion_days") or {}
    types = {t.value for t in BusinessType if t != BusinessType.APPLY_CONNECTION} | {DEFAULT}
    if not isinstance(business, Mapping) or not set(business) <= types:
        raise OperatorFileError(
            f"{source}: promises.business_completion_days maps {', '.join(sorted(types))} to days "
            "(a new connection's days are set by 9.1.4)"
        )
    days = {key: _whole(v, f"promises.business_completion_days.{key}", 1, 90, source) for key, v in business.items()}
    return Promises(
        completion_hours=hours,
        business_days=days,
        decision_days=_whole(raw.get("business_decision_days", 1), "promises.business_decision_days", 0, 30, source),
        repeat_followup_days=_whole(
            raw.get("repeat_complaint_followup_days", 7), "promises.repeat_complaint_followup_days", 1, 60, source
        ),
    )


def _mapping(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    found = raw.get(key) or {}
    if not isinstance(found, Mapping):
        raise OperatorFileError(f"{key} must be a mapping")
    return found


def _seasons(found: Any, source: str) -> list[HeatingSeason]:
    seasons = []
    for n, item in enumerate(found or []):
        start, end = (item.get("start"), item.get("end")) if isinstance(item, Mapping) else (None, None)
        if not isinstance(start, date) or not isinstance(end, date):
            raise OperatorFileError(f"{source}: heating_seasons[{n}] needs start and end dates (YYYY-MM-DD)")
        if end <= start:
            raise OperatorFileError(f"{source}: heating_seasons[{n}] ends ({end}) before it starts ({start})")
        seasons.append(HeatingSeason(start, end))
    return seasons


def _overrides(found: Any, source: str) -> dict[int, YearSchedule]:
    if found is None:
        return {}
    if not isinstance(found, Mapping):
        raise OperatorFileError(f"{source}: calendar_overrides must be a mapping of years")
    overrides = {}
    for year, schedule in found.items():
        if not isinstance(year, int) or not isinstance(schedule, Mapping):
            raise OperatorFileError(f"{source}: calendar_overrides.{year} must list holidays and workdays")
        days = {}
        for key in ("holidays", "workdays"):
            listed = schedule.get(key) or []
            if not all(isinstance(d, date) for d in listed):
                raise OperatorFileError(f"{source}: calendar_overrides.{year}.{key} must be dates (YYYY-MM-DD)")
            stray = [d for d in listed if d.year != year]
            if stray:
                raise OperatorFileError(f"{source}: calendar_overrides.{year} lists dates of another year: {stray[:3]}")
            days[key] = frozenset(listed)
        overrides[year] = YearSchedule(holidays=days["holidays"], workdays=days["workdays"])
    return overrides
