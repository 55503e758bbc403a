"""Beijing time: every deadline is counted, and every time is shown, in Asia/Shanghai whatever the
server's ``TZ`` (the standard's "day" and "working day" are local days)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
END_OF_DAY = time(23, 59, 59)


def aware(moment: datetime, name: str = "moment") -> datetime:
    """``moment`` itself; a time without a zone is refused rather than guessed."""
    if moment.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment


def local_date(moment: datetime) -> date:
    """The calendar date of ``moment`` in Asia/Shanghai."""
    return aware(moment).astimezone(LOCAL_TZ).date()


def end_of_local_day(day: date) -> datetime:
    """23:59:59 Asia/Shanghai on ``day``."""
    return datetime.combine(day, END_OF_DAY, tzinfo=LOCAL_TZ)
