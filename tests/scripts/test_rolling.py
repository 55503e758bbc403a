"""The rolling restart's steps against a stand-in for HAProxy's runtime API (scripts/stack/rolling.py):
drained before it stops, given back after it is ready, given back also when a step fails, and a
balancer that refuses or cannot be reached is one clear error, never a dead launcher."""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scripts.test_stack import stack

# A process that answers 200 to any GET, unless the file named in its environment exists (then it exits).
SERVER = """
import http.server, os, sys
if os.path.exists(os.environ["EXIT_IF"]):
    sys.exit(3)
class Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Ok).serve_forever()
"""


class FakeBalancer:
    """HAProxy's runtime API on a Unix socket: records commands, answers ``show stat`` and ``set``."""

    def __init__(self, path: Path, refuse: str = "") -> None:
        self.path, self.refuse = path, refuse
        self.commands: list[str] = []
        self.state = "UP"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(8)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                command = conn.recv(4096).decode().strip()
                self.commands.append(command)
                if command.startswith("show stat"):
                    header = "# pxname,svname,scur,status\n"
                    conn.sendall(f"{header}api_servers,api1,0,{self.state}\n".encode())
                elif self.refuse and command.startswith("set"):
                    conn.sendall(f"{self.refuse}\n".encode())
                elif command.endswith("state drain"):
                    self.state = "DRAIN"
                elif command.endswith("state ready"):
                    self.state = "UP"

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[stack.Supervisor, Path]]:
    port = stack.free_port()
    exit_if = tmp_path / "exit-now"
    service = stack.Service("api-1", [sys.executable, "-c", SERVER, str(port)], f"http://127.0.0.1:{port}", "/")
    service.env = {"EXIT_IF": str(exit_if)}
    socket_file = Path(tempfile.mkdtemp(prefix="rolling-")) / "haproxy.sock"  # short: a socket path is <108
    supervisor = stack.Supervisor([service], {"HAPROXY_SOCKET": str(socket_file)}, log_dir=tmp_path)
    monkeypatch.setattr(stack.rolling, "READY_SECONDS", 20.0)
    supervisor.start(timeout=30)
    try:
        yield supervisor, exit_if
    finally:
        supervisor.stop()


def test_a_process_is_drained_replaced_and_given_back(layout: tuple[stack.Supervisor, Path]) -> None:
    supervisor, _ = layout
    balancer = FakeBalancer(Path(supervisor.env["HAPROXY_SOCKET"]))
    try:
        [service] = supervisor.services
        before = service.proc.pid if service.proc else None
        assert stack.rolling_restart(supervisor) == ["api-1"]
        assert service.proc is not None and service.proc.pid != before and service.proc.poll() is None
        sets = [c for c in balancer.commands if c.startswith("set")]
        assert sets == ["set server api_servers/api1 state drain", "set server api_servers/api1 state ready"]
    finally:
        balancer.close()


def test_a_process_that_does_not_come_back_is_given_back_to_the_balancer_and_reported_at_once(
    layout: tuple[stack.Supervisor, Path],
) -> None:
    supervisor, exit_if = layout
    balancer = FakeBalancer(Path(supervisor.env["HAPROXY_SOCKET"]))
    try:
        exit_if.touch()  # the new process exits as it starts
        started = time.monotonic()
        with pytest.raises(stack.StackError, match="exited"):
            stack.rolling_restart(supervisor)
        assert time.monotonic() - started < 15  # not the whole wait for readiness
        assert balancer.commands[-1] == "set server api_servers/api1 state ready"  # never left drained
    finally:
        balancer.close()


def test_a_balancer_that_refuses_or_is_missing_is_a_clear_error(layout: tuple[stack.Supervisor, Path]) -> None:
    supervisor, _ = layout
    with pytest.raises(stack.StackError, match="does not answer"):
        stack.rolling_restart(supervisor)  # no socket at all
    balancer = FakeBalancer(Path(supervisor.env["HAPROXY_SOCKET"]), refuse="No such server.")
    try:
        [service] = supervisor.services
        running = service.proc.pid if service.proc else None
        with pytest.raises(stack.StackError, match="No such server"):
            stack.rolling_restart(supervisor)
        assert service.proc is not None and service.proc.pid == running  # never stopped undrained
    finally:
        balancer.close()


def test_the_launcher_survives_a_failed_rolling_restart_and_stops_everything_when_asked(
    layout: tuple[stack.Supervisor, Path],
) -> None:
    """No balancer answers: the pass fails, the launcher says so and goes on; a stop then ends it all."""
    supervisor, _ = layout
    [service] = supervisor.services
    tried = threading.Event()

    def rolling() -> None:
        tried.set()
        stack.rolling_restart(supervisor)

    stopping = threading.Event()
    waiting = threading.Thread(target=supervisor.wait, args=(stopping,), kwargs={"on_hangup": rolling})
    waiting.start()
    try:
        supervisor.hangup.set()  # what SIGHUP does (signals reach the main thread only)
        assert tried.wait(10)
        time.sleep(1.0)
        assert waiting.is_alive() and not supervisor.hangup.is_set()  # survived; the request is done
        assert service.proc is not None and service.proc.poll() is None  # nothing was stopped
    finally:
        stopping.set()
        waiting.join(timeout=30)
    assert not waiting.is_alive()
    assert service.proc is not None and service.proc.poll() is not None  # stopped with the launcher
