"""The review queue (待学习): what the bot was unsure of, labelled by staff, approved by a supervisor and
exported as training examples.

- The bot reports a message (``record``) when it fell back, asked which reading was meant, answered "out
  of scope", handed the chat to a person within two turns, or was corrected by the resident. The text and
  the turns around it are redacted here, before anything is stored (12.1: heating_standard.privacy); the
  original stays in the conversation store under its own retention. A message is kept once (its
  ``message_key``), and joins the group of its wording or of a near-duplicate (api.views.wording).
- Staff label a group with an intent from the bot's own list, entities marked on its text, or as out of
  scope; a supervisor approves. Both are conditional updates: two people deciding at once cannot both win.
- ``export`` writes the approved groups as Rasa training data, each wording with the placeholders filled
  by sample values.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from api.db import insert_of
from api.errors import Conflict, NotFound, Unprocessable
from api.models import ReviewItem, ReviewOccurrence
from api.services import audit
from api.services.principals import Principal
from api.views.wording import MIN_NEAR, Span, examples_of, filled, nearest, normalized
from heating_standard.localtime import LOCAL_TZ
from heating_standard.privacy import redact

# Why a message was kept.
REASONS = ("fallback", "clarified", "out_of_scope", "handoff", "corrected")
STATUSES = ("open", "labelled", "approved")
# What staff may mark on a text: the entities the bot's parsers fill.
ENTITY_KINDS = ("address", "phone", "temperature", "time")
OUT_OF_SCOPE = "out_of_scope"
MAX_TEXT = 1000
MAX_CONTEXT = 6
# each turn around a message is cut to this many characters before it is redacted
CONTEXT_TEXT = 300
# a group keeps this many of its messages; later ones are counted only
OCCURRENCES_KEPT = 100
# Open groups a new wording is compared with, most recently seen first, and the longest wording compared
# (a longer one groups only with the same wording): the cost of a report stays bounded.
NEAR_CANDIDATES = 2000
NEAR_MAX = 60
# A group's other wordings staff see, and the same ones are exported: nothing is trained on unseen.
VARIANTS = 20
# Intents the bot is told by a button, an event or another system, never by a resident's words.
NOT_LABELLED = frozenset({"choose_reading", "subscribe", "share_image", "bind_grid_worker", "nlu_fallback"})
_SPACES = re.compile(r"\s+")


def kept_text(text: str) -> str | None:
    """A message as the queue keeps it: one line, redacted, at most MAX_TEXT characters; None for nothing
    to learn from (empty, or a button's payload: the channel shows a resident's own leading "/" as "／")."""
    # a lone surrogate (JSON allows "\\ud800") cannot be stored or exported: shown as "?"
    text = text.encode("utf-8", "replace").decode("utf-8")
    visible = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    line = _SPACES.sub(" ", visible).strip()
    if not line or line.startswith("/"):
        return None
    return redact(line[:MAX_TEXT])[:MAX_TEXT]


@dataclass(frozen=True)
class Report:
    """One message the bot was unsure of, as the action server reports it."""

    message_key: str
    text: str
    reason: str
    predicted: Sequence[dict[str, Any]]
    context: Sequence[dict[str, str]] = ()
    chosen: str | None = None


def _context(turns: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    """The turns around a message, each cut to CONTEXT_TEXT characters before it is redacted (the cost of
    a report stays bounded) and redacted like the message."""
    kept = []
    for turn in list(turns)[-MAX_CONTEXT:]:
        text = kept_text(turn["text"][:CONTEXT_TEXT])
        if text is not None:
            kept.append({"who": turn["who"], "text": text})
    return kept


def record(session: Session, report: Report, now: datetime) -> int | None:
    """Keep the message in its group; returns the group's id, or None when there is nothing to learn
    from. A message reported again (a retried turn, a second reason) is kept once; a reading the resident
    chose later is noted on it. Past OCCURRENCES_KEPT messages a group only counts them."""
    text = kept_text(report.text)
    if text is None:
        return None
    known = session.scalars(select(ReviewOccurrence).where(ReviewOccurrence.message_key == report.message_key)).first()
    if known is not None:
        if report.chosen and not known.chosen:
            known.chosen = report.chosen
            session.commit()
        return known.item_id
    wording = normalized(text)
    predicted = [dict(p) for p in report.predicted]
    item_id, held = _group_for(session, wording, text, report.reason, predicted, now)
    if held < OCCURRENCES_KEPT:
        occurrence = (
            insert_of(session)(ReviewOccurrence)
            .values(
                item_id=item_id,
                message_key=report.message_key,
                text=text,
                reason=report.reason,
                predicted=predicted,
                context=_context(report.context),
                chosen=report.chosen,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["message_key"])
            .returning(ReviewOccurrence.id)
        )
        if session.execute(occurrence).scalar() is None:
            # kept by a concurrent report of the same message: undo the group this call may have opened
            session.rollback()
            return record(session, report, now)
    session.execute(
        update(ReviewItem).where(ReviewItem.id == item_id).values(count=ReviewItem.count + 1, last_seen_at=now)
    )
    session.commit()
    return item_id


def _group_for(
    session: Session, wording: str, text: str, reason: str, predicted: list[dict[str, Any]], now: datetime
) -> tuple[int, int]:
    """The group of this wording and how many messages it holds: the same wording's (whatever its status),
    else the nearest open one's (for a wording of at most NEAR_MAX characters, among open groups of a
    similar length), else a new group."""
    key = hashlib.sha256(wording.encode()).hexdigest()
    same = session.execute(select(ReviewItem.id, ReviewItem.count).where(ReviewItem.key == key)).tuples().first()
    if same is not None:
        return same
    if MIN_NEAR <= len(wording) <= NEAR_MAX:
        candidates = (
            session.execute(
                select(ReviewItem.id, ReviewItem.wording, ReviewItem.count)
                .where(
                    ReviewItem.status == "open",
                    ReviewItem.size.between(int(len(wording) * 0.6), int(len(wording) / 0.6) + 1),
                )
                .order_by(ReviewItem.last_seen_at.desc())
                .limit(NEAR_CANDIDATES)
            )
            .tuples()
            .all()
        )
        near = nearest(wording, [(group_id, other) for group_id, other, _ in candidates])
        if near is not None:
            return near, next(held for group_id, _, held in candidates if group_id == near)
    created = (
        insert_of(session)(ReviewItem)
        .values(
            key=key,
            wording=wording,
            size=len(wording),
            text=text,
            reason=reason,
            predicted=predicted,
            count=0,
            status="open",
            entities=[],
            revision=0,
            created_at=now,
            last_seen_at=now,
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(ReviewItem.id)
    )
    new_id = session.execute(created).scalar()
    if new_id is None:  # the same wording's group was opened meanwhile
        return session.execute(select(ReviewItem.id, ReviewItem.count).where(ReviewItem.key == key)).tuples().one()
    return int(new_id), 0


# --- forgetting (12.1) ------------------------------------------------------------------------------


def forget(session: Session, message_keys: Sequence[str]) -> int:
    """A resident's erasure: their messages leave the queue, and so does every open group one of them
    named (its text was the resident's words; the others come back if the bot still misreads them).
    Decided groups stay: their text is redacted training data. In the caller's transaction; how many
    messages."""
    gone = 0
    for start in range(0, len(message_keys), 500):
        chunk = list(message_keys[start : start + 500])
        found = session.execute(
            select(ReviewOccurrence.id, ReviewOccurrence.item_id, ReviewOccurrence.text).where(
                ReviewOccurrence.message_key.in_(chunk)
            )
        ).tuples()
        for occurrence_id, item_id, text in list(found):
            item = session.get(ReviewItem, item_id)
            if item is not None and item.status == "open" and item.text == text:
                session.delete(item)  # its messages go with it
            else:
                session.execute(delete(ReviewOccurrence).where(ReviewOccurrence.id == occurrence_id))
            gone += 1
    return gone


def purge(session: Session, before: datetime) -> int:
    """The retention period (12.1): messages kept before ``before`` leave the queue, and open groups left
    with none go too. Decided groups stay, as redacted training data. Committed; how many messages."""
    gone = session.execute(delete(ReviewOccurrence).where(ReviewOccurrence.created_at < before)).rowcount  # type: ignore[attr-defined]
    empty = ~select(ReviewOccurrence.id).where(ReviewOccurrence.item_id == ReviewItem.id).exists()
    session.execute(delete(ReviewItem).where(ReviewItem.status == "open", empty))
    session.commit()
    return int(gone or 0)


# --- listing -------------------------------------------------------------------------------------


def items(session: Session, status: str, limit: int) -> list[ReviewItem]:
    """Groups of one status, the most frequent wording first, then the most recently seen."""
    query = (
        select(ReviewItem)
        .where(ReviewItem.status == status)
        .order_by(ReviewItem.count.desc(), ReviewItem.last_seen_at.desc(), ReviewItem.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def counts(session: Session) -> dict[str, int]:
    """How many groups wait in each status."""
    found = dict(session.execute(select(ReviewItem.status, func.count()).group_by(ReviewItem.status)).tuples().all())
    return {status: int(found.get(status, 0)) for status in STATUSES}


def get(session: Session, item_id: int) -> ReviewItem:
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise NotFound(f"review item {item_id} does not exist")
    return item


def variants(session: Session, item: ReviewItem, limit: int = VARIANTS) -> list[str]:
    """Other wordings of the group (near-duplicates that joined it), most recent first; of a labelled or
    approved group, those it held when it was labelled: what the decision covers."""
    latest = func.max(ReviewOccurrence.id)
    query = (
        select(ReviewOccurrence.text)
        .where(ReviewOccurrence.item_id == item.id, ReviewOccurrence.text != item.text)
        .group_by(ReviewOccurrence.text)
        .order_by(latest.desc())
        .limit(limit)
    )
    if item.status != "open":
        query = query.where(ReviewOccurrence.id <= (item.labelled_through or 0))
    return list(session.scalars(query))


def latest_occurrence(session: Session, item: ReviewItem) -> ReviewOccurrence | None:
    return session.scalars(
        select(ReviewOccurrence).where(ReviewOccurrence.item_id == item.id).order_by(ReviewOccurrence.id.desc())
    ).first()


def choices(session: Session, item: ReviewItem) -> dict[str, int]:
    """The readings residents chose for the group's messages when the bot asked, with how often."""
    rows = session.execute(
        select(ReviewOccurrence.chosen, func.count())
        .where(ReviewOccurrence.item_id == item.id, ReviewOccurrence.chosen.is_not(None))
        .group_by(ReviewOccurrence.chosen)
    ).tuples()
    return {str(name): int(n) for name, n in rows}


# --- the intents staff choose from ----------------------------------------------------------------


@dataclass(frozen=True)
class IntentEntry:
    name: str
    label: str
    examples: tuple[str, ...]


@lru_cache(maxsize=4)
def catalogue(root: Path) -> tuple[IntentEntry, ...]:
    """Every intent a resident's words can mean, from the bot's own files (read only): the domain's
    intents that have training examples, named as the bot names them (bot/knowledge.yml), with the first
    two examples of each. Read once per process; a deployment brings new files with a restart."""
    domain = yaml.safe_load((root / "domain.yml").read_text(encoding="utf-8"))
    knowledge = yaml.safe_load((root / "bot" / "knowledge.yml").read_text(encoding="utf-8"))
    labels = {name: str(entry["label"]) for name, entry in (knowledge.get("intents") or {}).items()}
    labels.update({name: str(label) for name, label in (knowledge.get("other_intents") or {}).items()})
    examples: dict[str, list[str]] = {}
    for path in sorted((root / "data" / "nlu").glob("*.yml")):
        for example in examples_of(path.read_text(encoding="utf-8")):
            examples.setdefault(example.intent, []).append(example.text)
    entries = []
    for name in domain.get("intents") or []:
        name = str(name)
        if name in NOT_LABELLED or name.startswith("EXTERNAL_") or name not in examples:
            continue
        entries.append(IntentEntry(name, labels.get(name, name), tuple(examples[name][:2])))
    return tuple(entries)


# --- deciding -------------------------------------------------------------------------------------


def _spans(text: str, entities: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entities checked against the text: known kinds, inside it, not overlapping; with their values."""
    checked: list[dict[str, Any]] = []
    for entity in sorted(entities, key=lambda e: int(e["start"])):
        kind, start, end = str(entity["entity"]), int(entity["start"]), int(entity["end"])
        if kind not in ENTITY_KINDS:
            raise Unprocessable("entities", f"an entity is one of: {', '.join(ENTITY_KINDS)}")
        if not 0 <= start < end <= len(text):
            raise Unprocessable("entities", f"{kind} spans {start}-{end}, outside the text of {len(text)} characters")
        if checked and start < checked[-1]["end"]:
            raise Unprocessable("entities", "entities may not overlap")
        if not text[start:end].strip():
            raise Unprocessable("entities", f"{kind} marks only spaces")
        checked.append({"entity": kind, "start": start, "end": end, "value": text[start:end]})
    return checked


def label(
    session: Session,
    item_id: int,
    principal: Principal,
    now: datetime,
    root: Path,
    intent: str | None,
    entities: Sequence[dict[str, Any]] = (),
    out_of_scope: bool = False,
) -> ReviewItem:
    """Label a group with an intent (and entities), or as out of scope. An approved group can be labelled
    again by a supervisor only, and then needs approval again."""
    if out_of_scope == (intent is not None):
        raise Unprocessable("intent", "give either an intent or out_of_scope, not both and not neither")
    chosen = OUT_OF_SCOPE if out_of_scope else str(intent)
    if chosen not in {entry.name for entry in catalogue(root)}:
        raise Unprocessable("intent", f"the bot has no intent {chosen} that a resident's words can mean")
    item = get(session, item_id)
    marked = [] if out_of_scope else _spans(item.text, entities)
    allowed = ["open", "labelled"] + (["approved"] if principal.may_approve else [])
    through = select(func.max(ReviewOccurrence.id)).where(ReviewOccurrence.item_id == ReviewItem.id).scalar_subquery()
    changed = session.execute(
        update(ReviewItem)
        .where(ReviewItem.id == item_id, ReviewItem.status.in_(allowed))
        .values(
            status="labelled",
            intent=chosen,
            entities=marked,
            labelled_by=principal.name,
            labelled_at=now,
            revision=ReviewItem.revision + 1,
            labelled_through=through,
            approved_by=None,
            approved_at=None,
        )
        .returning(ReviewItem.id)
    ).first()
    if not changed:
        session.rollback()
        raise Conflict("this wording is approved already: only a supervisor may label it again")
    audit.record(session, now, principal.name, "review_label", f"review_item:{item_id}", chosen)
    session.commit()
    session.refresh(item)
    return item


def approve(session: Session, item_id: int, principal: Principal, now: datetime, revision: int) -> ReviewItem:
    """A supervisor approves the label they saw (its ``revision``): from now on it is trained on. A group
    labelled again meanwhile, or approved already, is refused (409)."""
    item = get(session, item_id)
    changed = session.execute(
        update(ReviewItem)
        .where(ReviewItem.id == item_id, ReviewItem.status == "labelled", ReviewItem.revision == revision)
        .values(status="approved", approved_by=principal.name, approved_at=now)
        .returning(ReviewItem.intent)
    ).first()
    if not changed:
        session.rollback()
        raise Conflict("only the label shown can be approved: this wording was labelled again, or approved already")
    audit.record(session, now, principal.name, "review_approve", f"review_item:{item_id}", changed.intent)
    session.commit()
    session.refresh(item)
    return item


# --- export ---------------------------------------------------------------------------------------

# Characters that Rasa's example markup reads ("[text](entity)"), shown full-width in a plain text.
_MARKUP_CHARACTERS = str.maketrans({"[": "［", "]": "］", "(": "（", ")": "）", "{": "｛", "}": "｝"})


def _example(text: str, entities: Sequence[dict[str, Any]]) -> str:
    """One training example: placeholders filled, entities in Rasa's markup."""
    spans = [Span(str(e["entity"]), int(e["start"]), int(e["end"])) for e in entities]
    full, moved = filled(text, spans)
    parts, at = [], 0
    for span in sorted(moved, key=lambda s: s.start):
        parts.append(full[at : span.start].translate(_MARKUP_CHARACTERS))
        parts.append(f"[{full[span.start : span.end].translate(_MARKUP_CHARACTERS)}]({span.entity})")
        at = span.end
    parts.append(full[at:].translate(_MARKUP_CHARACTERS))
    return "".join(parts)


def export(session: Session, now: datetime) -> str:
    """The approved groups as Rasa NLU training data (YAML), for training and for a developer to read:
    each group's first wording with its entities, then its other wordings."""
    approved = list(session.scalars(select(ReviewItem).where(ReviewItem.status == "approved").order_by(ReviewItem.id)))
    by_intent: dict[str, list[str]] = {}
    for item in approved:
        lines = by_intent.setdefault(str(item.intent), [])
        lines.append(_example(item.text, item.entities))
        lines.extend(_example(text, []) for text in variants(session, item))
    header = (
        "# Generated from the review queue (待学习) at "
        f"{now.astimezone(LOCAL_TZ).strftime('%Y-%m-%d %H:%M')} Beijing time: {len(approved)} approved wordings.\n"
        "# Do not edit: label and approve in the console. Personal data was replaced before the wordings were\n"
        "# kept, and the placeholders are filled here with sample values (api/views/wording.py).\n"
    )
    # Written out rather than dumped: each example is one line of a literal block, as Rasa's own files are
    # (kept_text leaves no line break or control character in a wording).
    out = [header, 'version: "3.1"\n', "nlu:\n"]
    for intent in sorted(by_intent):
        out.append(f"- intent: {intent}\n  examples: |\n")
        out.extend(f"    - {example}\n" for example in dict.fromkeys(by_intent[intent]))
    return "".join(out)
