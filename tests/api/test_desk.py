"""The chat desk as a shift works it: who else is on a chat and typing, pushed to every open page; the
round robin that gives waiting chats to agents who are online and under their limit; each agent's load."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.models import Handoff, StaffAudit
from api.services import desk
from tests.api.conftest import Browser, FixedClock
from tests.api.live_server import Stream, serving
from tests.api.test_console import open_handoff
from tests.api.test_console_live import desk_of


def _session(client: TestClient):  # type: ignore[no-untyped-def]
    return client.app.state.session_factory()  # type: ignore[attr-defined]


def _on_desk(client: TestClient, clock: FixedClock, *names: str) -> None:
    """These members of staff have a console page open now (as their pages' streams say)."""
    with _session(client) as session:
        for name in names:
            desk.seen(session, f"staff:{name}", desk.DESK, clock())


def _round_robin(client: TestClient, supervisor: Browser, on: bool = True, limit: int = 2) -> None:
    answer = supervisor.post("/console/chats/settings", {"auto_assign": "1" if on else "", "chat_limit": str(limit)})
    assert answer.status_code == 200 and "已保存" in answer.text


def _given(client: TestClient) -> dict[int, str | None]:
    with _session(client) as session:
        return {h.id: h.assigned_to for h in session.scalars(select(Handoff).order_by(Handoff.id))}


# ------------------------------------------------------------------------------------------ presence


def test_a_colleague_on_the_same_chat_is_shown_and_so_is_their_typing(
    client: TestClient, auth: dict, browser: Callable[[str], Browser], clock: FixedClock
) -> None:
    handoff_id = open_handoff(client, auth)
    first, second = browser("agent"), browser("agent")  # 坐席甲1, 坐席甲2
    assert "同时在看" not in first.get(f"/console/chats/{handoff_id}/presence").text
    with _session(client) as session:
        desk.seen(session, "staff:agent2", handoff_id, clock())
    shown = first.get(f"/console/chats/{handoff_id}/presence").text
    assert "同时在看" in shown and "坐席甲2" in shown and "正在输入" not in shown
    assert "同时在看" not in second.get(f"/console/chats/{handoff_id}/presence").text  # not oneself
    assert second.post(f"/console/chats/{handoff_id}/typing").status_code == 204
    assert '坐席甲2</b><span class="typing">（正在输入…）' in first.get(f"/console/chats/{handoff_id}/presence").text
    clock.advance(seconds=desk.TYPING_SECONDS + 1)
    shown = first.get(f"/console/chats/{handoff_id}/presence").text
    assert "坐席甲2" in shown and "正在输入" not in shown  # stopped typing, still there
    clock.advance(seconds=desk.ONLINE_SECONDS)
    assert "同时在看" not in first.get(f"/console/chats/{handoff_id}/presence").text  # gone


def test_typing_needs_the_csrf_token_and_a_real_chat(
    client: TestClient, auth: dict, browser: Callable[[str], Browser]
) -> None:
    handoff_id = open_handoff(client, auth)
    agent = browser("agent")
    assert agent.post(f"/console/chats/{handoff_id}/typing", csrf=False).status_code == 403
    assert agent.post("/console/chats/999999/typing").status_code == 404


def test_a_look_writes_presence_at_most_every_few_seconds(client: TestClient, clock: FixedClock) -> None:
    """Every page looks each second; the table is written only when the last word is old enough."""
    with _session(client) as session:
        desk.seen(session, "staff:wang", 7, clock())
        first = desk.here(session, 7, clock())
        clock.advance(seconds=desk.SEEN_EVERY_SECONDS - 1)
        desk.seen(session, "staff:wang", 7, clock())
        session.expire_all()
        row = session.get(desk.StaffPresence, ("staff:wang", 7))
        assert row is not None and clock() - row.seen_at == timedelta(seconds=desk.SEEN_EVERY_SECONDS - 1)
        clock.advance(seconds=2)
        desk.seen(session, "staff:wang", 7, clock())
        session.expire_all()
        row = session.get(desk.StaffPresence, ("staff:wang", 7))
        assert row is not None and row.seen_at == clock()
    assert [h.staff for h in first] == ["staff:wang"]


def test_the_chat_stream_says_panel_when_a_colleague_takes_it_and_presence_when_one_arrives(
    make_client: Callable[..., TestClient], client: TestClient, auth: dict, browser: Callable[[str], Browser]
) -> None:
    app = make_client(console_stream_poll_seconds=0.05).app
    handoff_id = open_handoff(client, auth)
    watcher, colleague = browser("agent"), browser("agent")
    with serving(app) as url, desk_of(url, watcher) as page:  # type: ignore[arg-type]
        stream = Stream(page, f"/console/chats/{handoff_id}/stream")
        stream.read_until(": keep-alive")
        assert colleague.post(f"/console/chats/{handoff_id}/typing").status_code == 204
        seen = stream.read_until("event: presence")
        assert "event: panel" not in seen
        assert colleague.post(f"/console/chats/{handoff_id}/take").status_code == 200
        stream.read_until("event: panel")
        stream.close()
    panel = watcher.get(f"/console/chats/{handoff_id}/panel").text
    assert "接管人 坐席甲2" in panel and "接管会话 <kbd>" not in panel


# --------------------------------------------------------------------------------------- round robin


def test_the_round_robin_is_off_by_default(
    client: TestClient, auth: dict, browser: Callable[[str], Browser], clock: FixedClock
) -> None:
    browser("agent")
    _on_desk(client, clock, "agent1")
    open_handoff(client, auth)
    assert list(_given(client).values()) == [None]


def test_waiting_chats_go_to_online_agents_with_the_fewest_in_turn_up_to_the_limit(
    client: TestClient, auth: dict, browser: Callable[[str], Browser], clock: FixedClock
) -> None:
    boss = browser("supervisor")  # supervisor1: oversees, is given nothing
    browser("agent"), browser("agent"), browser("agent")  # agent2, agent3 online; agent4 is not
    _on_desk(client, clock, "supervisor1", "agent2", "agent3")
    _round_robin(client, boss, limit=2)
    for n in range(5):
        open_handoff(client, auth, openid=f"oR{n}")
        clock.advance(seconds=1)
    given = list(_given(client).values())
    # in turn, each at most 2; the fifth waits in the queue
    assert given == ["staff:agent2", "staff:agent3", "staff:agent2", "staff:agent3", None]
    page = boss.get("/console/chats", headers={"HX-Request": "true"}).text
    assert "坐席负载" in page and "2 / 2" in page and "离线" in page
    with _session(client) as session:
        audit = session.scalars(select(StaffAudit).where(StaffAudit.action == "handoff.auto_assign")).all()
        assert len(audit) == 4 and {a.actor for a in audit} == {"system"}


def test_an_agent_is_given_only_what_they_may_take_and_the_next_free_place_takes_the_queue(
    client: TestClient, auth: dict, browser: Callable[[str], Browser], clock: FixedClock
) -> None:
    boss, agent = browser("supervisor"), browser("agent")  # agent2
    _on_desk(client, clock, "agent2")
    _round_robin(client, boss, limit=1)
    first, second = open_handoff(client, auth, openid="oA"), open_handoff(client, auth, openid="oB")
    assert _given(client) == {first: "staff:agent2", second: None}
    assert agent.post(f"/console/chats/{first}/take").status_code == 200
    assert _given(client)[second] is None  # holding one: at the limit
    assert agent.post(f"/console/chats/{first}/close").status_code == 200
    assert _given(client)[second] == "staff:agent2"  # closing freed a place


def test_chats_given_to_an_agent_who_left_go_back_but_a_supervisors_choice_stays(
    client: TestClient, auth: dict, browser: Callable[[str], Browser], clock: FixedClock
) -> None:
    boss = browser("supervisor")
    browser("agent"), browser("agent")  # agent2, agent3
    _on_desk(client, clock, "agent2")
    _round_robin(client, boss, limit=5)
    auto = open_handoff(client, auth, openid="oA")
    chosen = open_handoff(client, auth, openid="oB")
    assert boss.post(f"/console/chats/{chosen}/assign", {"username": "agent2"}).status_code == 200
    assert _given(client) == {auto: "staff:agent2", chosen: "staff:agent2"}
    clock.advance(seconds=desk.ONLINE_SECONDS + 1)  # agent2 closed the laptop; agent3 arrives
    _on_desk(client, clock, "agent3")
    with _session(client) as session:
        assert desk.auto_assign(session, clock()) == 1
    assert _given(client) == {auto: "staff:agent3", chosen: "staff:agent2"}


def test_a_chat_the_round_robin_gave_out_may_be_taken_by_anyone_and_goes_on_if_untaken(
    client: TestClient, auth: dict, browser: Callable[[str], Browser], clock: FixedClock
) -> None:
    """The round robin only suggests: a colleague may take the chat, and one nobody took within
    TAKE_SECONDS goes to another agent on the desk (the one who let it go is passed over)."""
    boss, _, third = browser("supervisor"), browser("agent"), browser("agent")  # agent2, agent3
    _on_desk(client, clock, "agent2")
    _round_robin(client, boss, limit=3)
    first = open_handoff(client, auth, openid="oA")
    second = open_handoff(client, auth, openid="oB")
    assert _given(client) == {first: "staff:agent2", second: "staff:agent2"}
    assert third.post(f"/console/chats/{first}/take").status_code == 200  # not only agent2's
    clock.advance(seconds=desk.TAKE_SECONDS + 1)
    _on_desk(client, clock, "agent2", "agent3")
    with _session(client) as session:
        assert desk.auto_assign(session, clock()) == 1
    assert _given(client)[second] == "staff:agent3"  # agent2 let it wait: another agent has it now
    with _session(client) as session:
        released = session.scalars(select(StaffAudit).where(StaffAudit.action == "handoff.auto_release")).all()
        assert [(r.target, r.detail) for r in released] == [(f"handoff:{second}", "staff:agent2")]


def test_turning_the_round_robin_off_gives_its_chats_back_to_the_queue(
    client: TestClient, auth: dict, browser: Callable[[str], Browser], clock: FixedClock
) -> None:
    boss = browser("supervisor")
    browser("agent")
    _on_desk(client, clock, "agent2")
    _round_robin(client, boss)
    auto = open_handoff(client, auth, openid="oA")
    chosen = open_handoff(client, auth, openid="oB")
    assert boss.post(f"/console/chats/{chosen}/assign", {"username": "agent2"}).status_code == 200
    _round_robin(client, boss, on=False)
    assert _given(client) == {auto: None, chosen: "staff:agent2"}  # a supervisor's choice stays


def test_a_chat_taken_meanwhile_is_not_given_and_no_agent_passes_the_limit(
    client: TestClient, auth: dict, browser: Callable[[str], Browser], clock: FixedClock
) -> None:
    boss, agent = browser("supervisor"), browser("agent")  # agent2
    _round_robin(client, boss, limit=1)  # nobody online yet: nothing given
    taken, waiting = open_handoff(client, auth, openid="oA"), open_handoff(client, auth, openid="oB")
    assert agent.post(f"/console/chats/{taken}/take").status_code == 200
    with _session(client) as session:
        # as if the round robin had chosen both while the take was under way
        assert not desk._give(session, taken, "staff:agent2", 5, clock())  # no longer waiting
        assert not desk._give(session, waiting, "staff:agent2", 1, clock())  # holds one: at the limit
    assert _given(client) == {taken: None, waiting: None}


def test_only_a_supervisor_changes_the_desk_settings_and_the_limit_is_checked(
    client: TestClient, browser: Callable[[str], Browser]
) -> None:
    agent, boss = browser("agent"), browser("supervisor")
    refused = agent.post("/console/chats/settings", {"auto_assign": "1", "chat_limit": "3"})
    assert refused.status_code == 403 and "只有班长" in refused.text
    assert boss.post("/console/chats/settings", {"auto_assign": "1", "chat_limit": "0"}).status_code == 422
    assert boss.post("/console/chats/settings", {"auto_assign": "1", "chat_limit": "99"}).status_code == 422
    assert "自动分配" not in agent.get("/console/chats").text.split("<main")[1].split("等待接入")[0]
    _round_robin(client, boss, on=True, limit=4)
    page = boss.get("/console/chats").text
    assert 'name="auto_assign" value="1" checked' in page and 'value="4"' in page


def test_the_top_bar_counts_the_chats_given_to_me(
    client: TestClient, auth: dict, browser: Callable[[str], Browser], clock: FixedClock
) -> None:
    boss, agent = browser("supervisor"), browser("agent")
    _on_desk(client, clock, "agent2")
    _round_robin(client, boss)
    open_handoff(client, auth)
    assert 'data-given="1"' in agent.get("/console/alerts").text and "分给我 1" in agent.get("/console/alerts").text
    assert 'data-given="0"' in boss.get("/console/alerts").text


def test_what_the_round_robin_did_is_worded_as_the_systems() -> None:
    from api.console.pages import MACHINE_WORDS, staff_name

    assert staff_name(desk.ROUND_ROBIN) == MACHINE_WORDS == staff_name("machine")
    assert staff_name("staff:wang") == "wang"
