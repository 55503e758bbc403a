"""The backend's status under /api/v1: warnings operators must act on."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from api.auth import STAFF_OR_MACHINE
from api.deps import ContextDep, SessionDep, SettingsDep
from api.services import status

router = APIRouter()


@router.get("/status", tags=["health"], dependencies=[STAFF_OR_MACHINE])
def backend_status(request: Request, session: SessionDep, ctx: ContextDep, settings: SettingsDep) -> dict[str, Any]:
    """Warnings operators must act on: sample configuration, years the working-day calendar lacks."""
    scheduler: dict[str, Any] = request.app.state.scheduler_state
    return status.backend_status(session, ctx.config, ctx.now, settings.scheduler_enabled, scheduler)
