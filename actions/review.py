"""What the bot was unsure of, reported to the review queue (待学习), where staff label it and the bot is
trained on it (docs/bot.md, "Learning from residents").

A message is reported when the bot fell back or answered "没有理解" (``fallback``), asked which reading
was meant (``clarified``: the reading the resident then chose is reported with it), answered "out of
scope", handed the chat to a person within two turns of it (``handoff``), or when the resident's next
message corrects the bot ("不是这个意思", "我说的是…": ``corrected``). The action server reports what the
action Rasa asks for is about to answer (``reports_for``), so the actions themselves stay as they are.

The report carries the text as the resident wrote it; the backend replaces personal data before anything
is kept (12.1). The message is named by a hash of the conversation and message ids, so that a retried
turn, or a second reason, keeps it once and nothing in the queue names the resident.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Sequence
from typing import Any

from rasa_sdk import Tracker

from actions.backend import BackendClient, BackendError
from actions.handoff import misunderstood_before, readings

log = logging.getLogger(__name__)

# What a resident writes to say the bot misread the previous message.
CORRECTION = re.compile(
    r"不是这个意思|不是这意思|不是那个意思|我说的是|我问的是|我说的不是|我不是问|我不是说|不是问这个|不是说这个|"
    r"理解错|搞错了|弄错了|答非所问|你没懂|没听懂我|没明白我|牛头不对马嘴|文不对题|驴唇不对马嘴"
)
# How many of the bot's readings, and of the turns before and after, go with a report.
READINGS = 5
TURNS_BEFORE = 4
TURNS_AFTER = 2
MAX_TURN_TEXT = 1000


def message_key(sender_id: str, message_id: str) -> str:
    """The name of one message in the queue: a hash, so the queue holds no openid."""
    return hashlib.sha256(f"{sender_id}\x1f{message_id}".encode()).hexdigest()


def conversation(tracker: Tracker) -> list[dict[str, Any]]:
    """The conversation as the bot now holds it, oldest first: the resident's messages (with their event)
    and the bot's texts. A message taken back (a chosen reading replaces the one it clarified) is gone, and
    a new session starts afresh."""
    held: list[dict[str, Any]] = []
    for event in tracker.events:
        kind = event.get("event")
        if kind == "user":
            held.append({"who": "resident", "text": str(event.get("text") or ""), "event": event})
        elif kind == "bot" and event.get("text"):
            held.append({"who": "bot", "text": str(event["text"])})
        elif kind == "rewind":
            last = max((i for i, entry in enumerate(held) if entry["who"] == "resident"), default=None)
            if last is not None:
                held = held[:last]
        elif kind in ("restart", "session_started"):
            held = []
    return held


def _typed(entry: dict[str, Any]) -> bool:
    """A message the resident typed (or spoke), not a button's payload or a system's intent."""
    text = entry["text"].strip()
    return entry["who"] == "resident" and bool(text) and not text.startswith("/")


def _intent(entry: dict[str, Any]) -> str | None:
    parse = entry["event"].get("parse_data") or {}
    name = (parse.get("intent") or {}).get("name")
    return str(name) if name else None


def _report(
    sender_id: str, held: list[dict[str, Any]], index: int, reason: str, chosen: str | None = None
) -> dict[str, Any] | None:
    entry = held[index]
    message_id = entry["event"].get("message_id")
    if not message_id:
        return None
    parse = entry["event"].get("parse_data") or {}
    ranking = [
        {"name": str(r["name"]), "confidence": round(min(max(float(r.get("confidence") or 0.0), 0.0), 1.0), 4)}
        for r in parse.get("intent_ranking") or []
        if r.get("name") and r.get("name") != "nlu_fallback"
    ][:READINGS]
    around = held[max(0, index - TURNS_BEFORE) : index] + held[index + 1 : index + 1 + TURNS_AFTER]
    report: dict[str, Any] = {
        "message_key": message_key(sender_id, str(message_id)),
        "text": entry["text"][:4000],
        "reason": reason,
        "predicted": ranking,
        "context": [
            {"who": turn["who"], "text": turn["text"][:MAX_TURN_TEXT]} for turn in around if turn["text"].strip()
        ],
    }
    if chosen:
        report["chosen"] = chosen
    return report


def reports_for(next_action: str, tracker: Tracker) -> list[dict[str, Any]]:
    """The messages to report, given the action Rasa is about to run in this conversation."""
    held = conversation(tracker)
    residents = [i for i, entry in enumerate(held) if entry["who"] == "resident"]
    if not residents:
        return []
    latest = residents[-1]
    found: list[tuple[int, str, str | None]] = []
    if next_action == "action_fallback":
        asked = bool(readings(tracker)) and not misunderstood_before(tracker)
        found.append((latest, "clarified" if asked else "fallback", None))
    elif next_action == "action_default_fallback":
        found.append((latest, "fallback", None))
    elif next_action == "action_out_of_scope":
        found.append((latest, "out_of_scope", None))
    elif next_action == "action_handoff":
        found += [(i, "handoff", None) for i in residents[-2:] if _intent(held[i]) != "request_human"]
    elif next_action == "action_take_reading" and len(residents) >= 2:
        chosen = next(tracker.get_latest_entity_values("reading"), None)
        found.append((residents[-2], "clarified", str(chosen) if chosen else None))
    if len(residents) >= 2 and _typed(held[latest]) and CORRECTION.search(held[latest]["text"]):
        found.append((residents[-2], "corrected", None))
    reports, seen = [], set()
    for index, reason, chosen in found:
        if index in seen or not _typed(held[index]):
            continue
        seen.add(index)
        report = _report(tracker.sender_id, held, index, reason, chosen)
        if report is not None:
            reports.append(report)
    return reports


class ReviewReporter:
    """Sends reports in the background, so that no action waits for the review queue; a backend that is
    down is retried (the client's backoff), and a report that still fails is logged, not silently lost."""

    def __init__(self, client: BackendClient | None = None):
        self._client = client
        self._sending: set[asyncio.Task[None]] = set()

    def observe(self, next_action: str, tracker: Tracker) -> None:
        """Report what this action call shows the bot was unsure of. Never fails the action call."""
        try:
            reports = reports_for(next_action, tracker)
        except Exception:  # noqa: BLE001 - a malformed tracker must not fail the action itself
            log.exception("could not read the conversation for the review queue")
            return
        if reports:
            task = asyncio.get_running_loop().create_task(self.send(reports))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def send(self, reports: Sequence[dict[str, Any]]) -> None:
        client = self._client or BackendClient.from_env()
        for report in reports:
            try:
                await client.report_for_review(report)
            except BackendError as exc:
                log.warning("a message for the review queue (%s) was not kept: %s", report["reason"], exc)

    async def drain(self) -> None:
        """Wait for the reports under way (tests, and a clean shutdown)."""
        while self._sending:
            await asyncio.gather(*list(self._sending), return_exceptions=True)
