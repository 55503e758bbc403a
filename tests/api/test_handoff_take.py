"""Taking, assigning and closing a chat are each one conditional UPDATE: two members of staff acting at
once never both succeed, and the one who loses is told in Chinese who holds the chat."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.errors import AppError, Conflict
from api.models import Handoff, StaffAudit
from api.services import handoffs
from api.services.principals import Principal, Role
from tests.api.conftest import FixedClock, add_staff_user

WANG = Principal("staff:wangxh", Role.AGENT)
LI = Principal("staff:liming", Role.AGENT)
BOSS = Principal("staff:boss", Role.SUPERVISOR)


@pytest.fixture
def sessions(client: TestClient) -> sessionmaker[Session]:
    """Sessions of the test's database, as two requests of the app would each have one."""
    add_staff_user(client, "wangxh", "agent", display_name="王小红")
    add_staff_user(client, "liming", "agent", display_name="李明")
    add_staff_user(client, "boss", "supervisor", display_name="张班长")
    factory: sessionmaker[Session] = client.app.state.session_factory  # type: ignore[attr-defined]
    return factory


def waiting_chats(client: TestClient, auth: dict, count: int) -> list[int]:
    made = [
        client.post("/api/v1/handoffs", json={"resident_openid": f"oTAKE{n}", "reason": "requested"}, headers=auth)
        for n in range(count)
    ]
    return [int(m.json()["id"]) for m in made]


def stored(sessions: sessionmaker[Session], handoff_id: int) -> Handoff:
    with sessions() as session:
        found = session.get(Handoff, handoff_id)
        assert found is not None
        return found


def race_to_take(sessions: sessionmaker[Session], handoff_id: int, now: datetime) -> dict[str, str]:
    """Two agents take the chat in real threads, each with its own session (and connection), after each
    has read it as waiting; a barrier releases both takes together. What each was told."""
    barrier = threading.Barrier(2)
    outcome: dict[str, str] = {}

    def take(principal: Principal) -> None:
        with sessions() as session:
            session.get(Handoff, handoff_id)
            barrier.wait(timeout=10)
            try:
                handoffs.take_handoff(session, handoff_id, principal, now)
                outcome[principal.name] = "taken"
            except AppError as exc:
                outcome[principal.name] = f"{exc.status_code} {exc.message}"

    threads = [threading.Thread(target=take, args=(who,)) for who in (WANG, LI)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcome


def test_two_agents_taking_at_the_same_instant_exactly_one_holds_the_chat(
    sessions: sessionmaker[Session], client: TestClient, auth: dict, clock: FixedClock
) -> None:
    # twenty chats, so that a read-then-write would let both win in some of them
    for handoff_id in waiting_chats(client, auth, 20):
        outcome = race_to_take(sessions, handoff_id, clock.now)
        winners = [name for name, result in outcome.items() if result == "taken"]
        assert len(winners) == 1, outcome
        loser = (set(outcome) - set(winners)).pop()
        holder = {"staff:wangxh": "王小红", "staff:liming": "李明"}[winners[0]]
        assert outcome[loser] == f"409 这个会话已由{holder}接管"
        assert stored(sessions, handoff_id).taken_by == winners[0]


def test_a_take_that_another_agent_overtakes_between_read_and_write_is_refused(
    sessions: sessionmaker[Session], client: TestClient, auth: dict, clock: FixedClock
) -> None:
    (handoff_id,) = waiting_chats(client, auth, 1)
    with sessions() as slow, sessions() as quick:
        assert handoffs.get_handoff(slow, handoff_id).status == "waiting"  # the slow request has read it
        handoffs.take_handoff(quick, handoff_id, LI, clock.now)  # another agent takes it meanwhile
        with pytest.raises(Conflict, match="这个会话已由李明接管"):
            handoffs.take_handoff(slow, handoff_id, WANG, clock.now)
    assert stored(sessions, handoff_id).taken_by == "staff:liming"
    with sessions() as session:
        takes = session.scalars(select(StaffAudit.actor).where(StaffAudit.action == "handoff.take")).all()
    assert takes == ["staff:liming"]


def test_the_api_says_who_holds_the_chat_by_name(
    sessions: sessionmaker[Session], client: TestClient, auth: dict
) -> None:
    (handoff_id,) = waiting_chats(client, auth, 1)
    tokens = {}
    for username in ("wangxh", "liming"):
        login = client.post("/api/v1/auth/login", json={"username": username, "password": "correct horse 1"})
        tokens[username] = {"Authorization": f"Bearer {login.json()['token']}"}
    assert client.post(f"/api/v1/handoffs/{handoff_id}/take", headers=tokens["wangxh"]).status_code == 200
    late = client.post(f"/api/v1/handoffs/{handoff_id}/take", headers=tokens["liming"])
    assert late.status_code == 409
    assert late.json() == {"code": "transition_not_allowed", "message": "这个会话已由王小红接管"}


def test_a_chat_taken_while_a_supervisor_assigns_it_is_not_assigned(
    sessions: sessionmaker[Session], client: TestClient, auth: dict, clock: FixedClock
) -> None:
    (handoff_id,) = waiting_chats(client, auth, 1)
    with sessions() as supervisor, sessions() as agent:
        handoffs.get_handoff(supervisor, handoff_id)
        handoffs.take_handoff(agent, handoff_id, WANG, clock.now)
        with pytest.raises(Conflict, match="这个会话已由王小红接管"):
            handoffs.assign_handoff(supervisor, handoff_id, BOSS, "liming", clock.now)
    chat = stored(sessions, handoff_id)
    assert (chat.status, chat.taken_by, chat.assigned_to) == ("active", "staff:wangxh", None)


def test_an_assigned_chat_is_refused_to_another_agent_by_name(
    sessions: sessionmaker[Session], client: TestClient, auth: dict, clock: FixedClock
) -> None:
    (handoff_id,) = waiting_chats(client, auth, 1)
    with sessions() as session:
        handoffs.assign_handoff(session, handoff_id, BOSS, "liming", clock.now)
    with sessions() as session, pytest.raises(AppError, match="这个会话已指派给李明") as refused:
        handoffs.take_handoff(session, handoff_id, WANG, clock.now)
    assert refused.value.status_code == 403
    with sessions() as session:
        assert handoffs.take_handoff(session, handoff_id, LI, clock.now).taken_by == "staff:liming"


class CountingBot:
    """Stands in for the bot: counts the conversations resumed."""

    def __init__(self) -> None:
        self.resumed: list[str] = []

    def resume(self, sender_id: str) -> None:
        self.resumed.append(sender_id)


def test_a_chat_closed_by_someone_else_meanwhile_is_closed_once(
    sessions: sessionmaker[Session], client: TestClient, auth: dict, clock: FixedClock
) -> None:
    (handoff_id,) = waiting_chats(client, auth, 1)
    with sessions() as session:
        handoffs.take_handoff(session, handoff_id, WANG, clock.now)
    bot = CountingBot()
    closed_at = clock.advance(minutes=5)
    with sessions() as holder, sessions() as supervisor:
        assert handoffs.get_handoff(holder, handoff_id).status == "active"  # the holder has read it
        handoffs.close_handoff(supervisor, handoff_id, BOSS, bot, closed_at)  # type: ignore[arg-type]
        with pytest.raises(Conflict, match="这个会话已结束"):
            handoffs.close_handoff(holder, handoff_id, WANG, bot, clock.advance(minutes=1))  # type: ignore[arg-type]
    chat = stored(sessions, handoff_id)
    assert (chat.status, chat.closed_at) == ("closed", closed_at)
    with sessions() as session:
        closes = session.scalars(select(StaffAudit.actor).where(StaffAudit.action == "handoff.close")).all()
    assert closes == ["staff:boss"]
