"""What a work order is: its kinds, categories, sources and states."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Code(str, Enum):
    """A code kept and sent as its plain value (``enum.StrEnum`` needs Python 3.11; this runs on 3.10)."""

    def __str__(self) -> str:
        return str(self.value)


class Kind(Code):
    """What the resident asks for."""

    COMPLAINT = "complaint"  # 投诉
    REPAIR = "repair"  # 报修
    TEMPERATURE_TEST = "temperature_test"  # 入户测温
    BUSINESS = "business"  # 报装、增/减/停/复热、过户、开户、销户
    CONSULTATION = "consultation"  # a question that needs a person


class Category(Code):
    """What the problem is about."""

    ROOM_TEMPERATURE = "room_temperature"
    NO_HEAT = "no_heat"
    LEAK = "leak"
    EQUIPMENT = "equipment"
    BILLING = "billing"
    SERVICE = "service"
    OTHER = "other"


class BusinessType(Code):
    """What a business request (9.1) is for."""

    APPLY_CONNECTION = "apply_connection"  # 报装: 1 or 3 days (9.1.4)
    STOP_HEATING = "stop_heating"  # 报停 (9.1.8)
    RESUME_HEATING = "resume_heating"  # 复热 (9.1.8)
    TRANSFER = "transfer"  # 过户: the company's own business (9.1.1), not named in 9.1.8
    AREA_CHANGE = "area_change"  # 增、减 heated area (9.1.8)
    # 7.5 names 开户 and 销户 among a service hall's business; the standard sets no time of its own for them,
    # so the company's promise applies (9.1.2), as for every kind but 报装
    OPEN_ACCOUNT = "open_account"  # 开户: a home's heating account opened (a new home, a first owner)
    CLOSE_ACCOUNT = "close_account"  # 销户: a home's heating account closed


class Source(Code):
    """Where the order came from (10.1.3 sets return and reply deadlines by source)."""

    WECHAT = "wechat"
    GRID_WORKER = "grid_worker"
    PHONE = "phone"
    COUNTER = "counter"
    CITY_HOTLINE = "city_hotline"
    PROVINCIAL_HOTLINE = "provincial_hotline"
    IMMEDIATE_HOTLINE = "immediate_hotline"  # 接诉即办
    INTERNET_SUPERVISION = "internet_supervision"  # 互联网+督查
    FIRST_CONTACT = "first_contact"  # 首问负责制
    SAMPLING = "sampling"  # the season's room-temperature sampling plan (5.4.4)


class Status(Code):
    """States of a work order."""

    ACCEPTED = "accepted"
    RESPONDED = "responded"
    DISPATCHED = "dispatched"
    ARRIVED = "arrived"
    COMPLETED = "completed"
    CALLED_BACK = "called_back"
    CLOSED = "closed"
    RETURNED = "returned"
    CANCELLED = "cancelled"


def is_urgent(category: Category, flagged: bool = False) -> bool:
    """Urgent orders: those flagged urgent, and every leak (10.2.3, 跑、冒、滴、漏 within 1 hour)."""
    return flagged or category == Category.LEAK


def phone_key(phone: str | None) -> str | None:
    """A phone number reduced to what identifies it: digits only, without China's +86 before a mobile
    number ("+86 138-0013-8000" and "13800138000" are one phone). None without digits."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 13 and digits.startswith("86") and digits[2] == "1":
        digits = digits[2:]
    return digits or None


def household_key(community: str | None, building: str | None, room: str | None) -> str | None:
    """A home as parsed from an address (community, building, room; the unit is often left out), or None
    when the address does not name one."""
    if not (community and building and room):
        return None
    return f"{community}|{building}|{room}"


def repeats(earlier: ComplaintFacts, new: ComplaintFacts) -> bool:
    """10.1.7: a second complaint of the same household about the same problem in the same season,
    whichever way it came (WeChat, hotline, phone, counter): the same WeChat user, the same phone, or
    the same home."""
    if (earlier.category, earlier.season) != (new.category, new.season):
        return False
    if earlier.household and new.household and earlier.household != new.household:
        return False  # one person, or one phone, for two homes: two households
    same = [
        earlier.resident and earlier.resident == new.resident,
        earlier.phone and earlier.phone == new.phone,
        earlier.household and earlier.household == new.household,
    ]
    return any(same)


@dataclass(frozen=True)
class ComplaintFacts:
    """What decides whether two complaints come from the same household about the same thing."""

    category: Category
    season: str
    resident: str | None = None  # the WeChat user
    phone: str | None = None  # phone_key
    household: str | None = None  # household_key


def withdrawn(status: str, completed: bool) -> bool:
    """An order that left the company (returned, 10.1.3) or was cancelled, closed since or not: a closed
    order that was never completed went one of those ways. The KPIs leave it out."""
    return status in (Status.RETURNED, Status.CANCELLED) or (status == Status.CLOSED and not completed)
