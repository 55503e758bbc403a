"""Operator configuration: season dates, working-day overrides and escalation settings.

Facts that vary by company or year live in a YAML file (``config/operator.yml``, or the file
named by ``OPERATOR_CONFIG``); the repository ships ``config/operator.sample.yml`` with sample
values. The file is validated at start-up: a wrong file stops the backend with a clear message.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from heating_standard.calendar import WorkingCalendar, YearSchedule
from heating_standard.deadlines import HeatingSeason

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
SAMPLE_PATH = CONFIG_DIR / "operator.sample.yml"
LOCAL_PATH = CONFIG_DIR / "operator.yml"


class OperatorConfigError(RuntimeError):
    """The operator configuration file is missing or invalid."""


class SeasonConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> SeasonConfig:
        if self.end <= self.start:
            raise ValueError(f"season ends ({self.end}) before it starts ({self.start})")
        return self


class YearConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    holidays: list[date] = Field(default_factory=list)
    workdays: list[date] = Field(default_factory=list)


class EscalationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reminder_share: float = Field(default=0.8, gt=0, lt=1)


class BusinessConfig(BaseModel):
    """Promises the company makes for business requests (9.1.2 leaves them to the company)."""

    model_config = ConfigDict(extra="forbid")
    decision_days: int = Field(default=1, ge=0, le=30)


class CompanyConfig(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = ""
    standard: str = ""
    # Total heated area, the denominator of the accident rate (14.4.1).
    heated_area_m2: float | None = Field(default=None, gt=0)


class OperatorConfig(BaseModel):
    """The validated operator file."""

    model_config = ConfigDict(extra="allow")

    company: CompanyConfig = Field(default_factory=CompanyConfig)
    heating_seasons: list[SeasonConfig] = Field(default_factory=list)
    calendar_overrides: dict[int, YearConfig] = Field(default_factory=dict)
    escalation: EscalationConfig = Field(default_factory=EscalationConfig)
    business: BusinessConfig = Field(default_factory=BusinessConfig)
    source: str = ""
    is_sample: bool = False

    @model_validator(mode="after")
    def _override_years_match(self) -> OperatorConfig:
        for year, schedule in self.calendar_overrides.items():
            stray = [d for d in schedule.holidays + schedule.workdays if d.year != year]
            if stray:
                raise ValueError(f"calendar_overrides.{year} lists dates of another year: {stray[:3]}")
        return self

    def seasons(self) -> list[HeatingSeason]:
        return [HeatingSeason(s.start, s.end) for s in self.heating_seasons]

    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar(
            overrides={
                year: YearSchedule(holidays=frozenset(y.holidays), workdays=frozenset(y.workdays))
                for year, y in self.calendar_overrides.items()
            }
        )


def resolve_path(configured: str | None) -> Path:
    """OPERATOR_CONFIG if set, else config/operator.yml if present, else the shipped sample."""
    if configured:
        return Path(configured)
    return LOCAL_PATH if LOCAL_PATH.exists() else SAMPLE_PATH


def load_operator_config(path: Path) -> OperatorConfig:
    """Read and validate the operator file at ``path``."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise OperatorConfigError(f"cannot read the operator configuration {path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise OperatorConfigError(f"the operator configuration {path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise OperatorConfigError(f"the operator configuration {path} must be a mapping")
    try:
        return OperatorConfig.model_validate(
            {**raw, "source": str(path), "is_sample": path.resolve() == SAMPLE_PATH.resolve()}
        )
    except ValidationError as exc:
        raise OperatorConfigError(f"the operator configuration {path} is invalid:\n{exc}") from None
