"""`rasa run`, with a model even when the backend cannot be reached at start.

The Rasa server loads the model in force from the backend (endpoints.yml's ``models``: Rasa's model
server; docs/bot.md, "Training, checking, rolling out"). Rasa 3.6 then ignores ``--model``: a process that
starts while no backend answers (a restart during the backend's own restart, or behind a balancer not yet
up) would run with no model, and the channel would take residents' messages that nothing answers. Here
such a process loads the repository's build from disk instead (``BOT_BASE_MODEL``, set by
scripts/stack/), under a fingerprint no served model has, so that its next pull that reaches a backend
loads the model in force. Its log lines are JSON (``bot/logs.py``). Everything else is Rasa's own ``rasa`` command.

    python -m bot.rasa_run run --enable-api --endpoints endpoints.yml ...   (scripts/stack/)
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from bot import logs

log = logging.getLogger(__name__)

# The fingerprint of the repository's build loaded from disk: never a served model's (those are
# "<id>-<sha256>"), so the first pull that reaches a backend replaces it with the model in force.
FALLBACK_FINGERPRINT = "local-repository-build"


async def load_with_fallback(original: Any, agent: Any, model_server: Any) -> Any:
    """Rasa's ``load_from_server`` (``original``: the first pull, then the pulls scheduled), and the
    repository's build from disk when that first pull gave the agent no model."""
    loaded = await original(agent, model_server)
    path = os.environ.get("BOT_BASE_MODEL", "")
    if not loaded.is_ready() and path and Path(path).is_file():
        log.warning(
            "no model from %s at start: running the repository's build %s until a pull succeeds", model_server.url, path
        )
        loaded.load_model(path, FALLBACK_FINGERPRINT)
    return loaded


def install() -> None:
    """Put ``load_with_fallback`` where Rasa's ``load_agent`` calls ``load_from_server``; take away the
    turn's needless costs (bot/turn_costs.py); JSON log lines."""
    from rasa.core import agent as rasa_agent

    from bot import turn_costs

    turn_costs.install()

    original = rasa_agent.load_from_server

    async def load_from_server(agent: Any, model_server: Any) -> Any:
        return await load_with_fallback(original, agent, model_server)

    rasa_agent.load_from_server = load_from_server

    # Rasa sets up its coloured console logging last: the lines then become JSON (or stay plain with
    # LOG_FORMAT=plain), masked and with the message's correlation id (bot/logs.py)
    from rasa.utils import io as rasa_io

    colored = rasa_io.configure_colored_logging

    def configure_logging(level: Any) -> None:
        colored(level)
        # Rasa leaves the root logger at WARNING: the channel's and the requests' INFO lines need INFO
        level = logging.getLevelName(os.environ.get("LOG_LEVEL") or "INFO")
        # Sanic's loggers have handlers of their own (Rasa turns their propagation off): masked as well
        logs.configure("rasa", level=level, loggers=("sanic.root", "sanic.error", "sanic.access"))

    rasa_io.configure_colored_logging = configure_logging


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
