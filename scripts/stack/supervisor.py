"""The processes: services, free ports for tests, and a supervisor that starts them, restarts one that
dies (with backoff) and stops them together."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from stack.config import ROOT, VAR, StackError, check_for_production, load_env, port_of, say, use_simulator_by_default
from stack.envs import API_VENV, BOT_VENV, ensure_api_env, ensure_bot_env, migrate, migrate_conversation_stores
from stack.model import ensure_model, model_path, use_repository_build

from policies.backoff import doubling

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
        self.stopping = threading.Event()  # set by wait()'s signals; a rolling restart reads it
        self.hangup = threading.Event()  # SIGHUP: wait() runs its on_hangup

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

    def respawn(self, service: Service) -> None:
        """Start ``service`` again after a planned stop (a rolling restart): not counted as a crash."""
        service.restart_at, service.healthy_since = None, None
        self._spawn(service)

    def restart_crashed(self, now: float, services: list[Service] | None = None) -> list[str]:
        """Start again every service (of ``services``, else all) that has exited, each after its own
        backoff; returns their names.

        The backoff doubles with each crash (1 s, 2 s, 4 s ... up to ``MAX_RESTART_DELAY``) and starts
        over once a service has answered its health check for ``HEALTHY_SECONDS``.
        """
        restarted = []
        for service in self.services if services is None else services:
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

    def wait(self, stopping: threading.Event | None = None, on_hangup: Callable[[], object] | None = None) -> int:
        """Keep the services running until Ctrl-C (or SIGTERM): a service that dies is restarted. With
        ``on_hangup``, SIGHUP runs it here, between two checks (the scaled layout's rolling restart)."""
        stopping = self.stopping = stopping or threading.Event()
        hangup = self.hangup

        def on_signal(signum: int, _frame: object) -> None:
            (hangup if signum == signal.SIGHUP else stopping).set()

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, on_signal)
            signal.signal(signal.SIGTERM, on_signal)
            if on_hangup is not None:
                signal.signal(signal.SIGHUP, on_signal)
        try:
            while not stopping.is_set():
                self.restart_crashed(time.monotonic())
                if hangup.is_set() and on_hangup is not None:
                    try:
                        on_hangup()
                    except (StackError, OSError) as exc:
                        say(f"the rolling restart stopped: {exc}")
                    hangup.clear()  # a SIGHUP during the pass asked for nothing more than the pass
                stopping.wait(0.5)
        finally:
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
