"""Residents' personal data as staff see it by default (12.1: personal data is role-limited).

Lists and order views show a phone number and an address masked; the whole value is read through a
separate, audited request when the task needs it. Pure functions.
"""

from __future__ import annotations

import re

from heating_standard.addresses import find_addresses

_DIGITS = re.compile(r"\d")
# What stays of free text about a resident once their personal data is erased (12.1).
ERASED = "（个人信息已删除）"


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

# Digits not glued to letters or other digits: the 14 digits of an order number ("GD20261201000017") are
# not a phone, and an order number itself is no one's personal data.
_ALONE_BEFORE, _ALONE_AFTER = r"(?<![0-9A-Za-z])", r"(?![0-9A-Za-z])"
_BIRTH_DATE = r"(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_ID_NUMBER = re.compile(rf"{_ALONE_BEFORE}\d{{6}}{_BIRTH_DATE}\d{{3}}[\dXx]{_ALONE_AFTER}")
_CARD_NUMBER = re.compile(rf"{_ALONE_BEFORE}(?:\d[ -]?){{15,18}}\d{_ALONE_AFTER}")
_MOBILE = re.compile(rf"{_ALONE_BEFORE}(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d){{8}}{_ALONE_AFTER}")
_LANDLINE = re.compile(rf"{_ALONE_BEFORE}0\d{{2,3}}[ -]?\d{{7,8}}{_ALONE_AFTER}|{_ALONE_BEFORE}\d{{7,8}}{_ALONE_AFTER}")
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PLATE = re.compile(
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][·•\s]?[A-HJ-NP-Z0-9]{4,5}[A-HJ-NP-Z0-9挂学警]"
)
# A name the resident gives ("我叫王建国", "联系人：李秀英", "户主是张伟") and a surname with a form of address
# ("王先生", "李阿姨家", "赵大爷"): the common surnames, so that "师傅" or "老人家" stays.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范"
    "金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂"
)
_GIVEN_NAME = re.compile(
    rf"(?P<cue>我叫|我姓名是|本人|联系人[:：]?|户主(?:是|叫)?[:：]?|姓名[:：]?)\s*(?P<name>[{_SURNAMES}][\u4e00-\u9fff]{{1,2}})"
)
# The forms of address after a surname (a placeholder before one stands for the surname alone).
TITLES = ("先生", "女士", "小姐", "大爷", "大妈", "大娘", "阿姨", "奶奶", "爷爷", "姥姥", "老太太", "老爷子", "叔叔")
_TITLES = "|".join(TITLES)
_ADDRESSED = re.compile(rf"(?P<name>[{_SURNAMES}])(?P<title>{_TITLES})")


def redact(text: str) -> str:
    """``text`` with every piece of personal data replaced by a placeholder of its kind: identity card,
    bank card, phone and landline numbers, e-mail addresses, number plates, the resident's name, and the
    household part of an address (its unit and room; the community and building stay: they route the work
    and name no one). For storing a message apart from the conversation, under 12.1; the conversation
    itself keeps the original under its own retention."""
    text = _ID_NUMBER.sub(ID_NUMBER, text)
    text = _CARD_NUMBER.sub(lambda m: CARD_NUMBER if len(re.sub(r"\D", "", m.group(0))) >= 16 else m.group(0), text)
    text = _MOBILE.sub(PHONE, text)
    text = _LANDLINE.sub(PHONE, text)
    text = _EMAIL.sub(EMAIL, text)
    text = _PLATE.sub(PLATE, text)
    text = _GIVEN_NAME.sub(lambda m: m.group("cue") + NAME, text)
    text = _ADDRESSED.sub(lambda m: NAME + m.group("title"), text)
    return _households_redacted(text)


def _households_redacted(text: str) -> str:
    """The unit and room of each address replaced (the address rules' one home: heating_standard.addresses)."""
    parts: list[str] = []
    at = 0
    for address in find_addresses(text):
        if address.span is None or not (address.unit or address.room):
            continue  # a building alone ("3号楼都不热") names no household
        start, end = address.span
        community = address.community or ""
        keep = community if community and text[start : start + len(community)] == community else ""
        # the building stays, written as the address rules write it ("5-2-301" -> "5号楼[门牌]"); a
        # "building number" longer than any building's is not kept
        building = f"{address.building}号楼" if address.building and len(address.building) <= 4 else ""
        parts += [text[at:start], keep, building, HOUSE]
        at = end
    return "".join(parts) + text[at:]
