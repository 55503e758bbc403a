"""A rolling restart of the scaled layout: every process replaced one at a time while residents write,
dropping no message (docs/deployment.md, "Upgrading").

For each process, backends first, then action servers, then Rasa servers:

1. the balancer stops sending it new requests (HAProxy's runtime API: ``state drain``) and lets the
   ones it is answering finish (its current sessions reach 0, at most ``DRAIN_SECONDS``);
2. the process is stopped (SIGTERM, SIGKILL after 15 s) and started again;
3. once its readiness probe answers (docs/metrics.md), the balancer gives it traffic again
   (``state ready``) and has seen it up before the next process is touched.

A turn that a stopped Rasa process had not finished is not lost either way: the balancer replays a push
whose connection closed without an answer, and the kept turns and the outbox are in the shared stores
(channels/held.py, channels/delivery.py). In `make run-scaled`, ``make rolling-restart`` (or SIGHUP to
the launcher) asks for one; the launcher runs it between its own checks, so it never restarts a process
twice.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from stack.config import VAR, StackError, say
from stack.supervisor import Service, Supervisor, healthy

ORDER = ("api", "actions", "rasa")
BACKENDS = {"api": "api_servers", "actions": "action_servers", "rasa": "rasa_servers"}
READY_PATHS = {"api": "/health/ready", "actions": "/health/ready", "rasa": "/webhooks/wechat/ready"}
DRAIN_SECONDS = 30.0
READY_SECONDS = 180.0  # a Rasa process loads its model before it is ready
PID_FILE = VAR / "run-scaled.pid"


def socket_path(env: dict[str, str]) -> Path:
    """HAProxy's runtime API (deploy/haproxy.cfg's ``stats socket``), a Unix socket under var/."""
    return Path(env.get("HAPROXY_SOCKET") or VAR / "haproxy.sock")


def ask_balancer(env: dict[str, str], command: str) -> str:
    """One command to HAProxy's runtime API; its answer. A balancer that cannot be reached is a
    StackError, as is an answer to ``set`` that is not empty (HAProxy's refusal: no such server …)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(socket_path(env)))
            sock.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except OSError as exc:
        raise StackError(f"the balancer's runtime API at {socket_path(env)} does not answer: {exc}") from None
    answer = b"".join(chunks).decode("utf-8", "replace")
    if command.startswith("set ") and answer.strip():
        raise StackError(f"the balancer refused {command!r}: {answer.strip()}")
    return answer


def server_name(service: Service) -> tuple[str, str]:
    """HAProxy's backend and server for ``service`` (``rasa-2`` is ``rasa_servers/rasa2``)."""
    tier, number = service.name.split("-")
    return BACKENDS[tier], f"{tier}{number}"


def server_state(env: dict[str, str], service: Service) -> tuple[str, int]:
    """The server's status as HAProxy sees it (``UP``, ``DOWN``, ``DRAIN``, ``MAINT`` ...) and its
    current sessions."""
    backend, server = server_name(service)
    rows = csv.DictReader(io.StringIO(ask_balancer(env, "show stat").lstrip("# ")))
    for row in rows:
        if row.get("pxname") == backend and row.get("svname") == server:
            return str(row.get("status") or ""), int(row.get("scur") or 0)
    raise StackError(f"the balancer has no server {backend}/{server}")


def wait_until(
    condition: Callable[[], bool], seconds: float, what: str, meanwhile: Callable[[], None] | None = None
) -> None:
    """Until ``condition()`` holds; ``meanwhile()`` between two looks (the launcher's own duties)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise StackError(f"{what}: not after {seconds:.0f} s")
        if meanwhile is not None:
            meanwhile()
        time.sleep(0.2)


def stop_gracefully(service: Service) -> None:
    """SIGTERM to the process group; SIGKILL after 15 s."""
    assert service.proc is not None
    with contextlib.suppress(ProcessLookupError):
        os.killpg(service.proc.pid, signal.SIGTERM)
    try:
        service.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(service.proc.pid, signal.SIGKILL)
        service.proc.wait()


def restart_one(supervisor: Supervisor, service: Service) -> float:
    """Drain, stop, start, wait until ready and back in the balancer; the seconds it took.

    Meanwhile the launcher goes on restarting any other process that crashes. Whatever goes wrong after
    the drain, the server is given back to the balancer (whose health checks still keep an unready one
    out), so that a failed step never leaves a tier one process short for good."""
    env = supervisor.env
    backend, server = server_name(service)
    tier = service.name.split("-")[0]
    others = [s for s in supervisor.services if s is not service]

    def meanwhile() -> None:
        supervisor.restart_crashed(time.monotonic(), others)

    started = time.monotonic()
    ask_balancer(env, f"set server {backend}/{server} state drain")
    try:
        with contextlib.suppress(StackError):  # a request still running after the wait is the replay's
            wait_until(lambda: server_state(env, service)[1] == 0, DRAIN_SECONDS, f"{service.name} draining", meanwhile)
        stop_gracefully(service)
        supervisor.respawn(service)
        ready = service.url.rstrip("/") + READY_PATHS[tier]

        def came_back() -> bool:
            if service.proc is not None and service.proc.poll() is not None:
                raise StackError(f"{service.name} exited ({service.proc.returncode}) before it was ready")
            return healthy(ready)

        wait_until(came_back, READY_SECONDS, f"{service.name} ready again", meanwhile)
    finally:
        ask_balancer(env, f"set server {backend}/{server} state ready")
    wait_until(lambda: server_state(env, service)[0].startswith("UP"), 30, f"{service.name} up in the balancer")
    return time.monotonic() - started


def rolling_restart(supervisor: Supervisor, on_each: Callable[[str, float], None] | None = None) -> list[str]:
    """Every process of the layout replaced one at a time (see the module's docstring); their names.
    A stop asked for meanwhile (Ctrl-C, SIGTERM) ends the pass before the next process."""
    done = []
    for tier in ORDER:
        for service in [s for s in supervisor.services if s.name.startswith(f"{tier}-")]:
            if supervisor.stopping.is_set():
                raise StackError(f"stopped after {', '.join(done) or 'no process'}")
            seconds = restart_one(supervisor, service)
            say(f"rolling restart: {service.name} replaced in {seconds:.1f} s")
            if on_each is not None:
                on_each(service.name, seconds)
            done.append(service.name)
    return done


def cmd_rolling_restart() -> int:
    """Ask the running `make run-scaled` for a rolling restart (SIGHUP to its launcher)."""
    if not PID_FILE.exists():
        raise StackError("no `make run-scaled` is running here (var/run-scaled.pid is missing)")
    pid = int(PID_FILE.read_text().strip())
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        raise StackError(f"the launcher of `make run-scaled` (pid {pid}) is gone") from None
    say(f"asked the launcher (pid {pid}) for a rolling restart; it reports each process as it is replaced")
    return 0
