"""The review queue (待学习) through the API: what the bot reports is kept redacted and grouped; staff
label, a supervisor approves, and the export is training data with no one's personal data."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any

import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.models import ReviewItem, ReviewOccurrence
from api.services import review
from api.services.principals import Principal, Role
from api.settings import ROOT
from tests.api.conftest import FixedClock

# A resident's message as real ones read: name, mobile, identity card, house number, plate, e-mail.
PERSONAL = (
    "我叫王建国，住阳光小区3号楼2单元501，电话13912345678，身份证110105198803151234，"
    "车牌京N12345，邮箱wjg1988@163.com，暖气片咕噜响是怎么回事"
)
SECRETS = ("王建国", "13912345678", "110105198803151234", "2单元501", "京N12345", "wjg1988")


def key(n: int | str) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


def report(client: TestClient, auth: dict, n: int | str, text: str, **extra: Any) -> int | None:
    body = {"message_key": key(n), "text": text, "reason": "fallback", **extra}
    done = client.post("/api/v1/review-items", json=body, headers=auth)
    assert done.status_code == 200, done.text
    item_id: int | None = done.json()["id"]
    return item_id


def listed(client: TestClient, who: dict, status: str = "open") -> dict[str, Any]:
    found = client.get("/api/v1/review-items", params={"status": status}, headers=who)
    assert found.status_code == 200, found.text
    body: dict[str, Any] = found.json()
    return body


def test_a_message_is_kept_with_its_personal_data_replaced(client: TestClient, auth: dict, agent: dict) -> None:
    report(
        client,
        auth,
        1,
        PERSONAL,
        predicted=[{"name": "ask_heating_period", "confidence": 0.41}, {"name": "request_repair", "confidence": 0.3}],
        context=[
            {"who": "bot", "text": "请问您的联系电话？"},
            {"who": "resident", "text": "找李阿姨，电话0371-65551234"},
        ],
    )
    item = listed(client, agent)["items"][0]
    assert "[姓名]" in item["text"] and "[电话]" in item["text"] and "阳光小区3号楼[门牌]" in item["text"]
    assert "[身份证号]" in item["text"] and "[车牌]" in item["text"] and "[邮箱]" in item["text"]
    assert item["predicted"][0] == {"name": "ask_heating_period", "confidence": 0.41}
    assert item["context"][1] == {"who": "resident", "text": "找[姓名]阿姨，电话[电话]"}
    # nothing stored anywhere in the queue holds the originals
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        stored = repr([(i.text, i.key) for i in session.scalars(select(ReviewItem))])
        stored += repr([(o.text, o.context) for o in session.scalars(select(ReviewOccurrence))])
    for secret in (*SECRETS, "65551234", "李阿姨"):
        assert secret not in stored


def test_the_same_message_is_kept_once_and_the_residents_choice_noted(
    client: TestClient, auth: dict, agent: dict
) -> None:
    first = report(client, auth, "m1", "暖气有异响")
    again = report(client, auth, "m1", "暖气有异响", reason="handoff", chosen="request_repair")
    assert first == again
    item = listed(client, agent)["items"][0]
    assert item["count"] == 1 and item["reason"] == "fallback"
    assert item["chosen"] == {"request_repair": 1}


def test_buttons_and_blank_messages_are_not_kept(client: TestClient, auth: dict, agent: dict) -> None:
    assert report(client, auth, 1, '/choose_reading{"reading": "ask_refund"}') is None
    assert report(client, auth, 2, "\x07\x1b ") is None  # control characters only
    blank = client.post(
        "/api/v1/review-items", json={"message_key": key(3), "text": "   ", "reason": "fallback"}, headers=auth
    )
    assert blank.status_code == 422
    assert listed(client, agent)["counts"] == {"open": 0, "labelled": 0, "approved": 0}


def test_near_duplicates_are_one_group_and_the_most_frequent_comes_first(
    client: TestClient, auth: dict, agent: dict, clock: FixedClock
) -> None:
    report(client, auth, 1, "暖气费怎么交")
    for n, text in enumerate(
        ["我家暖气不热怎么办", "我家暖气不热怎么办啊！", "我家 暖气不热 怎么办？？", "我家暖气不热怎么办呢"]
    ):
        clock.advance(minutes=1)
        report(client, auth, 10 + n, text)
    report(client, auth, 20, "我家暖气很热")  # not the same request
    items = listed(client, agent)["items"]
    assert [(i["text"], i["count"]) for i in items] == [
        ("我家暖气不热怎么办", 4),
        ("我家暖气很热", 1),
        ("暖气费怎么交", 1),
    ]
    assert items[0]["variants"] == ["我家暖气不热怎么办呢", "我家 暖气不热 怎么办？？", "我家暖气不热怎么办啊！"]


def test_agents_label_supervisors_approve(client: TestClient, auth: dict, agent: dict, supervisor: dict) -> None:
    item_id = report(client, auth, 1, "屋里才十六度，阳光小区3号楼2单元501")
    text = listed(client, agent)["items"][0]["text"]
    start = text.index("阳光小区")
    labelled = client.post(
        f"/api/v1/review-items/{item_id}/label",
        json={
            "intent": "complain_room_temperature",
            "entities": [{"entity": "address", "start": start, "end": len(text)}],
        },
        headers=agent,
    )
    assert labelled.status_code == 200, labelled.text
    assert labelled.json()["status"] == "labelled"
    assert labelled.json()["entities"] == [
        {"entity": "address", "start": start, "end": len(text), "value": "阳光小区3号楼[门牌]"}
    ]
    seen = {"revision": labelled.json()["revision"]}
    assert client.post(f"/api/v1/review-items/{item_id}/approve", json=seen, headers=agent).status_code == 403
    approved = client.post(f"/api/v1/review-items/{item_id}/approve", json=seen, headers=supervisor)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert client.post(f"/api/v1/review-items/{item_id}/approve", json=seen, headers=supervisor).status_code == 409
    # an approved wording: an agent may not change it, a supervisor may (and it needs approval again)
    relabel = {"intent": "ask_temperature_standard"}
    assert client.post(f"/api/v1/review-items/{item_id}/label", json=relabel, headers=agent).status_code == 409
    again = client.post(f"/api/v1/review-items/{item_id}/label", json=relabel, headers=supervisor)
    assert again.status_code == 200 and again.json()["status"] == "labelled"
    assert again.json()["approved_by"] is None
    assert listed(client, agent)["counts"] == {"open": 0, "labelled": 1, "approved": 0}


def test_a_label_is_checked(client: TestClient, auth: dict, agent: dict) -> None:
    item_id = report(client, auth, 1, "暖气片咕噜响")
    url = f"/api/v1/review-items/{item_id}/label"

    def answer(body: dict[str, Any]) -> int:
        return client.post(url, json=body, headers=agent).status_code

    assert answer({"intent": "no_such_intent"}) == 422
    assert answer({"intent": "choose_reading"}) == 422  # a button's, never a resident's words
    assert answer({"intent": "ask_refund", "out_of_scope": True}) == 422
    assert answer({}) == 422
    assert answer({"intent": "request_repair", "entities": [{"entity": "phone", "start": 3, "end": 9}]}) == 422
    assert answer({"intent": "request_repair", "entities": [{"entity": "name", "start": 0, "end": 2}]}) == 422
    overlapping = [{"entity": "time", "start": 0, "end": 3}, {"entity": "address", "start": 2, "end": 4}]
    assert answer({"intent": "request_repair", "entities": overlapping}) == 422
    assert listed(client, agent)["counts"]["open"] == 1  # nothing was changed by the refusals
    assert answer({"out_of_scope": True}) == 200
    assert listed(client, agent, "labelled")["items"][0]["intent"] == "out_of_scope"
    missing = client.post("/api/v1/review-items/999/label", json={"intent": "ask_refund"}, headers=agent)
    assert missing.status_code == 404


def test_the_export_is_training_data_without_personal_data(
    client: TestClient, auth: dict, agent: dict, supervisor: dict
) -> None:
    first = report(client, auth, 1, "王先生家(3楼)阳光小区3号楼2单元501不热，电话13912345678")
    report(client, auth, 2, "王先生家(3楼)阳光小区3号楼2单元501不热了，电话13912345678")  # joins the group
    second = report(client, auth, 3, "你们公司股票怎么样")
    waiting = report(client, auth, 4, "暖气片咕噜响")
    text = listed(client, agent)["items"][0]["text"]
    start = text.index("阳光小区")
    end = text.index("不热")
    revisions = {}
    for item_id, body in (
        (
            first,
            {"intent": "complain_room_temperature", "entities": [{"entity": "address", "start": start, "end": end}]},
        ),
        (second, {"out_of_scope": True}),
        (waiting, {"intent": "request_repair"}),
    ):
        labelled = client.post(f"/api/v1/review-items/{item_id}/label", json=body, headers=agent)
        assert labelled.status_code == 200
        revisions[item_id] = labelled.json()["revision"]
    for item_id in (first, second):
        seen = {"revision": revisions[item_id]}
        assert client.post(f"/api/v1/review-items/{item_id}/approve", json=seen, headers=supervisor).status_code == 200
    exported = client.get("/api/v1/review-items/export", headers=supervisor)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/yaml")
    assert exported.text.startswith("# Generated from the review queue")
    data = yaml.safe_load(exported.text)
    examples = {block["intent"]: block["examples"].splitlines() for block in data["nlu"]}
    assert examples == {
        "complain_room_temperature": [
            "- 张先生家（3楼）[阳光小区3号楼1单元101](address)不热，电话13800000000",
            "- 张先生家（3楼）阳光小区3号楼1单元101不热了，电话13800000000",
        ],
        "out_of_scope": ["- 你们公司股票怎么样"],
    }
    assert client.get("/api/v1/review-items/export", headers=agent).status_code == 403
    assert client.get("/api/v1/review-items/export", headers=auth).status_code == 200


def test_the_intents_offered_are_the_bots_own(client: TestClient, agent: dict) -> None:
    listed_intents = client.get("/api/v1/review-intents", headers=agent).json()
    by_name = {i["name"]: i for i in listed_intents}
    assert by_name["ask_heating_period"]["label"] == "供暖开始和结束时间"
    assert by_name["greet"]["label"] == "打招呼"
    assert all(len(i["examples"]) == 2 for i in listed_intents)
    assert not {"choose_reading", "share_image", "subscribe", "EXTERNAL_retry_filing"} & set(by_name)
    assert {"out_of_scope", "complain_room_temperature", "request_human"} <= set(by_name)


def test_concurrent_reports_of_one_new_wording_make_one_group(client: TestClient, clock: FixedClock) -> None:
    """Eight messages of a wording never seen before, reported at the same moment by eight requests:
    one group of eight, whichever request opens it."""
    factory: Callable[[], Any] = client.app.state.session_factory  # type: ignore[attr-defined]
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def one(n: int) -> None:
        try:
            with factory() as session:
                start.wait()
                review.record(session, review.Report(key(n), "暖气管子半夜哐哐响", "fallback", []), clock.now)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with factory() as session:
        groups = list(session.scalars(select(ReviewItem)))
    assert [(g.text, g.count) for g in groups] == [("暖气管子半夜哐哐响", 8)]


def test_two_supervisors_approving_at_once_approve_once(
    client: TestClient, auth: dict, agent: dict, clock: FixedClock
) -> None:
    item_id = report(client, auth, 1, "暖气片咕噜响")
    assert client.post(f"/api/v1/review-items/{item_id}/label", json={"intent": "request_repair"}, headers=agent)
    factory: Callable[[], Any] = client.app.state.session_factory  # type: ignore[attr-defined]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(name: str) -> None:
        with factory() as session:
            start.wait()
            try:
                review.approve(session, item_id, Principal(name, Role.SUPERVISOR), clock.now, revision=1)
                outcomes.append("approved")
            except Exception as exc:  # noqa: BLE001 - the loser's answer is what is tested
                outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=approve, args=(f"sup{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["Conflict", "approved"]
    assert review.catalogue(ROOT)  # the catalogue read from the bot's files is not empty


def test_a_supervisor_approves_only_the_label_they_saw(
    client: TestClient, auth: dict, agent: dict, supervisor: dict, staff: Callable[[str], dict]
) -> None:
    """An agent who labels again between the supervisor's look and the approval: the approval is refused,
    and nothing unseen is trained on."""
    item_id = report(client, auth, 1, "屋里冷交的钱能不能少点")
    url = f"/api/v1/review-items/{item_id}"
    shown = client.post(url + "/label", json={"intent": "ask_fee_reduction"}, headers=agent).json()
    other_agent = staff("agent")
    assert client.post(url + "/label", json={"intent": "request_human"}, headers=other_agent).status_code == 200
    refused = client.post(url + "/approve", json={"revision": shown["revision"]}, headers=supervisor)
    assert refused.status_code == 409
    assert "- " not in client.get("/api/v1/review-items/export", headers=supervisor).text
    fresh = listed(client, agent, "labelled")["items"][0]
    assert fresh["intent"] == "request_human" and fresh["revision"] == shown["revision"] + 1


def test_what_joins_a_group_after_its_label_is_counted_not_trained_on(
    client: TestClient, auth: dict, agent: dict, supervisor: dict
) -> None:
    item_id = report(client, auth, 1, "暖气片咕噜咕噜响怎么回事")
    report(client, auth, 2, "暖气片咕噜咕噜响是怎么回事")  # a near-duplicate, before the label
    url = f"/api/v1/review-items/{item_id}"
    labelled = client.post(url + "/label", json={"intent": "request_repair"}, headers=agent).json()
    # after the label: the same wording in other punctuation joins it, a near-duplicate opens its own group
    for n in range(3, 25):
        report(client, auth, n, "暖气片咕噜咕噜响怎么回事" + "!?。…"[n % 4] * (n - 2))
    assert report(client, auth, 99, "暖气片咕噜咕噜响到底是怎么回事") != item_id
    client.post(url + "/approve", json={"revision": labelled["revision"]}, headers=supervisor)
    exported = yaml.safe_load(client.get("/api/v1/review-items/export", headers=supervisor).text)
    (block,) = exported["nlu"]
    assert block["examples"].splitlines() == ["- 暖气片咕噜咕噜响怎么回事", "- 暖气片咕噜咕噜响是怎么回事"]
    approved = listed(client, agent, "approved")["items"][0]
    assert approved["count"] == 24 and approved["variants"] == ["暖气片咕噜咕噜响是怎么回事"]


def test_a_long_wording_is_one_group_only_with_the_same_wording(client: TestClient, auth: dict, agent: dict) -> None:
    """The whole wording names the group, not a prefix of it: text added after a long wording is not
    slipped into the long wording's group."""
    long = "请问" * 140
    first = report(client, auth, 1, long)
    assert report(client, auth, 2, long + "我要退费怎么退费" * 50) != first
    assert report(client, auth, 3, long + "！") == first


def test_a_confidence_is_a_number_not_true_or_false(client: TestClient, auth: dict) -> None:
    """true would otherwise be read as 1.0: a reading the bot was sure of (found by the schema fuzz)."""
    body = {"message_key": key("bool"), "text": "暖气不热", "reason": "fallback"}
    refused = client.post(
        "/api/v1/review-items", json={**body, "predicted": [{"name": "x", "confidence": True}]}, headers=auth
    )
    assert refused.status_code == 422 and "confidence" in refused.text
    taken = client.post(
        "/api/v1/review-items", json={**body, "predicted": [{"name": "x", "confidence": 1}]}, headers=auth
    )
    assert taken.status_code == 200, taken.text
