"""Staff notifications (reminders and breaches of deadlines) under /api/v1, for polling."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import STAFF_OR_MACHINE
from api.deps import SessionDep
from api.schemas import (
    MAX_ID,
    NotificationList,
    NotificationPublic,
)
from api.services import scheduler

router = APIRouter()


@router.get("/notifications", response_model=NotificationList, tags=["notifications"], dependencies=[STAFF_OR_MACHINE])
def list_notifications(
    session: SessionDep,
    after_id: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> NotificationList:
    """Staff notifications (reminders, breaches) after ``after_id``, oldest first: poll with the last id."""
    rows = scheduler.staff_feed(session, after_id, kind, limit)
    return NotificationList(items=[NotificationPublic.model_validate(n) for n in rows])
