"""Chats handed to a person under /api/v1: the bot opens one, staff take, write in and close it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.auth import MACHINE_ONLY, STAFF, PrincipalDep
from api.deps import BotDep, IdPath, NowDep, SessionDep
from api.schemas import (
    HandoffCreate,
    HandoffList,
    HandoffMessage,
    HandoffMessageCreate,
    HandoffMessageList,
    HandoffPublic,
)
from api.services import handoffs
from api.views.chat import ChatMessage
from heating_standard.privacy import mask_text

router = APIRouter()


@router.post(
    "/handoffs",
    status_code=status.HTTP_201_CREATED,
    response_model=HandoffPublic,
    tags=["handoffs"],
    dependencies=[MACHINE_ONLY],
    responses={200: {"model": HandoffPublic, "description": "the resident's open handoff, already there"}},
)
def open_handoff(body: HandoffCreate, response: Response, session: SessionDep, now: NowDep) -> HandoffPublic:
    """The bot hands a chat to a person; an open one for the same resident is returned (200) instead."""
    handoff, created = handoffs.open_handoff(session, body, now)
    if not created:
        response.status_code = status.HTTP_200_OK
    return HandoffPublic.model_validate(handoff)


@router.get("/handoffs", response_model=HandoffList, tags=["handoffs"], dependencies=[STAFF])
def list_handoffs(
    session: SessionDep,
    status_: Annotated[str | None, Query(alias="status", pattern="^(waiting|active|closed)$")] = None,
) -> HandoffList:
    items, total = handoffs.list_handoffs(session, status_)
    # A summary quotes the resident, who may have typed a phone number: staff see it masked (12.1).
    shown = [HandoffPublic.model_validate(h) for h in items]
    return HandoffList(items=[h.model_copy(update={"summary": mask_text(h.summary)}) for h in shown], total=total)


@router.post("/handoffs/{handoff_id}/take", response_model=HandoffPublic, tags=["handoffs"], dependencies=[STAFF])
def take_handoff(handoff_id: IdPath, session: SessionDep, now: NowDep, principal: PrincipalDep) -> HandoffPublic:
    return HandoffPublic.model_validate(handoffs.take_handoff(session, handoff_id, principal, now))


@router.get(
    "/handoffs/{handoff_id}/messages", response_model=HandoffMessageList, tags=["handoffs"], dependencies=[STAFF]
)
def read_handoff_messages(handoff_id: IdPath, bot: BotDep, session: SessionDep) -> HandoffMessageList:
    """The chat, oldest first, with the bot's transcript before the handoff; staff messages carry their
    delivery state (sent, sent_as_template, pending, undelivered)."""
    found = handoffs.messages(session, handoff_id, bot)
    return HandoffMessageList(items=[_shown_message(m) for m in found], total=len(found))


@router.post(
    "/handoffs/{handoff_id}/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=HandoffMessage,
    tags=["handoffs"],
    dependencies=[STAFF],
)
def write_handoff_message(
    handoff_id: IdPath,
    body: HandoffMessageCreate,
    bot: BotDep,
    session: SessionDep,
    now: NowDep,
    principal: PrincipalDep,
) -> HandoffMessage:
    """The member of staff holding the chat writes to the resident (403 for anyone else, 409 unless held)."""
    sent = handoffs.send_message(session, handoff_id, principal, body.text, bot, now)
    return _shown_message(sent)


def _shown_message(message: ChatMessage) -> HandoffMessage:
    return HandoffMessage.model_validate(
        {
            "at": message.at,
            "from": message.sender,
            "text": message.text,
            "delivery": message.delivery,
            "media_id": message.media_id,
        }
    )


@router.post("/handoffs/{handoff_id}/close", response_model=HandoffPublic, tags=["handoffs"], dependencies=[STAFF])
def close_handoff(
    handoff_id: IdPath, bot: BotDep, session: SessionDep, now: NowDep, principal: PrincipalDep
) -> HandoffPublic:
    """Close the handoff and give the conversation back to the bot: its holder, or a supervisor."""
    return HandoffPublic.model_validate(handoffs.close_handoff(session, handoff_id, principal, bot, now))
