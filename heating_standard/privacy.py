"""Residents' personal data as staff see it by default (12.1: personal data is role-limited).

Lists and order views show a phone number and an address masked; the whole value is read through a
separate, audited request when the task needs it. Pure functions.
"""

from __future__ import annotations

import re

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
