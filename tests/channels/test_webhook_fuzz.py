"""The webhook under generated input: correctly signed pushes whose bodies are anything at all.

Whatever the body, the answer is a 2xx or a 4xx (never an exception, never a 500), and a passive reply
is well-formed XML that the platform can read.
"""

from __future__ import annotations

import asyncio
import tempfile
import xml.etree.ElementTree as ET  # parses our own replies, not untrusted input
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.delivery import Outbox
from channels.state import MemoryState
from tests.channels.conftest import NOW, Clock, FakeBot, migrated_channel_store, platform_args
from tests.channels.test_wechat import make_webhook
from tests.webhook_pushes import TEXTS, pushes

# One outbox file for every generated example (a file: each connection of the outbox sees it).
_OUTBOX = Outbox(migrated_channel_store(f"sqlite:///{Path(tempfile.mkdtemp()) / 'fuzz.sqlite3'}"), clock=Clock())


def answer(body: bytes, bot: FakeBot) -> tuple[int, str]:
    webhook = make_webhook(Clock(), _OUTBOX, state=MemoryState())
    reply = asyncio.run(webhook.receive(platform_args(), body, bot))
    return reply.status, reply.body


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(body=pushes(NOW), answer_text=TEXTS)
def test_any_signed_push_is_answered_and_a_reply_is_readable_xml(body: bytes, answer_text: str) -> None:
    status, text = answer(body, FakeBot([answer_text or "好"]))
    assert status in (200, 400, 403, 413)
    if status == 200 and text.startswith("<xml>"):
        reply = ET.fromstring(text)
        assert reply.findtext("MsgType") == "text"


@settings(max_examples=100, deadline=None, derandomize=True)
@given(body=st.binary(max_size=2000))
def test_any_signed_bytes_are_a_4xx_or_an_answer(body: bytes) -> None:
    status, _ = answer(body, FakeBot(["好"]))
    assert status in (200, 400, 403, 413)
