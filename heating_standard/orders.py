"""What a work order is: its kinds, categories, sources and states."""

from __future__ import annotations

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
    BUSINESS = "business"  # 报装、增/减/停/复热、过户 …
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
