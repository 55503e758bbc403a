"""Reminders of unpaid fees (9.2.2), under /api/v1/fee-reminders: a supervisor sends them; staff read what
became of each and record the calls made instead (api.services.fee_reminders)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.auth import STAFF, SUPERVISORS, PrincipalDep
from api.deps import BotDep, IdPath, NowDep, OperatorDep, SessionDep
from api.schemas import FeeReminderBatch, FeeReminderCall, FeeReminderPublic, FeeReminderSend
from api.services import fee_reminders

router = APIRouter(prefix="/fee-reminders", tags=["fee reminders"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=FeeReminderBatch, dependencies=[SUPERVISORS])
def send(
    body: FeeReminderSend,
    session: SessionDep,
    config: OperatorDep,
    bot: BotDep,
    principal: PrincipalDep,
    now: NowDep,
) -> FeeReminderBatch:
    """Remind each household: its residents on WeChat are sent the reminder; the others are listed to phone."""
    batch = fee_reminders.send(session, body, config.company.standard, principal, now)
    return FeeReminderBatch(batch=batch, items=fee_reminders.of_batch(session, batch, bot))


@router.get("", response_model=FeeReminderBatch, dependencies=[STAFF])
def read_batch(
    session: SessionDep, bot: BotDep, batch: Annotated[str, Query(min_length=1, max_length=64)]
) -> FeeReminderBatch:
    """A batch's reminders, each with what became of it (the proof 9.2.2 asks to keep)."""
    return FeeReminderBatch(batch=batch, items=fee_reminders.of_batch(session, batch, bot))


@router.post("/{reminder_id}/called", response_model=FeeReminderPublic, dependencies=[STAFF])
def record_call(
    reminder_id: IdPath, body: FeeReminderCall, session: SessionDep, principal: PrincipalDep, now: NowDep
) -> FeeReminderPublic:
    """The household was reminded by phone: who, when, what was said."""
    return FeeReminderPublic.model_validate(fee_reminders.record_call(session, reminder_id, body.note, principal, now))
