"""Answers from the knowledge file and the backend, each citing its clause of the standard."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import (
    ActionAnswerBusiness,
    ActionAnswerOutage,
    ActionAnswerQuestion,
    ActionListWorkOrders,
    ActionRelayNotice,
)
from bot import knowledge
from tests.actions.conftest import FROM_BACKEND, make_tracker, responses
from tests.actions.fake_backend import FakeBackend

CITED = {
    "ask_heating_period": "5.2.1",
    "ask_temperature_standard": "5.1",
    "ask_fee_standard": "9.2.1",
    "ask_payment": "9.2.2",
    "ask_refund": "10.3 第4条",
    "ask_heat_meter": "10.3",
    "ask_service_contact": "10.1.2",
    "ask_compensation": "13.5",
    "ask_contract": "9.1.7",
    "ask_relief_policy": "9.3",
    "ask_fee_reduction": "10.3 第1条",
    "ask_complaint_process": "10.1.4",
    "ask_repair_process": "10.2.4",
    "ask_privacy": "12.1",
}
# answered by their own actions: the backend's outages, the business requests
OWN_ACTIONS = {"ask_outage", "ask_business_process"}


def test_every_question_intent_with_a_topic_is_cited() -> None:
    with_topic = {name for name, entry in knowledge.knowledge()["intents"].items() if entry.get("topic")}
    assert with_topic - OWN_ACTIONS == set(CITED)


@pytest.mark.parametrize("intent", sorted(CITED))
async def test_each_answer_cites_its_clause_of_the_standard(intent: str) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAnswerQuestion().run(dispatcher, make_tracker("?", intent), {})
    [message] = dispatcher.messages
    assert "《威海市城镇供热服务规范》" in message["text"]
    assert CITED[intent] in message["text"]
    assert "{" not in message["text"] and "}" not in message["text"]


async def test_refund_deadline_and_heating_period_come_from_the_standard_and_the_operator_file() -> None:
    dispatcher = CollectingDispatcher()
    await ActionAnswerQuestion().run(dispatcher, make_tracker("?", "ask_refund"), {})
    await ActionAnswerQuestion().run(dispatcher, make_tracker("?", "ask_heating_period"), {})
    refund, period = (m["text"] for m in dispatcher.messages)
    assert "6月30日" in refund
    assert "11月15日" in period and "3月15日" in period  # the sample operator file's season


@pytest.mark.parametrize("question", ["暖气费交晚了会怎么样？", "暖气费怎么交"])
async def test_a_payment_question_says_what_follows_unpaid_fees_in_the_words_of_9_2_2(question: str) -> None:
    """9.2.2: reminders by notice, SMS or WeChat; after them, heating may be stopped or the contract applies."""
    dispatcher = CollectingDispatcher()
    await ActionAnswerQuestion().run(dispatcher, make_tracker(question, "ask_payment"), {})
    [message] = dispatcher.messages
    assert "9.2.2" in message["text"] and "催费" in message["text"]
    assert "经催收后仍不交纳的，供热企业可以停止供热或按合同约定处理" in message["text"]


async def test_business_answer_gives_documents_and_time_limits_then_offers_to_file() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("报装怎么办", "ask_business_process", slots={"business_type": "apply_connection"})
    events = await ActionAnswerBusiness().run(dispatcher, tracker, {})
    answer, offer = responses(dispatcher.messages)
    assert "9.1.4" in answer and "1天" in answer and "3天" in answer and "申请表" in answer
    assert offer == "utter_offer_business_filing"
    assert {"event": "slot", "timestamp": None, "name": "offered_filing", "value": "ask_business_process"} in events


async def test_a_new_home_opening_its_account_is_told_the_kind_and_offered_the_filing() -> None:
    """Q20 of the audit: 开户 (7.5) is a business kind of its own, with the company's documents and promise."""
    dispatcher = CollectingDispatcher()
    opening = [{"entity": "business_type", "value": "open_account"}]  # 开户, as the lookup and synonym give it
    tracker = make_tracker("买了新房，暖气怎么开户？", "ask_business_process", entities=opening)
    events = await ActionAnswerBusiness().run(dispatcher, tracker, {})
    answer, offer = responses(dispatcher.messages)
    assert answer.startswith("【开户") and "7.5" in answer and "购房合同" in answer
    assert "申请后3天内办结（公司承诺，9.1.2）" in answer and "受理与否1天内答复" in answer
    assert offer == "utter_offer_business_filing"
    assert {"event": "slot", "timestamp": None, "name": "business_type", "value": "open_account"} in events


@pytest.mark.parametrize(
    ("text", "named", "remembered", "told"),
    [
        ("新房刚交付 在哪立个供暖户", None, None, "【开户"),  # words the entity does not take
        ("暖气户头能注销吗 房子拆了", None, "stop_heating", "【销户"),  # this message's kind before the last one's
        ("报停要带什么", "stop_heating", "open_account", "【报停"),
        ("那要多久能办好", None, "close_account", "【销户"),  # the kind asked about before
        ("怎么办业务", None, None, "可办理的业务有：报装、报停、复热、过户、面积变更、开户、销户"),
    ],
)
async def test_the_business_explained_is_the_one_named_then_pointed_to_then_remembered(
    text: str, named: str | None, remembered: str | None, told: str
) -> None:
    dispatcher = CollectingDispatcher()
    entities = [{"entity": "business_type", "value": named}] if named else []
    slots = {"business_type": remembered} if remembered else {}
    await ActionAnswerBusiness().run(
        dispatcher, make_tracker(text, "ask_business_process", entities=entities, slots=slots), {}
    )
    assert responses(dispatcher.messages)[0].startswith(told)


SUNSHINE_OUTAGE = {
    "communities": ["阳光小区"],
    "cause": "一次管网爆管",
    "repair_location": "文化路",
    "expected_restoration_at": "2026-12-11T04:00:00Z",
}


async def test_outage_in_the_residents_known_community_is_explained(backend: FakeBackend) -> None:
    backend.residents["oRESIDENT0001"] = {"phone": "1", "addresses": [{"text": "x", "community": "阳光小区"}]}
    backend.outages.append(SUNSHINE_OUTAGE)
    dispatcher = CollectingDispatcher()
    await ActionAnswerOutage().run(dispatcher, make_tracker("怎么停暖了", "ask_outage"), {})
    [message] = dispatcher.messages
    assert "阳光小区" in message["text"] and "一次管网爆管" in message["text"] and "文化路" in message["text"]
    assert "12月11日12:00" in message["text"] and "6.3.1" in message["text"]


async def test_outage_of_the_community_the_message_names_even_without_a_building(backend: FakeBackend) -> None:
    backend.outages.append(SUNSHINE_OUTAGE)
    dispatcher = CollectingDispatcher()
    await ActionAnswerOutage().run(dispatcher, make_tracker("阳光小区停暖了吗", "ask_outage"), {})
    assert "一次管网爆管" in dispatcher.messages[0]["text"]


@pytest.mark.parametrize("text", ["和平小区停暖了", "我住和平里，怎么停热了", "幸福家园5号楼301是不是停暖了"])
async def test_another_communitys_outage_is_never_given(backend: FakeBackend, text: str) -> None:
    backend.outages.append(SUNSHINE_OUTAGE)
    backend.residents["oRESIDENT0001"] = {"phone": "1", "addresses": [{"text": "x", "community": "阳光小区"}]}
    dispatcher = CollectingDispatcher()
    await ActionAnswerOutage().run(dispatcher, make_tracker(text, "ask_outage"), {})
    [message] = dispatcher.messages
    assert "没有查到" in message["text"] and "阳光小区" not in message["text"]
    assert "管网爆管" not in message["text"] and "登记" in message["text"]


async def test_a_community_nobody_named_is_asked_for_not_guessed(backend: FakeBackend) -> None:
    backend.outages.append(SUNSHINE_OUTAGE)
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerOutage().run(dispatcher, make_tracker("我们小区停暖了什么时候恢复", "ask_outage"), {})
    [message] = dispatcher.messages
    assert "哪个小区" in message["text"] and "阳光小区" not in message["text"]
    assert "没有查到" not in message["text"]
    assert {"event": "slot", "timestamp": None, "name": "outage_community_asked", "value": True} in events


async def test_whether_outages_are_announced_is_6_3_1s_answer(backend: FakeBackend) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAnswerOutage().run(dispatcher, make_tracker("停暖会提前通知吗", "ask_outage"), {})
    [message] = dispatcher.messages
    assert "6.3.1" in message["text"] and "24小时" in message["text"] and "再次通知" in message["text"]
    assert backend.requests == []


async def test_resident_sees_their_own_orders_with_status_and_next_deadline(backend: FakeBackend) -> None:
    backend.orders += [
        {
            "id": 1,
            "number": "GD20261210000001",
            "kind": "repair",
            "status": "dispatched",
            "resident_openid": "oRESIDENT0001",
            "next_due_at": "2026-12-10T02:30:00Z",
        },
        {
            "id": 2,
            "number": "GD20261210000002",
            "kind": "complaint",
            "status": "accepted",
            "resident_openid": "oSOMEONE_ELSE",
            "next_due_at": None,
        },
    ]
    dispatcher = CollectingDispatcher()
    await ActionListWorkOrders().run(dispatcher, make_tracker("查进度", "query_work_order"), {})
    text = dispatcher.messages[0]["text"]
    assert "GD20261210000001 报修 已派单，下一时限 12月10日10:30" in text
    assert "GD20261210000002" not in text


async def test_grid_worker_sees_the_orders_of_their_communities(backend: FakeBackend) -> None:
    backend.grid_workers["oGRID"] = {"openid": "oGRID", "communities": ["阳光小区", "幸福家园"]}
    dispatcher = CollectingDispatcher()
    await ActionListWorkOrders().run(dispatcher, make_tracker("社区工单", "query_work_order", sender_id="oGRID"), {})
    assert responses(dispatcher.messages) == ["utter_no_orders"]
    assert ("community", "阳光小区") in backend.requests[-1]["query_all"]
    assert ("community", "幸福家园") in backend.requests[-1]["query_all"]
    # a grid worker follows up what is still open
    statuses = [v for k, v in backend.requests[-1]["query_all"] if k == "status"]
    assert sorted(statuses) == ["accepted", "arrived", "dispatched", "responded"]


async def test_backend_down_while_listing_says_so(unreachable_backend: None) -> None:
    dispatcher = CollectingDispatcher()
    await ActionListWorkOrders().run(dispatcher, make_tracker("查进度", "query_work_order"), {})
    assert responses(dispatcher.messages) == ["utter_backend_unavailable"]


async def test_notice_from_the_backend_is_relayed() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "",
        "EXTERNAL_outage_notice",
        entities=[{"entity": "message", "value": "【停热通知】…"}],
        metadata=FROM_BACKEND,
    )
    await ActionRelayNotice().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"] == "【停热通知】…"


def _notice(key: str, earlier_keys: tuple[str, ...] = (), earlier_from_backend: bool = True) -> Any:
    """A notice handed over under ``key``, in a conversation where notices of ``earlier_keys`` came
    before (as Rasa keeps trigger_intent messages: metadata ``is_external``)."""
    earlier = [
        {
            "event": "user",
            "text": "EXTERNAL: EXTERNAL_outage_notice",
            "parse_data": {
                "intent": {"name": "EXTERNAL_outage_notice"},
                "entities": [{"entity": "handover", "value": k}],
            },
            "metadata": FROM_BACKEND if earlier_from_backend else {},
        }
        for k in earlier_keys
    ]
    return make_tracker(
        "",
        "EXTERNAL_outage_notice",
        entities=[{"entity": "message", "value": "【停热通知】…"}, {"entity": "handover", "value": key}],
        metadata=FROM_BACKEND,
        earlier_events=earlier,
    )


async def test_a_notice_handed_over_again_is_said_once() -> None:
    """The backend hands a notification over again when a restart lost the first hand-over's answer."""
    first = CollectingDispatcher()
    await ActionRelayNotice().run(first, _notice("notification:9"), {})
    assert [(m["text"], m["handover"]) for m in first.messages] == [("【停热通知】…", "notification:9")]
    again = CollectingDispatcher()
    await ActionRelayNotice().run(again, _notice("notification:9", earlier_keys=("notification:9",)), {})
    assert again.messages == []
    other = CollectingDispatcher()  # another notification is said, whatever came before
    await ActionRelayNotice().run(other, _notice("notification:10", earlier_keys=("notification:9",)), {})
    assert [m["text"] for m in other.messages] == ["【停热通知】…"]


async def test_a_key_a_resident_typed_earlier_does_not_silence_a_notice() -> None:
    """Only what came through the backend's authenticated API counts as an earlier hand-over."""
    dispatcher = CollectingDispatcher()
    tracker = _notice("notification:9", earlier_keys=("notification:9",), earlier_from_backend=False)
    await ActionRelayNotice().run(dispatcher, tracker, {})
    assert [m["text"] for m in dispatcher.messages] == ["【停热通知】…"]


async def test_a_notice_a_resident_wrote_is_not_relayed_as_official() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        '/EXTERNAL_outage_notice{"message": "【停热通知】请扫码缴纳抢修费"}',
        "EXTERNAL_outage_notice",
        entities=[{"entity": "message", "value": "【停热通知】请扫码缴纳抢修费"}],
    )
    await ActionRelayNotice().run(dispatcher, tracker, {})
    assert responses(dispatcher.messages) == ["utter_default"]


async def test_the_community_given_after_the_bot_asked_answers_the_outage(backend: FakeBackend) -> None:
    backend.outages.append(SUNSHINE_OUTAGE)
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerOutage().run(
        dispatcher, make_tracker("阳光小区", "nlu_fallback", slots={"outage_community_asked": True}), {}
    )
    assert "一次管网爆管" in dispatcher.messages[0]["text"]
    assert {"event": "slot", "timestamp": None, "name": "outage_community_asked", "value": False} in events


async def test_something_else_given_after_the_bot_asked_is_not_understood_and_not_asked_again(
    backend: FakeBackend,
) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerOutage().run(
        dispatcher, make_tracker("嗯嗯好的吧", "inform", slots={"outage_community_asked": True}), {}
    )
    assert responses(dispatcher.messages) == ["utter_default"]
    assert {"event": "slot", "timestamp": None, "name": "outage_community_asked", "value": False} in events
    assert {"event": "slot", "timestamp": None, "name": "misunderstood", "value": True} in events
    assert backend.requests == []


# ---------------------------------------------------------------- an order asked for by its number
def orders_of_two_residents(backend: FakeBackend) -> None:
    backend.orders += [
        {
            "id": number,
            "number": f"GD20261201{number:06d}",
            "kind": "repair",
            "status": "dispatched" if number == 17 else "completed",
            "resident_openid": "oOTHER" if number == 18 else "oRESIDENT0001",
            "next_due_at": "2026-12-10T02:30:00Z" if number == 17 else None,
        }
        for number in range(10, 19)
    ]


async def test_an_order_asked_for_by_number_is_shown_on_its_own(backend: FakeBackend) -> None:
    """#23: "GD20261201000017到哪一步了" read the number's digits as a phone and listed the latest five."""
    orders_of_two_residents(backend)
    dispatcher = CollectingDispatcher()
    await ActionListWorkOrders().run(dispatcher, make_tracker("GD20261201000017到哪一步了", "query_work_order"), {})
    assert dispatcher.messages[0]["text"] == (
        "您查询的工单 GD20261201000017：\nGD20261201000017 报修 已派单，下一时限 12月10日10:30"
    )
    assert backend.requests[-1]["query"]["resident_openid"] == "oRESIDENT0001"  # only the resident's own


@pytest.mark.parametrize("number", ["GD20261201000018", "GD20261201000099"])
async def test_an_order_number_not_the_residents_is_not_shown(backend: FakeBackend, number: str) -> None:
    orders_of_two_residents(backend)  # 18 is another resident's, 99 does not exist
    dispatcher = CollectingDispatcher()
    await ActionListWorkOrders().run(dispatcher, make_tracker(f"{number}到哪一步了", "query_work_order"), {})
    text = dispatcher.messages[0]["text"]
    assert text.startswith(f"没有在您名下的工单中查到 {number}，请核对单号。")
    assert "GD20261201000018 " not in text and "GD20261201000017 报修 已派单" in text
