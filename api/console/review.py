"""The review queue (待学习): staff read what the bot was unsure of and label each group of wordings with an
intent (and the entities in it) or as out of scope; a supervisor approves the labelled ones.

The page calls the same service as ``/api/v1/review-items`` (``api.services.review``), which keeps the
texts redacted, writes the audit trail and decides with conditional updates. What this module adds is the
desk's side: the service's refusals in Chinese, and a check that a decision is taken on the state the
person saw (``version``): of two people deciding on one group, the later is told and shown the fresh state.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.console.pages import Desk, DeskDep, WritingDeskDep, is_htmx
from api.deps import IdPath
from api.errors import AppError, Conflict, Forbidden, NotFound, Unprocessable
from api.models import ReviewItem
from api.schemas import MAX_ID, ReviewLabel
from api.services import review
from api.services.review import IntentEntry
from api.settings import ROOT

router = APIRouter()

STATUSES = {"open": "待标注", "labelled": "待批准", "approved": "已批准"}
REASONS = {
    "fallback": "没听懂",
    "clarified": "让居民选择",
    "out_of_scope": "超出范围",
    "handoff": "转人工前",
    "corrected": "居民纠正",
}
ENTITY_KINDS = {"address": "地址", "phone": "电话", "temperature": "温度", "time": "时间"}
SPEAKERS = {"resident": "居民", "bot": "机器人"}
# Readings the bot may report that are no intent a person labels with.
OTHER_READINGS = {"nlu_fallback": "没听懂", "choose_reading": "居民点选", "out_of_scope": "与供热服务无关"}
# The groups one page shows, the most frequent first; the rest follow as these are decided.
PAGE_SIZE = 50
# The bot's readings shown with each group (and picked with the keys 1-3).
READINGS_SHOWN = 3

CHANGED_MEANWHILE = "该条已被他人批准/修改，已刷新"


@dataclass(frozen=True)
class Reading:
    """One of the bot's readings of a wording, as a desk reads it."""

    name: str
    label: str
    percent: int
    labelable: bool


@dataclass(frozen=True)
class Group:
    """One group of the queue with everything its card shows."""

    item: ReviewItem
    version: str
    pieces: list[tuple[str, str | None]]
    readings: list[Reading]
    top: Reading | None
    chosen: list[tuple[str, int]]
    variants: list[str]
    context: list[dict[str, str]]
    selected: str
    decided: str


def version(item: ReviewItem) -> str:
    """A fingerprint of the group's decision: it changes whenever anyone labels or approves it."""
    decided = [
        item.status,
        item.intent,
        item.entities,
        item.labelled_by,
        item.labelled_at.isoformat() if item.labelled_at else None,
        item.approved_by,
        item.approved_at.isoformat() if item.approved_at else None,
    ]
    return hashlib.sha256(json.dumps(decided, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


def pieces(text: str, entities: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """The text cut at its entities: (words, entity kind or None), for marking them on screen. Offsets are
    characters (code points), as the service stores them."""
    found: list[tuple[str, str | None]] = []
    at = 0
    for entity in sorted(entities, key=lambda e: int(e["start"])):
        start, end = int(entity["start"]), int(entity["end"])
        if start < at or end > len(text):
            continue  # not for this text (the service refuses such a span; shown unmarked rather than cut)
        if start > at:
            found.append((text[at:start], None))
        found.append((text[start:end], str(entity["entity"])))
        at = end
    if at < len(text):
        found.append((text[at:], None))
    return found


def intents() -> dict[str, IntentEntry]:
    """The intents a wording can be labelled with, by name, in the bot's order."""
    return {entry.name: entry for entry in review.catalogue(ROOT)}


def _intent_words(name: str | None, catalogue: dict[str, IntentEntry]) -> str:
    if name is None:
        return ""
    entry = catalogue.get(name)
    return entry.label if entry else OTHER_READINGS.get(name, name)


def _group(desk: Desk, item: ReviewItem, catalogue: dict[str, IntentEntry]) -> Group:
    readings = []
    for guess in item.predicted[:READINGS_SHOWN]:
        name = str(guess.get("name", ""))
        percent = round(float(guess.get("confidence", 0)) * 100)
        readings.append(Reading(name, _intent_words(name, catalogue), percent, name in catalogue))
    top = readings[0] if readings and readings[0].labelable else None
    chosen = sorted(review.choices(desk.session, item).items(), key=lambda pair: -pair[1])
    latest = review.latest_occurrence(desk.session, item)
    return Group(
        item=item,
        version=version(item),
        pieces=pieces(item.text, item.entities),
        readings=readings,
        top=top,
        chosen=[(_intent_words(name, catalogue), count) for name, count in chosen],
        variants=review.variants(desk.session, item),
        context=[
            {"who": SPEAKERS.get(turn.get("who", ""), "?"), "side": turn.get("who", ""), "text": turn.get("text", "")}
            for turn in (latest.context if latest else [])
        ],
        selected=item.intent or (top.name if top else ""),
        decided=_intent_words(item.intent, catalogue),
    )


def shown_status(value: str | None) -> str:
    return value if value in STATUSES else "open"


def _queue(desk: Desk, status: str, **extra: Any) -> dict[str, Any]:
    catalogue = intents()
    found = review.items(desk.session, status, PAGE_SIZE)
    return {
        "status": status,
        "statuses": STATUSES,
        "counts": review.counts(desk.session),
        "groups": [_group(desk, item, catalogue) for item in found],
        "catalogue": list(catalogue.values()),
        "reasons": REASONS,
        "kinds": ENTITY_KINDS,
        "supervisor": desk.principal.may_approve,
        **extra,
    }


@router.get("/review", response_class=HTMLResponse)
def review_page(desk: DeskDep, status: str = "open") -> HTMLResponse:
    return desk.render("review.html", **_queue(desk, shown_status(status)))


@router.get("/review/count", response_class=HTMLResponse)
def open_count(desk: DeskDep) -> HTMLResponse:
    """The open groups, for the 待学习 link of every page (polled)."""
    return desk.render("_review_count.html", waiting=review.counts(desk.session)["open"])


# ------------------------------------------------------------------------------ deciding


def _answer(desk: Desk, status: str, notice: str) -> Response:
    """After a decision: the refreshed list (htmx), or the page again (a plain form, without scripts)."""
    if is_htmx(desk.request):
        return desk.render("_review_list.html", **_queue(desk, status, notice=notice, oob_count=True))
    return RedirectResponse(f"/console/review?status={status}", status_code=303)


def _refreshed(desk: Desk, status: str, words: str = CHANGED_MEANWHILE) -> Response:
    """Someone else decided first (409): say so in the banner, and show the group as it now stands."""
    desk.session.rollback()
    context = _queue(desk, status, conflict=words)
    if is_htmx(desk.request):
        return desk.render("_review_conflict.html", status_code=409, **context)
    return desk.render("review.html", status_code=409, **context)


def _in_words(exc: AppError) -> AppError:
    """The service's refusals as a desk reads them (the service speaks English to programs)."""
    if isinstance(exc, NotFound):
        return NotFound("没有这一组（可能已被删除），请刷新页面")
    if isinstance(exc, Unprocessable) and exc.field == "entities":
        return Unprocessable("标记", "标记的文字须在原文之内、互不重叠、不能只有空格，每组最多 20 处，请重新标记")
    if isinstance(exc, Unprocessable) and exc.field == "intent":
        return Unprocessable("意图", "请从列表中选择一个意图，或标为“与供热无关”")
    return exc


def _seen(desk: Desk, item_id: int, seen: str | None) -> ReviewItem:
    """The group, unless it changed since the page showed it (``seen`` is its version then)."""
    item = review.get(desk.session, item_id)
    if seen and seen != version(item):
        raise Conflict(CHANGED_MEANWHILE)
    return item


def _marked(raw: str) -> list[dict[str, Any]]:
    """The entities the page marked (JSON: [{entity, start, end}], offsets in characters), read as the API
    reads them."""
    try:
        entities = json.loads(raw) if raw.strip() else []
        checked = ReviewLabel.model_validate({"intent": None, "entities": entities})
    except (ValueError, ValidationError):
        raise Unprocessable("entities", "unreadable") from None
    return [{"entity": e.entity, "start": e.start, "end": e.end} for e in checked.entities]


def _decision(form: dict[str, str]) -> tuple[str | None, bool]:
    """(intent, out of scope) from the button pressed: 与供热无关, 采纳机器人的理解, or the chosen intent."""
    intent = form.get("accept") or form.get("intent") or ""
    if form.get("out_of_scope") or intent == review.OUT_OF_SCOPE:
        return None, True
    if not intent:
        raise Unprocessable("意图", "请先选择意图（或按“采纳机器人的理解”）")
    return intent, False


@router.post("/review/{item_id}/label", response_class=HTMLResponse)
def label(item_id: IdPath, desk: WritingDeskDep) -> Response:
    status = shown_status(desk.form.get("status"))
    try:
        item = _seen(desk, item_id, desk.form.get("seen"))
        intent, out_of_scope = _decision(desk.form)
        entities = [] if out_of_scope else _marked(desk.form.get("entities", ""))
        review.label(desk.session, item_id, desk.principal, desk.now, ROOT, intent, entities, out_of_scope)
    except Conflict:
        return _refreshed(desk, status)
    except AppError as exc:
        raise _in_words(exc) from None
    chosen = _intent_words(review.OUT_OF_SCOPE if out_of_scope else intent, intents())
    return _answer(desk, status, f"已标注为“{chosen}”：{item.text[:30]}")


def _supervisor(desk: Desk) -> None:
    if not desk.principal.may_approve:
        raise Forbidden("只有班长或管理员可以批准")


@router.post("/review/{item_id}/approve", response_class=HTMLResponse)
def approve(item_id: IdPath, desk: WritingDeskDep) -> Response:
    _supervisor(desk)
    status = shown_status(desk.form.get("status"))
    try:
        item = _seen(desk, item_id, desk.form.get("seen"))
        review.approve(desk.session, item_id, desk.principal, desk.now, item.revision)
    except Conflict:
        return _refreshed(desk, status)
    except AppError as exc:
        raise _in_words(exc) from None
    return _answer(desk, status, f"已批准：{item.text[:30]}")


@router.post("/review/approve", response_class=HTMLResponse)
def approve_chosen(desk: WritingDeskDep, item: Annotated[list[str] | None, Form()] = None) -> Response:
    """A supervisor approves the ticked groups (each ``id:version``); those changed meanwhile are left."""
    _supervisor(desk)
    status = shown_status(desk.form.get("status"))
    chosen = []
    for value in (item or [])[:PAGE_SIZE]:
        number, _, seen = value.partition(":")
        if not number.isdigit() or int(number) > MAX_ID:
            raise Unprocessable("批准", "所选的组无法读取，请刷新页面后重试")
        chosen.append((int(number), seen))
    if not chosen:
        raise Unprocessable("批准", "请先勾选要批准的组")
    approved = missed = 0
    for item_id, seen in chosen:
        try:
            shown = _seen(desk, item_id, seen)
            review.approve(desk.session, item_id, desk.principal, desk.now, shown.revision)
            approved += 1
        except (Conflict, NotFound):
            desk.session.rollback()
            missed += 1
    if missed:
        return _refreshed(desk, status, f"已批准 {approved} 组；另有 {missed} 组已被他人批准/修改，已刷新")
    return _answer(desk, status, f"已批准 {approved} 组")
