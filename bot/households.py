"""A grid worker's message about several households, split into one household each (11.4).

Grid workers collect problems on their rounds and send them together:

    帮居民报修：
    1. 海滨花园6号楼1单元602 王大爷 暖气不热 13700000006
    2. 海滨花园7号楼2单元301 李阿姨 暖气片漏水 13700000007

or in one line, the community named once: "海滨花园6号楼602、7号楼301这两户暖气都不热", also with the
residents' names and phones: "海滨花园8号楼1单元101的李大爷家和9号楼2单元202的赵阿姨家都不热，李大爷电话A，赵阿姨
电话B". Each household becomes its own order (its own address, phone and category) after one
confirmation. An address without a community ("6号楼1单元602") takes the one before it in the message,
or else the grid worker's community when they look after exactly one; a resident's name and the word
joining two households ("的李大爷家和") are not a community.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.parsing import PHONE_RE, find_category, parse_phone
from heating_standard.addresses import ParsedAddress, find_addresses

# Where one household's part of a message ends when each has its own line or clause.
_CHUNK_BREAK = re.compile(r"[\n；;]+")
_TRIM = " \t\r\n，,。；;、：:"
# The word joining two households, left at the end of the first one's part: "…101的李大爷家和".
_TRAILING_JOIN = re.compile(r"(?:和|及|与|跟|还有|以及|另外)$")
# A resident named in a grid worker's message: "李大爷", "老王师傅", "小张", "的张三家".
_HONORIFIC = r"(?:大爷|大娘|阿姨|奶奶|爷爷|叔叔|大叔|婶子|师傅|先生|女士|老师|大姐|大哥)"
_NAME = re.compile(rf"(?:老|小)?[\u4e00-\u9fff]{_HONORIFIC}|的((?:老|小)?[\u4e00-\u9fff]{{1,3}}?)家(?!园)")
# What the parser took for the community of a later household but names a resident or joins two:
# "的李大爷家和", "王大爷和", "小王家". A community's name ("祥和", "和平小区", "金色家园") is none of these.
_NOT_A_COMMUNITY = re.compile(rf"^的|{_HONORIFIC}|家(?:和|及|与|跟|还有|以及)?$")
# Where a resident's words end in what the parser took for a community ("的王大爷家和" + "祥和小区").
_NAME_END = re.compile(rf"(?:家(?!园)|{_HONORIFIC})(?:和|及|与|跟|还有|以及)?")
# Where the words before a phone number start: the clause it stands in ("…，李大爷电话13912345678").
_CLAUSE_BREAK = re.compile(r"[\n，,；;。]")


@dataclass(frozen=True)
class Household:
    """One household named in a grid worker's message."""

    address: str  # community, building, unit, room written out
    phone: str | None  # the household's own number, when the message gives one
    category: str | None  # what its own words point to ("漏水" -> leak), when they do
    note: str  # the household's part of the message, with any words said about all of them


def with_community(address: ParsedAddress, community: str | None) -> ParsedAddress:
    """``address`` with ``community`` filled in when the resident's words named none ("6号楼1单元602")."""
    if address.community or not community or not address.building:
        return address
    return replace(address, community=community)


def _without_phones(text: str) -> str:
    """``text`` with phone numbers blanked out (same length, so spans still fit): a number written just
    before the next household's community is not part of its name."""
    return PHONE_RE.sub(lambda match: " " * len(match.group()), text)


def _parts(text: str, spans: list[tuple[int, int]]) -> tuple[list[str], str, bool]:
    """Each address's part of ``text``, the words that belong to all of them, and whether each address
    had a line of its own.

    When every address stands on its own line or clause, that line is its part and the lines
    without an address are said of all ("帮居民报修："). Otherwise a part runs from its address to
    the next one, and what comes before the first address is said of all.
    """
    chunks: list[tuple[int, int]] = []
    position = 0
    for brk in _CHUNK_BREAK.finditer(text):
        chunks.append((position, brk.start()))
        position = brk.end()
    chunks.append((position, len(text)))
    owner = [max(i for i, (a, _) in enumerate(chunks) if a <= start) for start, _ in spans]
    if len(set(owner)) == len(spans):
        parts = [text[slice(*chunks[i])].strip(_TRIM) for i in owner]
        shared = [text[a:b].strip(_TRIM) for i, (a, b) in enumerate(chunks) if i not in owner]
        return parts, "；".join(s for s in shared if s), True
    starts = [start for start, _ in spans] + [len(text)]
    parts = [
        _TRAILING_JOIN.sub("", text[starts[i] : starts[i + 1]].strip(_TRIM)).strip(_TRIM) for i in range(len(spans))
    ]
    return parts, text[: spans[0][0]].strip(_TRIM), False


def split_households(text: str, community: str | None = None) -> list[Household]:
    """The complete households ``text`` names, in order; ``community`` is the grid worker's own.

    A household needs a community, a building and a room; one the message does not complete is left
    out (the caller asks for it instead of filing half an address).
    """
    addresses = [_without_false_community(text, a) for a in find_addresses(_without_phones(text))]
    if not addresses:
        return []
    parts, shared, own_lines = _parts(text, [a.span for a in addresses if a.span])
    households: list[Household] = []
    last_community = community
    phones = _phones_by_name(text, parts) or _phones(text, parts, shared if own_lines else text)
    for address, part, phone in zip(addresses, parts, phones, strict=True):
        address = with_community(address, last_community)
        last_community = address.community or last_community
        if not address.complete:
            continue
        found = find_category(part)
        # a part without a word for the problem ("海滨花园6号楼602、7号楼301这两户都不热") keeps the whole message
        context = shared if found else text.strip()
        note = f"{part}（{context}）" if context and context not in part else part
        households.append(Household(address.canonical, phone, found[0] if found else None, note))
    return households


def _phones(text: str, parts: list[str], shared: str) -> list[str | None]:
    """Each part's phone: as many numbers as households go to them in order ("…这两户，电话分别是A、B");
    a single number in the words said of all (a line of its own, or anywhere in a one-line list:
    "…都跑水了，有事打楼长电话A") goes to each; otherwise each part keeps its own."""
    every = [parse_phone(m.group()) for m in PHONE_RE.finditer(text)]
    if len(every) == len(parts):
        return list(every)
    if len(every) == 1 and parse_phone(shared):
        return every * len(parts)
    return [parse_phone(part) for part in parts]


def _without_false_community(text: str, address: ParsedAddress) -> ParsedAddress:
    """``address`` without a community that names a resident or joins two households ("的李大爷家和9号楼…"),
    its span starting at the building; the household then takes the community named before it."""
    community = address.community
    if not community or not address.span or not _NOT_A_COMMUNITY.search(community):
        return address
    # a community named after the resident's words stays: "的王大爷家和祥和小区7号楼" -> 祥和小区
    ends = [m.end() for m in _NAME_END.finditer(community)]
    named = community[ends[-1] :] if ends else ""
    if named and _NOT_A_COMMUNITY.search(named):
        named = ""
    start, end = address.span
    if text.startswith(community, start):
        start += len(community) - len(named)
    return replace(address, community=named or None, span=(start, end))


def household_name(part: str) -> str | None:
    """The resident a household's part names ("…202的赵阿姨家都不热" -> 赵阿姨), if any."""
    match = _NAME.search(part)
    if match is None:
        return None
    return match.group(1) or match.group()


def _phones_by_name(text: str, parts: list[str]) -> list[str | None] | None:
    """Each part's phone when every number is said of one named resident ("李大爷电话A，赵阿姨电话B", in any
    order): the words of its clause before it name that resident. None when the numbers are not all
    attributed that way (the caller then goes by position)."""
    names = [household_name(part) for part in parts]
    if not any(names):
        return None
    phones: list[str | None] = [None] * len(parts)
    for match in PHONE_RE.finditer(text):
        breaks = [b.end() for b in _CLAUSE_BREAK.finditer(text, 0, match.start())]
        clause = text[breaks[-1] if breaks else 0 : match.start()]
        owners = [i for i, name in enumerate(names) if name and name in clause]
        if len(owners) != 1 or phones[owners[0]] is not None:
            return None
        phones[owners[0]] = parse_phone(match.group())
    return phones if any(phones) else None
