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
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from rasa_sdk import Tracker

from actions.backend import BackendClient, BackendError
from actions.handoff import SAID_AGAIN_OF, misunderstood_before, readings
from heating_standard.privacy import message_key

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


def conversation(tracker: Tracker) -> list[dict[str, Any]]:
    """The conversation as the bot now holds it, oldest first: the resident's messages (with their event,
    and whether they answered a question of a form) and the bot's texts. A message taken back (a chosen
    reading replaces the one it clarified) is gone, and a new session starts afresh."""
    held: list[dict[str, Any]] = []
    asked = False  # a form's question waits for its answer
    for event in tracker.events:
        kind = event.get("event")
        if kind == "user":
            held.append({"who": "resident", "text": str(event.get("text") or ""), "event": event, "answer": asked})
        elif kind == "bot" and event.get("text"):
            held.append({"who": "bot", "text": str(event["text"])})
        elif kind == "slot" and event.get("name") == "requested_slot":
            asked = bool(event.get("value"))
        elif kind == "active_loop" and not event.get("name"):
            asked = False
        elif kind == "rewind":
            last = max((i for i, entry in enumerate(held) if entry["who"] == "resident"), default=None)
            if last is not None:
                held = held[:last]
        elif kind in ("restart", "session_started"):
            held, asked = [], False
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
    # a message said again as the reading the resident chose is the message it clarified
    message_id = (entry["event"].get("metadata") or {}).get(SAID_AGAIN_OF) or entry["event"].get("message_id")
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
    found = _unsure_of(next_action, tracker, held, residents)
    corrects = _typed(held[latest]) and CORRECTION.search(held[latest]["text"])
    if len(residents) >= 2 and corrects and not held[residents[-2]]["answer"]:
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


def _unsure_of(
    next_action: str, tracker: Tracker, held: list[dict[str, Any]], residents: list[int]
) -> list[tuple[int, str, str | None]]:
    """The resident's messages ``next_action`` shows the bot was unsure of, with the reason (and the reading
    the resident chose, for a clarification answered)."""
    latest = residents[-1]
    if next_action == "action_fallback":
        asked = bool(readings(tracker)) and not misunderstood_before(tracker)
        return [(latest, "clarified" if asked else "fallback", None)]
    if next_action == "action_default_fallback":
        return [(latest, "fallback", None)]
    if next_action == "action_out_of_scope":
        return [(latest, "out_of_scope", None)]
    if next_action == "action_handoff":
        # an answer to a form's question (an address, a phone number) is not what the bot misread
        return [
            (i, "handoff", None)
            for i in residents[-2:]
            if _intent(held[i]) != "request_human" and not held[i]["answer"]
        ]
    if next_action == "action_take_reading" and len(residents) >= 2:
        chosen = next(tracker.get_latest_entity_values("reading"), None)
        return [(residents[-2], "clarified", str(chosen) if chosen else None)]
    return []


class ReviewReporter:
    """Sends reports in the background, so that no action waits for the review queue; a backend that is
    down is retried (the client's backoff), and a report that still fails is logged, not silently lost.
    One conversation reports at most PER_CONVERSATION messages an hour (in this process): a resident who
    writes nonsense on purpose does not fill the queue."""

    PER_CONVERSATION = 30
    WINDOW_SECONDS = 3600.0

    def __init__(self, client: BackendClient | None = None, clock: Callable[[], float] = time.monotonic):
        self._client = client
        self._clock = clock
        self._sending: set[asyncio.Task[None]] = set()
        self._recent: dict[str, deque[float]] = {}

    def observe(self, next_action: str, tracker_state: dict[str, Any]) -> None:
        """Report what this action call shows the bot was unsure of. Never fails the action call."""
        try:
            tracker = Tracker.from_dict(tracker_state)
            reports = self._allowed(tracker.sender_id, reports_for(next_action, tracker))
        except Exception:  # noqa: BLE001 - a malformed tracker must not fail the action itself
            log.exception("could not read the conversation for the review queue")
            return
        if reports:
            task = asyncio.get_running_loop().create_task(self.send(reports))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    def _allowed(self, sender_id: str, reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not reports:
            return reports
        now = self._clock()
        for sender in [s for s, times in self._recent.items() if times and times[-1] < now - self.WINDOW_SECONDS]:
            del self._recent[sender]  # conversations quiet for an hour are forgotten
        times = self._recent.setdefault(sender_id, deque())
        while times and times[0] < now - self.WINDOW_SECONDS:
            times.popleft()
        room = max(self.PER_CONVERSATION - len(times), 0)
        if room < len(reports):
            log.warning(
                "a conversation reached %d messages for review this hour; more are not kept", self.PER_CONVERSATION
            )
        times.extend([now] * min(room, len(reports)))
        return reports[:room]

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
