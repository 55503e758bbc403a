"""The product's configuration: paths, the env file and its defaults, the production checks."""

from __future__ import annotations

import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from policies.secrets import MIN_SECRET_LENGTH

ROOT = Path(__file__).resolve().parents[2]

VENVS = ROOT / ".venv"
VAR = ROOT / "var"
MODELS = ROOT / "models"
# Files whose content decides the trained model: any change retrains.
MODEL_INPUTS = ("config.yml", "domain.yml", "data", "bot/dictionary", "requirements/bot.lock")
MODELS_KEPT = 3
TEST_SUITES = ("lint", "tooling", "api", "bot", "rasa", "e2e")


class StackError(Exception):
    """A problem the user can fix; printed as one clear message, without a traceback."""


def say(message: str) -> None:
    print(f"[stack] {message}", flush=True)


# --------------------------------------------------------------------------- configuration


def parse_env_file(path: Path) -> dict[str, str]:
    """Read KEY=value lines (``#`` comments, optional quotes) from an env file."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = value
    return values


SCALED_ENV = ROOT / "deploy" / "scaled.env"


def load_env(overrides: dict[str, str] | None = None, scaled: bool = False) -> dict[str, str]:
    """The environment every process gets: os.environ > .env > [deploy/scaled.env] > .env.example."""
    env = parse_env_file(ROOT / ".env.example")
    if scaled:
        env.update(parse_env_file(SCALED_ENV))
    env.update(parse_env_file(ROOT / ".env"))
    env.update(os.environ)
    env.update(overrides or {})
    env.setdefault("PYTHONUNBUFFERED", "1")
    # The project root is importable in every process (api, actions, channels, bot).
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def use_simulator_by_default(env: dict[str, str]) -> None:
    """Without a platform address outside production, the backend plays WeChat (the simulator).

    The channel then talks to the simulator's fake platform API; setting WECHAT_API_BASE_URL
    points it at that address instead and no simulator is started.
    """
    if env.get("WECHAT_API_BASE_URL") or env.get("APP_ENV") == "production":
        env["SIMULATOR_ENABLED"] = "false"
        return
    env["SIMULATOR_ENABLED"] = "true"
    env["WECHAT_API_BASE_URL"] = env.get("API_URL", "http://127.0.0.1:8000").rstrip("/") + "/simulator/platform"


# Variables whose development default (in .env.example) must not reach production.
SECRET_KEYS = (
    "WECHAT_TOKEN",
    "WECHAT_APP_ID",
    "WECHAT_APP_SECRET",
    "API_TOKEN",
    "RASA_AUTH_TOKEN",
    "ACTION_SERVER_TOKEN",
    # the key of the openids' digests in the log lines (heating_standard/privacy.py): without it a digest is a plain
    # hash, which anyone holding an openid can compute and look for
    "LOG_MASK_SALT",
)
# Tokens without which an internal HTTP API would be open to anyone who reaches its port.
REQUIRED_TOKENS = ("RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN")


def check_for_production(env: dict[str, str]) -> None:
    """Refuse open internal APIs anywhere but in tests; in production also sample or short secrets."""
    if env.get("APP_ENV") != "test":
        empty = [key for key in REQUIRED_TOKENS if not env.get(key)]
        if empty:
            raise StackError(
                f"{', '.join(empty)} is empty: Rasa's HTTP API and the action server would accept anyone. "
                "Set a token in the environment or in .env."
            )
    if env.get("APP_ENV") != "production":
        return
    samples = parse_env_file(ROOT / ".env.example")
    weak = [key for key in SECRET_KEYS if not env.get(key) or env.get(key) == samples.get(key)]
    if weak:
        raise StackError(
            f"APP_ENV=production but {', '.join(weak)} still hold the sample values of .env.example "
            "(or are empty); set real values in the environment or in .env."
        )
    short = [key for key in SECRET_KEYS if key != "WECHAT_APP_ID" and len(env[key]) < MIN_SECRET_LENGTH]
    if short:
        raise StackError(
            f"APP_ENV=production but {', '.join(short)} are shorter than {MIN_SECRET_LENGTH} characters; "
            "use long random values (python3 -c 'import secrets; print(secrets.token_urlsafe(32))')."
        )


def port_of(url: str) -> int:
    """The TCP port of a service URL (its explicit port, or 80/443)."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.port:
        return parsed.port
    return 443 if parsed.scheme == "https" else 80
