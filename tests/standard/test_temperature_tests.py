"""A room-temperature test's record (5.4.5, 5.4.6, 5.1, 10.3 第1条 a) and C over households (14.4.3)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from heating_standard import kpis, notices
from heating_standard.temperature_tests import (
    EXCLUSION_CLAUSES,
    Exclusion,
    RecordRefused,
    Room,
    Signature,
    TemperatureRecord,
    check,
    measured,
)

SIGNED = TemperatureRecord((17.5, 17.6, 17.8), "数字式温度计 T-07", Decimal("0.1"), Room.BEDROOM, note="居民已签字")


def test_the_measured_temperature_is_the_mean_of_three_readings_to_a_tenth() -> None:
    assert measured((17.5, 17.6, 17.8)) == 17.6  # 17.633…
    assert measured((17.9, 18.0, 17.95)) == 18.0  # 17.95 exactly: half up, so it passes 5.1
    assert measured((17.9, 18.0, 17.9)) == 17.9  # 17.933…
    assert check(SIGNED, wechat_resident=False) == 17.6


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"readings": (17.5, 17.6)}, "readings", "三次读数"),
        ({"readings": (17.5, 17.6, 85.0)}, "readings", "-10到40"),
        ({"instrument": "  "}, "instrument", "5.4.5"),
        ({"resolution": Decimal("0.2")}, "resolution", "不大于0.1℃"),
        ({"signature": Signature.WECHAT}, "signature", "纸质记录上签字"),  # the resident is not on WeChat
        ({"note": None}, "note", "居民已在纸质记录上签字"),
        ({"signature": Signature.REFUSED, "note": ""}, "note", "拒绝签字"),
    ],
)
def test_a_record_that_breaks_a_rule_is_refused_naming_the_field(changes: dict, field: str, words: str) -> None:
    record = TemperatureRecord(**{**SIGNED.__dict__, **changes})
    with pytest.raises(RecordRefused) as refused:
        check(record, wechat_resident=False)
    assert refused.value.field == field and words in refused.value.reason


def test_a_wechat_resident_confirms_in_wechat_without_a_paper_note() -> None:
    record = TemperatureRecord(**{**SIGNED.__dict__, "signature": Signature.WECHAT, "note": None})
    assert check(record, wechat_resident=True) == 17.6


def test_every_reason_a_test_does_not_count_names_its_clause() -> None:
    assert set(EXCLUSION_CLAUSES) == set(Exclusion)
    assert all(clause.startswith(("5.1", "5.4.6")) for clause in EXCLUSION_CLAUSES.values())


def test_c_is_one_figure_over_the_audits_month_of_tests() -> None:
    """The standard audit's December (docs: shared/docs/reviews/2026-12-standard.md §3): sampling H1 19.0,
    H2 17.5 then 18.2, H3 18.0, H4 17.9; on request H5 16.5, H6 20.0, H1 again 17.0 (its latest), H7 16.0 on a
    day colder than the design minimum. By hand: H1 fail, H2 pass, H3 pass, H4 fail, H5 fail, H6 pass, H7
    out -> 3/6 = 50 %."""
    day = datetime(2026, 12, 1, 2, tzinfo=timezone.utc)
    tests = [
        kpis.TemperatureTest("H1", day, 19.0),
        kpis.TemperatureTest("H2", day, 17.5),
        kpis.TemperatureTest("H2", day + timedelta(days=3), 18.2),
        kpis.TemperatureTest("H3", day, 18.0),
        kpis.TemperatureTest("H4", day, 17.9),
        kpis.TemperatureTest("H5", day + timedelta(days=5), 16.5),
        kpis.TemperatureTest("H6", day + timedelta(days=5), 20.0),
        kpis.TemperatureTest("H1", day + timedelta(days=9), 17.0),
        kpis.TemperatureTest("H7", day + timedelta(days=9), 16.0, Exclusion.OUTDOOR_BELOW_DESIGN.value),
    ]
    c = kpis.room_temperature_compliance(tests)
    assert (c.numerator, c.denominator, c.value, c.met) == (3, 6, 0.5, False)


def test_a_test_left_out_does_not_hide_the_households_earlier_valid_one() -> None:
    day = datetime(2026, 12, 1, tzinfo=timezone.utc)
    tests = [
        kpis.TemperatureTest("A", day, 18.6),
        kpis.TemperatureTest("A", day + timedelta(days=1), 16.0, Exclusion.WINDOWS_OPEN.value),
    ]
    c = kpis.room_temperature_compliance(tests)
    assert (c.numerator, c.denominator) == (1, 1)


def test_the_resident_reads_the_readings_the_result_and_how_to_dispute_it() -> None:
    said = notices.temperature_result_notice("WO-1", "卧室", [17.5, 17.6, 17.8], 17.6)
    assert "卧室三次读数 17.5、17.6、17.8℃" in said and "实测室温 17.6℃，未达到18℃（5.1）" in said
    assert "回复“1”确认" in said and "第三方检测机构" in said and "10.3" in said
    left_out = notices.temperature_result_notice("WO-1", "卧室", [16.0] * 3, 16.0, "室外温度低于供热系统最低设计温度")
    assert "本次测量时室外温度低于供热系统最低设计温度，不作为室温是否达标的判定" in left_out
