"""Residents' questions through the WeChat simulator (#23): the standard's promises answered from their
clauses, outages only of the resident's own community, a clarifying question instead of a guess, and a
person after the second misunderstanding."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.conftest import eventually, outage_now
from tests.e2e.test_walking_skeleton import phone


@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("投诉以后多久能给处理完？", ["10.1.4", "30分钟", "公司承诺"]),
        ("我打了12345热线，多久给我答复？", ["10.1.4", "5个工作日"]),
        ("处理完了你们会回访吗？", ["10.1.6", "三日内"]),
        ("上次投诉没解决，我又投诉了一次怎么办？", ["10.1.7", "面对面"]),
        ("维修师傅报修后多久能上门？", ["10.2.4", "30分钟内到达"]),
        ("自己家暖气片坏了，维修要钱吗？", ["10.2.2", "确认后才开始维修"]),
        ("室温不达标能少交暖气费吗？", ["10.3 第1条", "减收热费"]),
        ("你们会不会泄露我的电话和住址？", ["12.1"]),
        ("暖气费交晚了会怎么样？", ["9.2.2", "停止供热"]),
        ("停暖会提前通知吗？", ["6.3.1", "24小时"]),
        ("买了新房，暖气怎么开户？", ["【开户", "7.5", "公司承诺，9.1.2"]),
        ("还没开始供暖，暖气管里怎么有流水声？", ["6.1.1", "七至十天"]),
        ("供暖结束后多退的钱什么时候退？", ["10.3 第4条", "6月30日"]),
        ("暖气漏水把地板泡坏了，谁来赔？", ["13.5", "13.6", "30个工作日"]),
    ],
)
def test_a_question_on_the_standards_promises_gets_its_clause(
    running_stack: dict[str, str], question: str, said: list[str]
) -> None:
    openid = f"oE2E-ask-{abs(hash(question)) % 10**8}"
    answer = phone(running_stack, openid, "text", question)["reply"]
    assert all(part in answer for part in said), answer
    assert "人工客服" not in answer and "没有理解" not in answer, answer


def test_an_outage_is_told_only_to_its_own_community_and_an_unknown_one_is_asked(
    running_stack: dict[str, str],
) -> None:
    env = running_stack
    headers = {"Authorization": f"Bearer {env['E2E_SUPERVISOR_TOKEN']}"}
    outage = outage_now(["望海园小区"], "pipe_burst", "望海路与新华路口", "一次网漏水抢修")
    assert httpx.post(env["API_URL"] + "/api/v1/outages", json=outage, headers=headers).status_code == 201
    other = phone(env, "oE2E-outage-other", "text", "和平小区停暖了")["reply"]
    assert "和平小区" in other and "没有查到" in other and "望海园" not in other, other
    asked = phone(env, "oE2E-outage-unknown", "text", "停暖了 啥时候来")["reply"]
    assert "哪个小区" in asked and "望海园" not in asked, asked
    told = phone(env, "oE2E-outage-unknown", "text", "望海园小区")["reply"]
    assert "一次网漏水抢修" in told and "6.3.1" in told, told


def test_a_message_the_bot_is_unsure_of_offers_readings_and_the_choice_is_answered(
    running_stack: dict[str, str],
) -> None:
    openid = "oE2E-clarify"
    offered = phone(running_stack, openid, "text", "报停了还要交空置费吗")["reply"]
    assert "您是想问哪一项" in offered and "都不是，转人工" in offered, offered
    options = dict((label.strip(), number) for number, label in re.findall(r"回复 (\d) ([^\n]+)", offered))
    assert "都不是，转人工" in options and len(options) >= 2, offered
    chosen = next(label for label in options if label != "都不是，转人工")
    answer = phone(running_stack, openid, "text", options[chosen])["reply"]
    assert "依据《" in answer and "没有理解" not in answer and "您是想问" not in answer, answer


def test_two_misunderstandings_in_a_row_reach_a_person(running_stack: dict[str, str]) -> None:
    env = running_stack
    openid = "oE2E-two-misunderstandings"
    # a "yes" with nothing asked (Rasa's core fallback), then a message the NLU cannot place
    first = phone(env, openid, "text", "嗯那个就是")["reply"]
    assert "没有理解" in first or "您是想问" in first, first
    second = phone(env, openid, "text", "怎么回事啊")["reply"]
    assert "人工客服" in second, second
    agent = {"Authorization": f"Bearer {env['E2E_SUPERVISOR_TOKEN']}"}

    def waiting() -> list[dict]:
        listed = httpx.get(env["API_URL"] + "/api/v1/handoffs", params={"status": "waiting"}, headers=agent).json()
        return [h for h in listed["items"] if h["resident_openid"] == openid]

    [handoff] = eventually(waiting, bool)
    assert handoff["reason"] == "fallback"
