"""The chat page's live updates (server-sent events) over real HTTP: streams hold no database connection
or worker thread between their looks, so more streams than the pool has connections leave the backend
answering; each member of staff holds a few at most; a stream ends at logout and when the login expires."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from api.console.chats import ChatLook
from api.console.live import GONE
from api.models import Handoff
from api.settings import Settings
from tests.api.conftest import Browser, FakeOutbound, FixedClock
from tests.api.live_server import Stream, eventually, serving
from tests.api.test_console import open_handoff


@contextmanager
def desk_of(base_url: str, member: Browser) -> Iterator[httpx.Client]:
    """An HTTP client of the live server carrying a logged-in member of staff's cookie."""
    cookie = member.client.cookies.get("hs_console")
    with httpx.Client(base_url=base_url, headers={"Cookie": f"hs_console={cookie}"}, timeout=20) as client:
        yield client


def test_more_streams_than_connections_leave_health_and_pages_answering(
    make_client: Callable[..., TestClient], client: TestClient, auth: dict, browser: Callable[[str], Browser]
) -> None:
    # A pool of two connections, which three of the old streams would have held for five minutes; the
    # next look of each stream is an hour away, so all twelve sit between looks while the others ask.
    app = make_client(
        database_pool_size=2,
        database_max_overflow=0,
        database_pool_timeout_seconds=2,
        console_stream_workers=1,
        console_stream_poll_seconds=3600,
        console_streams_per_staff=4,
    ).app
    handoff_id = open_handoff(client, auth)
    members = [browser("agent") for _ in range(3)]
    with serving(app) as url, ExitStack() as open_streams:  # type: ignore[arg-type]
        desks = [open_streams.enter_context(desk_of(url, member)) for member in members]
        for desk in desks:
            for _ in range(4):
                stream = Stream(desk, f"/console/chats/{handoff_id}/stream")
                open_streams.callback(stream.close)
                assert stream.status_code == 200
                stream.read_until("retry:")  # its first look is done
        live = app.state.live_streams  # type: ignore[attr-defined]
        assert sum(live.open.values()) == 12
        # what the open streams hold between looks: no connection, no worker thread
        assert app.state.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        assert live.limiter.borrowed_tokens == 0
        assert httpx.get(url + "/health", timeout=20).status_code == 200
        page = desks[0].get("/console/chats")
        assert page.status_code == 200 and "等待接入" in page.text


def test_each_member_of_staff_holds_a_few_streams_and_the_next_is_refused(
    make_client: Callable[..., TestClient], client: TestClient, auth: dict, browser: Callable[[str], Browser]
) -> None:
    app = make_client(console_streams_per_staff=2, console_stream_poll_seconds=3600).app
    handoff_id = open_handoff(client, auth)
    first, second = browser("agent"), browser("agent")
    live = app.state.live_streams  # type: ignore[attr-defined]
    with serving(app) as url, desk_of(url, first) as desk, desk_of(url, second) as other:  # type: ignore[arg-type]
        path = f"/console/chats/{handoff_id}/stream"
        opened = [Stream(desk, path) for _ in range(2)]
        for stream in opened:
            stream.read_until("retry:")
        refused = desk.get(path)
        assert refused.status_code == 429
        assert "每人最多 2 个" in refused.text and "请关闭不用的会话页面" in refused.text
        others = Stream(other, path)  # someone else's streams are counted apart
        assert others.status_code == 200
        others.read_until("retry:")
        # the oldest streams went on: closing one makes room again
        opened[0].close()
        eventually(lambda: live.open["staff:agent1"] == 1, "the closed stream is no longer counted")
        again = Stream(desk, path)
        assert again.status_code == 200
        again.read_until("retry:")


@pytest.mark.parametrize("ending", ["logout", "expiry"])
def test_a_stream_ends_when_its_login_ends(
    make_client: Callable[..., TestClient],
    client: TestClient,
    auth: dict,
    browser: Callable[[str], Browser],
    clock: FixedClock,
    ending: str,
) -> None:
    app = make_client(console_stream_poll_seconds=0.05).app
    handoff_id = open_handoff(client, auth)
    member = browser("agent")
    with serving(app) as url, desk_of(url, member) as desk:  # type: ignore[arg-type]
        stream = Stream(desk, f"/console/chats/{handoff_id}/stream")
        stream.read_until("retry:")
        stream.read_until(": keep-alive")  # a look after the first: the login was still good
        if ending == "logout":
            assert member.post("/console/logout", htmx=False).status_code == 303
        else:
            clock.advance(hours=12, seconds=1)
        ended = stream.read_until("event: ended")
        assert stream.rest()[0] == "data: 登录已失效，本页已停止实时更新。请重新登录。"
        assert "event: changed" not in ended
        assert app.state.live_streams.open == {}  # type: ignore[attr-defined]
        assert desk.get(f"/console/chats/{handoff_id}/stream", follow_redirects=False).status_code == 303


@pytest.fixture
def watching(
    make_client: Callable[..., TestClient], client: TestClient, auth: dict, browser: Callable[[str], Browser]
) -> Callable[..., AbstractContextManager[Stream]]:
    """Opens an agent's stream of a waiting chat (of oCHAT) on a live server of an app with these settings."""

    @contextmanager
    def watch(**settings: object) -> Iterator[Stream]:
        app = make_client(**settings).app
        handoff_id = open_handoff(client, auth)
        with serving(app) as url, desk_of(url, browser("agent")) as desk:  # type: ignore[arg-type]
            stream = Stream(desk, f"/console/chats/{handoff_id}/stream")
            yield stream
            stream.close()

    return watch


def test_a_stream_says_changed_when_the_resident_writes(
    watching: Callable[..., AbstractContextManager[Stream]], outbound: FakeOutbound
) -> None:
    with watching(console_stream_poll_seconds=0.05) as stream:
        stream.read_until(": keep-alive")
        # the channel records the resident's message first, then hands it to the bot, which keeps it
        outbound.windows["oCHAT"] = {"last_inbound_at": 1_796_000_100.0, "open": True}
        stream.read_until("event: changed")
        outbound.trackers.setdefault("oCHAT", []).append(
            {"event": "user", "text": "暖气还是不热", "timestamp": 1_796_000_100.0, "metadata": {}}
        )
        stream.read_until("event: changed")
        # a message written to the conversation alone is found too, by the look that reads it in any case
        outbound.trackers["oCHAT"].append({"event": "user", "text": "在吗", "timestamp": 1_796_000_160.0})
        stream.read_until("event: changed")


def test_a_stream_of_a_chat_that_is_gone_ends_and_says_so(
    watching: Callable[..., AbstractContextManager[Stream]], client: TestClient
) -> None:
    with watching(console_stream_poll_seconds=0.05) as stream:
        stream.read_until(": keep-alive")
        with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
            session.execute(delete(Handoff))  # as a resident's erasure removes their chats
            session.commit()
        stream.read_until("event: ended")
        assert stream.rest() == [f"data: {GONE}", ""]


def test_an_idle_stream_reads_the_whole_conversation_only_now_and_then(
    watching: Callable[..., AbstractContextManager[Stream]], outbound: FakeOutbound
) -> None:
    """Each look reads the channel's outbox (cheap); Rasa's tracker (the whole conversation) only on
    the first looks and every tenth after, while nothing changes."""
    with watching(console_stream_poll_seconds=0.01) as stream:
        for _ in range(40):
            stream.read_until(": keep-alive")
    looks = len([path for path in outbound.channel_calls if path.endswith("/outbox")])
    conversation_reads = len([c for c in outbound.rasa_calls if c["path"].endswith("/oCHAT/tracker")])
    assert looks >= 41
    first_looks = 1 + ChatLook.SETTLING_LOOKS
    assert conversation_reads <= first_looks + looks // ChatLook.FULL_LOOK_EVERY
    assert conversation_reads >= first_looks + 3  # the reads in any case went on


def test_the_streams_may_not_be_given_the_whole_pool() -> None:
    with pytest.raises(ValueError, match="CONSOLE_STREAM_WORKERS must be smaller"):
        Settings(database_pool_size=2, database_max_overflow=0, console_stream_workers=2)
    assert Settings().console_stream_workers < Settings().database_pool_size


# --- the top bar of every page --------------------------------------------------------------------------


def test_the_top_bar_stream_says_bar_for_new_work_and_not_for_others_chats(
    make_client: Callable[..., TestClient],
    client: TestClient,
    auth: dict,
    browser: Callable[[str], Browser],
    outbound: FakeOutbound,
) -> None:
    """A chat starts waiting; the agent takes it; its resident writes: each is ``bar``. A resident of
    a chat nobody took writing again is not this agent's news."""
    app = make_client(console_stream_poll_seconds=0.05).app
    member = browser("agent")
    with serving(app) as url, desk_of(url, member) as desk:  # type: ignore[arg-type]
        stream = Stream(desk, "/console/alerts/stream")
        assert stream.status_code == 200
        stream.read_until(": keep-alive")
        handoff_id = open_handoff(client, auth)
        stream.read_until("event: bar")
        assert member.post(f"/console/chats/{handoff_id}/take").status_code == 200
        stream.read_until("event: bar")
        outbound.windows["oCHAT"] = {"last_inbound_at": 1_796_000_100.0, "open": True}
        stream.read_until("event: bar")
        outbound.windows["oSOMEONE"] = {"last_inbound_at": 1_796_000_200.0, "open": True}
        quiet = stream.read_until(": keep-alive") + stream.read_until(": keep-alive")
        assert "event: bar" not in quiet
        shown = member.get("/console/alerts").text
        assert 'data-waiting="0"' in shown and 'data-heard="1796000100.0"' in shown
        stream.close()


def test_a_chat_pages_one_stream_carries_the_top_bar_too(
    watching: Callable[..., AbstractContextManager[Stream]], client: TestClient, auth: dict
) -> None:
    """A browser holds six connections to a server: a page holds one stream, never two."""
    with watching(console_stream_poll_seconds=0.05) as stream:
        stream.read_until(": keep-alive")
        open_handoff(client, auth, openid="oOTHER")  # another chat starts waiting: the bar, not this chat
        seen = stream.read_until("event: bar")
        assert "event: changed" not in seen


def test_the_top_bar_streams_are_counted_with_the_chat_pages(
    make_client: Callable[..., TestClient], client: TestClient, auth: dict, browser: Callable[[str], Browser]
) -> None:
    app = make_client(console_streams_per_staff=2, console_stream_poll_seconds=3600).app
    handoff_id = open_handoff(client, auth)
    with serving(app) as url, desk_of(url, browser("agent")) as desk:  # type: ignore[arg-type]
        chat = Stream(desk, f"/console/chats/{handoff_id}/stream")
        top = Stream(desk, "/console/alerts/stream")
        assert (chat.status_code, top.status_code) == (200, 200)
        assert desk.get("/console/alerts/stream").status_code == 429  # a third page: it polls instead
        chat.close()
        top.close()


def test_the_top_bar_names_what_it_cannot_know(
    client: TestClient, auth: dict, browser: Callable[[str], Browser], outbound: FakeOutbound
) -> None:
    """No chat held: nothing heard yet (0); the channel down: unknown (empty), never a made-up time."""
    member = browser("agent")
    assert 'data-heard="0.0"' in member.get("/console/alerts").text
    handoff_id = open_handoff(client, auth)
    member.post(f"/console/chats/{handoff_id}/take")
    outbound.channel_up = False
    shown = member.get("/console/alerts").text
    assert 'data-heard=""' in shown and 'data-waiting="0"' in shown
