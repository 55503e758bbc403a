"""What operators must act on: years the working-day calendar lacks, orders whose deadlines were counted
without them, the shipped sample configuration, and the scheduler's last run. The start-up log and
``GET /api/v1/status`` say the same (``calendar_warning``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import WorkOrder
from heating_standard.localtime import local_date
from heating_standard.operator import OperatorFile

# At most this many orders counted on an uncertain calendar are named.
UNCERTAIN_SHOWN = 20


def uncovered_years(config: OperatorFile, today: date) -> list[int]:
    """This year and the next, where the working-day calendar does not know them."""
    return list(config.calendar().uncovered_years([today.year, today.year + 1]))


def calendar_warning(config: OperatorFile, missing: list[int]) -> str | None:
    """The warning for the years the calendar lacks, or None."""
    if not missing:
        return None
    return (
        f"working-day calendar lacks {', '.join(map(str, missing))}: add the State Council schedule to "
        f"calendar_overrides in {config.source}; until then Monday-Friday is counted"
    )


def backend_status(
    session: Session, config: OperatorFile, now: datetime, scheduler_enabled: bool, scheduler: dict[str, Any]
) -> dict[str, Any]:
    """The status answer: warnings, the calendar's gaps and the orders they touch, the operator file, the
    scheduler's last run."""
    missing = uncovered_years(config, local_date(now))
    uncertain_orders = session.scalars(
        select(WorkOrder.number)
        .where(WorkOrder.calendar_uncertain.is_(True), WorkOrder.next_due_at.is_not(None))
        .limit(UNCERTAIN_SHOWN)
    ).all()
    warnings = [w for w in (calendar_warning(config, missing),) if w]
    if config.is_sample:
        warnings.append(f"the operator configuration is the shipped sample ({config.source}); confirm its values")
    return {
        "status": "warning" if warnings else "ok",
        "warnings": warnings,
        "calendar": {"uncovered_years": missing, "uncertain_orders": list(uncertain_orders)},
        "operator_config": {"source": config.source, "sample": config.is_sample},
        "scheduler": {
            "enabled": scheduler_enabled,
            "last_run_at": scheduler.get("last_run_at"),
            "last_error": scheduler.get("last_error"),
        },
        "now": now.isoformat(),
    }
