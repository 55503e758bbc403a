"""The conversation side's log formatter (bot/logs.py): a record's fields become heating_standard's
JSON line under the context's correlation id, and configuring it leaves a test runner's capture alone."""

from __future__ import annotations

import contextvars
import json
import logging
import sys

import pytest

from bot import logs
from policies.correlation import correlation_id


def line_of(message: str, *args: object, **extra: object) -> dict[str, object]:
    record = logging.LogRecord("channels.wechat", logging.WARNING, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return json.loads(logs.JsonFormatter("rasa", "salt").format(record))


def test_the_line_carries_the_correlation_id_of_its_context() -> None:
    def logged() -> dict[str, object]:
        correlation_id.set("msg-0000000000000001")
        return line_of("turn of %s", "x")

    assert contextvars.copy_context().run(logged)["correlation_id"] == "msg-0000000000000001"
    assert line_of("outside any message")["correlation_id"] == ""
    assert line_of("for %s", "13912345678")["message"] == "for 139****5678"


def test_a_records_extras_and_exception_are_masked() -> None:
    try:
        raise ValueError("no order for 13912345678")
    except ValueError:
        record = logging.LogRecord("api", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    record.phone = "13912345678"
    line = json.loads(logs.JsonFormatter("actions").format(record))
    assert (line["phone"], line["process"]) == ("139****5678", "actions")
    assert "13912345678" not in line["exception"] and "139****5678" in line["exception"]


def test_configure_formats_the_process_lines_and_leaves_a_test_runners_capture_alone(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("LOG_FORMAT", "json")
    stream = logging.StreamHandler()
    framework = logging.getLogger("sanic.test")
    framework.addHandler(stream)
    try:
        logs.configure("actions", loggers=("sanic.test",))
        assert isinstance(stream.formatter, logs.JsonFormatter)
        assert not isinstance(caplog.handler.formatter, logs.JsonFormatter)
        monkeypatch.setenv("LOG_FORMAT", "plain")
        assert isinstance(logs.formatter("actions"), logs.PlainFormatter)
    finally:
        framework.removeHandler(stream)
