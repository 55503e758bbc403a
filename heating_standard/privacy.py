"""Residents' personal data as staff see it by default (12.1: personal data is role-limited).

Lists and order views show a phone number and an address masked; the whole value is read through a
separate, audited request when the task needs it. Pure functions.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from heating_standard.addresses import find_addresses

_DIGITS = re.compile(r"\d")
# What stays of free text about a resident once their personal data is erased (12.1).
ERASED = "（个人信息已删除）"


def message_key(sender_id: str, message_id: str) -> str:
    """The name under which a resident's message is kept apart from the conversation (the review queue):
    a SHA-256 of the conversation's and the message's ids, so that nothing kept there names the resident,
    and an erasure (12.1) still finds their messages from their conversation's ids."""
    return hashlib.sha256(f"{sender_id}\x1f{message_id}".encode()).hexdigest()


def mask_phone(phone: str | None) -> str | None:
    """ "13800138000" -> "138****8000"; short numbers keep only their last two digits."""
    if not phone:
        return phone
    digits = [i for i, ch in enumerate(phone) if ch.isdigit()]
    hidden = set(digits[3:-4]) if len(digits) >= 8 else set(digits[:-2])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(phone))


def mask_name(name: str | None) -> str | None:
    """ "张三丰" -> "张**": the family name stays, so staff can address the resident politely."""
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


def mask_address(address: str | None, community: str | None = None, building: str | None = None) -> str | None:
    """The community and building stay (they route the work); unit and room are hidden."""
    if not address:
        return address
    if community and building:
        return f"{community}{building}号楼****"
    # Unparsed text: keep the first few characters, hide every digit after them.
    head, tail = address[:4], address[4:]
    return head + _DIGITS.sub("*", tail)


def mask_text(text: str | None) -> str | None:
    """Free text (a log line) with any run of 7 or more digits (a phone number) masked."""
    if not text:
        return text
    return re.sub(r"\d{7,}", lambda m: mask_phone(m.group(0)) or "", text)


# --- a resident's message made fit to keep for review and training (12.1) -----------------------
# Placeholders that say what was there, so a reviewer still reads the sentence and an example trained on
# it still teaches the shape ("我家[门牌]不热，电话[电话]").
PHONE = "[电话]"
ID_NUMBER = "[身份证号]"
CARD_NUMBER = "[卡号]"
PLATE = "[车牌]"
HOUSE = "[门牌]"
NAME = "[姓名]"
EMAIL = "[邮箱]"

# Each detector reads one of two views of the message, both as long as the message, character for
# character, so that what is found maps back to where it was written: ``folded`` (NFKC: full-width
# letters, digits and "＠" as ASCII) and ``digits`` (the same with Chinese numerals as digits, as a voice
# transcript writes a number: "幺三九…", "壹叁玖…").
_NUMERALS = dict(zip("零〇○一壹幺二贰两三叁四肆五伍六陆七柒八捌九玖", "00011122233445566778899", strict=True))
# Between the digits of a number as residents write it: spaces, dashes, dots, underscores.
_GAP = r"[\s.\-_—–·]?"
# An order number ("GD20261201000017") names no one: it is kept, and nothing inside it is a phone.
_ORDER_NUMBER = re.compile(r"(?<![A-Za-z0-9])[Gg][Dd][\s\-]?20\d{12,16}(?!\d)")
# A date ("2026-12-10", "2026年12月10日") names no one either, and is no building-unit-room.
_DATE = re.compile(r"(?<!\d)(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}(?:\s*日)?(?!\d)")
_BIRTH_DATE = r"(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_ID_NUMBER = re.compile(rf"(?<!\d)\d{{6}}{_BIRTH_DATE}\d{{3}}[\dXx](?![0-9])")
_CARD_NUMBER = re.compile(r"(?<!\d)(?:\d[\s\-]?){15,18}\d(?!\d)")
_MOBILE = re.compile(rf"(?<!\d)(?:\+?86{_GAP})?1{_GAP}[3-9](?:{_GAP}\d){{9}}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[\s\-—]?\d{7,8}(?!\d)|(?<!\d)\d{7,8}(?!\d)")
# the address as written, or a Chinese name before "@" ("王丽@qq.com")
_EMAIL = re.compile(r"(?:(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+|[\u4e00-\u9fff]{1,3})@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_PLATE = re.compile(
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]\s?[A-HJ-NP-Z]\s?[·•\-.]?\s?[A-HJ-NP-Z0-9]{4,5}"
    r"[A-HJ-NP-Z0-9挂学警]",
    re.IGNORECASE,
)
# A name the resident gives ("我叫王建国", "我是李秀英", "联系人：欧阳娜娜", "户主是张伟", "我叫Wang Jianguo") and a
# surname with a form of address ("王先生", "李 阿姨", "赵大爷"): the common surnames, single and compound, so
# that "师傅" or "老人家" stays. A name written with nothing around it ("王建国家暖气不热") is not found.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范"
    "金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂"
)
_COMPOUND_SURNAMES = "欧阳|诸葛|司马|上官|东方|皇甫|令狐|慕容|尉迟|长孙|宇文|司徒|夏侯|轩辕|公孙|端木|独孤|南宫"
_SURNAME = rf"(?:{_COMPOUND_SURNAMES}|[{_SURNAMES}])"
_GIVEN_NAME = re.compile(
    r"(?P<cue>我叫|我是|我姓名是|本人|联系人(?:是|叫)?[:：]?|户主(?:是|叫)?[:：]?|姓名[:：]?|名字(?:是|叫)[:：]?)\s*"
    rf"(?P<name>{_SURNAME}[\u4e00-\u9fff]{{1,2}}|[A-Za-z]{{2,}}(?:\s[A-Za-z]{{2,}})?)"
)
# The forms of address after a surname (a placeholder before one stands for the surname alone).
TITLES = ("先生", "女士", "小姐", "大爷", "大妈", "大娘", "阿姨", "奶奶", "爷爷", "姥姥", "老太太", "老爷子", "叔叔")
_TITLES = "|".join(TITLES)
_ADDRESSED = re.compile(rf"(?P<name>{_SURNAME})\s?(?P<title>{_TITLES})")
# Households the address rules do not split: after a building ("3#2-501", "3栋2-501", "B座1203室") the rest
# goes; a unit with its room, a room, or building-unit-room standing alone ("和4单元602", "1203室", "5-2-301").
_AFTER_BUILDING = re.compile(
    r"(?P<building>(?<![0-9A-Za-z])(?:\d{1,4}|[A-Za-z])\s*(?:号楼|栋|幢|座|#))\s*"
    r"(?:\d{1,3}\s*[-—]\s*\d{2,5}|\d{1,2}\s*单元(?:\s*\d{1,5}\s*(?:室|户|号)?)?|\d{3,5}\s*(?:室|户|号)?)"
)
_HOUSEHOLD = re.compile(
    r"(?<!\d)(?:\d{1,2}\s*单元\s*\d{2,5}\s*(?:室|户|号)?|\d{3,5}\s*(?:室|户|房间)|\d{1,4}\s*-\s*\d{1,3}\s*-\s*\d{3,5})(?!\d)"
)


def _views(text: str) -> tuple[str, str]:
    """``folded`` and ``digits``: the text as the detectors read it, one character for each of the text's."""
    folded = "".join(normalized if len(normalized := unicodedata.normalize("NFKC", ch)) == 1 else ch for ch in text)
    return folded, "".join(_NUMERALS.get(ch, ch) for ch in folded)


def redact(text: str) -> str:
    """``text`` with every piece of personal data replaced by a placeholder of its kind: identity card,
    bank card, phone and landline numbers (also full-width, spaced or dashed, and in Chinese numerals),
    e-mail addresses, number plates, the resident's name, and the household part of an address (its unit
    and room; the community and the building stay: they route the work and name no one). For storing a
    message apart from the conversation, under 12.1; the conversation itself keeps the original under its
    own retention. Where two findings overlap, the one found first in this order wins: order numbers
    (kept), identity, card, e-mail, phone, landline, plate, address, household; names are found last,
    in what is left."""
    folded, digits = _views(text)
    found: list[tuple[int, int, str]] = []

    def add(start: int, end: int, replacement: str) -> None:
        if start < end and all(end <= s or start >= e for s, e, _ in found):
            found.append((start, end, replacement))

    for pattern in (_ORDER_NUMBER, _DATE):
        for match in pattern.finditer(digits):
            add(match.start(), match.end(), text[match.start() : match.end()])
    for match in _ID_NUMBER.finditer(digits):
        add(match.start(), match.end(), ID_NUMBER)
    for match in _CARD_NUMBER.finditer(digits):
        if sum(ch.isdigit() for ch in match.group(0)) >= 16:
            add(match.start(), match.end(), CARD_NUMBER)
    for match in _EMAIL.finditer(folded):
        add(match.start(), match.end(), EMAIL)
    for pattern in (_MOBILE, _LANDLINE):
        for match in pattern.finditer(digits):
            add(match.start(), match.end(), PHONE)
    for match in _PLATE.finditer(folded):
        add(match.start(), match.end(), PLATE)
    for start, end, replacement in _households(folded):
        add(start, end, replacement)
    for match in _AFTER_BUILDING.finditer(digits):
        add(match.start(), match.end(), text[match.start("building") : match.end("building")] + HOUSE)
    for match in _HOUSEHOLD.finditer(digits):
        add(match.start(), match.end(), HOUSE)
    parts, at = [], 0
    for start, end, replacement in sorted(found):
        parts += [text[at:start], replacement]
        at = end
    return _names_redacted("".join(parts) + text[at:])


def _names_redacted(text: str) -> str:
    """Names last, over what the other detectors left: a name can sit inside what the address rules took
    for a community ("王先生家阳光小区…")."""
    folded, _ = _views(text)
    found = (m for pattern in (_GIVEN_NAME, _ADDRESSED) for m in pattern.finditer(folded))
    spans = [(m.start("name"), m.end("name")) for m in found]
    parts, at = [], 0
    for start, end in sorted(spans):
        if start >= at:
            parts += [text[at:start], NAME]
            at = end
    return "".join(parts) + text[at:]


def _households(text: str) -> Iterator[tuple[int, int, str]]:
    """The unit and room of each address the address rules find (their one home:
    heating_standard.addresses), as (start, end, replacement): the community and the building stay."""
    for address in find_addresses(text):
        if address.span is None or not (address.unit or address.room):
            continue  # a building alone ("3号楼都不热") names no household
        start, end = address.span
        community = address.community or ""
        keep = community if community and text[start : start + len(community)] == community else ""
        # the building stays, written as the address rules write it ("5-2-301" -> "5号楼[门牌]"); a
        # "building number" longer than any building's is not kept
        building = f"{address.building}号楼" if address.building and len(address.building) <= 4 else ""
        yield start, end, keep + building + HOUSE


# --- log lines (docs/metrics.md, "Logs") ------------------------------------------------------------
# Every process writes JSON lines built here, whatever wrote the message (our code, Rasa, Sanic,
# uvicorn, SQLAlchemy's errors), with personal data masked. Each environment's formatter (api/logs.py,
# bot/logs.py) hands over the record's fields; the key of the openids' digests comes from the operator's
# environment (LOG_MASK_SALT).

# A mobile number, with or without the country code and with spaces or dashes in it (138 1234 5678).
_LOG_MOBILE = re.compile(r"(?<![0-9])((?:\+?86[ -]?)?)(1[3-9][0-9])[ -]?[0-9]{4}[ -]?([0-9]{4})(?![0-9])")
_LOG_LANDLINE = re.compile(r"(?<![0-9])(\(?0[0-9]{2,3}\)?)[ -]?[0-9]{3,4}([0-9]{4})(?![0-9])")
_LOG_IDENTITY = re.compile(r"(?<![0-9])([1-9][0-9]{5})[0-9]{8}([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")
_LOG_IDENTITY_15 = re.compile(r"(?<![0-9])([1-9][0-9]{5})[0-9]{6}([0-9]{3})(?![0-9])")  # the older 15 digits
# A WeChat openid: o and 27 more letters, digits, _ or - (a stand-in's may be a little shorter or longer),
# with a capital or a digit among them (a word such as "outside_the_window_or_quota" is not one).
_LOG_OPENID = re.compile(r"(?<![A-Za-z0-9_-])o(?=[A-Za-z0-9_-]*[A-Z0-9])[A-Za-z0-9_-]{19,40}(?![A-Za-z0-9_-])")
# SQLAlchemy writes a failed statement's values into its message: a resident's words, address, phone.
_LOG_PARAMETERS = re.compile(r"\[parameters: [^\n]*\]")
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
# Log lines carry Beijing time whatever the machine's TZ (China keeps no daylight saving time).
_BEIJING = timezone(timedelta(hours=8))


def mask_log(text: str, salt: str = "") -> str:
    """A log line's text with phone numbers, identity numbers, openids and a failed statement's values
    masked; an openid becomes a digest keyed by ``salt``, the same for one resident in every line."""
    text = _LOG_PARAMETERS.sub("[parameters: hidden]", text)
    text = _LOG_OPENID.sub(lambda m: "openid#" + hashlib.sha256((salt + m.group(0)).encode()).hexdigest()[:10], text)
    if any("０" <= char <= "９" for char in text):
        text = text.translate(_FULL_WIDTH_DIGITS)
    text = _LOG_IDENTITY.sub(r"\1********\2", text)
    text = _LOG_IDENTITY_15.sub(r"\1******\2", text)
    text = _LOG_MOBILE.sub(r"\1\2****\3", text)
    return _LOG_LANDLINE.sub(r"\1-****\2", text)


def log_line(
    created: float,
    level: str,
    logger: str,
    process: str,
    correlation: str,
    message: str,
    extras: dict[str, object] | None = None,
    exception: str | None = None,
    salt: str = "",
) -> str:
    """One JSON object on one line: Beijing time (ISO 8601, +08:00), level, logger, process, the
    correlation id, the message and any extras, every text masked."""
    line: dict[str, object] = {
        "time": datetime.fromtimestamp(created, _BEIJING).isoformat(timespec="milliseconds"),
        "level": level,
        "logger": logger,
        "process": process,
        "correlation_id": correlation,
        "message": mask_log(message, salt),
    }
    for key, value in (extras or {}).items():
        if key not in line:
            line[key] = mask_log(value, salt) if isinstance(value, str) else value
    if exception:
        line["exception"] = mask_log(exception, salt)
    return json.dumps(line, ensure_ascii=False, default=str)
