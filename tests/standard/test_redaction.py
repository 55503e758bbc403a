"""A resident's message made fit to keep for review and training (12.1): personal data replaced by
placeholders of its kind, everything else kept (heating_standard.privacy.redact)."""

from __future__ import annotations

import pytest

from heating_standard.privacy import redact


@pytest.mark.parametrize(
    ("message", "kept"),
    [
        (
            "我叫王建国，家住阳光小区3号楼2单元501，电话13812345678，暖气不热",
            "我叫[姓名]，家住阳光小区3号楼[门牌]，电话[电话]，暖气不热",
        ),
        ("帮李阿姨家报修 和平里5-2-301 手机 138 1234 5678", "帮[姓名]阿姨家报修 和平里5号楼[门牌] 手机 [电话]"),
        ("三号楼二单元五零一室的赵大爷家漏水", "3号楼[门牌]的[姓名]大爷家漏水"),
        ("座机0631-5201234 联系人：张秀英", "座机[电话] 联系人：[姓名]"),
        ("+86 139-0631-8876 是我儿子的", "[电话] 是我儿子的"),
        ("身份证号370602198503151234 交费卡号6222021234567890123", "身份证号[身份证号] 交费卡号[卡号]"),
        ("车牌鲁K·12345停在楼下挡着检修井 邮箱wang.li@example.com", "车牌[车牌]停在楼下挡着检修井 邮箱[邮箱]"),
    ],
)
def test_personal_data_is_replaced_by_its_kind(message: str, kept: str) -> None:
    assert redact(message) == kept


@pytest.mark.parametrize(
    "message",
    [
        "工单GD20261201000017到哪一步了",  # an order number names no one
        "3号楼都不热了 屋里才15度",  # a building names no household
        "明天下午两点来 打12345也没人管",
        "暖气费一平米26元 120平交多少",
        "师傅来了说阀门坏了 老人家冻得不行",
        "我是网格员，反映一下情况",
        "我是业主，2026-12-10来修的，2026年12月10日又坏了",
        "一楼两户都不热 我家住三楼",
    ],
)
def test_what_names_no_one_stays_as_written(message: str) -> None:
    assert redact(message) == message


SPELLINGS = (
    "13812345678",
    "138 1234 5678",
    "138-1234-5678",
    "+8613812345678",
    "0631-5201234",
    "１３８ １２３４ ５６７８",  # full width, as some keyboards write it
    "１３８１２３４５６７８",
    "138.1234.5678",
    "138_1234_5678",
    "1 3 8 1 2 3 4 5 6 7 8",
    "138—1234—5678",
    "138－1234－5678",
    "幺三八一二三四五六七八",  # as a voice transcript writes it
    "一三八一二三四五六七八",
    "壹叁捌壹贰叁肆伍陆柒捌",
)


@pytest.mark.parametrize("spelled", SPELLINGS)
def test_nothing_of_a_phone_survives_in_any_spelling(spelled: str) -> None:
    redacted = redact(f"电话{spelled}谢谢")
    assert redacted == "电话[电话]谢谢"


@pytest.mark.parametrize(
    ("message", "kept"),
    [
        ("Tel13912345678", "Tel[电话]"),  # digits glued to letters
        ("13912345678abc", "[电话]abc"),
        ("ID370602198503151234", "ID[身份证号]"),
        ("身份证三七零六零二一九八五零三一五一二三四", "身份证[身份证号]"),
        ("我是王建国", "我是[姓名]"),
        ("联系人是王建国", "联系人是[姓名]"),
        ("户主：欧阳娜娜", "户主：[姓名]"),
        ("我叫诸葛亮", "我叫[姓名]"),
        ("王 阿姨家", "[姓名] 阿姨家"),
        ("我叫Wang Jianguo", "我叫[姓名]"),
        ("ｗａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ", "[邮箱]"),
        ("wang.li＠example.com", "[邮箱]"),
        ("王丽@qq.com", "[邮箱]"),
        ("鲁k12345", "[车牌]"),
        ("鲁 K 12345", "[车牌]"),
        ("鲁K-12345", "[车牌]"),
        ("阳光小区3#2-501", "阳光小区3#[门牌]"),
        ("阳光小区3栋2-501", "阳光小区3栋[门牌]"),
        ("阳光小区B座1203室", "阳光小区B座[门牌]"),
        ("阳光小区3号楼2单元501和4单元602", "阳光小区3号楼[门牌]和[门牌]"),
        ("王先生家(3楼)阳光小区3号楼2单元501不热", "[姓名]先生家(3楼)阳光小区3号楼[门牌]不热"),
    ],
)
def test_other_ways_residents_write_their_data(message: str, kept: str) -> None:
    assert redact(message) == kept


def test_numbers_and_addresses_are_read_from_where_their_characters_start() -> None:
    """A long run of digits or letters was searched again from each of its characters (100,000 digits took
    minutes); what is found is the same, read from the start of the run."""
    assert redact("1" * 30 + "号楼2单元501漏水") == "[门牌]漏水"
    assert redact("x" * 40 + "@example.com 我的邮箱") == "[邮箱] 我的邮箱"
    run = "1" * 5000
    assert redact(run) == run  # no phone, card or identity number inside a run of digits
