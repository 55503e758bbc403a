"""Residents' wordings as the review queue groups and exports them. Pure functions.

Grouping: two messages are one wording when they read the same once width, case, spaces, punctuation and
emoji are set aside (``normalized``), and near-duplicates when their character pairs overlap by
``NEAR_DUPLICATE`` or more (``similarity``): "暖气不热怎么办" and "暖气不热怎么办啊！" are one decision, "暖气
不热" and "暖气很热" are not.

Export: a redacted message's placeholders ("[电话]") are filled with fictitious sample values of their
kind before it becomes a training example, so that the bot learns the shape of a real message (its
classifier finds phone numbers and addresses by pattern) and no one's data.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import yaml

from heating_standard import privacy

# Overlap of character pairs (Jaccard) at or above which two wordings are grouped; only for wordings of
# at least MIN_NEAR characters (shorter ones group when they are the same).
NEAR_DUPLICATE = 0.75
MIN_NEAR = 4

# Sample values put where a placeholder stands in a training example: fictitious, of the placeholder's
# kind and recognised by the bot's patterns as such (a mobile number, a unit and room).
SAMPLE_VALUES = {
    privacy.PHONE: "13800000000",
    privacy.ID_NUMBER: "110101199001010000",
    privacy.CARD_NUMBER: "6200000000000000",
    privacy.PLATE: "京A00000",
    privacy.HOUSE: "1单元101",
    privacy.NAME: "张",
    privacy.EMAIL: "user@example.com",
}
# A name placeholder after a cue ("我叫[姓名]") stands for a whole name; before a title ("[姓名]先生") for
# a surname.
SAMPLE_FULL_NAME = "张明"


def normalized(text: str) -> str:
    """The key under which wordings are the same: NFKC (full-width letters and digits as ASCII), lower
    case, without spaces, punctuation, symbols or emoji; a text of nothing else keeps its marks."""
    folded = unicodedata.normalize("NFKC", text).lower()
    kept = "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")
    return kept or "".join(folded.split())


@lru_cache(maxsize=65536)
def _pairs(key: str) -> frozenset[str]:
    """A wording's character pairs, counted once however often it is compared."""
    return frozenset(key[i : i + 2] for i in range(len(key) - 1))


def similarity(a: str, b: str) -> float:
    """Overlap of the character pairs of two normalized wordings, 0 to 1."""
    if a == b:
        return 1.0
    pa, pb = _pairs(a), _pairs(b)
    if not pa or not pb:
        return 0.0
    return len(pa & pb) / len(pa | pb)


def nearest(key: str, candidates: Iterable[tuple[int, str]]) -> int | None:
    """The id of the candidate (id, normalized wording) nearest to ``key`` at NEAR_DUPLICATE or above, or
    None. Wordings of very different lengths are not compared."""
    if len(key) < MIN_NEAR:
        return None
    best, best_score = None, NEAR_DUPLICATE
    for candidate_id, other in candidates:
        if len(other) < MIN_NEAR or not 0.6 <= len(other) / len(key) <= 1.67:
            continue
        score = similarity(key, other)
        if score >= best_score:
            best, best_score = candidate_id, score
    return best


@dataclass(frozen=True)
class Span:
    """An entity marked on a text: characters ``start`` to ``end``."""

    entity: str
    start: int
    end: int


def filled(text: str, spans: Sequence[Span] = ()) -> tuple[str, list[Span]]:
    """``text`` with each placeholder replaced by its sample value, and ``spans`` moved with it (a span
    that ends inside a placeholder takes the whole sample value)."""
    placeholders = sorted(SAMPLE_VALUES, key=len, reverse=True)
    out: list[str] = []
    # where each position of ``text`` lands in the result, and one past the end
    start_at: list[int] = []
    end_at: list[int] = []
    i = 0
    length = 0
    while i < len(text):
        found = next((p for p in placeholders if text.startswith(p, i)), None)
        if found is None:
            start_at.append(length)
            out.append(text[i])
            length += 1
            end_at.append(length)
            i += 1
            continue
        value = SAMPLE_VALUES[found]
        if found == privacy.NAME and not text.startswith(privacy.TITLES, i + len(found)):
            value = SAMPLE_FULL_NAME
        begin = length
        out.append(value)
        length += len(value)
        for _ in found:
            start_at.append(begin)
            end_at.append(length)
        i += len(found)
    moved = [
        Span(span.entity, start_at[span.start], end_at[span.end - 1])
        for span in spans
        if 0 <= span.start < span.end <= len(text)
    ]
    return "".join(out), moved


# --- training data as Rasa writes it ---------------------------------------------------------------

_MARKUP = re.compile(r"\[([^\]]*)\]\([^)]*\)")


@dataclass(frozen=True)
class Example:
    """One training example of a Rasa NLU file: its line (entity markup kept), its plain text and the
    key under which wordings are the same (``api.views.wording.normalized``)."""

    intent: str
    line: str
    text: str
    key: str


def examples_of(nlu_yaml: str) -> list[Example]:
    """The intent examples of a Rasa NLU YAML text (the review queue's export, or a test set)."""
    data = yaml.safe_load(nlu_yaml) or {}
    found = []
    for block in data.get("nlu") or []:
        intent = block.get("intent")
        if not intent:
            continue
        for raw in str(block.get("examples") or "").splitlines():
            raw = raw.strip()
            if not raw.startswith("- "):
                continue
            line = raw[2:].strip()
            text = _MARKUP.sub(r"\1", line)
            if text:
                found.append(Example(str(intent), line, text, normalized(text)))
    return found
