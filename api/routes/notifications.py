"""Staff notifications (reminders and breaches of deadlines) under /api/v1, for polling."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import STAFF, STAFF_OR_MACHINE, PrincipalDep
from api.deps import BotDep, IdPath, NowDep, SessionDep
from api.schemas import (
    MAX_ID,
    NotificationList,
    NotificationPublic,
    PhonedNotice,
    UndeliveredList,
    UndeliveredNotice,
)
from api.services import scheduler, undelivered

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


@router.get("/notifications/undelivered", response_model=UndeliveredList, tags=["notifications"], dependencies=[STAFF])
def list_undelivered(session: SessionDep, bot: BotDep, now: NowDep) -> UndeliveredList:
    """The last days' messages to residents the WeChat channel could not deliver, to tell them by phone."""
    found, answered = undelivered.to_phone(session, bot, now)
    items = [
        UndeliveredNotice(
            id=f.notification.id,
            kind=f.notification.kind,
            message=f.notification.message,
            created_at=f.notification.created_at,
            reason=f.reason,
            order_id=f.notification.order_id,
            order_number=f.order_number,
            phone=f.phone,
        )
        for f in found
    ]
    return UndeliveredList(items=items, channel_answered=answered)


@router.post("/notifications/{notification_id}/phoned", status_code=204, tags=["notifications"], dependencies=[STAFF])
def record_call(
    notification_id: IdPath, body: PhonedNotice, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> None:
    """The resident was told by phone instead (who, when, what was said are kept)."""
    undelivered.record_call(session, notification_id, body.note, principal, now)
