"""`make chat`: what a typed line becomes, and a clear message when the simulator is not running."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import chat  # noqa: E402


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("我家暖气不热", ("text", "我家暖气不热")),
        ("/subscribe", ("subscribe", "")),
        ("/menu FEES", ("click", "FEES")),
        ("/voice 暖气漏水了", ("voice", "暖气漏水了")),
        ("/location 阳光小区", ("location", "阳光小区")),
        ("/image", ("image", "https://example.invalid/radiator.jpg")),
    ],
)
def test_typed_lines(line: str, expected: tuple[str, str]) -> None:
    assert chat.parse(line) == expected


def test_without_a_running_simulator_it_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert chat.main(["--api", f"http://127.0.0.1:{port}"]) == 2
    assert "make run" in capsys.readouterr().err
