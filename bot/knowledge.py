"""Answers to policy and fee questions, from ``bot/knowledge.yml`` and the operator file."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.operator import OperatorFacts
from heating_standard.orders import BusinessType
from heating_standard.words import RESIDENT_BUSINESS_TYPE_WORDS, word

KNOWLEDGE_PATH = Path(__file__).resolve().parent / "knowledge.yml"
BUSINESS_TYPES = tuple(t.value for t in BusinessType)  # 9.1: the kinds of business request


@lru_cache(maxsize=1)
def knowledge() -> Mapping[str, Any]:
    loaded = yaml.safe_load(KNOWLEDGE_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, Mapping)
    return loaded


def _fill(template: str, facts: OperatorFacts, today: date, extra: Mapping[str, str]) -> str:
    values = {
        "standard": facts.standard,
        "hotline": facts.value("hotline"),
        "service_halls": facts.value("service_halls"),
        "payment_channels": facts.value("payment_channels"),
        "fee_standard": facts.value("fee_standard"),
        "repair_phone": facts.value("repair_phone"),
        "metering_fee": facts.value("metering_fee"),
        "contract_places": facts.value("contract_places"),
        "relief_policies": facts.relief_policies(),
        "season_sentence": facts.season_sentence(today),
        "complaint_promise": facts.complaint_promise(),
        "repeat_followup": facts.repeat_followup(),
        "retention": facts.retention_sentence(),
        **extra,
    }
    # Folded YAML joins lines with spaces; Chinese sentences do not take spaces between them.
    text = re.sub(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])", "", " ".join(template.split()))
    return text.format(**values)


def answer(topic: str, facts: OperatorFacts, today: date, **extra: str) -> str:
    """The answer for ``topic``, filled with operator values. A topic with an ``insured`` text says it only
    when the operator file says the company holds public liability insurance (13.1, 13.2)."""
    entry = knowledge()[topic]
    if facts.insured and "insured" in entry:
        entry = entry["insured"]
    return _fill(str(entry["text"]), facts, today, extra)


def topic_for(intent: str, text: str) -> str | None:
    """The topic that answers ``intent``: a narrower one when the message has one of its words."""
    entry = knowledge()["intents"].get(intent) or {}
    for narrower in entry.get("more") or ():
        if any(str(word) in text for word in narrower["words"]):
            return str(narrower["topic"])
    topic = entry.get("topic")
    return str(topic) if topic else None


def intent_label(intent: str) -> str | None:
    """How the bot names an intent when it asks which one the resident meant."""
    entry = knowledge()["intents"].get(intent)
    return str(entry["label"]) if entry else None


def business_type_for(text: str, named: Any, remembered: Any) -> str | None:
    """The business a question is about: the kind it names (the NLU's business_type entity), else the kind
    its words point to ("立户", "注销" among the narrower topics of ask_business_process), else the kind
    asked about before; None when none is known."""
    for candidate in (named, topic_for("ask_business_process", text), remembered):
        if candidate in BUSINESS_TYPES:
            return str(candidate)
    return None


def business_answer(business_type: str | None, facts: OperatorFacts, today: date) -> str:
    """Process, documents and time limits of one business request, or the list of them."""
    entries = knowledge()["business"]
    if business_type not in BUSINESS_TYPES:
        return _fill(str(entries["general"]["text"]), facts, today, {})
    entry = entries[business_type]
    extra = {
        "documents": facts.document_list(business_type),
        "days": facts.business_days(business_type) if business_type != BusinessType.APPLY_CONNECTION else "",
        "decision": facts.decision_days(),
    }
    text = _fill(str(entry["text"]), facts, today, extra)
    return f"【{business_name(business_type)}】{text}"


def business_name(business_type: str) -> str:
    """The business request's name as residents read it (heating_standard.words)."""
    return word(RESIDENT_BUSINESS_TYPE_WORDS, business_type, business_type)
