"""Outage notices to residents (6.3.1), composed from fields rather than written freely.

An outage notice goes to every resident of the named communities as the company's official word,
so its wording is fixed here: the cause is one of a list, with at most a short note; the places and
times come from the outage itself. Pure functions: no I/O, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from heating_standard.localtime import LOCAL_TZ
from heating_standard.temperature_tests import ROOM_TEMPERATURE_STANDARD

# The causes a notice may name, as residents read them.
CAUSES: dict[str, str] = {
    "pipe_burst": "供热管网突发漏水抢修",
    "station_failure": "换热站设备故障",
    "heat_source_failure": "热源设备故障",
    "power_outage": "供电中断",
    "water_outage": "供水中断",
    "third_party_damage": "外部施工损坏供热管线",
    "other_emergency": "突发故障抢修",
}
NOTE_MAX_CHARS = 30
PLACE_MAX_CHARS = 40
# A note or place is plain words: no links, no phone numbers, no markup.
_FORBIDDEN = re.compile(r"https?://|www\.|[<>{}\[\]]|\d{7,}|[\u0000-\u001f]", re.IGNORECASE)


class NoticeRefused(ValueError):
    """A field a notice cannot carry; the message names it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def check_words(field: str, text: str | None, limit: int) -> str | None:
    """``text`` stripped, if a notice may carry it; NoticeRefused otherwise."""
    if text is None:
        return None
    text = text.strip()
    if len(text) > limit:
        raise NoticeRefused(field, f"at most {limit} characters")
    if _FORBIDDEN.search(text):
        raise NoticeRefused(field, "plain words only: no links, phone numbers or markup")
    return text or None


def cause_text(cause_code: str, note: str | None) -> str:
    """The cause as residents read it: the listed cause, and the note in brackets."""
    if cause_code not in CAUSES:
        raise NoticeRefused("cause_code", f"one of {', '.join(CAUSES)}")
    label = CAUSES[cause_code]
    return f"{label}（{note}）" if note else label


@dataclass(frozen=True)
class OutageFacts:
    """What a notice says."""

    cause_code: str
    cause_note: str | None
    communities: tuple[str, ...]
    repair_location: str
    expected_restoration_at: datetime
    extension: bool
    # 6.3.1 "再次停热": an earlier outage of the season was announced to one of these communities
    again: bool = False


# 6.3.1: an outage expected to last longer than this is announced to the residents of its area.
NOTICE_AFTER = timedelta(hours=24)


def announced_on_entry(started_at: datetime, expected_restoration_at: datetime) -> bool:
    """6.3.1: whether an outage is announced when it is recorded (or given a new expected time): it is
    expected to last over 24 hours. Whoever records it so needs a supervisor's role."""
    return expected_restoration_at - started_at > NOTICE_AFTER


def lasted_a_day_on_record(started_at: datetime, entered_at: datetime, now: datetime) -> bool:
    """Whether an outage that was not announced has now lasted over 24 hours, so its residents are told.

    Counted from the later of its start and the moment it was entered: a start typed into the past
    (staff often record an outage after it began) dates the accident rate, but never makes the
    scheduler tell residents anything; only time the system saw pass does."""
    return now - max(started_at, entered_at) > NOTICE_AFTER


def outage_notice(facts: OutageFacts) -> str:
    """The text sent to each resident of the communities: 【停热通知】, 【再次停热通知】 or 【停热延长通知】."""
    restoration = facts.expected_restoration_at.astimezone(LOCAL_TZ).strftime("%m月%d日%H:%M")
    lead = "停热延长通知" if facts.extension else "再次停热通知" if facts.again else "停热通知"
    return (
        f"【{lead}】因{cause_text(facts.cause_code, facts.cause_note)}，{'、'.join(facts.communities)}暂停供热，"
        f"抢修地点：{facts.repair_location}，预计{restoration}恢复供热。给您带来不便，敬请谅解。"
    )


def overrun_notice(facts: OutageFacts) -> str:
    """6.3.1 "超时停热": the outage has run past its expected restoration; residents are told again."""
    expected = facts.expected_restoration_at.astimezone(LOCAL_TZ).strftime("%m月%d日%H:%M")
    return (
        f"【停热超时通知】因{cause_text(facts.cause_code, facts.cause_note)}，{'、'.join(facts.communities)}"
        f"原预计{expected}恢复供热，目前仍在抢修（抢修地点：{facts.repair_location}）。"
        "新的恢复时间确定后将再次通知您。给您带来不便，敬请谅解。"
    )


def quote_notice(number: str, items: list[dict[str, object]], total: str) -> str:
    """A paid repair's quote as the resident reads it before confirming (10.2.2: items, prices, materials)."""
    lines = [f"【维修报价】工单 {number} 的维修项目："]
    for item in items:
        material = f"（{item['material']}）" if item.get("material") else ""
        lines.append(f"· {item['item']}{material} ×{item['quantity']}，单价 {item['price']} 元")
    lines.append(f"合计 {total} 元。依据《威海市城镇供热服务规范》10.2.2，维修前须经您确认。")
    return "\n".join(lines)


def temperature_result_notice(
    number: str, room: str, readings: list[float], measured: float, excluded: str | None = None
) -> str:
    """A room-temperature test's readings and result as the resident confirms them (10.3 第1条 a); a
    dispute may go to a testing body both accept (10.3 第1条 b). ``room`` and ``excluded`` are words."""
    shown = "、".join(f"{r:.1f}" for r in readings)
    verdict = "达到" if measured >= ROOM_TEMPERATURE_STANDARD else "未达到"
    standard = f"{ROOM_TEMPERATURE_STANDARD:g}℃"
    result = f"实测室温 {measured:.1f}℃，{verdict}{standard}（5.1）"
    lines = [f"【入户测温结果】工单 {number}：{room}三次读数 {shown}℃，{result}。"]
    if excluded:
        lines.append(f"本次测量时{excluded}，不作为室温是否达标的判定（5.1）。")
    lines.append("依据《威海市城镇供热服务规范》10.3，测量数据和结果须经您确认：回复“1”确认；回复“2”有异议，")
    lines.append("工作人员会与您联系，您也可以委托双方认可的第三方检测机构检测。")
    return "\n".join(lines)


REASON_MAX_CHARS = 100
# 3.6: the causes that are the company's own accidents; the others (power, water, a third party's
# works) stop the heat without being the company's accident and stay out of the accident rate S.
COMPANY_ACCIDENT_CAUSES = frozenset({"pipe_burst", "station_failure", "heat_source_failure", "other_emergency"})


def is_company_accident(cause_code: str | None) -> bool:
    """Whether an outage counts in the accident rate (14.4.1, 3.6). An outage recorded without a cause
    code counts: the rate is not flattered by a missing field."""
    return cause_code is None or cause_code in COMPANY_ACCIDENT_CAUSES


def reschedule_notice(number: str, reason: str, promised_at: datetime) -> str:
    """10.1.4 (办结条): the resident is told why the order cannot be finished in time, and the new time."""
    words = check_words("reason", reason, REASON_MAX_CHARS)
    when = promised_at.astimezone(LOCAL_TZ).strftime("%m月%d日%H:%M")
    return (
        f"【办结时间调整】您的工单 {number} 未能在承诺时间内办结，原因：{words}。"
        f"我们将于{when}前办结，给您带来不便，敬请谅解。"
    )


def refusal_notice(number: str, reason: str, suggestion: str) -> str:
    """9.1.2: an application that is not accepted is told why, with a suggestion how to solve it."""
    why = check_words("reason", reason, REASON_MAX_CHARS)
    how = check_words("suggestion", suggestion, REASON_MAX_CHARS)
    return f"【业务受理结果】您的申请（工单 {number}）暂不能受理，原因：{why}。建议：{how}。如有疑问请回复“转人工”。"


def not_ours_notice(number: str, explanation: str) -> str:
    """10.1.4 (办结条): "因非供热经营企业原因无法处理的，应向投诉人做出解释" — the complainant is told why."""
    why = check_words("explanation", explanation, REASON_MAX_CHARS)
    return (
        f"【投诉处理说明】您的投诉（工单 {number}）经核查不属于供热企业原因，我公司无法处理：{why}。"
        "如有疑问请回复“转人工”。"
    )


def claim_adjusted_notice(number: str, adjusted_sum: str) -> str:
    """13.8: the loss adjuster's sum, told to the resident as soon as the report arrives."""
    return (
        f"【理赔理算结果】工单 {number} 涉及的损失，保险公司理算金额为 {adjusted_sum} 元（13.8）。"
        "双方就赔偿数额达成一致后，赔偿款将在三十个工作日内支付（13.5）。如有疑问请回复“转人工”。"
    )


def claim_agreed_notice(number: str, agreed_sum: str, due_at: datetime) -> str:
    """13.5: the sum agreed is paid within 30 working days; the resident is told by when."""
    when = due_at.astimezone(LOCAL_TZ).strftime("%Y年%m月%d日")
    return f"【理赔赔付】工单 {number}：双方商定的赔偿款 {agreed_sum} 元，将于{when}前交付给您（13.5）。"


def claim_excluded_notice(number: str, exclusion: str, clause: str, note: str | None) -> str:
    """13.6: why the company does not pay, in the standard's words, with the staff's plain explanation."""
    why = check_words("exclusion_note", note, REASON_MAX_CHARS)
    detail = f"经核查：{why}。" if why else ""
    return (
        f"【理赔说明】工单 {number} 涉及的损失属于“{exclusion}”，依据《威海市城镇供热服务规范》{clause}，"
        f"供热企业不承担赔偿责任。{detail}如有疑问请回复“转人工”。"
    )


def fee_reminder_notice(home: str, amount: str, pay_by: date, standard: str) -> str:
    """9.2.2: fees unpaid by the agreed time are reminded (by notice, SMS or WeChat, the reminder's proof kept);
    what follows non-payment is said in the standard's words."""
    place = check_words("address", home, 64)
    day = f"{pay_by.year}年{pay_by.month}月{pay_by.day}日"
    return (
        f"【热费催交通知】您家（{place}）尚有热费 {amount} 元未交纳，请于{day}前通过本公众号或营业厅交纳。"
        f"依据《{standard}》9.2.2，经催收后仍不交纳热费的，供热企业可停止供热或按合同约定处理。已交纳的请忽略本通知。"
    )


def filed_notice(number: str, leak: bool, due_at: datetime | None) -> str:
    """An order filed through the bot whose number the resident may not have heard (the bot stopped
    between filing it and answering): the number, and by when staff will call (10.1.4) or, for a leak,
    come and deal with it (10.2.3)."""
    if due_at is None:
        promise = "工作人员将尽快与您联系"
    else:
        when = due_at.astimezone(LOCAL_TZ).strftime("%m月%d日%H:%M")
        promise = f"工作人员将于{when}前到场处置（10.2.3）" if leak else f"工作人员将于{when}前与您联系（10.1.4）"
    return f"【工单已登记】您反映的问题已登记，单号 {number}，{promise}。如需查询进度，直接发消息问我即可。"
