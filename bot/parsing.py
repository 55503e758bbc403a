"""What residents type, turned into values: phone numbers, temperatures, appointment times, addresses.

Chinese numerals go through cn2an and times through jionlp (both offline); addresses use the same
pure parser as the backend (``heating_standard.addresses``), so the bot and the backend split an address
the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from heating_standard.addresses import ParsedAddress, parse_address, to_digits
from heating_standard.localtime import LOCAL_TZ

# Phone numbers and temperatures as typed; bot.classifier finds the same spans with them. A number
# glued to letters or digits is not a phone: "GD20261201000017" holds digits that read like a landline.
MOBILE_RE = re.compile(r"(?<![\dA-Za-z])(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
LANDLINE_RE = re.compile(r"(?<![\dA-Za-z])(0\d{2,3})[- ]?(\d{7,8})(?!\d)")
# Either, in the order they are written.
PHONE_RE = re.compile(f"{MOBILE_RE.pattern}|{LANDLINE_RE.pattern}")
TEMPERATURE_RE = re.compile(r"(-?\d{1,2}(?:\.\d)?)\s*(?:℃|°C|°|摄氏度|度)")
# A work order's number as the backend makes it (api.services.work_orders.order_number): GD, the local
# acceptance date and the order's id in six digits or more, e.g. GD20261201000017. Residents copy it
# from the confirmation, sometimes in lower case or with a space after GD.
ORDER_NUMBER_RE = re.compile(r"(?<![A-Za-z0-9])[Gg][Dd][- ]?(20\d{6}\d{6,10})(?!\d)")


def parse_order_number(text: str) -> str | None:
    """The first work-order number in ``text``, written as the backend does ("GD20261201000017"); else None."""
    match = ORDER_NUMBER_RE.search(text)
    return f"GD{match.group(1)}" if match else None


def without_order_numbers(text: str) -> str:
    """``text`` with order numbers blanked out (same length, so spans still fit): their digits are never
    a phone number, whatever pattern reads them."""
    return ORDER_NUMBER_RE.sub(lambda match: " " * len(match.group()), text)


def parse_phone(text: str) -> str | None:
    """A mobile number (11 digits) or a landline with its area code, normalised; else None. The digits
    of an order number are not a phone."""
    text = without_order_numbers(text)
    mobile = MOBILE_RE.search(text)
    if mobile:
        return "".join(mobile.groups())
    landline = LANDLINE_RE.search(text)
    if landline:
        return f"{landline.group(1)}-{landline.group(2)}"
    return None


def parse_temperature(text: str) -> float | None:
    """ "十五度", "15℃", "15.5 度", "零下三度" -> a number of degrees Celsius; else None."""
    normalized = to_digits(text.replace("零下", "-"))
    match = TEMPERATURE_RE.search(normalized)
    return float(match.group(1)) if match else None


# Backend categories (heating_standard.orders.Category) and the words that point to them, the most
# specific first: "暖气片漏水 一点都不热" is a leak before it is a cold room.
CATEGORY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("leak", ("漏水", "跑水", "渗水", "滴水", "冒水", "喷水", "爆管", "爆裂", "跑冒滴漏", "水漫", "淹了")),
    (
        "no_heat",
        (
            "一点都不热",
            "一点也不热",
            "一点不热",
            "完全不热",
            "根本不热",
            "冰凉",
            "冰冷",
            "没暖气",
            "不供暖",
            "没供暖",
            "不来暖",
            "没来暖",
            "拔凉",
        ),
    ),
    ("billing", ("乱收费", "多收", "收费不合理", "重复收费", "扣费", "账单", "发票", "退费", "多交")),
    (
        "equipment",
        (
            "阀门",
            "暖气片",
            "散热器",
            "管道",
            "水管",
            "立管",
            "分水器",
            "热表",
            "热计量表",
            "温控阀",
            "排气阀",
            "地暖管",
            "跑风",
        ),
    ),
    ("service", ("态度", "没人接", "没人来", "不接电话", "敷衍", "推诿", "踢皮球", "工装", "服务差")),
    ("room_temperature", ("不热", "不够热", "温度低", "太冷", "冷", "不达标", "温乎")),
)


# What a resident denies just before a word: "不是漏水，是不热", "没有漏水", "不是3号楼是5号楼". A problem
# word or an address part after it is not what they mean.
_NEGATED = re.compile(r"(?:不是|并非|而非|不在|没有|没)\s*$")


def _negated(text: str, at: int) -> bool:
    """Whether the resident denies what stands at ``at`` in ``text`` ("不是漏水", "不是3号楼")."""
    return _NEGATED.search(text[max(0, at - 4) : at]) is not None


def find_category(text: str) -> tuple[str, int, int] | None:
    """The most specific category the text points to, with the span of the word; else None. A word
    just after "不是/没有" does not count."""
    for category, words in CATEGORY_WORDS:
        for word in words:
            at = text.find(word)
            while at >= 0 and _negated(text, at):
                at = text.find(word, at + 1)
            if at >= 0:
                return category, at, at + len(word)
    return None


# A time a resident names, found before it is parsed: jionlp parses a time expression well but reads
# a whole sentence too eagerly ("3号楼" would become the 3rd of the month), so only these spans go to it.
_NUM = r"(?:\d{1,2}|[零一二两三四五六七八九十]{1,3})"
_DAY = (
    rf"(?:大?后天|前天|昨天|今天|明天|(?:这|本|上|下)?个?(?:周|星期|礼拜)(?:[一二三四五六日天1-7]|末)|{_NUM}月{_NUM}[日号]"
    r"|(?:今|明)(?=早|晚))"
)
_PART = r"(?:凌晨|早上|早晨|上午|中午|下午|傍晚|晚上|夜里|早|晚)"
_CLOCK = rf"{_NUM}\s*(?:点钟?|时|[:：]\d{{2}})(?:半|{_NUM}分?|[一三]刻)?"
_AFTER = r"(?:以后|之后|左右|前后)?"
_TIME = re.compile(
    rf"{_DAY}\s*{_PART}?\s*(?:{_CLOCK})?{_AFTER}"
    rf"|{_PART}\s*{_CLOCK}{_AFTER}"
    # a bare clock time, but not the "一点" of "一点都不热"
    rf"|(?<![一有点])(?!一点){_CLOCK}{_AFTER}(?![都也儿多])"
)
# jionlp reads "明早9点" as today; spelt out it gets the day right.
_SPELLED = {"今早": "今天早上", "明早": "明天早上", "今晚": "今天晚上", "明晚": "明天晚上"}


@dataclass(frozen=True)
class TimeMention:
    """A time named in a message: where it stands and the window it means (aware, Asia/Shanghai)."""

    start: int
    end: int
    window: tuple[datetime, datetime]


def find_time(text: str, now: datetime) -> TimeMention | None:
    """The first time expression in ``text`` that jionlp can read and that has not passed, relative to
    ``now``; a passed one ("从前天开始就不热了") only when nothing else is named; else None."""
    import jionlp  # heavy; loaded on first use, not at import

    base = now.astimezone(LOCAL_TZ)
    passed: TimeMention | None = None
    for match in _TIME.finditer(text):
        phrase = match.group().strip()
        if not phrase:
            continue
        for short, long in _SPELLED.items():
            phrase = phrase.replace(short, long)
        try:
            # Beijing wall time: a Unix timestamp would be read in the server's zone (TZ=UTC: "明天" at
            # 02:10 Beijing would be the same day).
            parsed = jionlp.parse_time(phrase, time_base=base.replace(tzinfo=None))
        except (ValueError, TypeError, KeyError, IndexError):
            continue
        window = _window(parsed)
        if window is None:
            continue
        if window[1] >= base:
            return TimeMention(match.start(), match.end(), window)
        passed = passed or TimeMention(match.start(), match.end(), window)
    return passed


def _window(parsed: object) -> tuple[datetime, datetime] | None:
    if not isinstance(parsed, dict) or parsed.get("type") not in ("time_point", "time_span"):
        return None
    times = parsed.get("time")
    if not isinstance(times, list) or len(times) != 2 or times[0] in ("inf", "-inf"):
        return None
    start = datetime.strptime(times[0], "%Y-%m-%d %H:%M:%S").replace(tzinfo=LOCAL_TZ)
    if times[1] in ("inf", "-inf"):  # "八点以后": from then until the end of that day
        return start, start.replace(hour=23, minute=59, second=59)
    return start, datetime.strptime(times[1], "%Y-%m-%d %H:%M:%S").replace(tzinfo=LOCAL_TZ)


def parse_appointment(text: str, now: datetime) -> tuple[datetime, datetime] | None:
    """The time window a resident names ("明天上午", "今晚八点"), as aware datetimes; else None.

    An ISO 8601 interval ("start/end", what the NLU's ``time`` entity carries) is read as it is.
    """
    start, _, end = text.strip().partition("/")
    try:
        window = datetime.fromisoformat(start), datetime.fromisoformat(end or start)
    except ValueError:
        mention = find_time(text, now)
        return mention.window if mention else None
    first, last = (moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ) for moment in window)
    return first, last


def interval(window: tuple[datetime, datetime]) -> str:
    """A window written as an ISO 8601 interval, "start/end"."""
    return f"{window[0].isoformat()}/{window[1].isoformat()}"


def appointment_problem(window: tuple[datetime, datetime] | None, now: datetime, max_days: int = 7) -> str | None:
    """Why a window cannot be an appointment (None when it can): it must be ahead and within 7 days."""
    if window is None:
        return "unparsed"
    start, end = window
    if end <= now:
        return "past"
    if start > now + timedelta(days=max_days):
        return "too_far"
    return None


def appointment_start(window: tuple[datetime, datetime], now: datetime) -> datetime:
    """When to come: the window's start, or in 30 minutes when the window has begun already."""
    start, _ = window
    return max(start, now + timedelta(minutes=30))


def parse_resident_address(text: str) -> ParsedAddress:
    return parse_address(text)


# "不是3号楼是5号楼", "单元写错了，是2单元", "房间号改成502": a resident correcting what was taken down.
_CORRECTION = re.compile(r"不是|不对|错了|写错|说错|改成|改为|改到|换成|应该是|更正")
_BUILDING_PART = re.compile(r"(\d+)\s*(?:号楼|栋|幢|座|#)")
_UNIT_PART = re.compile(r"(\d+)\s*(?:单元|门)")
_ROOM_PART = re.compile(r"(\d{2,5})\s*(?:室|户)|(?:房间号?|门牌号?)\s*(?:是|为|改成|改为)?\s*(\d{2,5})")


# "算了，不报了", "先不弄了", "取消吧": a resident stopping what is being filed. A message is a cancel only
# when nothing is left once its cancel words and fillers are taken out: "取消报停的手续怎么办" is a question.
_CANCEL_WORDS = (
    "先不弄了",
    "先不报了",
    "先不修了",
    "以后再说",
    "不登记了",
    "不投诉了",
    "不反映了",
    "不需要了",
    "不报了",
    "不修了",
    "不弄了",
    "不办了",
    "不用了",
    "不要了",
    "不测了",
    "别报了",
    "别登记了",
    "算了",
    "取消",
    "撤销",
    "撤回",
    "不报",
    "不修",
)
_CANCEL_FILLERS = ("还是", "这个", "那就", "我", "先", "那", "就", "吧", "了", "啊", "哦", "呢", "嗯", "好", "谢谢")
_NOT_WORDS = re.compile(r"[\s，。！？、,.!?~～…]+")


# After a yes/no question ("还用上次的地址吗？", "需要外线施工吗？") these answer "no", not "stop".
_PLAIN_NO = ("不用了", "不要了", "不需要了")


def _made_of(
    rest: str, words: tuple[str, ...], fillers: tuple[str, ...], counts: Callable[[str], bool] = lambda _: True
) -> bool:
    """Whether ``rest`` is ``words`` and ``fillers`` only, with at least one of ``words`` that ``counts``."""
    found = False
    while rest:
        word = next((w for w in words if rest.startswith(w)), None)
        if word is not None:
            found = found or counts(word)
        else:
            word = next((w for w in fillers if rest.startswith(w)), None)
            if word is None:
                return False
        rest = rest[len(word) :]
    return found


def _only_cancel_words(rest: str, after_yes_no: bool) -> bool:
    """Whether ``rest`` (punctuation removed) is cancel words and fillers only, with a cancel among them."""
    return _made_of(rest, _CANCEL_WORDS, _CANCEL_FILLERS, lambda word: not (after_yes_no and word in _PLAIN_NO))


# Why a resident stops a repair or complaint: the problem went away ("暖气已经好了", "自己弄好了", "邻居帮我
# 修好了", "刚才又热了"). "不热了" is a complaint, not a reason: the word must not be denied.
_RESOLVED = re.compile(
    r"(?<![不没])(?:修好|弄好|搞好|整好|好了|好啦|热了|热乎了|暖和了|来暖了|来热了|通了|恢复了|正常了|没事了|解决了|搞定)"
    r"|不漏了|不滴了|不冷了"
)
# A reason is a statement: a question ("好了吗？", "怎么办") or a detail of the filing is not one.
_NOT_A_REASON = re.compile(r"[吗呢？?]|怎么|为什么|什么|哪|多少|能不能|是不是|\d")
# Cancel phrases a reason goes with; said alone they are in _CANCEL_WORDS or belong to a question.
_STOP_PHRASES = (*_CANCEL_WORDS, "不用来了", "不用过来了", "别来了", "不要来了", "不来了", "不用修了", "不用报了")


def _is_reason(text: str) -> bool:
    """Whether ``text`` says the problem went away, and nothing else asked or given."""
    return bool(text) and len(text) <= 30 and _RESOLVED.search(text) is not None and not _NOT_A_REASON.search(text)


def is_cancel(text: str, after_yes_no: bool = False) -> bool:
    """True when the message says to stop the filing: cancel words only ("算了，不报了"), or a cancel
    with the reason the problem went away, before or after it ("不用了，暖气已经好了", "刚才又热了，不用来了").
    After a yes/no question a plain "不用了" is that question's "no"; with a reason it stops the filing."""
    if _only_cancel_words(_NOT_WORDS.sub("", text), after_yes_no):
        return True
    rest = _NOT_WORDS.sub("", text)
    for phrase in sorted(_STOP_PHRASES, key=len, reverse=True):
        at = rest.find(phrase)
        if at < 0:
            continue
        before, after = rest[:at], rest[at + len(phrase) :]
        # the cancel stands at one end; the other end is the reason, around fillers ("吧", "谢谢")
        if _only_fillers(after) and _is_reason(before.strip()):
            return True
        if _only_fillers(before) and _is_reason(after):
            return True
    return False


def _only_fillers(text: str) -> bool:
    """Whether ``text`` is empty or fillers and cancel words only."""
    while text:
        word = next((w for w in (*_STOP_PHRASES, *_CANCEL_FILLERS) if text.startswith(w)), None)
        if word is None:
            return False
        text = text[len(word) :]
    return True


# "尽快", "越快越好", "现在就来": a resident who wants the repairer as soon as possible books no time. The
# repairer then arrives within 30 minutes of accepting the repair (10.2.4). Only a whole answer made of
# these words counts: "现在不在家，明天上午吧" names a time.
_ASAP_WORDS = (
    "越快越好",
    "越早越好",
    "随时都行",
    "随时都可以",
    "随时可以",
    "什么时候都行",
    "什么时候都可以",
    "啥时候都行",
    "几点都行",
    "现在就来",
    "现在就过来",
    "马上来",
    "马上过来",
    "立刻",
    "立即",
    "马上",
    "尽快",
    "赶紧",
    "赶快",
    "现在",
    "随时",
    "尽早",
)
_ASAP_FILLERS = (
    "请",
    "麻烦",
    "师傅",
    "你们",
    "最好",
    "能",
    "就",
    "来",
    "过来",
    "上门",
    "吧",
    "啊",
    "呀",
    "了",
    "的",
    "都",
    "行",
    "可以",
    "好",
    "谢谢",
    "我",
    "在家",
    "家里有人",
    "有人",
    "来修",
    "维修",
    "修",
)


def is_asap(text: str) -> bool:
    """True when the answer to "when should we come?" is "as soon as possible", and nothing else."""
    return _made_of(_NOT_WORDS.sub("", text), _ASAP_WORDS, _ASAP_FILLERS)


# "尽快" inside the first message of a repair ("阀门坏了 尽快来修"): only phrases that say when to come,
# not "现在" alone ("现在暖气不热" says nothing about the visit).
_ASAP_IN_MESSAGE = re.compile(
    r"尽快|尽早|越快越好|越早越好|(?:马上|立刻|立即|赶紧|赶快|现在就)(?:派人|过来|来|上门)|随时(?:都行|都可以|可以)来"
)


def asks_asap(text: str) -> bool:
    """True when a message asks for the visit as soon as possible somewhere in it (10.2.4: 30 minutes)."""
    return _ASAP_IN_MESSAGE.search(text) is not None


# A resident's answer to a paid repair's quote (10.2.2), in words. A "no" is looked for first: "不同意"
# holds "同意", "太贵了不修了" holds "修".
_QUOTE_NO = re.compile(
    r"不同意|不接受|不认可|不修|不用修|别修|不做了|不要了|不用了|算了|太贵|贵了|拒绝|不行|不可以|不要"
)
_QUOTE_YES = re.compile(r"同意|接受|认可|确认|可以|修吧|开始修|修一下|给修|没问题|行|好的|^好|是的|对的|没意见")
_QUOTE_QUESTION = re.compile(r"[吗？?]|能不能|多少|为什么|怎么|便宜|优惠")


def quote_answer(text: str) -> bool | None:
    """True when the words accept the quote ("同意", "可以修", "行，修吧"), False when they decline it
    ("不同意", "太贵了不修了"), None when they do neither or ask something ("能便宜点吗？")."""
    words = text.strip()
    if words in ("1", "１"):
        return True
    if words in ("2", "２"):
        return False
    if _QUOTE_NO.search(words):
        return False
    if _QUOTE_QUESTION.search(words):
        return None
    return True if _QUOTE_YES.search(words) else None


# A resident's answer to a room-temperature test's result (10.3 第1条 a, b), in words; a dispute first
# ("不认可" holds "认可"), after "no objection" ("没有异议" holds "异议").
_NO_OBJECTION = re.compile(r"没有?异议|无异议")
_RESULT_NO = re.compile(r"异议|不认可|不同意|不确认|不对|不准|不是这个|有问题|不认|不服")
_RESULT_YES = re.compile(r"确认|同意|认可|没问题|对的|是的|好的|^好|^对|^行|^嗯|没意见")


def result_answer(text: str) -> bool | None:
    """True when the words confirm a test's result ("确认", "没问题"), False when they dispute it ("有异议",
    "温度不对"), None when they do neither or ask something."""
    words = text.strip()
    if words in ("1", "１"):
        return True
    if words in ("2", "２"):
        return False
    if _NO_OBJECTION.search(words):
        return True
    if _RESULT_NO.search(words):
        return False
    if _QUOTE_QUESTION.search(words):
        return None
    return True if _RESULT_YES.search(words) else None


# A resident's answer to a call-back or the yearly survey (10.1.8, 14.3.2 e): 满意, 基本满意, 不满意, as
# words, their numbers, or stars. "不满意" holds "满意", "基本满意" too: the longer answers are looked for first.
_UNSATISFIED = re.compile(r"不满意|不太满意|很差|太差|差评|^3$|^３$|[1一两2二]\s*颗?星")
_BASICALLY = re.compile(r"基本满意|一般|还行|还可以|凑合|过得去|^2$|^２$|^[3三]\s*颗?星")
_SATISFIED = re.compile(r"满意|很好|非常好|不错|挺好|好评|^1$|^１$|[4四5五]\s*颗?星")


def campaign_rating(text: str) -> str | None:
    """satisfied, basically_satisfied or unsatisfied from the answer's words; None when it says none."""
    words = text.strip()
    if _UNSATISFIED.search(words):
        return "unsatisfied"
    if _BASICALLY.search(words):
        return "basically_satisfied"
    return "satisfied" if _SATISFIED.search(words) else None


def is_correction(text: str) -> bool:
    """True when the message says something taken down was wrong."""
    return _CORRECTION.search(text) is not None


def corrected_address(previous: str, text: str) -> str | None:
    """``previous`` with the parts ``text`` names replaced, the last mention of each winning, except a
    mention the resident negates ("不是3号楼").

    "不是3号楼是5号楼" and "不对，是5号楼，不是3号楼" applied to 阳光小区3号楼2单元501 give
    阳光小区5号楼2单元501. None when the previous address is incomplete or the text names no building,
    unit or room.
    """
    old = parse_address(previous)
    if not old.complete:
        return None
    normalized = to_digits(text)
    changes: dict[str, str] = {}  # building, unit and room: each a text field of ParsedAddress
    for part, pattern in (("building", _BUILDING_PART), ("unit", _UNIT_PART), ("room", _ROOM_PART)):
        found = [
            next(group for group in match.groups() if group)
            for match in pattern.finditer(normalized)
            if not _negated(normalized, match.start())
        ]
        if found:
            changes[part] = found[-1]
    if not changes:
        return None
    return replace(old, **changes).canonical  # type: ignore[arg-type]
