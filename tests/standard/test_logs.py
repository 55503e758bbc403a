"""Log lines (policies/logs.py): JSON with Beijing time and the correlation id, personal data masked
whatever logged it, and only a well-formed correlation id taken from a caller."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys

import pytest

from policies import logs


def line_of(message: str, *args: object, **extra: object) -> dict[str, object]:
    record = logging.LogRecord("channels.wechat", logging.WARNING, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return json.loads(logs.JsonFormatter("rasa").format(record))


def test_a_line_is_one_json_object_in_beijing_time_whatever_the_machines_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    record = logging.LogRecord("api", logging.INFO, __file__, 1, "filed %s", ("RX1",), None)
    record.created = 1_796_000_000.25  # 2026-11-30 00:53:20.250 UTC
    text = logs.JsonFormatter("api").format(record)
    assert "\n" not in text
    line = json.loads(text)
    assert line["time"] == "2026-11-30T08:53:20.250+08:00"
    assert (line["level"], line["logger"], line["process"], line["message"]) == ("INFO", "api", "api", "filed RX1")


def test_the_line_carries_the_correlation_id_of_its_context() -> None:
    def logged() -> dict[str, object]:
        logs.correlation_id.set("msg-0000000000000001")
        return line_of("turn of %s", "x")

    assert contextvars.copy_context().run(logged)["correlation_id"] == "msg-0000000000000001"
    assert line_of("outside any message")["correlation_id"] == ""


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
    assert logs.mask(written) == shown


def test_an_openid_becomes_a_stable_digest_that_reveals_nothing() -> None:
    openid = "oAbCdEfGhIjKlMnOpQrStUvWx-_1"
    assert len(openid) == 28
    first = logs.mask(f"rate limit: {openid} sent more than 20 messages")
    assert openid not in first
    digest = re.search(r"openid#[0-9a-f]{10}", first)
    assert digest is not None
    assert digest.group(0) in logs.mask(f"took over turn:{openid}:123")  # one resident's lines still meet
    assert "openid#" not in logs.mask("oRESIDENT0001 is a test name, not a platform openid")
    assert "openid#" not in logs.mask("reason: outside_the_window_or_over_the_quota")  # a word, not an openid
    for other_length in ("oAbCdEfGhIjKlMnOpQrStUvWx-_", "oAbCdEfGhIjKlMnOpQrStUvWx-_12"):  # 27 and 29 long
        assert other_length not in logs.mask(f"turn:msg:{other_length}:24000000000000001")


def test_extras_and_exceptions_are_masked_too() -> None:
    try:
        raise ValueError("no order for 13912345678")
    except ValueError:
        record = logging.LogRecord("api", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    record.phone = "13912345678"
    line = json.loads(logs.JsonFormatter("api").format(record))
    assert line["phone"] == "139****5678"
    assert "13912345678" not in line["exception"] and "139****5678" in line["exception"]


@pytest.mark.parametrize("sent", ["abcdef0123456789", "order-req-0001", "a" * 64])
def test_a_well_formed_correlation_id_is_taken(sent: str) -> None:
    assert logs.accepted(sent) == sent


@pytest.mark.parametrize("sent", [None, "", "short", "a" * 65, "abc\ndef012345", 'x" injected', "漢字漢字漢字漢字"])
def test_anything_else_is_not(sent: str | None) -> None:
    assert logs.accepted(sent) is None


def test_a_pushs_correlation_id_is_the_same_for_its_retries_and_hides_the_key() -> None:
    key = "oAbCdEfGhIjKlMnOpQrStUvWx-_1:24000000000000001"
    assert logs.correlation_for(key) == logs.correlation_for(key)
    assert logs.correlation_for(key) != logs.correlation_for(key + "2")
    assert re.fullmatch(r"[0-9a-f]{16}", logs.correlation_for(key))


def test_configure_formats_the_process_lines_and_leaves_a_test_runners_capture_alone(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("LOG_FORMAT", "json")
    stream = logging.StreamHandler()
    framework = logging.getLogger("uvicorn.test")
    framework.addHandler(stream)
    try:
        logs.configure("api", loggers=("uvicorn.test",))
        assert isinstance(stream.formatter, logs.JsonFormatter)
        assert not isinstance(caplog.handler.formatter, logs.JsonFormatter)
        monkeypatch.setenv("LOG_FORMAT", "plain")
        assert isinstance(logs.formatter("api"), logs.PlainFormatter)
    finally:
        framework.removeHandler(stream)
