"""Dialogue repair through the WeChat simulator (#12): a resident stops a filing in their own words,
or corrects the address while another question is asked."""

from __future__ import annotations

from tests.e2e.conftest import eventually, finished_turn, orders_of, tracker_events
from tests.e2e.test_walking_skeleton import burst, content_of, phone


def test_a_resident_stops_the_filing_while_the_address_is_asked(running_stack: dict[str, str]) -> None:
    env = running_stack
    openid = "oE2E-cancel"
    asked = phone(env, openid, "text", "暖气阀门坏了")["reply"]
    assert "地址" in asked, asked
    stopped = phone(env, openid, "text", "算了，不报了")["reply"]
    assert "取消" in stopped and "地址" not in stopped, stopped
    assert orders_of(env, openid) == []
    # the next message starts afresh: no half-filled form is waiting
    assert "地址" not in phone(env, openid, "text", "供暖时间是什么时候")["reply"]


def test_an_address_corrected_while_the_phone_is_asked(running_stack: dict[str, str]) -> None:
    env = running_stack
    openid = "oE2E-correct-phone"
    phone(env, openid, "text", "投诉 客服态度不好")
    asked = phone(env, openid, "text", "阳光小区3号楼2单元501")["reply"]
    assert "电话" in asked, asked
    corrected = phone(env, openid, "text", "不对，是5号楼，不是3号楼")["reply"]
    assert "阳光小区5号楼2单元501" in corrected and "号码好像不对" not in corrected, corrected


def test_a_question_inside_the_filing_is_answered_and_the_filing_goes_on(running_stack: dict[str, str]) -> None:
    env = running_stack
    openid = "oE2E-question-mid-form"
    assert "地址" in phone(env, openid, "text", "暖气阀门坏了")["reply"]
    answered = phone(env, openid, "text", "今年供暖到什么时候结束")["reply"]
    assert "5.2.1" in answered and "地址" in answered, answered  # the answer, then the address again
    assert "电话" in phone(env, openid, "text", "阳光小区3号楼2单元501")["reply"]


def test_a_burst_of_short_messages_is_handled_in_order_each_answered_once(running_stack: dict[str, str]) -> None:
    """#12, #22: "你好" / "暖气阀门坏了" / "阳光小区3号楼2单元501" pushed back to back, before the bot answers
    the first. The bot reads them in the platform's order, each once, and the address answers the
    question the problem raised; answers come passively or, on a slow machine, pushed afterwards."""
    env = running_stack
    openid = "oE2E-burst"
    messages = ["你好", "暖气阀门坏了", "阳光小区3号楼2单元501"]
    msg_ids = [f"2600000000{n:07d}" for n in range(1, len(messages) + 1)]
    replies = burst(env, openid, messages, msg_ids)
    answers = []
    for reply, msg_id in zip(replies, msg_ids, strict=True):
        passive = content_of(reply)
        if passive:
            answers.append(passive)
            continue
        said = eventually(lambda m=msg_id: finished_turn(env, openid, f"msg:{openid}:{m}"), lambda t: t is not None)
        answers.append("\n\n".join(said or []))
    read = [e["text"] for e in tracker_events(env, openid) if e.get("event") == "user"]
    assert read == messages, read  # each once, in the platform's order
    assert all(answers), answers
    assert "电话" in answers[2], answers  # the address answered the question the problem asked
    after = phone(env, openid, "text", "13800138000")["reply"] or ""
    assert "上门" in after or "时间" in after, after  # the filing goes on: a repair asks when to come


def test_the_problem_corrected_mid_filing_changes_what_is_filed(running_stack: dict[str, str]) -> None:
    """#12: "不是漏水，是不热" turns a leak repair into a cold-room complaint, which then asks for the
    temperature measured; the order filed is the complaint."""
    env = running_stack
    openid = "oE2E-correct-problem"
    phone(env, openid, "text", "暖气漏水了")
    assert "电话" in phone(env, openid, "text", "阳光小区3号楼2单元501")["reply"]
    corrected = phone(env, openid, "text", "不是漏水，是不热")["reply"]
    assert "问题已改为：室温不够（投诉）" in corrected and "号码好像不对" not in corrected, corrected
    asked = phone(env, openid, "text", "13800138000")["reply"]
    assert "温度" in asked or "室温" in asked, asked
    summary = phone(env, openid, "text", "16度")["reply"]
    assert "请确认：投诉" in summary and "更正：不是漏水，是不热" in summary, summary
    phone(env, openid, "text", "是")
    orders = orders_of(env, openid)
    assert [(o["kind"], o["category"]) for o in orders] == [("complaint", "room_temperature")]
