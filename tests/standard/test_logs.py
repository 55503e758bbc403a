"""Log lines (heating_standard/privacy.py ``log_line``, ``mask_log``; policies/correlation.py): JSON with
Beijing time and the correlation id, personal data masked whatever logged it, and only a well-formed
correlation id taken from a caller. The environments' formatters are tested beside them (tests/bot,
tests/api)."""

from __future__ import annotations

import json
import re

import pytest

from heating_standard.privacy import log_line, mask_log
from policies import correlation


def test_a_line_is_one_json_object_in_beijing_time_whatever_the_machines_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    text = log_line(1_796_000_000.25, "INFO", "api", "api", "req-00000001", "filed RX1")  # 00:53:20.250 UTC
    assert "\n" not in text
    line = json.loads(text)
    assert line["time"] == "2026-11-30T08:53:20.250+08:00"
    assert (line["level"], line["logger"], line["process"], line["message"]) == ("INFO", "api", "api", "filed RX1")
    assert line["correlation_id"] == "req-00000001"


def test_extras_and_exceptions_are_masked_too() -> None:
    text = log_line(0.0, "ERROR", "api", "api", "", "failed", {"phone": "13912345678", "count": 3}, "no 13912345678")
    line = json.loads(text)
    assert (line["phone"], line["count"]) == ("139****5678", 3)
    assert line["exception"] == "no 139****5678"


def test_the_digest_is_keyed() -> None:
    openid = "oAbCdEfGhIjKlMnOpQrStUvWx-_1"
    assert mask_log(openid, "one key") != mask_log(openid, "another key")


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("电话13912345678已登记", "电话139****5678已登记"),
        ("+86 13912345678", "+86 139****5678"),
        ("座机0631-5123456", "座机0631-****3456"),
        ("身份证370602199001011234", "身份证370602********1234"),
        ("身份证37060219900101123X", "身份证370602********123X"),
        ("工单 GD20261210000001 受理", "工单 GD20261210000001 受理"),  # an order number stays readable
        ("took 1733561234567 ms", "took 1733561234567 ms"),  # a long number is no phone
        ("+8613912345678", "+86139****5678"),
        ("8613912345678", "86139****5678"),
        ("手机 139 1234 5678，或 139-1234-5678", "手机 139****5678，或 139****5678"),
        ("电话１３９１２３４５６７８", "电话139****5678"),  # full-width digits
        ("(0631)5123456", "(0631)-****3456"),
        ("旧身份证370602900101123", "旧身份证370602******123"),
        ("[parameters: ('张三', '金色家园20号楼4单元1802')]", "[parameters: hidden]"),
    ],
)
def test_phone_and_identity_numbers_are_masked(written: str, shown: str) -> None:
    assert mask_log(written) == shown


def test_an_openid_becomes_a_stable_digest_that_reveals_nothing() -> None:
    openid = "oAbCdEfGhIjKlMnOpQrStUvWx-_1"
    assert len(openid) == 28
    first = mask_log(f"rate limit: {openid} sent more than 20 messages")
    assert openid not in first
    digest = re.search(r"openid#[0-9a-f]{10}", first)
    assert digest is not None
    assert digest.group(0) in mask_log(f"took over turn:{openid}:123")  # one resident's lines still meet
    assert "openid#" not in mask_log("oRESIDENT0001 is a test name, not a platform openid")
    assert "openid#" not in mask_log("reason: outside_the_window_or_over_the_quota")  # a word, not an openid
    for other_length in ("oAbCdEfGhIjKlMnOpQrStUvWx-_", "oAbCdEfGhIjKlMnOpQrStUvWx-_12"):  # 27 and 29 long
        assert other_length not in mask_log(f"turn:msg:{other_length}:24000000000000001")


@pytest.mark.parametrize("sent", ["abcdef0123456789", "order-req-0001", "a" * 64])
def test_a_well_formed_correlation_id_is_taken(sent: str) -> None:
    assert correlation.accepted(sent) == sent


@pytest.mark.parametrize("sent", [None, "", "short", "a" * 65, "abc\ndef012345", 'x" injected', "漢字漢字漢字漢字"])
def test_anything_else_is_not(sent: str | None) -> None:
    assert correlation.accepted(sent) is None


def test_a_pushs_correlation_id_is_the_same_for_its_retries_and_hides_the_key() -> None:
    key = "oAbCdEfGhIjKlMnOpQrStUvWx-_1:24000000000000001"
    assert correlation.correlation_for(key) == correlation.correlation_for(key)
    assert correlation.correlation_for(key) != correlation.correlation_for(key + "2")
    assert re.fullmatch(r"[0-9a-f]{16}", correlation.correlation_for(key))
