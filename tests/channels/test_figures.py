"""The bot's own figures per Beijing day, counted from the tracker store (channels/figures.py), on SQLite
and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import AwaitableTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ConversationPaused, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import stores
from channels.erasure import StoreCannotErase
from channels.figures import daily_figures
from heating_standard.localtime import LOCAL_TZ


def at(text: str) -> float:
    """A Beijing time as a Unix time."""
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ).timestamp()


def said(text: str, intent: str, when: str) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 0.9}, timestamp=at(when))


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AwaitableTrackerStore]:
    if request.param == "sqlite":
        path = tmp_path / "trackers.sqlite3"
        stores.upgrade("tracker", f"sqlite:///{path}")
        yield AwaitableTrackerStore(SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path)))
        return
    base = sa.engine.make_url(os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    name = f"figures_{uuid.uuid4().hex[:10]}"
    try:
        stores.upgrade("tracker", base.set(database=name).render_as_string(hide_password=False))
    except sa.exc.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and not reachable: {exc}")
        pytest.skip("PostgreSQL not reachable")
    store = SQLTrackerStore(
        Domain.empty(), dialect="postgresql", host=base.host, port=base.port, db=name, username=base.username
    )
    yield AwaitableTrackerStore(store)
    store.engine.dispose()
    server = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with server.connect() as db:
        db.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    server.dispose()


def asked(when: str) -> list[Any]:
    """The bot asks which reading was meant: action_fallback with the clarifying slot set."""
    return [
        ActionExecuted("action_fallback", timestamp=at(when)),
        SlotSet("clarifying", {"text": "…", "offered": ["ask_refund"]}, timestamp=at(when)),
    ]


async def test_each_beijing_day_counts_its_own_messages(tracker_store: AwaitableTrackerStore) -> None:
    first = DialogueStateTracker.from_events(
        "oONE",
        [
            # 5 December, Beijing time (the evening of the 4th in UTC)
            said("你好", "greet", "2026-12-05T00:30:00"),
            said("屋里冷交的钱能不能少点", "nlu_fallback", "2026-12-05T00:31:00"),
            *asked("2026-12-05T00:31:01"),
            said("/choose_reading", "choose_reading", "2026-12-05T00:32:00"),  # a button: not a message
            SlotSet("clarifying", None, timestamp=at("2026-12-05T00:32:01")),  # the question answered
            # the clarified message said again as the chosen reading: counted when it was written
            UserUttered(
                "屋里冷交的钱能不能少点",
                {"name": "ask_fee_reduction", "confidence": 1.0},
                timestamp=at("2026-12-05T00:32:02"),
                metadata={"said_again_of": "m1"},
            ),
            said("/request_human", "request_human", "2026-12-05T00:40:00"),  # "都不是，转人工"
            said("绑定 AB12-CD34", "bind_grid_worker", "2026-12-05T00:50:00"),
            said("嗯嗯啊啊", "nlu_fallback", "2026-12-05T23:59:00"),
            ActionExecuted("action_fallback", timestamp=at("2026-12-05T23:59:01")),  # "没有理解"
            # 6 December
            said("你们公司股票怎么样", "out_of_scope", "2026-12-06T00:00:00"),
            said("转人工", "request_human", "2026-12-06T08:00:00"),
            ConversationPaused(timestamp=at("2026-12-06T08:00:01")),
            said("/EXTERNAL_outage_notice", "EXTERNAL_outage_notice", "2026-12-06T09:00:00"),
        ],
    )
    second = DialogueStateTracker.from_events(
        "oTWO",
        [
            said("暖气不热", "complain_room_temperature", "2026-12-06T10:00:00"),
            # a confident intent no rule answers here: Rasa's core fallback, "没有理解"
            said("明天几点来", "query_work_order", "2026-12-06T10:01:00"),
            ActionExecuted("action_default_fallback", timestamp=at("2026-12-06T10:01:01")),
            said("三天后的话", "greet", "2026-12-09T10:00:00"),  # outside the days asked for
        ],
    )
    for tracker in (first, second):
        await tracker_store.save(tracker)
    days = daily_figures(tracker_store, date(2026, 12, 5), date(2026, 12, 7))
    assert days == [
        {
            "day": "2026-12-05",
            "messages": 3,
            "understood": 1,
            "unsure": 2,
            "clarified": 1,
            "not_understood": 1,
            "out_of_scope": 0,
            "handed_over": 0,
        },
        {
            "day": "2026-12-06",
            "messages": 4,
            "understood": 2,
            "unsure": 0,
            "clarified": 0,
            "not_understood": 1,
            "out_of_scope": 1,
            "handed_over": 1,
        },
        {
            "day": "2026-12-07",
            "messages": 0,
            "understood": 0,
            "unsure": 0,
            "clarified": 0,
            "not_understood": 0,
            "out_of_scope": 0,
            "handed_over": 0,
        },
    ]


def test_a_store_without_sql_has_no_figures() -> None:
    with pytest.raises(StoreCannotErase):
        daily_figures(object(), date(2026, 12, 5), date(2026, 12, 6))
