"""The bot's own figures per Beijing day (GET /api/v1/bot-figures): the channel's counts of the
conversations beside the orders the bot filed without a person and the review queue."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from api.models import BotModel, BotModelRollout
from tests.api.conftest import FakeOutbound, FixedClock

SAID = {
    "messages": 40,
    "understood": 31,
    "unsure": 6,
    "clarified": 4,
    "not_understood": 2,
    "out_of_scope": 3,
    "handed_over": 1,
}


def file_order(client: TestClient, auth: dict, openid: str) -> None:
    made = client.post(
        "/api/v1/work-orders",
        json={
            "kind": "repair",
            "category": "equipment",
            "source": "wechat",
            "description": "阀门坏了",
            "resident_openid": openid,
            "address": "阳光小区3号楼2单元501",
            "phone": "13800138000",
        },
        headers=auth,
    )
    assert made.status_code == 201, made.text


def report(client: TestClient, auth: dict, n: int, text: str) -> int:
    body = {"message_key": hashlib.sha256(str(n).encode()).hexdigest(), "text": text, "reason": "fallback"}
    found = client.post("/api/v1/review-items", json=body, headers=auth)
    assert found.status_code == 200, found.text
    return int(found.json()["id"])


def test_a_day_of_the_bots_figures(
    client: TestClient,
    auth: dict,
    agent: dict,
    supervisor: dict,
    staff: Callable[[str], dict],
    clock: FixedClock,
    outbound: FakeOutbound,
) -> None:
    # clock: 10 December 10:00 Beijing time
    outbound.figures["2026-12-10"] = SAID
    file_order(client, auth, "oALONE")
    handoff = client.post("/api/v1/handoffs", json={"resident_openid": "oHELPED", "reason": "requested"}, headers=auth)
    assert handoff.status_code == 201
    clock.advance(hours=2)
    file_order(client, auth, "oHELPED")  # a person helped two hours before
    kept = report(client, auth, 1, "暖气片咕噜响")
    report(client, auth, 2, "你们公司股票怎么样")
    labelled = client.post(f"/api/v1/review-items/{kept}/label", json={"intent": "request_repair"}, headers=agent)
    seen = {"revision": labelled.json()["revision"]}
    assert client.post(f"/api/v1/review-items/{kept}/approve", json=seen, headers=supervisor).status_code == 200
    clock.advance(hours=13)  # 11 December, 01:00 Beijing time
    file_order(client, auth, "oNEXTDAY")

    answer = client.get("/api/v1/bot-figures", params={"days": 3}, headers=staff("agent"))  # a new shift
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["conversations_unavailable"] is None
    days = {d["day"]: d for d in body["days"]}
    assert list(days) == ["2026-12-09", "2026-12-10", "2026-12-11"]
    assert days["2026-12-10"] == {
        "day": "2026-12-10",
        **SAID,
        "filed_alone": 1,
        "kept_for_review": 2,
        "review_waiting": 1,
        "model": None,  # no model served yet
    }
    assert days["2026-12-11"]["filed_alone"] == 1 and days["2026-12-11"]["review_waiting"] == 1
    assert days["2026-12-09"]["kept_for_review"] == 0 and days["2026-12-09"]["review_waiting"] == 0


def test_the_backends_figures_come_without_the_channel(
    client: TestClient, auth: dict, agent: dict, outbound: FakeOutbound
) -> None:
    outbound.channel_figures_up = False
    file_order(client, auth, "oALONE")
    body = client.get("/api/v1/bot-figures", params={"days": 1}, headers=agent).json()
    assert "HTTP 503" in body["conversations_unavailable"]
    (day,) = body["days"]
    assert day["messages"] is None and day["filed_alone"] == 1
    assert client.get("/api/v1/bot-figures", params={"days": 93}, headers=agent).status_code == 422


def test_a_settled_day_is_read_from_the_conversations_once(
    client: TestClient, agent: dict, clock: FixedClock, outbound: FakeOutbound
) -> None:
    """Past days do not change: a page over a season asks the channel for what it has not kept, and today."""
    outbound.figures["2026-12-09"] = SAID
    first = client.get("/api/v1/bot-figures", params={"days": 3}, headers=agent).json()
    assert [d["messages"] for d in first["days"]] == [0, 40, 0]
    outbound.figures["2026-12-09"] = {**SAID, "messages": 99}  # the conversations pruned or changed since
    outbound.channel_calls.clear()
    again = client.get("/api/v1/bot-figures", params={"days": 3}, headers=agent).json()
    assert [d["messages"] for d in again["days"]] == [0, 40, 0]  # kept as counted
    assert len(outbound.channel_calls) == 1  # today only
    outbound.channel_figures_up = False
    down = client.get("/api/v1/bot-figures", params={"days": 3}, headers=agent).json()
    assert [d["messages"] for d in down["days"]] == [0, 40, None] and down["conversations_unavailable"]


def test_a_grid_workers_filing_counts_their_own_hand_overs(
    client: TestClient, auth: dict, agent: dict, supervisor: dict
) -> None:
    worker = client.post(
        "/api/v1/grid-workers",
        json={"name": "刘网格", "phone": "13700137000", "communities": ["阳光小区"]},
        headers=supervisor,
    ).json()
    bound = client.post(
        "/api/v1/grid-workers/bind", json={"openid": "oGRID", "code": worker["bind_code"]}, headers=auth
    )
    assert bound.status_code == 200
    assert (
        client.post(
            "/api/v1/handoffs", json={"resident_openid": "oGRID", "reason": "requested"}, headers=auth
        ).status_code
        == 201
    )
    forwarded = {
        "kind": "repair",
        "category": "equipment",
        "source": "grid_worker",
        "description": "5号楼阀门坏了",
        "address": "阳光小区5号楼1单元101",
        "forwarded_by_openid": "oGRID",
    }
    assert client.post("/api/v1/work-orders", json=forwarded, headers=auth).status_code == 201
    (day,) = client.get("/api/v1/bot-figures", params={"days": 1}, headers=agent).json()["days"]
    assert day["filed_alone"] == 0  # a person helped the grid worker first


def test_each_day_names_the_model_in_force(client: TestClient, agent: dict, clock: FixedClock) -> None:
    """The repository's build from when it was first served; a candidate from its rollout; the build of
    a new release from when it is first served."""
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    start = clock.now - timedelta(days=3)

    def model(source: str, at: datetime, digest: str) -> int:
        row = BotModel(
            source=source,
            status="ready",
            base_digest=digest,
            repository_digest=digest if source == "repository" else None,
            progress="",
            percent=100,
            counts={},
            training_data="",
            held_out_data="",
            figures={},
            created_by="test",
            created_at=at,
            updated_at=at,
        )
        session.add(row)
        session.flush()
        return row.id

    with factory() as session:
        build = model("repository", start, "aaaa")
        candidate = model("candidate", start + timedelta(hours=5), "aaaa")
        session.add(
            BotModelRollout(
                model_id=candidate,
                previous_model_id=build,
                follows=0,
                kind="rollout",
                reason="更准",
                by="sup",
                at=start + timedelta(days=1),
            )
        )
        release = model("repository", start + timedelta(days=2, hours=1), "bbbb")
        session.commit()
    days = client.get("/api/v1/bot-figures", params={"days": 5}, headers=agent).json()["days"]
    assert [d["model"] for d in days] == [
        None,
        {"id": build, "source": "repository"},
        {"id": candidate, "source": "candidate"},
        {"id": release, "source": "repository"},
        {"id": release, "source": "repository"},
    ]
