"""The JSON API under /api/v1: one router per area, ``api/routes/<area>.py``, each thin (validate, call a
service, shape the answer); their dependencies are ``api.deps`` and ``api.auth``."""

from __future__ import annotations

from types import ModuleType

from api.routes import (
    announcements,
    bot_models,
    callbacks,
    campaigns,
    claims,
    fee_reminders,
    handoffs,
    kpis,
    notifications,
    outages,
    people,
    residents,
    review,
    sampling,
    staff,
    status,
    work_orders,
)

# Every area, in the order /docs lists them.
JSON_API: tuple[ModuleType, ...] = (
    work_orders,
    claims,
    staff,
    people,
    notifications,
    callbacks,
    campaigns,
    handoffs,
    outages,
    announcements,
    fee_reminders,
    kpis,
    status,
    sampling,
    residents,
    review,
    bot_models,
)
