"""Dialogue repair through the WeChat simulator (#12): a resident stops a filing in their own words,
or corrects the address while another question is asked."""

from __future__ import annotations

from tests.e2e.conftest import eventually, inbox, orders_of
from tests.e2e.test_walking_skeleton import phone


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
    """#12: "你好" / "暖气阀门坏了" / "阳光小区3号楼2单元501" sent before the bot answers the first."""
    import threading
    import time

    env = running_stack
    openid = "oE2E-burst"
    messages = ["你好", "暖气阀门坏了", "阳光小区3号楼2单元501"]
    answers: dict[int, dict] = {}

    def send(n: int) -> None:
        answers[n] = phone(env, openid, "text", messages[n])

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(messages))]
    for thread in threads:
        thread.start()
        time.sleep(0.05)  # as fast as a thumb types, in this order
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers) == [0, 1, 2]
    # Each is answered once: passively within the platform's 5 seconds, or pushed afterwards (a slow
    # machine); none is lost.
    texts = [answers[n].get("reply") or "" for n in range(3)]
    late = sum(1 for t in texts if not t)
    pushed = [m["text"] for m in eventually(lambda: inbox(env, openid), lambda m: len(m) >= late)] if late else []
    shown = [t for t in texts if t] + pushed
    assert len(shown) >= 3, answers
    assert any("电话" in t for t in shown), shown  # the address answered the question asked before it
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
