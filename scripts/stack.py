#!/usr/bin/env python3
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

Configuration comes from the environment; any variable not set there is taken from ``.env``
(if present) and then from the development defaults in ``.env.example``.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import hashlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET  # our own junit files, not untrusted input
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# stack.py runs with any Python 3 from scripts/; the shared policies are at the repository's root.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from policies.backoff import doubling  # noqa: E402
from policies.secrets import MIN_SECRET_LENGTH  # noqa: E402

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


# --------------------------------------------------------------------------- interpreters


def _python_version(executable: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    major, minor = out.stdout.strip().split(".")
    return int(major), int(minor)


def find_python310() -> str:
    """Python 3.10 for Rasa: on PATH, else pyenv's 3.10.x, else a uv-managed one."""
    candidates: list[str] = []
    on_path = shutil.which("python3.10")
    if on_path:
        candidates.append(on_path)  # a pyenv shim may refuse; checked below
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    if shutil.which("pyenv"):
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            pyenv_root = out.stdout.strip()
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/3.10.*/bin/python"), reverse=True)
    if shutil.which("uv"):
        out = subprocess.run(["uv", "python", "find", "3.10"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(out.stdout.strip())
    for candidate in candidates:
        if _python_version(candidate) == (3, 10):
            return candidate
    raise StackError(
        "Python 3.10 is needed for the conversation side (Rasa 3.6 runs on 3.8-3.10 only) "
        "and none was found.\n"
        "  Install one, then run the command again:\n"
        "    pyenv install 3.10        # with pyenv\n"
        "    uv python install 3.10    # or with uv\n"
        "    apt-get install python3.10 python3.10-venv   # or from your distribution"
    )


def find_python_api() -> str:
    """Python 3.11 or newer for the backend."""
    for name in ("python3", "python3.13", "python3.12", "python3.11"):
        path = shutil.which(name)
        version = _python_version(path) if path else None
        if version and version >= (3, 11):
            return path  # type: ignore[return-value]
    raise StackError(
        "Python 3.11 or newer is needed for the backend and none was found on PATH.\n"
        "  Install one (pyenv install 3.11, uv python install 3.11, or your distribution's "
        "python3.11), then run the command again."
    )


# --------------------------------------------------------------------------- environments


@dataclass(frozen=True)
class Venv:
    """One virtual environment built from one lock file."""

    name: str
    lock: Path

    @property
    def path(self) -> Path:
        return VENVS / self.name

    def bin(self, program: str) -> str:
        return str(self.path / "bin" / program)

    def ensure(self, python: str, want: tuple[int, int] | None) -> None:
        """Create the venv and install the lock, unless the installed lock is the same."""
        stamp = self.path / ".installed-lock.sha256"
        digest = hashlib.sha256(self.lock.read_bytes()).hexdigest()
        python_in_venv = self.path / "bin" / "python"
        have = _python_version(str(python_in_venv)) if python_in_venv.exists() else None
        if have and want and have[:2] != want and not (want == (3, 11) and have >= want):
            say(f"{self.path} has Python {have[0]}.{have[1]}; recreating it")
            shutil.rmtree(self.path)
            have = None
        if have and stamp.exists() and stamp.read_text().strip() == digest:
            return
        if not have:
            say(f"creating {self.path.relative_to(ROOT)} with {python}")
            run([python, "-m", "venv", str(self.path)])
        say(f"installing {self.lock.relative_to(ROOT)} into {self.path.relative_to(ROOT)} (a few minutes)")
        pip = [self.bin("python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        run_quietly(pip + ["-r", str(self.lock)])
        stamp.write_text(digest + "\n")


BOT_VENV = Venv("bot", ROOT / "requirements" / "bot.lock")
API_VENV = Venv("api", ROOT / "requirements" / "api.lock")


def run(cmd: list[str], env: dict[str, str] | None = None, check: bool = True) -> int:
    """Run a command in the project root, streaming its output."""
    result = subprocess.run(cmd, cwd=ROOT, env=env)
    if check and result.returncode != 0:
        raise StackError(f"command failed ({result.returncode}): {' '.join(cmd)}")
    return result.returncode


def run_quietly(cmd: list[str]) -> None:
    """Run a command, showing its output only when it fails."""
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()
        raise StackError(f"command failed ({result.returncode}): {' '.join(cmd)}\n" + "\n".join(output[-30:]))


def ensure_bot_env() -> None:
    BOT_VENV.ensure(find_python310(), (3, 10))


def ensure_api_env() -> None:
    API_VENV.ensure(find_python_api(), (3, 11))


def migrate(env: dict[str, str]) -> None:
    """Bring the backend's database to the newest schema (Alembic)."""
    VAR.mkdir(exist_ok=True)
    run([API_VENV.bin("alembic"), "-c", "api/alembic.ini", "upgrade", "head"], env=env)


def migrate_conversation_stores(env: dict[str, str]) -> None:
    """The channel's outbox and the action servers' spool (bot/stores.py), each by its own migrations."""
    VAR.mkdir(exist_ok=True)
    # Rasa's modules, read for the tracker store's address, warn about their own deprecations on import
    run([BOT_VENV.bin("python"), "-m", "bot.stores", "upgrade"], env={**env, "PYTHONWARNINGS": "ignore"})


# --------------------------------------------------------------------------- model


def model_digest() -> str:
    """A hash of everything that decides the trained model."""
    digest = hashlib.sha256()
    for name in MODEL_INPUTS:
        path = ROOT / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if not file.exists():
                continue
            digest.update(str(file.relative_to(ROOT)).encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def model_path() -> Path:
    return MODELS / f"{model_digest()}.tar.gz"


def use_repository_build(env: dict[str, str], path: Path) -> None:
    """Tell the backend where the repository's build is: it serves it to the Rasa processes (endpoints.yml's
    ``models``: Rasa pulls the model in force from the backend) until a candidate is rolled out."""
    env["BOT_BASE_MODEL"] = str(path)


def ensure_model(env: dict[str, str]) -> Path:
    """Train the model unless one for exactly these inputs is cached in models/."""
    target = model_path()
    if target.exists():
        return target
    say(f"training the model (inputs changed) -> {target.relative_to(ROOT)}")
    MODELS.mkdir(exist_ok=True)
    run(
        [
            BOT_VENV.bin("rasa"),
            "train",
            "--fixed-model-name",
            target.name.removesuffix(".tar.gz"),
            "--out",
            str(MODELS),
            "--config",
            "config.yml",
            "--domain",
            "domain.yml",
            "--data",
            "data",
        ],
        env=env,
    )
    old = sorted(MODELS.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in old[MODELS_KEPT:]:
        stale.unlink()
    return target


# --------------------------------------------------------------------------- processes


@dataclass
class Service:
    """One long-running process of the product."""

    name: str
    command: list[str]
    url: str
    health_path: str
    proc: subprocess.Popen[bytes] | None = None
    tail: list[str] = field(default_factory=list)
    started_at: float = 0.0
    crashes: int = 0
    restart_at: float | None = None
    starts_last: bool = False
    # a Rasa process of the scaled layout pulls its model through the balancer: it starts once the balancer
    # is up (the balancer itself waits for the backends)
    after_balancer: bool = False
    # addresses that must answer once every service is up (the balancer's front ends, which see a server
    # that started after the balancer only at its next health check)
    ready_after: list[str] = field(default_factory=list)
    ready_at: float = 0.0  # when its health check first passed (start-up time = ready_at - started_at)
    healthy_since: float | None = None  # since its last restart, while it has crashes to forget
    health_asked_at: float = 0.0
    env: dict[str, str] = field(default_factory=dict)  # this process's own variables (RASA_PROCESS)

    @property
    def health_url(self) -> str:
        return self.url.rstrip("/") + self.health_path


URL_VARIABLES = {"api": "API_URL", "actions": "ACTION_SERVER_URL", "rasa": "RASA_URL"}


def build_services(names: list[str], env: dict[str, str], urls: dict[str, str] | None = None) -> list[Service]:
    """Commands for the requested services, with the ports taken from their URLs (``urls`` by name, else
    the service's variable); a name such as ``rasa-2`` is a second process of the ``rasa`` tier."""
    host = env.get("BIND_HOST", "127.0.0.1")
    services = []
    for label in names:
        name = label.split("-")[0]
        if name not in URL_VARIABLES:
            raise StackError(f"unknown service {label!r}; choose from api, actions, rasa, all")
        url = (urls or {}).get(label) or env[URL_VARIABLES[name]]
        if name == "api":
            command = [
                API_VENV.bin("uvicorn"),
                "--factory",
                "api.main:create_app",
                "--host",
                host,
                "--port",
                str(port_of(url)),
                "--no-access-log",
            ]
            services.append(Service(label, command, url, "/health"))
        elif name == "actions":
            command = [BOT_VENV.bin("python"), "-m", "actions.server", "--host", host, "--port", str(port_of(url))]
            services.append(Service(label, command, url, "/health"))
        elif name == "rasa":
            # Rasa's own `rasa run`, which runs the repository's build from disk when no backend answers at
            # start (bot/rasa_run.py): it loads the model in force from the backend (endpoints.yml's models)
            command = [
                BOT_VENV.bin("python"),
                "-m",
                "bot.rasa_run",
                "run",
                "--model",
                str(model_path()),
                "--enable-api",
                "--interface",
                host,
                "--port",
                str(port_of(url)),
                "--credentials",
                "credentials.yml",
                "--endpoints",
                env.get("RASA_ENDPOINTS") or "endpoints.yml",
            ]
            if env.get("RASA_AUTH_TOKEN"):
                command += ["--auth-token", env["RASA_AUTH_TOKEN"]]
            elif env.get("APP_ENV") != "test":
                raise StackError("RASA_AUTH_TOKEN is empty: Rasa's HTTP API would be open; set a token")
            # /status answers once the model is loaded; the token is needed when one is set.
            token = urllib.parse.quote(env.get("RASA_AUTH_TOKEN", ""))
            # the name it gives when it pulls the model in force (endpoints.yml's models: the backend shows
            # what each process runs)
            services.append(Service(label, command, url, f"/status?token={token}", env={"RASA_PROCESS": label}))
    return services


# Ports for the test stacks come from below Linux's ephemeral range (32768-60999): a port the kernel
# handed out with bind(0) may be taken again as the local end of an outgoing connection (a health
# poll) while a slow service such as Rasa is still starting, and its bind then fails.
TEST_PORTS = range(20000, 32000)
_given_ports: set[int] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, and not given out before."""
    for _ in range(200):
        port = random.choice(TEST_PORTS)
        if port in _given_ports:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given_ports.add(port)
        return port
    raise RuntimeError(f"no free port in {TEST_PORTS.start}-{TEST_PORTS.stop - 1}")


def isolated_env(work: Path, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The product's environment on free local ports with every store under ``work``, migrated and
    with its model, as `make run` would start it (the end-to-end tests and the channel benchmark)."""
    env = load_env(
        {
            "APP_ENV": "test",
            "API_URL": f"http://127.0.0.1:{free_port()}",
            "ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}",
            "RASA_URL": f"http://127.0.0.1:{free_port()}",
            "DATABASE_URL": f"sqlite:///{work / 'api.sqlite3'}",
            "RASA_TRACKER_DB": str(work / "rasa_tracker.sqlite3"),
            "ACTION_SPOOL_DB": f"sqlite:///{work / 'filing_spool.sqlite3'}",
            "WECHAT_OUTBOX_DB": f"sqlite:///{work / 'wechat.sqlite3'}",
            "WECHAT_API_BASE_URL": "",  # the simulator plays the platform
            "BOT_MODELS_DIR": str(work / "models"),  # candidates, if a test trains one
            **(overrides or {}),
        }
    )
    use_simulator_by_default(env)
    migrate(env)
    migrate_conversation_stores(env)
    use_repository_build(env, ensure_model(env))
    return env


def check_port_free(service: Service, host: str) -> None:
    port = port_of(service.url)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            raise StackError(
                f"port {port} for the {service.name} service is already taken.\n"
                f"  Stop whatever uses it (see: ss -ltnp 'sport = :{port}') or move the "
                f"service with its URL variable (API_URL, ACTION_SERVER_URL, RASA_URL)."
            ) from None


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return 200 <= resp.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


# A crashed service is started again after 1, 2, 4 ... seconds, at most this long.
MAX_RESTART_DELAY = 60.0
# Up and answering its health check this long, a service's crash count starts over: its next restart
# comes after 1 s again, however often it crashed before.
HEALTHY_SECONDS = 60.0
# How often a service that has crashed is asked for its health until it has been healthy that long.
HEALTH_POLL_SECONDS = 5.0


class Supervisor:
    """Starts services, relays their output with a prefix, restarts what crashes, stops them together."""

    def __init__(
        self,
        services: list[Service],
        env: dict[str, str],
        log_dir: Path | None = None,
        health: Callable[[str], bool] | None = None,
    ):
        """Output goes to the terminal with a prefix, or, given ``log_dir``, to NAME.log there."""
        self.services = services
        self.env = env
        self.log_dir = log_dir
        self.health = health or healthy

    def _relay(self, service: Service) -> None:
        assert service.proc and service.proc.stdout
        with contextlib.ExitStack() as stack:
            log = None
            if self.log_dir:
                log = stack.enter_context(open(self.log_dir / f"{service.name}.log", "a", encoding="utf-8"))
            for raw in service.proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip()
                service.tail = (service.tail + [line])[-40:]
                if log:
                    log.write(line + "\n")
                    log.flush()
                else:
                    print(f"[{service.name}] {line}", flush=True)

    def _spawn(self, service: Service) -> None:
        service.proc = subprocess.Popen(
            service.command,
            cwd=ROOT,
            env={**self.env, **service.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a stop reaches its children
        )
        service.started_at = time.monotonic()
        threading.Thread(target=self._relay, args=(service,), daemon=True).start()

    def start(self, timeout: float = 240.0) -> None:
        """Start every service and wait until each is healthy; those that ``starts_last`` (the balancer)
        only once the others are, so that it finds them up from its first check; and those that come
        ``after_balancer`` (the scaled layout's Rasa processes, which pull their model through it) last;
        then every ``ready_after`` address answers."""
        host = self.env.get("BIND_HOST", "127.0.0.1")
        for service in self.services:
            check_port_free(service, host)
        deadline = time.monotonic() + timeout
        for last, after in ((False, False), (True, False), (False, True)):
            phase = [s for s in self.services if (s.starts_last, s.after_balancer) == (last, after)]
            for service in phase:
                self._spawn(service)
            self._wait_healthy(phase, deadline, timeout)
        waiting = [url for service in self.services for url in service.ready_after]
        while waiting:
            waiting = [url for url in waiting if not self.health(url)]
            if waiting and time.monotonic() > deadline:
                self.stop()
                raise StackError(f"not answering after {timeout:.0f} s: {', '.join(waiting)}")
            if waiting:
                time.sleep(0.5)

    def _wait_healthy(self, services: list[Service], deadline: float, timeout: float) -> None:
        waiting = list(services)
        while waiting:
            for service in list(waiting):
                assert service.proc
                if service.proc.poll() is not None:
                    self.stop()
                    tail = "\n    ".join(service.tail[-15:])
                    raise StackError(
                        f"the {service.name} service exited with code "
                        f"{service.proc.returncode} while starting:\n    {tail}"
                    )
                if healthy(service.health_url):
                    service.ready_at = time.monotonic()
                    waiting.remove(service)
            if waiting and time.monotonic() > deadline:
                self.stop()
                names = ", ".join(s.name for s in waiting)
                raise StackError(f"not healthy after {timeout:.0f} s: {names}")
            if waiting:
                time.sleep(0.5)

    def stop(self) -> None:
        """SIGTERM every process group, then SIGKILL what is still there after 15 s."""
        for service in self.services:
            if service.proc and service.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(service.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for service in self.services:
            if not service.proc:
                continue
            try:
                service.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(service.proc.pid, signal.SIGKILL)
                service.proc.wait()

    def restart_crashed(self, now: float) -> list[str]:
        """Start again every service that has exited, each after its own backoff; returns their names.

        The backoff doubles with each crash (1 s, 2 s, 4 s ... up to ``MAX_RESTART_DELAY``) and starts
        over once a service has answered its health check for ``HEALTHY_SECONDS``.
        """
        restarted = []
        for service in self.services:
            assert service.proc
            if service.proc.poll() is None:
                self._forget_crashes_when_healthy(service, now)
                continue
            service.healthy_since = None
            if service.restart_at is None:
                delay = doubling(service.crashes, base=1.0, cap=MAX_RESTART_DELAY)
                service.crashes += 1
                service.restart_at = now + delay
                say(
                    f"the {service.name} service exited ({service.proc.returncode}); "
                    f"restarting in {delay:.0f} s (crash {service.crashes})"
                )
            if now >= service.restart_at:
                service.restart_at = None
                self._spawn(service)
                restarted.append(service.name)
                say(f"restarted the {service.name} service")
        return restarted

    def _forget_crashes_when_healthy(self, service: Service, now: float) -> None:
        """A service that crashed and has been healthy for a minute since is no longer crash-looping."""
        if not service.crashes or now - service.health_asked_at < HEALTH_POLL_SECONDS:
            return
        service.health_asked_at = now
        if not self.health(service.health_url):
            service.healthy_since = None
            return
        if service.healthy_since is None:
            service.healthy_since = now
        elif now - service.healthy_since >= HEALTHY_SECONDS:
            say(f"the {service.name} service has been healthy for a minute: its next restart comes after 1 s")
            service.crashes, service.healthy_since = 0, None

    def wait(self, stopping: threading.Event | None = None) -> int:
        """Keep the services running until Ctrl-C (or SIGTERM): a service that dies is restarted."""
        stopping = stopping or threading.Event()

        def on_signal(signum: int, _frame: object) -> None:
            stopping.set()

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, on_signal)
            signal.signal(signal.SIGTERM, on_signal)
        while not stopping.is_set():
            self.restart_crashed(time.monotonic())
            stopping.wait(0.5)
        say("stopping all services ...")
        self.stop()
        say("stopped")
        return 0


def describe(services: list[Service], env: dict[str, str]) -> str:
    lines = ["running:"]
    for service in services:
        lines.append(
            f"  {service.name:<8} {service.url}   (health: {service.url.rstrip('/')}"
            f"{service.health_path.split('?')[0]})"
        )
    if any(s.name.startswith("rasa") for s in services):
        rasa = env["RASA_URL"].rstrip("/")
        lines.append(f"  WeChat webhook: {rasa}/webhooks/wechat/webhook")
    if any(s.name.startswith("api") for s in services):
        lines.append(f"  API docs:       {env['API_URL'].rstrip('/')}/docs")
        lines.append(f"  Staff console:  {env['API_URL'].rstrip('/')}/console/   (first account: `make admin`)")
        if env.get("SIMULATOR_ENABLED") == "true":
            lines.append(
                f"  WeChat simulator: {env['API_URL'].rstrip('/')}/simulator/   (or `make chat` in a terminal)"
            )
    if env.get("SIMULATOR_ENABLED") != "true":
        lines.append(f"  WeChat platform API: {env.get('WECHAT_API_BASE_URL') or 'https://api.weixin.qq.com'}")
    lines.append(f"  database:       {env['DATABASE_URL']}")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


def prepare(names: list[str], env: dict[str, str]) -> None:
    """Set up exactly what the named services need."""
    check_for_production(env)
    VAR.mkdir(exist_ok=True)
    if "api" in names:
        ensure_api_env()
        migrate(env)
    if "actions" in names or "rasa" in names:
        ensure_bot_env()
        migrate_conversation_stores(env)
    if "rasa" in names:
        use_repository_build(env, ensure_model(env))
    elif model_path().exists():
        use_repository_build(env, model_path())


def cmd_serve(names: list[str]) -> int:
    if names == ["all"]:
        names = ["api", "actions", "rasa"]
    env = load_env()
    use_simulator_by_default(env)
    prepare(names, env)
    services = build_services(names, env)
    supervisor = Supervisor(services, env)
    say(f"starting {', '.join(names)} ...")
    supervisor.start()
    say(describe(services, env))
    return supervisor.wait()


# --------------------------------------------------------------------------- the scaled configuration

HAPROXY_CONFIG = ROOT / "deploy" / "haproxy.cfg"
TIERS = ("api", "actions", "rasa")


def scaled_layout(env: dict[str, str], processes: int) -> tuple[list[str], dict[str, str]]:
    """The processes of each tier and their URLs, and the balancer's variables (deploy/haproxy.cfg).

    The balancer takes each tier's public port (API_URL, ACTION_SERVER_URL, RASA_URL, as in `make run`);
    process i of a tier listens on that port + i, or on ``<TIER>_<i>_PORT`` when set.
    """
    host = env.get("BIND_HOST", "127.0.0.1")
    names, urls = [], {}
    for tier in TIERS:
        public = port_of(env[URL_VARIABLES[tier]])
        env[f"{tier.upper()}_PORT"] = str(public)
        for i in range(1, processes + 1):
            port = int(env.get(f"{tier.upper()}_{i}_PORT") or public + i)
            label = f"{tier}-{i}"
            names.append(label)
            urls[label] = f"http://{host}:{port}"
            env[f"{tier.upper()}_{i}"] = f"{host}:{port}"
    env.setdefault("HAPROXY_STATS_PORT", "8404")
    return names, urls


def balancer_service(env: dict[str, str]) -> Service:
    """HAProxy in the foreground with the deployment's configuration; healthy once the API answers through it."""
    haproxy = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if not haproxy:
        raise StackError(
            "the scaled configuration runs behind HAProxy, which is not installed.\n"
            "  Install Debian's package, then run the command again:  apt-get install haproxy"
        )
    command = [haproxy, "-db", "-f", str(HAPROXY_CONFIG)]
    # the Rasa processes start after it (they pull their model through it): its Rasa front end answers once
    # its health check has seen one of them
    rasa = env["RASA_URL"].rstrip("/") + "/webhooks/wechat/"
    return Service("balancer", command, env["API_URL"], "/health", starts_last=True, ready_after=[rasa])


def check_reachable(env: dict[str, str]) -> None:
    """PostgreSQL and Redis of the scaled configuration answer, or one clear message says how to start them."""
    wanted = {
        "PostgreSQL": (env.get("DATABASE_URL", ""), "pg_ctlcluster $(ls /etc/postgresql) main start"),
        "Redis": (env.get("REDIS_URL", ""), "redis-server --daemonize yes --port 6379"),
    }
    for name, (url, start) in wanted.items():
        parsed = urllib.parse.urlsplit(url)
        if not parsed.hostname:
            raise StackError(f"the scaled configuration needs {name}; set its URL (deploy/scaled.env)")
        try:
            socket.create_connection((parsed.hostname, parsed.port or 0), timeout=3).close()
        except OSError:
            raise StackError(
                f"{name} is not reachable at {parsed.hostname}:{parsed.port}; the scaled configuration "
                f"needs it.\n  Start it (for example: {start}) or point deploy/scaled.env / .env at yours."
            ) from None


def prepare_scaled(env: dict[str, str], fresh: bool = False) -> None:
    """Everything the scaled configuration needs before its processes start: environments, databases
    (created when missing; dropped first when ``fresh``), every store's migrations and the model."""
    check_for_production(env)
    check_reachable(env)
    ensure_api_env()
    ensure_bot_env()
    # the conversation side makes its own databases when it migrates them (bot/stores.py); a fresh start
    # (tests, benchmarks) drops them here first
    urls = [env["DATABASE_URL"], *([env["WECHAT_OUTBOX_DB"], env["ACTION_SPOOL_DB"]] if fresh else [])]
    flags = ["--fresh"] if fresh else []
    run([API_VENV.bin("python"), "scripts/create_databases.py", *flags, *dict.fromkeys(urls)], env=env)
    migrate(env)
    migrate_conversation_stores(env)
    use_repository_build(env, ensure_model(env))


def isolated_scaled_env(name: str, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The scaled configuration on free local ports, with its own fresh PostgreSQL databases (``name``
    and ``name``_bot on TEST_POSTGRES_URL's server) and Redis databases 12-13 of TEST_REDIS_URL's server,
    migrated and with its model (the end-to-end tests of the scaled layout and its benchmark)."""
    base = load_env({"APP_ENV": "test"})
    pg = urllib.parse.urlsplit(base.get("TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/test")
    redis = urllib.parse.urlsplit(base.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/15")
    server = pg._replace(path="").geturl()
    ports = {f"{tier.upper()}_{i}_PORT": str(free_port()) for tier in TIERS for i in (1, 2)}
    env = load_env(
        {
            "APP_ENV": "test",
            "API_URL": f"http://127.0.0.1:{free_port()}",
            "ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}",
            "RASA_URL": f"http://127.0.0.1:{free_port()}",
            **ports,
            "HAPROXY_STATS_PORT": str(free_port()),
            "DATABASE_URL": f"{server}/{name}",
            "WECHAT_OUTBOX_DB": f"{server}/{name}_bot",
            "ACTION_SPOOL_DB": f"{server}/{name}_bot",
            "RASA_TRACKER_HOST": pg.hostname or "127.0.0.1",
            "RASA_TRACKER_PORT": str(pg.port or 5432),
            "RASA_TRACKER_USER": urllib.parse.unquote(pg.username or ""),
            "RASA_TRACKER_PASSWORD": urllib.parse.unquote(pg.password or ""),
            "RASA_TRACKER_DB": f"{name}_bot",
            "REDIS_URL": redis._replace(path="/13").geturl(),
            "RASA_LOCK_REDIS_HOST": redis.hostname or "127.0.0.1",
            "RASA_LOCK_REDIS_PORT": str(redis.port or 6379),
            "RASA_LOCK_REDIS_DB": "12",
            "WECHAT_API_BASE_URL": "",  # the simulator plays the platform
            **(overrides or {}),
        },
        scaled=True,
    )
    use_simulator_by_default(env)
    prepare_scaled(env, fresh=True)
    return env


def scaled_services(env: dict[str, str]) -> list[Service]:
    """Every process of the scaled layout and the balancer; the Rasa processes start after the balancer,
    through which they pull the model in force from the backends (deploy/endpoints.scaled.yml)."""
    names, urls = scaled_layout(env, int(env.get("SCALED_PROCESSES") or 2))
    services = build_services(names, env, urls)
    for service in services:
        service.after_balancer = service.name.startswith("rasa")
    return services + [balancer_service(env)]


def cmd_serve_scaled() -> int:
    env = load_env(scaled=True)
    use_simulator_by_default(env)
    prepare_scaled(env)
    services = scaled_services(env)
    supervisor = Supervisor(services, env)
    say(f"starting {', '.join(s.name for s in services)} ...")
    supervisor.start()
    say(describe(services, env))
    return supervisor.wait()


def cmd_setup() -> int:
    env = load_env()
    prepare(["api", "actions", "rasa"], env)
    say("set up: .venv/bot, .venv/api, database migrated, model " + model_path().name)
    return 0


def cmd_admin(username: str) -> int:
    """The first administrator (or another account), made on the server: the API's machine token may not."""
    env = load_env()
    ensure_api_env()
    migrate(env)
    return run([API_VENV.bin("python"), "-m", "api.cli", "create-admin", username], env=env, check=False)


def cmd_train() -> int:
    ensure_bot_env()
    say(f"model: {ensure_model(load_env()).relative_to(ROOT)}")
    return 0


def cmd_retrain() -> int:
    """A candidate model with the approved reviewed examples, trained by the running backend's trainer
    (scripts/retrain.py), its progress and figures printed here; rolling it out is a supervisor's."""
    return run([sys.executable, str(ROOT / "scripts" / "retrain.py"), "request"], env=load_env(), check=False)


# --------------------------------------------------------------------------- tests


@dataclass
class SuiteResult:
    name: str
    passed: int
    failed: int
    skipped: int
    exit_code: int


def junit_counts(path: Path) -> tuple[int, int, int]:
    """(passed, failed, skipped) from a pytest junit XML file."""
    if not path.exists():
        return 0, 0, 0
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = failed = skipped = 0
    for suite in suites:
        total += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return total - failed - skipped, failed, skipped


def run_pytest(
    name: str, python: str, paths: list[str], env: dict[str, str], timeout: int | None = None
) -> SuiteResult:
    """One pytest suite; with ``timeout`` (pytest-timeout, the backend's environment) a test that hangs
    fails after that many seconds instead of holding the run; the slowest tests are listed at the end."""
    report = VAR / "test-reports" / f"{name}.xml"
    report.unlink(missing_ok=True)
    say(f"suite {name}: pytest {' '.join(paths)}")
    limits = [f"--timeout={timeout}"] if timeout else []
    command = [python, "-m", "pytest", "-q", "--durations=10", f"--junitxml={report}", *limits, *paths]
    code = run(command, env=env, check=False)
    passed, failed, skipped = junit_counts(report)
    if code not in (0, 5) and failed == 0:
        failed = 1  # the run itself failed (collection error, crash)
    if code == 5:
        say(f"suite {name}: no tests collected")
        failed = max(failed, 1)
    return SuiteResult(name, passed, failed, skipped, code)


# The most one test may take, set-up included: the e2e suite's one real training allows 1,200 s
# (tests/e2e/test_bot_models.py) and the scaled layout's start 400 s.
API_TEST_LIMIT = 900
E2E_TEST_LIMIT = 1800

MYPY_BACKEND = ("api", "heating_standard", "policies")


def mypy_conversation_side() -> list[str]:
    """mypy's arguments for actions, bot and channels: strict, as Python 3.10 with .venv/bot's packages."""
    return [
        "--strict",
        "--python-executable",
        BOT_VENV.bin("python"),
        "--python-version",
        "3.10",
        "actions",
        "bot",
        "channels",
    ]


LINTED = ("api", "heating_standard", "policies", "actions", "channels", "bot", "scripts", "tests")


def run_lint(env: dict[str, str]) -> list[SuiteResult]:
    """ruff over all Python code; mypy (strict) over the backend and the shared packages, and over the
    conversation side against its own environment's packages (Python 3.10)."""
    results = []
    for name, cmd in (
        ("ruff", [API_VENV.bin("ruff"), "check", *LINTED]),
        ("mypy", [API_VENV.bin("mypy"), *MYPY_BACKEND]),
        ("mypy-bot", [API_VENV.bin("mypy"), *mypy_conversation_side()]),
    ):
        say(f"suite {name}: {Path(cmd[0]).name} {' '.join(cmd[1:])}")
        code = run(cmd, env=env, check=False)
        results.append(SuiteResult(name, int(code == 0), int(code != 0), 0, code))
    return results


def count_stories(path: Path) -> int:
    """Number of stories in a Rasa YAML stories file (lines like '- story: ...')."""
    if not path.exists():
        return 0
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.lstrip().startswith("- story:"))


# Debian's chromium for the pages' browser tests and benchmarks (Playwright's own download does not
# work here). Without the background-networking flags it keeps dialling hosts this machine cannot reach.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# The untouched sets of new wording the nlu-test suite reads through the trained model and its fallback
# (scripts/nlu_outcomes.py; only counts are printed, never a message).
NLU_TEST_SETS = ("tests/nlu/test.yml", "tests/nlu/test_wild.yml")
# Targets of #23 on new wording (docs/benchmarks.md): right among the answered, clarified, top-1.
NLU_TARGETS = {"right": 0.99, "clarified": 0.12, "top1": 0.94}
# `make test` fails past these floors on either set: regression guards a little worse than the figures
# measured when they were set on 2026-12-07 (fallback 0.7, margin 0, chosen on tests/nlu/dev_wild5.yml:
# right among the answered 98.5 % / 99.6 %, clarified 8.3 % / 10.7 %, top-1 0.959 / 0.969 on test / wild;
# docs/benchmarks.md), since the sets must not be tuned on.
NLU_FLOORS = {"right": 0.97, "clarified": 0.14, "top1": 0.94}


def run_nlu_test(env: dict[str, str]) -> SuiteResult:
    """Answered, clarified and wrong on the untouched sets, through the trained model's fallback."""
    say(f"suite nlu-test: {', '.join(NLU_TEST_SETS)} through the trained model")
    sets = [arg for name in NLU_TEST_SETS for arg in ("--set", name)]
    code = run(
        [
            BOT_VENV.bin("python"),
            "scripts/nlu_outcomes.py",
            "--model",
            str(model_path()),
            *sets,
            "--min-right",
            str(NLU_FLOORS["right"]),
            "--max-clarified",
            str(NLU_FLOORS["clarified"]),
            "--min-top1",
            str(NLU_FLOORS["top1"]),
        ],
        env={**env, "PYTHONWARNINGS": "ignore"},
        check=False,
    )
    say(
        f"nlu-test: targets {NLU_TARGETS['right']:.0%} right among the answered, at most "
        f"{NLU_TARGETS['clarified']:.0%} clarified, top-1 {NLU_TARGETS['top1']}; floors {NLU_FLOORS} "
        "(choose on tests/nlu/dev_wild5.yml and tests/nlu/dev.yml, never on these sets' errors)"
    )
    return SuiteResult("nlu-test", int(code == 0), int(code != 0), 0, code)


def run_rasa_suites(env: dict[str, str]) -> list[SuiteResult]:
    """`rasa data validate` and the conversation tests in tests/test_*.yml."""
    rasa = BOT_VENV.bin("rasa")
    results = []
    say("suite rasa-validate: rasa data validate")
    code = run([rasa, "data", "validate", "--fail-on-warnings"], env=env, check=False)
    results.append(SuiteResult("rasa-validate", int(code == 0), int(code != 0), 0, code))

    out = VAR / "rasa-test-results"
    shutil.rmtree(out, ignore_errors=True)
    stories = sum(count_stories(p) for p in sorted((ROOT / "tests").glob("test_*.yml")))
    say(f"suite rasa-conversations: rasa test core ({stories} stories)")
    code = run(
        [
            rasa,
            "test",
            "core",
            "--e2e",  # also checks each user text's intent, not only the actions
            "--model",
            str(model_path()),
            "--stories",
            "tests",
            "--fail-on-prediction-errors",
            "--out",
            str(out),
        ],
        env=env,
        check=False,
    )
    failed = count_stories(out / "failed_test_stories.yml")
    if code != 0 and failed == 0:
        failed = 1
    results.append(SuiteResult("rasa-conversations", stories - failed, failed, 0, code))
    results.append(run_nlu_test(env))
    return results


def ensure_services_for_tests(env: dict[str, str]) -> None:
    """PostgreSQL and Redis, which the backend's tests use for real: say so when down."""
    for name, url in (("PostgreSQL", env.get("TEST_POSTGRES_URL", "")), ("Redis", env.get("TEST_REDIS_URL", ""))):
        parsed = urllib.parse.urlsplit(url)
        if not parsed.hostname:
            continue
        try:
            socket.create_connection((parsed.hostname, parsed.port or 0), timeout=2).close()
        except OSError:
            say(
                f"{name} is not reachable at {parsed.hostname}:{parsed.port}; its tests will "
                "be skipped (they fail instead when CI=true). .ci/run starts it."
            )


def cmd_test(suites: list[str]) -> int:
    env = load_env({"APP_ENV": "test"})
    (VAR / "test-reports").mkdir(parents=True, exist_ok=True)
    wanted = suites or list(TEST_SUITES)
    results: list[SuiteResult] = []
    started = time.monotonic()
    try:
        if {"lint", "tooling", "api", "e2e"} & set(wanted):
            ensure_api_env()
        if {"lint", "bot", "rasa", "e2e"} & set(wanted):
            ensure_bot_env()
        if {"rasa", "e2e"} & set(wanted):
            ensure_model(env)
    except StackError as exc:
        say(str(exc))
        return 2
    if "lint" in wanted:
        results += run_lint(env)
    if "tooling" in wanted:
        results.append(run_pytest("tooling", API_VENV.bin("python"), ["tests/scripts", "tests/architecture"], env))
    if "api" in wanted:
        ensure_services_for_tests(env)
        results.append(
            run_pytest("api", API_VENV.bin("python"), ["tests/api", "tests/standard"], env, timeout=API_TEST_LIMIT)
        )
    if "bot" in wanted:
        bot_tests = ["tests/actions", "tests/channels", "tests/bot", "tests/standard"]
        results.append(run_pytest("bot", BOT_VENV.bin("python"), bot_tests, env))
    if "rasa" in wanted:
        results += run_rasa_suites(env)
    if "e2e" in wanted:
        results.append(run_pytest("e2e", API_VENV.bin("python"), ["tests/e2e"], env, timeout=E2E_TEST_LIMIT))

    elapsed = time.monotonic() - started
    print("\n" + "=" * 72)
    print(f"{'suite':<22}{'passed':>8}{'failed':>8}{'skipped':>9}   result")
    for r in results:
        verdict = "ok" if r.failed == 0 else "FAILED"
        print(f"{r.name:<22}{r.passed:>8}{r.failed:>8}{r.skipped:>9}   {verdict}")
    passed = sum(r.passed for r in results)
    failed = sum(r.failed for r in results)
    skipped = sum(r.skipped for r in results)
    print("=" * 72)
    print(f"all suites in {elapsed:.0f} s")
    print(f"summary: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


def cmd_chat(extra: list[str]) -> int:
    """The terminal front end of the WeChat simulator (the backend must be running)."""
    env = load_env()
    return subprocess.call(
        [sys.executable, str(ROOT / "scripts" / "chat.py"), "--api", env["API_URL"], *extra], env=env
    )


def cmd_menu() -> int:
    """Installs config/wechat_menu.yml on the platform (the simulator's, unless WECHAT_API_BASE_URL is set)."""
    env = load_env()
    use_simulator_by_default(env)
    ensure_bot_env()
    return run(
        [BOT_VENV.bin("python"), "-m", "channels.menu", "--file", env.get("WECHAT_MENU") or "config/wechat_menu.yml"],
        env=env,
        check=False,
    )


def cmd_bench() -> int:
    """Benchmarks; each writes its section of docs/benchmarks.md."""
    env = load_env({"APP_ENV": "test"})
    ensure_api_env()
    ensure_bot_env()
    codes = [
        run([API_VENV.bin("python"), "scripts/bench_api.py", "--write"], env=env, check=False),
        run([BOT_VENV.bin("python"), "scripts/bench_nlu.py", "--write"], env=env, check=False),
        run([API_VENV.bin("python"), "scripts/bench_channel.py", "--write"], env=env, check=False),
        run([API_VENV.bin("python"), "scripts/bench_console.py", "--write"], env=env, check=False),
        run([API_VENV.bin("python"), "scripts/bench_streams.py", "--write"], env=env, check=False),
        run([API_VENV.bin("python"), "scripts/bench_scaled.py", "--write"], env=env, check=False),
        run([API_VENV.bin("python"), "scripts/bench_models.py", "--write"], env=env, check=False),
    ]
    return max(codes)


# --------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("setup", help="environments, migrations and model")
    serve = sub.add_parser("serve", help="start services until Ctrl-C")
    serve.add_argument("services", nargs="+", choices=["all", "scaled", "api", "actions", "rasa"])
    sub.add_parser("train", help="train the model if its inputs changed")
    sub.add_parser("retrain", help="train a candidate with the reviewed examples (the backend must run)")
    sub.add_parser("bench", help="run the benchmarks, write docs/benchmarks.md")
    chat = sub.add_parser("chat", help="chat as a WeChat resident through the simulator (needs `serve`)")
    chat.add_argument("extra", nargs=argparse.REMAINDER)
    sub.add_parser("menu", help="install the custom menu on the platform (or the simulator)")
    admin = sub.add_parser("admin", help="create a staff administrator (password asked, or ADMIN_PASSWORD)")
    admin.add_argument("username")
    test = sub.add_parser("test", help="run the test suites")
    test.add_argument("suites", nargs="*", help="any of: " + ", ".join(TEST_SUITES))
    args = parser.parse_args(argv)
    if args.command == "test" and set(args.suites) - set(TEST_SUITES):
        parser.error(f"unknown suite; choose from {', '.join(TEST_SUITES)}")
    try:
        if args.command == "setup":
            return cmd_setup()
        if args.command == "serve" and args.services == ["scaled"]:
            return cmd_serve_scaled()
        if args.command == "serve":
            return cmd_serve(args.services)
        if args.command == "train":
            return cmd_train()
        if args.command == "retrain":
            return cmd_retrain()
        if args.command == "bench":
            return cmd_bench()
        if args.command == "chat":
            return cmd_chat(args.extra)
        if args.command == "menu":
            return cmd_menu()
        if args.command == "admin":
            return cmd_admin(args.username)
        return cmd_test(args.suites)
    except StackError as exc:
        say(str(exc))
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
