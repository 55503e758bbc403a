"""The words for an order's codes, one table per code and audience. Staff read the console's and the monthly
report's words; a resident reads the bot's, which differ only where staff words would puzzle them
("已派工" is the company's word, "已派单" the resident's). Every member of each code has its word
(tests/standard/test_words.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from heating_standard.announcements import AnnouncementKind
from heating_standard.campaigns import CampaignKind, Rating
from heating_standard.claims import Exclusion as ClaimExclusion
from heating_standard.orders import BusinessType, Category, Code, Kind, Source, Status
from heating_standard.temperature_tests import Exclusion, Responsibility, Room, Signature

AnyCode = TypeVar("AnyCode", bound=Code)

# What an order is: the same word for staff and residents.
KIND_WORDS: dict[Kind, str] = {
    Kind.COMPLAINT: "投诉",
    Kind.REPAIR: "报修",
    Kind.TEMPERATURE_TEST: "入户测温",
    Kind.BUSINESS: "业务办理",
    Kind.CONSULTATION: "咨询",
}

# The problem, as staff file it and as a resident is told it after a correction of the form.
CATEGORY_WORDS: dict[Category, str] = {
    Category.ROOM_TEMPERATURE: "室温",
    Category.NO_HEAT: "不热/停热",
    Category.LEAK: "跑冒滴漏",
    Category.EQUIPMENT: "设施设备",
    Category.BILLING: "收费",
    Category.SERVICE: "服务",
    Category.OTHER: "其他",
}
RESIDENT_CATEGORY_WORDS: dict[Category, str] = {
    Category.ROOM_TEMPERATURE: "室温不够",
    Category.NO_HEAT: "完全不热",
    Category.LEAK: "漏水",
    Category.EQUIPMENT: "设施损坏",
    Category.BILLING: "收费问题",
    Category.SERVICE: "服务问题",
    Category.OTHER: "其他问题",
}

# Where an order is: staff read the state machine's words (its refusals use them too).
STATUS_WORDS: dict[Status, str] = {
    Status.ACCEPTED: "已受理",
    Status.RESPONDED: "已响应",
    Status.DISPATCHED: "已派工",
    Status.ARRIVED: "已到场",
    Status.COMPLETED: "已完成",
    Status.CALLED_BACK: "已回访",
    Status.CLOSED: "已关闭",
    Status.RETURNED: "已回退",
    Status.CANCELLED: "已撤销",
}
RESIDENT_STATUS_WORDS: dict[Status, str] = {
    Status.ACCEPTED: "已受理",
    Status.RESPONDED: "已联系",
    Status.DISPATCHED: "已派单",
    Status.ARRIVED: "已到场",
    Status.COMPLETED: "已办结",
    Status.CALLED_BACK: "已回访",
    Status.CLOSED: "已关闭",
    Status.RETURNED: "已退回",
    Status.CANCELLED: "已取消",
}

# A business request (9.1), the same word for both.
BUSINESS_TYPE_WORDS: dict[BusinessType, str] = {
    BusinessType.APPLY_CONNECTION: "报装",
    BusinessType.STOP_HEATING: "报停",
    BusinessType.RESUME_HEATING: "复热",
    BusinessType.TRANSFER: "过户",
    BusinessType.AREA_CHANGE: "面积变更",
    BusinessType.OPEN_ACCOUNT: "开户",
    BusinessType.CLOSE_ACCOUNT: "销户",
}

# A business request as the bot names it to a resident, with what it means.
RESIDENT_BUSINESS_TYPE_WORDS: dict[BusinessType, str] = {
    BusinessType.APPLY_CONNECTION: "报装（新开通供暖）",
    BusinessType.STOP_HEATING: "报停",
    BusinessType.RESUME_HEATING: "复热",
    BusinessType.TRANSFER: "过户/更名",
    BusinessType.AREA_CHANGE: "面积变更（增、减热）",
    BusinessType.OPEN_ACCOUNT: "开户（建立供热户）",
    BusinessType.CLOSE_ACCOUNT: "销户（注销供热户）",
}

# Where an order came from, as staff read it (residents are never told a source).
SOURCE_WORDS: dict[Source, str] = {
    Source.WECHAT: "微信公众号",
    Source.GRID_WORKER: "网格员转办",
    Source.PHONE: "服务热线",
    Source.COUNTER: "营业厅",
    Source.CITY_HOTLINE: "12345市民热线",
    Source.PROVINCIAL_HOTLINE: "省级平台",
    Source.IMMEDIATE_HOTLINE: "接诉即办",
    Source.INTERNET_SUPERVISION: "互联网+督查",
    Source.FIRST_CONTACT: "首问负责制",
    Source.SAMPLING: "室温采集计划",
}

# A room-temperature test (heating_standard.temperature_tests): the room, why it does not count in C, and
# how the resident confirmed it; staff's words, in the console and the monthly report.
ROOM_WORDS: dict[Room, str] = {Room.BEDROOM: "卧室", Room.LIVING_ROOM: "起居室"}
EXCLUSION_WORDS: dict[Exclusion, str] = {
    Exclusion.OUTDOOR_BELOW_DESIGN: "室外温度低于供热系统最低设计温度",
    Exclusion.ENVELOPE_SUBSTANDARD: "建筑围护结构不符合当时采暖设计规范标准",
    Exclusion.INDOOR_SYSTEM_ABNORMAL: "室内采暖系统未正常运行（阀门关闭、私自改装等）",
    Exclusion.CONTRACT_AGREED: "供用热合同另有约定",
    Exclusion.SYSTEM_NOT_RUNNING: "测量时供热系统未正常运行",
    Exclusion.WINDOWS_OPEN: "门窗未关闭或关闭不足三十分钟",
    Exclusion.RADIATOR_COVERED: "散热装置有覆盖物",
    Exclusion.SENSOR_DISTURBED: "传感器受阳光直射或其他冷、热源干扰",
}
SIGNATURE_WORDS: dict[Signature, str] = {
    Signature.PAPER: "居民在纸质记录上签字",
    Signature.WECHAT: "居民在微信中确认",
    Signature.REFUSED: "居民拒绝签字",
}
RESPONSIBILITY_WORDS: dict[Responsibility, str] = {
    Responsibility.COMPANY: "供热企业供热设施原因",
    Responsibility.RESIDENT: "用户自有设施原因",
}
# 13.6: what the company does not answer for; the resident reads these words.
CLAIM_EXCLUSION_WORDS: dict[ClaimExclusion, str] = {
    ClaimExclusion.RESIDENT_FACILITIES: "热用户自有供热设施发生事故或故障造成的损失",
    ClaimExclusion.ALTERED_BY_RESIDENT: "热用户自行拆改过的设施发生事故或故障所造成的损失",
    ClaimExclusion.DEVELOPER_WARRANTY: "建设单位负责维保期间发生的事故或故障，应由建设单位抢修并承担责任",
    ClaimExclusion.INDIRECT_LOSS: "间接损失",
}
# Announcements to every follower (heating_standard.announcements), as the console names them.
ANNOUNCEMENT_WORDS: dict[AnnouncementKind, str] = {
    AnnouncementKind.COMMISSIONING: "注水调试公告",
    AnnouncementKind.HEATING_START: "正式供暖公告",
    AnnouncementKind.PRICE_CHANGE: "热价调整公告",
}
# Call-backs and the yearly survey (heating_standard.campaigns), and the three answers.
CAMPAIGN_WORDS: dict[CampaignKind, str] = {
    CampaignKind.CALLBACK: "上一供暖季回访（10.1.8）",
    CampaignKind.SURVEY: "年度供暖服务质量调查（14.3.2 e）",
}
RATING_WORDS: dict[Rating, str] = {
    Rating.SATISFIED: "满意",
    Rating.BASICALLY: "基本满意",
    Rating.UNSATISFIED: "不满意",
}


def word(table: Mapping[AnyCode, str], code: str | None, default: str = "") -> str:
    """The word a table gives a code's value (plain text, as the bot's slots and the API's JSON carry it),
    else ``default``."""
    for member, said in table.items():
        if member == code:
            return said
    return default


def kind_word(kind: str | None) -> str:
    """A kind's word; an order of no known kind reads as a consultation (what the bot files then)."""
    return word(KIND_WORDS, kind, KIND_WORDS[Kind.CONSULTATION])
