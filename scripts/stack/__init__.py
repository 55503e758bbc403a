"""Set up, start and test the product's three processes.

This is what the Makefile calls. It uses only the standard library, so it runs on the
machine's default Python before any virtual environment exists.

- ``setup``: the two virtual environments from their locks, the database migrations and a
  trained model (cached by a hash of its inputs).
- ``serve all|api|actions|rasa``: start processes, wait until healthy, print what runs where,
  stop cleanly on Ctrl-C.
- ``test``: every test suite, one summary, non-zero exit on any failure.
- ``train``: train the Rasa model when its inputs changed.
- ``retrain``: ask the running backend for a candidate model with the reviewed examples, and follow it.
- ``rolling-restart``: every process of the running scaled layout replaced one at a time.
- ``backup`` / ``restore``: every store and the models directory into one directory, and back.

Configuration comes from the environment; any variable not set there is taken from ``.env``
(if present) and then from the development defaults in ``.env.example``.

The package, one job per module: ``config`` (paths, the env file, production checks), ``envs``
(interpreters, virtual environments, migrations), ``model`` (training when the inputs changed),
``supervisor`` (processes, ports, restarts), ``scaled`` (HAProxy, PostgreSQL, Redis; setup, admin,
train), ``rolling`` (the scaled layout's rolling restart), ``suites`` (the test suites), ``backup``
(backups and their restore) and ``cli``. Run it as ``python3 scripts/stack <command>``; the benchmarks
and tests ``import stack`` (with ``scripts/`` on the path) and find every name here.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Any Python 3 runs this from scripts/; the shared policies are at the repository's root.
_REPOSITORY = str(Path(__file__).resolve().parents[2])
if _REPOSITORY not in sys.path:
    sys.path.insert(0, _REPOSITORY)

from stack.backup import *  # noqa: E402, F403
from stack.cli import *  # noqa: E402, F403
from stack.config import *  # noqa: E402, F403
from stack.envs import *  # noqa: E402, F403
from stack.model import *  # noqa: E402, F403
from stack.rolling import *  # noqa: E402, F403
from stack.scaled import *  # noqa: E402, F403
from stack.suites import *  # noqa: E402, F403
from stack.supervisor import *  # noqa: E402, F403
