"""The words staff read for the backend's codes (the console and the monthly report): an order's kind,
category, status, business type and source are ``heating_standard.words``; the words only staff read
(actions, events, deliveries, the sampling plan's spreads) are here."""

from __future__ import annotations

from heating_standard.lifecycle import Action
from heating_standard.sampling import FloorLevel, Orientation, Position
from heating_standard.words import (
    ANNOUNCEMENT_WORDS,
    BUSINESS_TYPE_WORDS,
    CAMPAIGN_WORDS,
    CATEGORY_WORDS,
    CLAIM_EXCLUSION_WORDS,
    EXCLUSION_WORDS,
    KIND_WORDS,
    RATING_WORDS,
    RESPONSIBILITY_WORDS,
    ROOM_WORDS,
    SIGNATURE_WORDS,
    SOURCE_WORDS,
    STATUS_WORDS,
)

KINDS = KIND_WORDS
CATEGORIES = CATEGORY_WORDS
BUSINESS_TYPES = BUSINESS_TYPE_WORDS
# 5.4.3: where a household sits, as the household list and the console write it.
POSITIONS = {Position.NEAR: "近端", Position.MIDDLE: "中端", Position.FAR: "末端"}
ORIENTATIONS = {Orientation.SHADED: "阴面", Orientation.SUNNY: "阳面"}
FLOORS = {FloorLevel.UPPER: "上层", FloorLevel.MIDDLE: "中层", FloorLevel.LOWER: "低层"}
SPREADS = {"position": POSITIONS, "orientation": ORIENTATIONS, "floor": FLOORS}

SOURCES = SOURCE_WORDS
# call-backs and the yearly survey (api.services.campaigns)
CAMPAIGNS = CAMPAIGN_WORDS
RATINGS = RATING_WORDS
# announcements to every follower (api.services.announcements)
ANNOUNCEMENTS = ANNOUNCEMENT_WORDS
ANNOUNCEMENT_STATES = {
    "draft": "待批准",
    "approved": "已批准，待发送",
    "sending": "发送中",
    "sent": "已群发",
    "unconfirmed": "发送结果未知，请核实",
    "failed": "微信平台拒绝，未发出",
    "cancelled": "已取消",
}
# a room-temperature test's record (5.4.6, 5.1, 10.3 第1条 a)
ROOMS = ROOM_WORDS
EXCLUSIONS = EXCLUSION_WORDS
SIGNATURES = SIGNATURE_WORDS
RESPONSIBILITIES = RESPONSIBILITY_WORDS  # what a test found (10.3 第1条 c–e)
CLAIM_EXCLUSIONS = CLAIM_EXCLUSION_WORDS  # 13.6
STATUSES = STATUS_WORDS  # the state machine's refusals use the same words
ACTIONS = {
    Action.RESPOND: "响应",
    Action.DISPATCH: "派工",
    Action.ARRIVE: "到场",
    Action.QUOTE: "报价",
    Action.CONFIRM_QUOTE: "记录居民书面确认报价",
    Action.COMPLETE: "完成（服务记录）",
    Action.RETURN: "回退热线工单",
    Action.EXTEND: "延期",
    Action.CALLBACK: "记录回访",
    Action.CLOSE: "关闭",
    Action.CANCEL: "撤销",
    Action.RESCHEDULE: "调整办结时间（告知居民）",
    Action.MARK_UNREASONABLE: "认定为不合理投诉",
    Action.MARK_REASONABLE: "恢复为合理投诉",
}
EVENTS = {
    **{a.value: w for a, w in ACTIONS.items()},
    "accept": "受理",
    "attachment": "照片",
    "contact_viewed": "查看联系方式",
    "resend_quote": "重新发送报价（微信）",
    "temperature_confirmed": "居民在微信中确认测温结果",
    "temperature_finding": "查明室温不达标原因（10.3）",
    "temperature_refund": "退费（10.3 第4条）",
    "claim_opened": "登记理赔",
    "claim_adjusted": "理算金额（已通知居民）",
    "claim_agreed": "商定赔偿数额",
    "claim_paid": "交付赔偿款",
    "claim_excluded": "不承担赔偿责任（已告知居民）",
    "temperature_disputed": "居民对测温结果有异议",
}

# What became of a message to a resident (api.views.delivery): the WeChat channel's outbox states,
# and what the backend knows before the channel has the message or when it cannot be asked.
DELIVERIES = {
    "sent": "已送达",
    "sent_as_template": "已用模板消息送达",
    "pending": "发送中",
    "undelivered": "未送达",
    "queued": "等待发送",
    "missing": "通道中查不到",
    "unreachable": "通道暂时无法查询",
    "pushed_to_staff": "已推送给工作人员",
    "staff_alert": "在工作台提醒中",
}


def words(table: dict, code: str | None) -> str:  # type: ignore[type-arg]
    """The label of a code, or the code itself when the table does not know it."""
    if code is None:
        return ""
    for key, label in table.items():
        if key == code:
            return label[0] if isinstance(label, tuple) else str(label)
    return code
