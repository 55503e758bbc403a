"""Announcements to every follower (5.2.5, 6.1.1, 9.2.1): composed from the operator's facts, previewed with
their recipients, approved by a supervisor within the platform's four a month, sent once at their time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import run_scheduler_once
from api.models import Notification
from api.operator_config import SAMPLE_PATH
from tests.api.conftest import FakeOutbound, FixedClock

PATH = "/api/v1/announcements"
COMMISSIONING = {
    "kind": "commissioning",
    "scheduled_at": "2026-12-11T09:00:00+08:00",
    "commissioning_from": "2027-10-28",
    "commissioning_to": "2027-11-06",  # nine days before the season of 15 November 2027 (6.1.1: 7 to 10)
}


@pytest.fixture
def client_settings(tmp_path: Path) -> dict[str, object]:
    """The sample operator file with next season's dates, as an operator adds them each year (5.2.1)."""
    data = yaml.safe_load(SAMPLE_PATH.read_text(encoding="utf-8"))
    data["heating_seasons"].append({"start": date(2027, 11, 15), "end": date(2028, 3, 15)})
    data["service"]["fee_standard"] = "居民住宅每平方米建筑面积每采暖期26元"
    path = tmp_path / "operator.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return {"operator_config": str(path)}


def staff_notices(client: TestClient) -> list[str]:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        found = session.scalars(select(Notification).where(Notification.kind == "announcement_problem"))
        return [n.message for n in found]


def test_a_supervisor_previews_approves_and_the_scheduler_sends_it_once_at_its_time(
    client: TestClient,
    agent: dict,
    supervisor: dict,
    clock: FixedClock,
    outbound: FakeOutbound,
    staff: Callable[[str], dict],
) -> None:
    outbound.followers = 3
    preview = client.post(f"{PATH}/preview", json=COMMISSIONING, headers=supervisor)
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert "本采暖期供热时间为2027年11月15日至2028年3月15日" in shown["text"]
    assert "2027年10月28日至2027年11月6日注水、调试" in shown["text"] and "6.1.1" in shown["text"]
    assert (shown["recipients"], shown["month_used"], shown["month_quota"]) == (3, 0, 4)
    assert client.post(PATH, json=COMMISSIONING, headers=agent).status_code == 403  # a supervisor's
    draft = client.post(PATH, json=COMMISSIONING, headers=supervisor).json()
    assert draft["status"] == "draft" and draft["text"] == shown["text"]
    run_scheduler_once(client.app)
    assert outbound.announced == {}  # a draft is never sent
    approved = client.post(f"{PATH}/{draft['id']}/approve", headers=supervisor).json()
    assert approved["status"] == "approved" and approved["recipients"] == 3
    assert client.post(f"{PATH}/{draft['id']}/approve", headers=supervisor).status_code == 409  # once
    run_scheduler_once(client.app)
    assert outbound.announced == {}  # not before its time
    clock.advance(days=1)
    assert run_scheduler_once(client.app)["announced"] == 1
    assert run_scheduler_once(client.app)["announced"] == 0
    assert [a["text"] for a in outbound.announced.values()] == [shown["text"]]
    listed = client.get(PATH, headers=staff("agent")).json()["items"]  # the next day's session
    assert listed[0]["status"] == "sent" and listed[0]["msg_id"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"commissioning_to": "2027-11-12"}, "commissioning_to", "6.1.1"),  # three days before: too late
        ({"commissioning_from": "2026-12-11"}, "scheduled_at", "提前进行公告"),  # announced on its first day
        # the season the sending falls in has begun, and no later one is in the operator file: too late
        ({"kind": "heating_start", "scheduled_at": "2027-11-20T09:00:00+08:00"}, "scheduled_at", "5.2.5"),
        ({"scheduled_at": "2026-12-09T09:00:00+08:00"}, "scheduled_at", "不能早于现在"),
        ({"kind": "price_change"}, "price_from", "执行日期"),
    ],
)
def test_an_announcement_that_breaks_its_clause_is_refused(
    client: TestClient, supervisor: dict, change: dict, field: str, words: str
) -> None:
    refused = client.post(f"{PATH}/preview", json={**COMMISSIONING, **change}, headers=supervisor)
    assert refused.status_code == 422 and refused.json()["field"] == field and words in refused.json()["message"]


def test_a_price_change_is_announced_with_the_approved_standard_before_it_applies(
    client: TestClient, supervisor: dict
) -> None:
    body = {"kind": "price_change", "scheduled_at": "2026-12-15T09:00:00+08:00", "price_from": "2027-01-01"}
    text = client.post(f"{PATH}/preview", json=body, headers=supervisor).json()["text"]
    assert text.startswith("【热价调整公告】经物价部门核准，自2027年1月1日起执行新的供热收费标准")
    assert "每平方米建筑面积每采暖期26元" in text and "9.2.1" in text


def test_the_fifth_of_a_month_is_refused_before_it_is_approved(client: TestClient, supervisor: dict) -> None:
    ids = []
    for day in (12, 14, 16, 18, 20):
        body = {"kind": "price_change", "scheduled_at": f"2026-12-{day}T09:00:00+08:00", "price_from": "2027-01-01"}
        ids.append(client.post(PATH, json=body, headers=supervisor).json()["id"])
    approved = [client.post(f"{PATH}/{i}/approve", headers=supervisor).status_code for i in ids]
    assert approved == [200, 200, 200, 200, 409]
    assert client.post(f"{PATH}/{ids[0]}/cancel", headers=supervisor).status_code == 200  # frees one
    assert client.post(f"{PATH}/{ids[4]}/approve", headers=supervisor).status_code == 200


def test_a_sending_of_unknown_fate_waits_for_a_person_and_a_refused_one_is_reported(
    client: TestClient, supervisor: dict, clock: FixedClock, outbound: FakeOutbound, staff: Callable[[str], dict]
) -> None:
    body = {"kind": "price_change", "scheduled_at": "2026-12-10T10:30:00+08:00", "price_from": "2027-01-01"}
    first = client.post(PATH, json=body, headers=supervisor).json()
    client.post(f"{PATH}/{first['id']}/approve", headers=supervisor)
    outbound.next_announcement = "unknown"
    clock.advance(hours=1)
    run_scheduler_once(client.app)
    run_scheduler_once(client.app)
    boss = staff("supervisor")
    found = client.get(PATH, headers=boss).json()["items"][0]
    assert found["status"] == "unconfirmed" and len(outbound.announced) == 1  # asked once, not again
    assert any("发送结果未知" in n for n in staff_notices(client))
    released = client.post(f"{PATH}/{first['id']}/release", headers=boss).json()
    assert released["status"] == "approved"
    run_scheduler_once(client.app)
    assert client.get(PATH, headers=boss).json()["items"][0]["status"] == "sent" and len(outbound.announced) == 2
    assert client.post(f"{PATH}/{first['id']}/sent", headers=boss).status_code == 409  # settled already

    second = client.post(PATH, json={**body, "scheduled_at": "2026-12-10T12:00:00+08:00"}, headers=boss).json()
    client.post(f"{PATH}/{second['id']}/approve", headers=boss)
    outbound.next_announcement = "refused"
    clock.advance(hours=1)
    run_scheduler_once(client.app)
    assert client.get(f"{PATH}", headers=boss).json()["items"][0]["status"] == "failed"
    assert any("被微信平台拒绝（45028）" in n for n in staff_notices(client))


def test_a_channel_that_is_down_leaves_the_announcement_to_a_later_pass(
    client: TestClient, supervisor: dict, clock: FixedClock, outbound: FakeOutbound
) -> None:
    body = {"kind": "price_change", "scheduled_at": "2026-12-10T10:30:00+08:00", "price_from": "2027-01-01"}
    made = client.post(PATH, json=body, headers=supervisor).json()
    client.post(f"{PATH}/{made['id']}/approve", headers=supervisor)
    outbound.channel_up = False
    clock.advance(hours=1)
    assert run_scheduler_once(client.app)["announced"] == 0
    outbound.channel_up = True
    assert run_scheduler_once(client.app)["announced"] == 0  # its backoff (a minute) has not passed
    clock.advance(minutes=2)
    assert run_scheduler_once(client.app)["announced"] == 1


def test_no_database_connection_is_held_while_the_channel_sends(
    client: TestClient, supervisor: dict, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mass-send may take the platform seconds: the scheduler's session gives its connection back first."""
    body = {"kind": "price_change", "scheduled_at": "2026-12-10T10:30:00+08:00", "price_from": "2027-01-01"}
    made = client.post(PATH, json=body, headers=supervisor).json()
    client.post(f"{PATH}/{made['id']}/approve", headers=supervisor)
    bot = client.app.state.bot  # type: ignore[attr-defined]
    engine = client.app.state.engine  # type: ignore[attr-defined]
    held: list[int] = []
    sending = bot.announce

    def announce(key: str, text: str) -> dict:
        held.append(engine.pool.checkedout())
        return dict(sending(key, text))

    monkeypatch.setattr(bot, "announce", announce)
    clock.advance(hours=1)
    assert run_scheduler_once(client.app)["announced"] == 1
    assert held == [0]
