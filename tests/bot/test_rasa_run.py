"""bot/rasa_run.py: a Rasa process that reaches no backend when it starts runs the repository's build from
disk, and the first pull that reaches one gives it the model in force (Rasa's own pulling, unchanged)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa.core import agent as rasa_agent
from rasa.utils.endpoints import EndpointConfig

from bot import rasa_run

# Nothing listens on the discard port: every pull is refused, as when the backend is down.
NO_BACKEND = EndpointConfig(url="http://127.0.0.1:9/api/v1/models/active/file", wait_time_between_pulls=0)


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[str, str | None]]:
    """The models Rasa's agents are asked to load (none is really loaded); the build on disk."""
    build = tmp_path / "0123456789abcdef.tar.gz"
    build.write_bytes(b"the repository's build")
    monkeypatch.setenv("BOT_BASE_MODEL", str(build))
    asked: list[tuple[str, str | None]] = []

    def load_model(self: Any, model_path: Any, fingerprint: str | None = None) -> None:
        asked.append((str(model_path), fingerprint))

    monkeypatch.setattr(rasa_agent.Agent, "load_model", load_model)
    monkeypatch.setattr(rasa_agent, "load_from_server", rasa_agent.load_from_server)  # undone after the test
    rasa_run.install()
    return asked


async def test_with_no_backend_at_start_rasa_runs_the_repository_build(
    loads: list[tuple[str, str | None]], tmp_path: Path
) -> None:
    await rasa_agent.load_agent(model_server=NO_BACKEND)
    assert loads == [(str(tmp_path / "0123456789abcdef.tar.gz"), rasa_run.FALLBACK_FINGERPRINT)]


async def test_a_model_pulled_at_start_is_kept(loads: list[tuple[str, str | None]]) -> None:
    class Pulled:
        def is_ready(self) -> bool:
            return True

        def load_model(self, *_: object) -> None:
            raise AssertionError("the model pulled from the backend was replaced")

    async def pull(agent: Any, _server: Any) -> Any:
        return agent

    assert isinstance(await rasa_run.load_with_fallback(pull, Pulled(), NO_BACKEND), Pulled)


def test_the_fallback_fingerprint_is_never_a_served_one() -> None:
    # the backend's fingerprints are "<model id>-<sha256>": this one always differs, so the first pull
    # that reaches a backend loads the model in force
    assert not rasa_run.FALLBACK_FINGERPRINT.split("-")[0].isdigit()
