"""Free-text addresses split into community / building / unit / room where possible.

Residents write "阳光小区3号楼2单元501", "阳光小区三号楼二单元五零一室" or "阳光小区 3-2-501". Chinese
numerals are turned into digits with cn2an first; what cannot be recognised stays None and the
full text is always kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import cn2an

# Every number starts where its digits start ("(?<!\d)"): the leftmost match is the same, and a search
# over a long run of digits no longer retries from each digit of it (quadratic in the run's length).
_BUILDING = r"(?<!\d)(?P<building>\d+)\s*(?:号楼|號樓|号樓|栋|棟|幢|座|号|#)"
_UNIT = r"(?P<unit>\d+)\s*(?:单元|單元|门|門)"
_ROOM = r"(?P<room>\d{2,5})\s*(?:室(?![温内])|号|户)?"
_FULL = re.compile(rf"{_BUILDING}\s*(?:{_UNIT})?\s*(?:{_ROOM})?")
_DASHED = re.compile(r"(?<!\d)(?P<building>\d+)\s*[-－—]\s*(?P<unit>\d+)\s*[-－—]\s*(?P<room>\d{2,5})")
# The community is the last phrase before the building number: "阀门坏了，阳光小区3号楼…" -> 阳光小区.
_PHRASE_BREAK = re.compile(r"[\s，,。；;！!？?：:、]+")
_LEAD_IN = re.compile(r"^(?:地址(?:是|为)?|(?:我|我们)?家?(?:住在|住|在|是))")
# Words that come just before an address inside a longer phrase, as voice input writes it without
# punctuation: "喂你好我家住在金色家园小区12号楼…", "测了一下16度住和平里小区5号楼…"; and a grid worker's
# lead-in (11.4): "帮新城小区…", "代北山小区…" (not the 代 of 时代花园), "替住户反映锦华苑…". They are matched after
# numerals become digits ("报一下" is "报1下" by then). The address starts after the last of them.
_CUE = re.compile(
    r"住在|家在|家住|位于|地址(?:是|为)?|来我家|我们家|我家(?:是|在)?|应该是|就是|我是|改成|改为|住(?!宅|房)"
    r"|帮(?:忙|居民|住户)?|替(?:居民|住户)?|(?<![时现世年当近古交一])代(?:居民|住户)?|反映|报1下|报修|登记1下|网格里|片区里"
    # joining words of a list of households: "还有和平小区8号楼101", "6号楼602和7号楼301" (a phrase that
    # is only the word: 祥和9号楼 keeps its community)
    r"|还有|另外|以及|^(?:和|及|与|跟)$"
)
# A list's numbering before a community: "1. 海滨花园…", "②金桥小区…", "第2户：润华小区…" (after cn2an).
_NUMBERING = re.compile(r"^(?:\d{1,2}\s*[.、)）]|[①②③④⑤⑥⑦⑧⑨⑩]|[（(]\d{1,2}[)）]|第\d{1,3}户\s*[:：]?)\s*")
# Province, city, district and street prefixes, stripped one by one while a name is left.
_ADMIN_PREFIXES = [re.compile(p) for p in (r"^.{1,6}?省", r"^.{1,6}?市", r"^.{1,6}?(?:区|县)", r"^.{1,8}?(?:街道|镇)")]


@dataclass(frozen=True)
class ParsedAddress:
    """The parts recognised in an address; None where a part was not found."""

    text: str
    community: str | None = None
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    # where the address stands in ``text`` (start, end), when one was found
    span: tuple[int, int] | None = None

    @property
    def canonical(self) -> str:
        """The recognised parts written out, e.g. 阳光小区3号楼2单元501."""
        unit = f"{self.unit}单元" if self.unit else ""
        return f"{self.community or ''}{self.building or ''}号楼{unit}{self.room or ''}"

    @property
    def complete(self) -> bool:
        """Community, building and room known: enough to send someone to the door."""
        return bool(self.community and self.building and self.room)


def to_digits(text: str) -> str:
    """Chinese numerals turned into digits ("三号楼五零一" -> "3号楼501"); text cn2an refuses stays as is."""
    try:
        return str(cn2an.transform(text, "cn2an"))
    except (ValueError, KeyError):  # cn2an refuses some mixed forms; keep the text as written
        return text


_NUMERAL_RUN = re.compile(r"[零〇一二两三四五六七八九十百千]+")


def to_digits_aligned(text: str) -> tuple[str, list[int], list[int]]:
    """``to_digits`` run by run, with where each output character came from in ``text``.

    Returns the converted text and, for each of its characters, the start and the end of the
    original characters it stands for, so a match in the converted text maps back to the input.
    """
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    for run in _NUMERAL_RUN.finditer(text):
        for index in range(position, run.start()):
            out.append(text[index])
            starts.append(index)
            ends.append(index + 1)
        for char in to_digits(run.group()):
            out.append(char)
            starts.append(run.start())
            ends.append(run.end())
        position = run.end()
    for index in range(position, len(text)):
        out.append(text[index])
        starts.append(index)
        ends.append(index + 1)
    return "".join(out), starts, ends


def find_addresses(text: str) -> list[ParsedAddress]:
    """Every address in ``text``, left to right, each with its span in ``text``: a grid worker's list of
    households (11.4). A community named once is not carried to the next address here."""
    return list(_addresses(text))


def parse_address(text: str) -> ParsedAddress:
    """Split ``text`` into its parts and say where the address stands in it (the first address, when
    it names several)."""
    return next(_addresses(text), None) or ParsedAddress(text.strip())


def _addresses(text: str) -> Iterator[ParsedAddress]:
    """The addresses of ``text`` in order. The numerals are converted once and each search starts where
    the last address ended, so the cost stays linear in the length of the text."""
    original = text.strip()
    offset = len(text) - len(text.lstrip())
    normalized, starts, ends = to_digits_aligned(original)
    position = 0
    # each pattern's next match from ``position``, searched again only once the last address has passed it:
    # a pattern that has no more matches is not searched for over the rest of the text at every address
    upcoming: dict[re.Pattern[str], re.Match[str] | None] = {_DASHED: None, _FULL: None}
    exhausted: set[re.Pattern[str]] = set()
    while True:
        for pattern, ahead in upcoming.items():
            if pattern not in exhausted and (ahead is None or ahead.start() < position):
                upcoming[pattern] = pattern.search(normalized, position)
                if upcoming[pattern] is None:
                    exhausted.add(pattern)
        found = [m for m in upcoming.values() if m is not None and m.start() >= position]
        if not found:
            return
        match = min(found, key=lambda m: m.start())  # the earlier; "3-2-501" before "3号" at the same place
        before = normalized[position : match.start()].rstrip(" ，,、")
        community = _PHRASE_BREAK.split(before)[-1]
        community_at = position + len(before) - len(community)
        cues = list(_CUE.finditer(community))
        if cues:
            community, community_at = community[cues[-1].end() :], community_at + cues[-1].end()
        numbering = _NUMBERING.match(community)
        if numbering:
            community, community_at = community[numbering.end() :], community_at + numbering.end()
        lead_in = _LEAD_IN.match(community)
        if lead_in:  # a lead-in alone ("是8号楼") leaves no community
            community, community_at = community[lead_in.end() :], community_at + lead_in.end()
        for prefix in _ADMIN_PREFIXES:
            rest = prefix.sub("", community, count=1).strip(" ，,、")
            if rest:
                community = rest
        end = match.end()
        while end > match.start() and normalized[end - 1] == " ":
            end -= 1
        begin = community_at if community else match.start()
        parts = match.groupdict()
        yield ParsedAddress(
            original,
            community=community or None,
            building=parts.get("building"),
            unit=parts.get("unit"),
            room=parts.get("room"),
            span=(offset + starts[begin], offset + ends[end - 1]),
        )
        position = max(end, match.start() + 1)


# A community named without a building, as residents ask about outages: "和平小区停暖了", "我是金色家园的".
# The name ends with one of the words Chinese housing estates are named with. A one-character ending (里, 苑,
# 园 …) needs two characters before it and none of the ordinary words ("家里", "暖气片里", "那里");
# "我们小区" and "这个小区" name no community.
_COMMUNITY = re.compile(
    r"(?P<name>[\u4e00-\u9fff0-9A-Za-z]{1,10}?"
    r"(?:小区|花园|家园|公寓|新村|新城|山庄|名苑|雅苑|嘉园|佳园|华庭|华府|名都|公馆|社区)"
    r"|[\u4e00-\u9fff0-9A-Za-z]{2,8}?(?<![那这哪家屋楼院市夜片管心子区村头面外乡上下城])[里苑园庭府湾郡])"
)
_NOT_A_NAME = re.compile(
    r"^(?:我们|咱们|俺们|我|你们|这个|那个|这|那|本|该|整个|全|附近|周边|隔壁|别的|其他|哪个|什么|啥|咱|俺|有的|好多)"
    r"(?:小区|社区|园区|院|楼|城|里)?$"
)


def find_community(text: str) -> str | None:
    """The community a message names, with or without a building: the parsed address's, else a bare name."""
    parsed = parse_address(text)
    if parsed.community:
        return parsed.community
    for phrase in _PHRASE_BREAK.split(text):
        cues = list(_CUE.finditer(phrase))
        if cues:
            phrase = phrase[cues[-1].end() :]
        lead_in = _LEAD_IN.match(phrase)
        if lead_in:
            phrase = phrase[lead_in.end() :]
        for match in _COMMUNITY.finditer(phrase):
            name = match.group("name")
            if not _NOT_A_NAME.match(name):
                return name
    return None
