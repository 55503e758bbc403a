"""What the action server reports to the review queue (actions/review.py): the messages the bot was unsure
of, seen from the action Rasa is about to run, and through the running action server."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from rasa_sdk import Tracker
from sanic import Sanic

from actions.review import ReviewReporter, message_key, reports_for
from actions.server import build_app
from bot.settings import BotSettings
from tests.actions.fake_backend import FakeBackend

SENDER = "oRESIDENT0001"


def said(text: str, intent: str, message_id: str, ranking: list[tuple[str, float]] = (), **entities: str) -> dict:
    parse = {
        "text": text,
        "intent": {"name": intent, "confidence": ranking[0][1] if ranking else 0.9},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        "entities": [{"entity": k, "value": v} for k, v in entities.items()],
        "message_id": message_id,
    }
    return {"event": "user", "text": text, "parse_data": parse, "message_id": message_id}


def bot(text: str) -> dict:
    return {"event": "bot", "text": text}


def acted(name: str) -> dict:
    return {"event": "action", "name": name}


def tracker_of(*events: dict) -> Tracker:
    latest = next(e for e in reversed(events) if e["event"] == "user")
    return Tracker(SENDER, {}, latest["parse_data"], list(events), False, None, {}, "action_listen")


UNSURE = [("ask_refund", 0.42), ("ask_fee_reduction", 0.31), ("nlu_fallback", 0.6), ("greet", 0.01)]


def test_a_message_the_bot_asks_about_is_reported_with_its_readings_and_turns() -> None:
    tracker = tracker_of(
        said("你好", "greet", "m0"),
        bot("您好，我是供热服务助手"),
        said("屋里冷交的钱能不能少点", "nlu_fallback", "m1", UNSURE),
    )
    (report,) = reports_for("action_fallback", tracker)
    assert report == {
        "message_key": message_key(SENDER, "m1"),
        "text": "屋里冷交的钱能不能少点",
        "reason": "clarified",
        "predicted": [
            {"name": "ask_refund", "confidence": 0.42},
            {"name": "ask_fee_reduction", "confidence": 0.31},
            {"name": "greet", "confidence": 0.01},
        ],
        "context": [{"who": "resident", "text": "你好"}, {"who": "bot", "text": "您好，我是供热服务助手"}],
    }
    assert SENDER not in report["message_key"] and len(report["message_key"]) == 64


def test_what_the_bot_did_not_understand_is_reported_as_such() -> None:
    nothing_likely = tracker_of(said("嗯嗯嗯啊", "nlu_fallback", "m1", [("nlu_fallback", 0.7), ("greet", 0.05)]))
    assert [r["reason"] for r in reports_for("action_fallback", nothing_likely)] == ["fallback"]
    assert [r["reason"] for r in reports_for("action_default_fallback", nothing_likely)] == ["fallback"]
    # the second misunderstanding in a row goes to a person: no question is asked, the message fell back
    twice = tracker_of(
        said("啥玩意儿", "nlu_fallback", "m1", UNSURE),
        acted("action_fallback"),
        {"event": "slot", "name": "misunderstood", "value": True},
        said("那个那个", "nlu_fallback", "m2", UNSURE),
    )
    assert [(r["text"], r["reason"]) for r in reports_for("action_fallback", twice)] == [("那个那个", "fallback")]


def test_out_of_scope_and_messages_before_a_handover_are_reported() -> None:
    tracker = tracker_of(said("你们公司股票怎么样", "out_of_scope", "m1", [("out_of_scope", 0.8)]))
    assert [r["reason"] for r in reports_for("action_out_of_scope", tracker)] == ["out_of_scope"]
    handover = tracker_of(
        said("暖气片咕噜咕噜的", "request_repair", "m1", [("request_repair", 0.7)]),
        bot("请问您的地址？"),
        said("我说不清楚", "inform", "m2", [("inform", 0.5)]),
        bot("请问您的地址？"),
        said("转人工", "request_human", "m3", [("request_human", 0.99)]),
    )
    reported = reports_for("action_handoff", handover)
    assert [(r["text"], r["reason"]) for r in reported] == [("我说不清楚", "handoff")]
    angry = tracker_of(said("暖气片咕噜咕噜的", "request_repair", "m1"), said("气死我了", "complain_service", "m2"))
    assert [r["text"] for r in reports_for("action_handoff", angry)] == ["暖气片咕噜咕噜的", "气死我了"]


def test_a_correction_reports_the_message_it_corrects() -> None:
    tracker = tracker_of(
        said("我想问下热费", "ask_payment", "m1", [("ask_payment", 0.8)]),
        bot("暖气费可以在微信、营业厅缴纳……"),
        said("不是这个意思，我说的是退费", "ask_refund", "m2", [("ask_refund", 0.9)]),
    )
    (report,) = reports_for("action_answer_question", tracker)
    assert report["text"] == "我想问下热费" and report["reason"] == "corrected"
    assert report["context"][-1] == {"who": "resident", "text": "不是这个意思，我说的是退费"}
    # a message that only says what the bot understood is not a correction
    plain = tracker_of(said("我想问下热费", "ask_payment", "m1"), said("我是说怎么交", "ask_payment", "m2"))
    assert reports_for("action_answer_question", plain) == []


def test_the_reading_a_resident_chose_goes_with_the_message_it_clarified() -> None:
    tracker = tracker_of(
        said("屋里冷交的钱能不能少点", "nlu_fallback", "m1", UNSURE),
        acted("action_fallback"),
        bot("您是想问：1. 退费 2. 室温不达标能否减收热费"),
        said('/choose_reading{"reading": "ask_fee_reduction"}', "choose_reading", "m2", reading="ask_fee_reduction"),
    )
    (report,) = reports_for("action_take_reading", tracker)
    assert (report["text"], report["reason"], report["chosen"]) == (
        "屋里冷交的钱能不能少点",
        "clarified",
        "ask_fee_reduction",
    )


def test_buttons_and_messages_taken_back_are_never_reported() -> None:
    pressed = tracker_of(said("/request_human", "request_human", "m1"), said("/request_human", "request_human", "m2"))
    assert reports_for("action_handoff", pressed) == []
    taken_back = tracker_of(
        said("屋里冷", "nlu_fallback", "m1", UNSURE),
        said("/choose_reading", "choose_reading", "m2"),
        {"event": "rewind"},
        {"event": "rewind"},
        # said again as the chosen reading, under the choice's id, naming the message it clarified
        {
            **said("屋里冷", "complain_room_temperature", "m2", [("complain_room_temperature", 1.0)]),
            "metadata": {"said_again_of": "m1"},
        },
        said("我说的是屋里冷", "nlu_fallback", "m3", UNSURE),
    )
    reported = reports_for("action_fallback", taken_back)
    assert [(r["text"], r["reason"]) for r in reported] == [("我说的是屋里冷", "clarified"), ("屋里冷", "corrected")]
    assert [r["message_key"] for r in reported][1] == message_key(SENDER, "m1")


def test_answers_to_a_forms_question_are_not_reported() -> None:
    """An address or a phone number given when the form asked for it is not what the bot misread, and
    would carry a household's data into the queue."""
    asked = {"event": "slot", "name": "requested_slot", "value": "address"}
    handover = tracker_of(
        said("暖气阀门坏了", "request_repair", "m1", [("request_repair", 0.9)]),
        asked,
        bot("请问您的地址？"),
        said("阳光小区3号楼2单元501", "inform", "m2", [("inform", 0.8)]),
        said("转人工", "request_human", "m3", [("request_human", 0.99)]),
    )
    assert [r["text"] for r in reports_for("action_handoff", handover)] == []
    corrected = tracker_of(
        said("暖气阀门坏了", "request_repair", "m1"),
        asked,
        said("我说的是5号楼", "inform", "m2"),
        said("不是这个意思", "deny", "m3"),
    )
    assert reports_for("action_default_fallback", corrected)[0]["text"] == "不是这个意思"
    assert [r["reason"] for r in reports_for("action_default_fallback", corrected)] == ["fallback"]
    # once the form is done, the next message is the resident's own again
    done = tracker_of(
        said("暖气阀门坏了", "request_repair", "m1"),
        asked,
        said("阳光小区3号楼2单元501", "inform", "m2"),
        {"event": "active_loop", "name": None},
        said("咕噜咕噜的声音", "nlu_fallback", "m3", UNSURE),
        said("转人工", "request_human", "m4"),
    )
    assert [r["text"] for r in reports_for("action_handoff", done)] == ["咕噜咕噜的声音"]


def test_one_conversation_reports_at_most_thirty_messages_an_hour() -> None:
    now = [0.0]
    reporter = ReviewReporter(clock=lambda: now[0])
    one = [{"reason": "fallback"}]
    kept = sum(len(reporter._allowed("oNOISY", one)) for _ in range(40))
    assert kept == ReviewReporter.PER_CONVERSATION == 30
    assert reporter._allowed("oOTHER", one) == one  # another resident is not held back
    now[0] += 3601
    assert reporter._allowed("oNOISY", one) == one


# --- through the running action server --------------------------------------------------------------


@pytest_asyncio.fixture
async def action_server(backend: FakeBackend, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[str, Any]]:
    monkeypatch.setattr(Sanic, "test_mode", True)  # one app per test, under the SDK's one name
    settings = BotSettings.from_env({"APP_ENV": "test", "API_TOKEN": backend.token, "ACTION_SERVER_TOKEN": "t0ken"})
    app = build_app(settings, retry_loop_enabled=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    yield f"http://127.0.0.1:{port}", app
    server.close()
    await server.wait_closed()


def call(next_action: str, tracker: Tracker) -> dict[str, Any]:
    return {
        "next_action": next_action,
        "sender_id": SENDER,
        "tracker": tracker.current_state(),
        "domain": {"responses": {}},
        "version": "3.6.2",
    }


@pytest.mark.asyncio
async def test_the_action_server_answers_and_reports_in_the_background(
    action_server: tuple[str, Any], backend: FakeBackend
) -> None:
    url, app = action_server
    tracker = tracker_of(said("你们公司股票怎么样", "out_of_scope", "m1", [("out_of_scope", 0.8)]))
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{url}/webhook", json=call("action_out_of_scope", tracker), headers={"Authorization": "Bearer t0ken"}
        ) as resp,
    ):
        assert resp.status == 200
        answer = await resp.json()
    assert [m["response"] for m in answer["responses"]] == ["utter_out_of_scope"]
    await app.ctx.review_reporter.drain()
    assert [(r["text"], r["reason"]) for r in backend.review_reports] == [("你们公司股票怎么样", "out_of_scope")]


@pytest.mark.asyncio
async def test_a_call_without_the_token_reports_nothing(action_server: tuple[str, Any], backend: FakeBackend) -> None:
    url, app = action_server
    tracker = tracker_of(said("你们公司股票怎么样", "out_of_scope", "m1"))
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/webhook", json=call("action_out_of_scope", tracker)) as resp,
    ):
        assert resp.status == 401
    await app.ctx.review_reporter.drain()
    assert backend.review_reports == []


@pytest.mark.asyncio
async def test_a_backend_that_stays_down_loses_the_report_loudly_not_the_answer(
    action_server: tuple[str, Any], backend: FakeBackend, caplog: pytest.LogCaptureFixture
) -> None:
    url, app = action_server
    backend.fail_next = 10  # more than the client's retries
    tracker = tracker_of(said("啥玩意儿", "nlu_fallback", "m1", [("nlu_fallback", 0.7)]))
    with caplog.at_level(logging.WARNING, logger="actions.review"):
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{url}/webhook",
                json=call("action_default_fallback", tracker),
                headers={"Authorization": "Bearer t0ken"},
            ) as resp,
        ):
            assert resp.status == 200
        await app.ctx.review_reporter.drain()
    assert backend.review_reports == []
    assert sum(r["path"] == "/api/v1/review-items" for r in backend.requests) == 3  # API_RETRIES
    assert "a message for the review queue (fallback) was not kept" in caplog.text
