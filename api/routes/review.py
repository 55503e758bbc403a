"""The review queue (待学习): the bot reports what it was unsure of; staff label; a supervisor approves;
training reads the export. Details: docs/bot.md, "Learning from residents"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session

from api.auth import MACHINE_ONLY, STAFF, SUPERVISORS, PrincipalDep, require_roles
from api.deps import BotDep, IdPath, NowDep, SessionDep
from api.models import ReviewItem
from api.schemas import (
    BotFigures,
    ReviewApproval,
    ReviewIntent,
    ReviewItemList,
    ReviewItemPublic,
    ReviewLabel,
    ReviewRecorded,
    ReviewReport,
    ReviewStatus,
)
from api.services import bot_figures, review
from api.services.principals import SUPERVISOR_ROLES, Role
from api.settings import ROOT
from heating_standard.localtime import local_date

router = APIRouter(tags=["review"])


def public(session: Session, item: ReviewItem) -> ReviewItemPublic:
    latest = review.latest_occurrence(session, item)
    return ReviewItemPublic.model_validate(
        {
            "id": item.id,
            "text": item.text,
            "reason": item.reason,
            "predicted": item.predicted,
            "count": item.count,
            "status": item.status,
            "intent": item.intent,
            "entities": item.entities,
            "labelled_by": item.labelled_by,
            "approved_by": item.approved_by,
            "revision": item.revision,
            "created_at": item.created_at,
            "last_seen_at": item.last_seen_at,
            "variants": review.variants(session, item),
            "context": latest.context if latest else [],
            "chosen": review.choices(session, item),
        }
    )


@router.post("/review-items", response_model=ReviewRecorded, dependencies=[MACHINE_ONLY])
def report(body: ReviewReport, session: SessionDep, now: NowDep) -> ReviewRecorded:
    """The bot keeps a message it was unsure of; the same message reported again is kept once."""
    item_id = review.record(
        session,
        review.Report(
            message_key=body.message_key,
            text=body.text,
            reason=body.reason,
            predicted=[p.model_dump() for p in body.predicted],
            context=[t.model_dump() for t in body.context],
            chosen=body.chosen,
        ),
        now,
    )
    return ReviewRecorded(id=item_id)


@router.get("/review-items", response_model=ReviewItemList, dependencies=[STAFF])
def list_items(
    session: SessionDep,
    status: ReviewStatus = "open",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ReviewItemList:
    """Groups of one status, the most frequent wording first, with how many wait in each status."""
    found = review.items(session, status, limit)
    return ReviewItemList(items=[public(session, item) for item in found], counts=review.counts(session))


@router.get(
    "/review-items/export",
    response_class=Response,
    dependencies=[Depends(require_roles(*SUPERVISOR_ROLES, Role.MACHINE))],
    responses={200: {"content": {"application/yaml": {}}, "description": "Rasa NLU training data"}},
)
def export(session: SessionDep, now: NowDep) -> Response:
    """The approved wordings as Rasa training data, placeholders filled with sample values."""
    return Response(review.export(session, now), media_type="application/yaml; charset=utf-8")


@router.post("/review-items/{item_id}/label", response_model=ReviewItemPublic, dependencies=[STAFF])
def label(
    item_id: IdPath, body: ReviewLabel, session: SessionDep, now: NowDep, principal: PrincipalDep
) -> ReviewItemPublic:
    """Label a group with an intent (and entities), or as out of scope."""
    item = review.label(
        session,
        item_id,
        principal,
        now,
        ROOT,
        body.intent,
        [e.model_dump() for e in body.entities],
        body.out_of_scope,
    )
    return public(session, item)


@router.post("/review-items/{item_id}/approve", response_model=ReviewItemPublic, dependencies=[SUPERVISORS])
def approve(
    item_id: IdPath, body: ReviewApproval, session: SessionDep, now: NowDep, principal: PrincipalDep
) -> ReviewItemPublic:
    """A supervisor approves the label they saw (its ``revision``) for training; 409 when the group was
    labelled again meanwhile, or is approved already."""
    return public(session, review.approve(session, item_id, principal, now, body.revision))


@router.get("/review-intents", response_model=list[ReviewIntent], dependencies=[STAFF])
def intents() -> list[ReviewIntent]:
    """The intents a wording can be labelled with, each with two of the bot's own examples."""
    return [ReviewIntent(name=e.name, label=e.label, examples=list(e.examples)) for e in review.catalogue(ROOT)]


@router.get("/bot-figures", response_model=BotFigures, dependencies=[STAFF])
def figures(
    bot: BotDep, session: SessionDep, now: NowDep, days: Annotated[int, Query(ge=1, le=bot_figures.MAX_DAYS)] = 14
) -> BotFigures:
    """The bot's own figures for each of the last ``days`` Beijing days: messages, understood, asked
    about, not understood, out of scope, handed over, filed without a person, and the review queue."""
    found = bot_figures.daily(session, bot, local_date(now), days, now)
    return BotFigures.model_validate(found)
