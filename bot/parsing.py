"""What residents type, turned into values: phone numbers, temperatures, appointment times, addresses.

Chinese numerals go through cn2an and times through jionlp (both offline); addresses use the same
pure parser as the backend (``api.domain.addresses``), so the bot and the backend split an address
the same way.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from api.domain.addresses import ParsedAddress, parse_address, to_digits

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[- ]?(\d{7,8})(?!\d)")
_TEMPERATURE = re.compile(r"(-?\d{1,2}(?:\.\d)?)\s*(?:℃|°C|°|摄氏度|度)")


def parse_phone(text: str) -> str | None:
    """A mobile number (11 digits) or a landline with its area code, normalised; else None."""
    mobile = _MOBILE.search(text)
    if mobile:
        return "".join(mobile.groups())
    landline = _LANDLINE.search(text)
    if landline:
        return f"{landline.group(1)}-{landline.group(2)}"
    return None


def parse_temperature(text: str) -> float | None:
    """ "十五度", "15℃", "15.5 度", "零下三度" -> a number of degrees Celsius; else None."""
    normalized = to_digits(text.replace("零下", "-"))
    match = _TEMPERATURE.search(normalized)
    return float(match.group(1)) if match else None


def parse_appointment(text: str, now: datetime) -> tuple[datetime, datetime] | None:
    """The time window a resident names ("明天上午", "今晚八点"), as aware datetimes; else None."""
    import jionlp  # heavy; loaded on first use, not at import

    base = now.astimezone(LOCAL_TZ)
    try:
        parsed = jionlp.parse_time(text, time_base=base.timestamp())
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    if not parsed or parsed.get("type") not in ("time_point", "time_span"):
        return None
    times = parsed.get("time")
    if not isinstance(times, list) or len(times) != 2:
        return None
    start, end = (datetime.strptime(t, "%Y-%m-%d %H:%M:%S").replace(tzinfo=LOCAL_TZ) for t in times)
    return start, end


def appointment_problem(window: tuple[datetime, datetime] | None, now: datetime, max_days: int = 7) -> str | None:
    """Why a window cannot be an appointment (None when it can): it must be ahead and within 7 days."""
    if window is None:
        return "unparsed"
    start, end = window
    if end <= now:
        return "past"
    if start > now + timedelta(days=max_days):
        return "too_far"
    return None


def appointment_start(window: tuple[datetime, datetime], now: datetime) -> datetime:
    """When to come: the window's start, or in 30 minutes when the window has begun already."""
    start, _ = window
    return max(start, now + timedelta(minutes=30))


def parse_resident_address(text: str) -> ParsedAddress:
    return parse_address(text)
