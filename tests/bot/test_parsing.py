"""Values from what residents type: phones, temperatures, times, addresses."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.parsing import (
    LOCAL_TZ,
    PHONE_RE,
    appointment_problem,
    corrected_address,
    find_time,
    interval,
    is_asap,
    is_cancel,
    is_correction,
    parse_appointment,
    parse_order_number,
    parse_phone,
    parse_resident_address,
    parse_temperature,
    quote_answer,
)

NOW = datetime(2026, 12, 10, 10, 0, tzinfo=LOCAL_TZ)  # a Thursday


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("13800138000", "13800138000"),
        ("我的电话是 138-0013-8000", "13800138000"),
        ("+86 139 1234 5678", "13912345678"),
        ("0631-0001234", "0631-0001234"),
        ("座机 063100012345", "0631-00012345"),
        ("12345", None),
        ("1380013800", None),
        ("110", None),
    ],
)
def test_phone(text: str, phone: str | None) -> None:
    assert parse_phone(text) == phone


@pytest.mark.parametrize(
    ("text", "number", "phone"),
    [
        ("GD20261201000017到哪一步了", "GD20261201000017", None),
        ("帮我查下gd 20261201000017", "GD20261201000017", None),
        ("工单GD-20261213800138，电话13912345678", "GD20261213800138", "13912345678"),
        ("GD202612010000170", "GD202612010000170", None),  # ids past 999,999 have more digits
        ("GD2026", None, None),
        ("13912345678", None, "13912345678"),
    ],
)
def test_an_order_number_is_never_a_phone(text: str, number: str | None, phone: str | None) -> None:
    assert parse_order_number(text) == number
    assert parse_phone(text) == phone


def test_the_phone_pattern_reads_no_digits_glued_to_letters() -> None:
    """The same bounds as the NLU's phone regex: "GD20261201000017" holds "026120100001", a landline."""
    assert PHONE_RE.search("GD20261201000017") is None
    assert PHONE_RE.search("GD20261213800138000") is None


@pytest.mark.parametrize(
    ("text", "asap"),
    [
        ("现在", True),
        ("马上", True),
        ("尽快", True),
        ("越快越好", True),
        ("随时都行", True),
        ("现在就来", True),
        ("尽快吧，谢谢", True),
        ("请师傅马上来修", True),
        ("现在不在家，明天上午吧", False),  # a time is named
        ("明天上午", False),
        ("现在暖气坏了", False),
        ("马上过年了", False),
    ],
)
def test_as_soon_as_possible_is_a_whole_answer(text: str, asap: bool) -> None:
    assert is_asap(text) is asap


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("同意", True),
        ("可以修", True),
        ("行，修吧", True),
        ("同意报价", True),
        ("好的", True),
        ("1", True),
        ("太贵了不修了", False),
        ("不同意", False),
        ("不修了", False),
        ("不可以", False),
        ("2", False),
        ("能便宜点吗？", None),
        ("满意", None),
        ("嗯", None),
    ],
)
def test_an_answer_to_a_quote_in_words(text: str, answer: bool | None) -> None:
    assert quote_answer(text) is answer


@pytest.mark.parametrize(
    ("text", "degrees"),
    [
        ("十五度", 15.0),
        ("屋里才16度", 16.0),
        ("15.5℃", 15.5),
        ("十四摄氏度", 14.0),
        ("零下三度", -3.0),
        ("18°C", 18.0),
        ("很冷", None),
    ],
)
def test_temperature(text: str, degrees: float | None) -> None:
    assert parse_temperature(text) == degrees


@pytest.mark.parametrize(
    ("text", "start", "problem"),
    [
        ("明天上午", "2026-12-11T07:00:00+08:00", None),
        ("今晚八点", "2026-12-10T20:00:00+08:00", None),
        ("周六上午十点", "2026-12-12T10:00:00+08:00", None),
        ("上周五", "2026-12-04T00:00:00+08:00", "past"),
        ("12月25日上午", "2026-12-25T07:00:00+08:00", "too_far"),
        ("随便", None, "unparsed"),
    ],
)
def test_appointment(text: str, start: str | None, problem: str | None) -> None:
    window = parse_appointment(text, NOW)
    if start:
        assert window is not None and window[0].isoformat() == start
    assert appointment_problem(window, NOW) == problem


def test_address_uses_the_backends_parser_with_chinese_numerals() -> None:
    parsed = parse_resident_address("威海市环翠区阳光小区三号楼二单元五零一室")
    assert (parsed.community, parsed.building, parsed.unit, parsed.room) == ("阳光小区", "3", "2", "501")
    assert parsed.complete
    assert not parse_resident_address("阳光小区").complete


@pytest.mark.parametrize(
    ("text", "community", "canonical"),
    [
        ("阀门坏了 明天上午来修 阳光小区3号楼2单元501", "阳光小区", "阳光小区3号楼2单元501"),
        ("我家住在锦绣苑8号楼2单元602", "锦绣苑", "锦绣苑8号楼2单元602"),
        ("地址是翠竹园小区6栋101", "翠竹园小区", "翠竹园小区6号楼101"),
        ("暖气不热，海景花园12栋1单元1202", "海景花园", "海景花园12号楼1单元1202"),
        # voice input, no punctuation: the community starts after the words that lead to it
        ("喂你好我家住在金色家园小区十二号楼三单元五零二暖气不热", "金色家园小区", "金色家园小区12号楼3单元502"),
        ("屋里温度只有13℃老人受不了了我家在滨海新村12号楼602", "滨海新村", "滨海新村12号楼602"),
        ("测了一下16.5度住和平里小区5号楼4单元301", "和平里小区", "和平里小区5号楼4单元301"),
        ("帮我约个测温后天上午来我家长江小区3号楼1单元202", "长江小区", "长江小区3号楼1单元202"),
        ("明天上午十点来测温吧地址枫林小区9号楼1单元401", "枫林小区", "枫林小区9号楼1单元401"),
        ("建设局住宅小区3号楼201", "建设局住宅小区", "建设局住宅小区3号楼201"),
        # a grid worker's lead-in (11.4) is not part of the community; the 代 of 时代 is
        ("代北山小区7号楼2单元702张大娘报一下", "北山小区", "北山小区7号楼2单元702"),
        ("代时代花园3号楼502的老周报一下", "时代花园", "时代花园3号楼502"),
        ("帮居民报一下现代城15号楼2单元801暖气不热", "现代城", "现代城15号楼2单元801"),
        ("社区网格员反映南湖家园2号楼1单元201暖气不热", "南湖家园", "南湖家园2号楼1单元201"),
        ("我们网格里和平小区1号楼101住户说冷", "和平小区", "和平小区1号楼101"),
        # a list's numbering and joining words are not the community; 祥和 is one
        ("1. 海滨花园6号楼602 王大爷", "海滨花园", "海滨花园6号楼602"),
        ("第二户：润华小区9号楼601", "润华小区", "润华小区9号楼601"),
        ("还有和平小区8号楼101", "和平小区", "和平小区8号楼101"),
        ("②金桥小区5号楼201", "金桥小区", "金桥小区5号楼201"),
        ("祥和9号楼101", "祥和", "祥和9号楼101"),
        # the 室 of 室温 is not the room's
        ("滨海新城9号楼2单元1102室温只有16度", "滨海新城", "滨海新城9号楼2单元1102"),
    ],
)
def test_address_inside_a_sentence(text: str, community: str, canonical: str) -> None:
    parsed = parse_resident_address(text)
    assert parsed.community == community
    assert parsed.canonical == canonical


@pytest.mark.parametrize(
    ("text", "phrase", "start"),
    [
        ("今晚八点以后家里有人", "今晚八点以后", "2026-12-10T20:00:00+08:00"),
        ("改到后天下午吧", "后天下午", "2026-12-12T13:00:00+08:00"),
        ("明早9点", "明早9点", "2026-12-11T09:00:00+08:00"),
        ("下周一上午来", "下周一上午", "2026-12-14T07:00:00+08:00"),
        ("那就12月15日上午", "12月15日上午", "2026-12-15T07:00:00+08:00"),
        # a day that has passed is how long the trouble lasts, not when to come
        ("从前天开始暖气就凉了今天晚上七点以后家里有人", "今天晚上七点以后", "2026-12-10T19:00:00+08:00"),
        ("这周末都在家", "这周末", "2026-12-13T00:00:00+08:00"),
    ],
)
def test_a_time_is_found_inside_a_sentence(text: str, phrase: str, start: str) -> None:
    mention = find_time(text, NOW)
    assert mention is not None
    assert text[mention.start : mention.end] == phrase
    assert mention.window[0].isoformat() == start


def test_a_passed_time_is_found_when_nothing_else_is_named() -> None:
    mention = find_time("昨天下午来过了", NOW)
    assert mention is not None and mention.window[0].isoformat() == "2026-12-09T13:00:00+08:00"


def test_an_interval_reads_back_as_the_same_window() -> None:
    window = (datetime(2026, 12, 11, 7, tzinfo=LOCAL_TZ), datetime(2026, 12, 11, 11, 59, 59, tzinfo=LOCAL_TZ))
    assert parse_appointment(interval(window), NOW) == window


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("不是3号楼是5号楼", "阳光小区5号楼2单元501"),
        ("单元写错了，是三单元", "阳光小区3号楼3单元501"),
        ("房间号改成502", "阳光小区3号楼2单元502"),
        ("不对 是六号楼三单元602室", "阳光小区6号楼3单元602"),
        ("不是这个", None),
    ],
)
def test_a_correction_replaces_only_the_parts_it_names(text: str, expected: str | None) -> None:
    assert is_correction(text)
    assert corrected_address("阳光小区3号楼2单元501", text) == expected


@pytest.mark.parametrize("text", ["就是3号楼2单元501", "应该是3号楼2单元501"])
def test_words_before_an_address_without_a_community_are_not_taken_for_one(text: str) -> None:
    parsed = parse_resident_address(text)
    assert parsed.community is None
    assert parsed.span is not None and text[parsed.span[0] : parsed.span[1]] == "3号楼2单元501"


def test_an_incomplete_address_cannot_be_corrected() -> None:
    assert corrected_address("阳光小区", "不是3号楼是5号楼") is None


@pytest.mark.parametrize(
    ("beijing_now", "text", "start"),
    [
        # 02:10 Beijing is 18:10 UTC of the day before: "明天" is still Beijing's tomorrow
        (datetime(2026, 12, 11, 2, 10, tzinfo=LOCAL_TZ), "明天上午9点", datetime(2026, 12, 12, 9, tzinfo=LOCAL_TZ)),
        (datetime(2026, 12, 11, 2, 10, tzinfo=LOCAL_TZ), "今晚八点", datetime(2026, 12, 11, 20, tzinfo=LOCAL_TZ)),
        # 23:50 Beijing is 15:50 UTC the same day
        (datetime(2026, 12, 11, 23, 50, tzinfo=LOCAL_TZ), "明天上午9点", datetime(2026, 12, 12, 9, tzinfo=LOCAL_TZ)),
    ],
)
def test_relative_times_are_read_in_beijing_whatever_the_servers_zone(
    server_in_utc: None, beijing_now: datetime, text: str, start: datetime
) -> None:
    window = parse_appointment(text, beijing_now.astimezone(timezone.utc))
    assert window is not None and window[0] == start


@pytest.mark.parametrize(
    ("text", "after_yes_no", "cancel"),
    [
        ("算了，不报了", False, True),
        ("先不弄了", False, True),
        ("不用了", False, True),
        ("不用了", True, False),  # "还用上次的地址吗？" — "不用了" is its "no"
        ("算了，不用了", True, True),
        ("取消吧，谢谢", False, True),
        ("取消报停的手续怎么办", False, False),  # a question
        ("阳光小区3号楼2单元501", False, False),
        ("不是漏水，是不热", False, False),
        # a cancel with the reason the problem went away, on either side of it (#23)
        ("不用了，暖气已经好了", False, True),
        ("不用了，暖气已经好了", True, True),  # with a reason it is more than a yes/no question's "no"
        ("不修了，自己弄好了", False, True),
        ("算了，邻居帮我修好了", False, True),
        ("不用来了，刚才又热了", False, True),
        ("刚才又热了，不用来了", False, True),
        ("暖气好了不用来了谢谢", False, True),
        ("不用了，已经不漏了", False, True),
        # not a reason: the problem is still there, or a question is asked
        ("不用了，暖气还是不热", False, False),
        ("算了，暖气又不热了", False, False),
        ("算了，好了吗", False, False),
        ("不用来了，什么时候能好", False, False),
        ("暖气好了", False, False),  # no cancel said
    ],
)
def test_a_cancel_is_a_whole_message_of_cancel_words(text: str, after_yes_no: bool, cancel: bool) -> None:
    assert is_cancel(text, after_yes_no) is cancel


@pytest.mark.parametrize("text", ["不对，是5号楼，不是3号楼", "不是3号楼是5号楼", "楼号错了，应该是5号楼"])
def test_the_negated_part_of_a_correction_is_not_taken(text: str) -> None:
    assert corrected_address("阳光小区3号楼2单元501", text) == "阳光小区5号楼2单元501"
