"""Plain Chinese wording of times and durations for residents."""

from __future__ import annotations

from datetime import datetime, timedelta

from heating_standard.localtime import LOCAL_TZ


def duration_zh(span: timedelta) -> str:
    """90 minutes -> "1小时30分钟"; 30 minutes -> "30分钟"; 24 hours -> "24小时"."""
    minutes = max(0, round(span.total_seconds() / 60))
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours}小时{rest}分钟"
    if hours:
        return f"{hours}小时"
    return f"{rest}分钟"


def local_text(moment: datetime) -> str:
    """A time as residents read it, in Beijing time whatever the server's zone: "12月10日18:00"."""
    return f"{moment.astimezone(LOCAL_TZ):%m月%d日%H:%M}"
