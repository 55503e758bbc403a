"""The launcher behind `make run` and `make test`: clear messages instead of tracebacks."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402


def test_env_file_lines_comments_and_quotes(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("# comment\nA=1\nexport B=\"two words\"\nC='x'\n\nD=\nnot a line\n", encoding="utf-8")
    assert stack.parse_env_file(env_file) == {"A": "1", "B": "two words", "C": "x", "D": ""}


def test_environment_wins_over_dotenv_and_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_URL", "http://127.0.0.1:9999")
    env = stack.load_env({"RASA_URL": "http://127.0.0.1:7777"})
    assert env["API_URL"] == "http://127.0.0.1:9999"
    assert env["RASA_URL"] == "http://127.0.0.1:7777"
    # a variable set nowhere else comes from .env.example
    assert env["ACTION_SERVER_URL"] == stack.parse_env_file(ROOT / ".env.example")["ACTION_SERVER_URL"]
    assert str(ROOT) in env["PYTHONPATH"].split(":")


def test_every_contract_variable_has_a_documented_default() -> None:
    example = stack.parse_env_file(ROOT / ".env.example")
    for name in (
        "WECHAT_TOKEN",
        "WECHAT_APP_ID",
        "WECHAT_APP_SECRET",
        "WECHAT_ENCODING_AES_KEY",
        "WECHAT_API_BASE_URL",
        "API_TOKEN",
        "DATABASE_URL",
        "REDIS_URL",
        "RASA_URL",
        "ACTION_SERVER_URL",
        "API_URL",
    ):
        assert name in example, name


@pytest.mark.parametrize(("url", "port"), [("http://h:8000", 8000), ("http://h", 80), ("https://h/x", 443)])
def test_port_of(url: str, port: int) -> None:
    assert stack.port_of(url) == port


def test_a_taken_port_is_a_clear_message_naming_the_service_and_variable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        service = stack.Service("api", ["true"], f"http://127.0.0.1:{port}", "/health")
        with pytest.raises(stack.StackError) as caught:
            stack.check_port_free(service, "127.0.0.1")
    message = str(caught.value)
    assert f"port {port}" in message and "api" in message and "API_URL" in message


def test_missing_python310_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no python3.10, pyenv or uv on PATH
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    monkeypatch.setattr(stack.Path, "home", lambda: tmp_path)
    with pytest.raises(stack.StackError) as caught:
        stack.find_python310()
    assert "pyenv install 3.10" in str(caught.value)
    assert "uv python install 3.10" in str(caught.value)


def test_a_refusing_pyenv_shim_is_skipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shim = tmp_path / "python3.10"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.10: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    monkeypatch.setattr(stack.Path, "home", lambda: tmp_path)
    with pytest.raises(stack.StackError):
        stack.find_python310()


def test_model_digest_follows_training_inputs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("config.yml", "domain.yml"):
        (tmp_path / name).write_text(name)
    (tmp_path / "data" / "nlu").mkdir(parents=True)
    nlu = tmp_path / "data" / "nlu" / "a.yml"
    nlu.write_text("one")
    monkeypatch.setattr(stack.model, "ROOT", tmp_path)  # the model's inputs are read from the root
    first = stack.model_digest()
    assert stack.model_digest() == first
    nlu.write_text("two")
    assert stack.model_digest() != first
    (tmp_path / "README.md").write_text("docs do not retrain")
    nlu.write_text("one")
    assert stack.model_digest() == first


def test_production_refuses_sample_secrets() -> None:
    env = stack.load_env(
        {
            "APP_ENV": "production",
            "API_TOKEN": "real-api-token-Zq8v3kLw",
            "RASA_AUTH_TOKEN": "real-rasa-token-R7n1yH4s",
            "ACTION_SERVER_TOKEN": "real-action-token-Qe6uB0d",
            "WECHAT_APP_ID": "wx123",
            "WECHAT_APP_SECRET": "real-app-secret-9pT2mXc",
            "LOG_MASK_SALT": "real-log-mask-salt-4kWq",
        }
    )
    with pytest.raises(stack.StackError, match="WECHAT_TOKEN"):
        stack.check_for_production(env)
    stack.check_for_production({**env, "WECHAT_TOKEN": "a-real-wechat-token"})
    # the sample key of the openids' digests would let anyone with an openid find its lines
    with pytest.raises(stack.StackError, match="LOG_MASK_SALT"):
        stack.check_for_production({**env, "WECHAT_TOKEN": "a-real-wechat-token", "LOG_MASK_SALT": "dev-log-mask-salt"})


def test_junit_counts(tmp_path: Path) -> None:
    report = tmp_path / "r.xml"
    report.write_text('<testsuites><testsuite tests="5" failures="1" errors="1" skipped="1"/></testsuites>')
    assert stack.junit_counts(report) == (2, 2, 1)


@pytest.mark.parametrize(
    ("given", "simulator", "base_url"),
    [
        ({"API_URL": "http://127.0.0.1:8000"}, "true", "http://127.0.0.1:8000/simulator/platform"),
        ({"WECHAT_API_BASE_URL": "https://api.weixin.qq.com"}, "false", "https://api.weixin.qq.com"),
        ({"APP_ENV": "production"}, "false", None),
    ],
)
def test_make_run_plays_the_platform_only_without_one(given: dict, simulator: str, base_url: str | None) -> None:
    env = {"API_URL": "http://127.0.0.1:8000", "WECHAT_API_BASE_URL": "", **given}
    stack.use_simulator_by_default(env)
    assert env["SIMULATOR_ENABLED"] == simulator
    assert (env.get("WECHAT_API_BASE_URL") or None) == base_url


def crashing_service(code: int = 3) -> stack.Service:
    return stack.Service("crashy", [sys.executable, "-c", f"import sys; sys.exit({code})"], "http://127.0.0.1:9", "/")


def test_a_crashed_service_is_restarted_with_a_doubling_backoff(tmp_path: Path) -> None:
    service = crashing_service()
    supervisor = stack.Supervisor([service], dict(os.environ), log_dir=tmp_path)
    supervisor._spawn(service)
    assert service.proc is not None and service.proc.wait(timeout=30) == 3
    now = time.monotonic()
    assert supervisor.restart_crashed(now) == []  # the first restart waits 1 s
    assert service.restart_at == pytest.approx(now + 1)
    assert supervisor.restart_crashed(now + 0.5) == []
    assert supervisor.restart_crashed(now + 1) == ["crashy"]
    service.proc.wait(timeout=30)
    assert supervisor.restart_crashed(now + 1.5) == []  # the second waits 2 s
    assert service.restart_at == pytest.approx(now + 3.5)
    assert supervisor.restart_crashed(now + 3.5) == ["crashy"]
    service.proc.wait(timeout=30)
    supervisor.restart_crashed(now + 4)
    assert service.crashes == 3 and service.restart_at == pytest.approx(now + 8)  # the third waits 4 s
    supervisor.stop()


def test_the_backoff_starts_over_after_a_healthy_minute(tmp_path: Path) -> None:
    """#22: six kills in a minute left the backend down 32 s more; once it has answered its health check
    for a minute, the next crash is restarted after 1 s again."""
    answers = {"healthy": False}
    sleeper = stack.Service("sleepy", [sys.executable, "-c", "import time; time.sleep(60)"], "http://127.0.0.1:9", "/")
    supervisor = stack.Supervisor([sleeper], dict(os.environ), log_dir=tmp_path, health=lambda url: answers["healthy"])
    supervisor._spawn(sleeper)
    sleeper.crashes = 6
    # a whole second: the steps below are then exact (on a fractional clock reading, now + 60 - 5 and
    # now + 60 may lie a hair less than the 5 s health poll apart, and the last poll is skipped)
    now = float(int(time.monotonic()))
    supervisor.restart_crashed(now)
    supervisor.restart_crashed(now + stack.HEALTHY_SECONDS + 10)
    assert sleeper.crashes == 6  # up, but not answering: still a crash loop
    answers["healthy"] = True
    supervisor.restart_crashed(now + 100)
    supervisor.restart_crashed(now + 100 + stack.HEALTHY_SECONDS - 5)
    assert sleeper.crashes == 6  # healthy for less than a minute
    supervisor.restart_crashed(now + 100 + stack.HEALTHY_SECONDS)
    assert sleeper.crashes == 0
    assert sleeper.proc is not None
    sleeper.proc.kill()
    sleeper.proc.wait(timeout=30)
    supervisor.restart_crashed(now + 200)
    assert sleeper.restart_at == pytest.approx(now + 201)  # 1 s again
    supervisor.stop()


def test_the_backoff_is_capped() -> None:
    service = crashing_service()
    supervisor = stack.Supervisor([service], dict(os.environ))
    supervisor._spawn(service)
    assert service.proc is not None
    service.proc.wait(timeout=30)
    service.crashes = 20
    now = time.monotonic()
    supervisor.restart_crashed(now)
    assert service.restart_at == pytest.approx(now + stack.MAX_RESTART_DELAY)
    supervisor.stop()


def test_a_running_service_is_left_alone_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    sleeper = stack.Service("sleepy", [sys.executable, "-c", "import time; time.sleep(60)"], "http://127.0.0.1:9", "/")
    supervisor = stack.Supervisor([sleeper], dict(os.environ), log_dir=tmp_path)
    supervisor._spawn(sleeper)
    assert supervisor.restart_crashed(time.monotonic()) == []
    stopping = threading.Event()
    result: list[int] = []
    waiter = threading.Thread(target=lambda: result.append(supervisor.wait(stopping)))
    waiter.start()
    time.sleep(1)
    assert sleeper.proc is not None and sleeper.proc.poll() is None
    stopping.set()
    waiter.join(timeout=30)
    assert result == [0] and sleeper.proc.poll() is not None


@pytest.mark.parametrize("missing", ["RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN"])
def test_open_internal_apis_are_refused_outside_tests(missing: str) -> None:
    env = {"APP_ENV": "development", "RASA_AUTH_TOKEN": "t1", "ACTION_SERVER_TOKEN": "t2", missing: ""}
    with pytest.raises(stack.StackError, match=missing):
        stack.check_for_production(env)
    stack.check_for_production({**env, "APP_ENV": "test"})


def test_production_refuses_short_secrets() -> None:
    strong = {key: f"{key.lower()}-Zq8v3kLw9pT2mXc" for key in stack.SECRET_KEYS}
    stack.check_for_production({"APP_ENV": "production", **strong})
    with pytest.raises(stack.StackError, match="API_TOKEN"):
        stack.check_for_production({"APP_ENV": "production", **strong, "API_TOKEN": "a"})


# --- the scaled configuration ------------------------------------------------------------------------
def test_the_scaled_settings_come_between_the_defaults_and_the_local_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    scaled = stack.load_env(scaled=True)
    assert scaled["DATABASE_URL"].startswith("postgresql://")
    assert scaled["RASA_ENDPOINTS"] == "deploy/endpoints.scaled.yml"
    assert stack.load_env()["DATABASE_URL"].startswith("sqlite")  # `make run` is unchanged
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.internal/heating")
    assert stack.load_env(scaled=True)["DATABASE_URL"] == "postgresql://db.internal/heating"


def test_each_tier_gets_two_processes_behind_the_balancer_on_the_public_ports() -> None:
    env = {"API_URL": "http://127.0.0.1:8000", "ACTION_SERVER_URL": "http://127.0.0.1:5055",
           "RASA_URL": "http://127.0.0.1:5005", "API_2_PORT": "9102"}  # fmt: skip
    names, urls = stack.scaled_layout(env, 2)
    assert names == ["api-1", "api-2", "actions-1", "actions-2", "rasa-1", "rasa-2"]
    assert urls["api-1"] == "http://127.0.0.1:8001" and urls["api-2"] == "http://127.0.0.1:9102"
    assert (env["API_PORT"], env["RASA_PORT"], env["ACTIONS_PORT"]) == ("8000", "5005", "5055")
    assert (env["RASA_1"], env["ACTIONS_2"]) == ("127.0.0.1:5006", "127.0.0.1:5057")
    services = stack.build_services(names, {**env, "RASA_AUTH_TOKEN": "t", "RASA_ENDPOINTS": "x.yml"}, urls)
    rasa = next(s for s in services if s.name == "rasa-2")
    assert "5007" in rasa.command and "x.yml" in rasa.command
    # each Rasa process names itself when it pulls the model in force (endpoints.yml's models)
    assert rasa.env == {"RASA_PROCESS": "rasa-2"}


def test_the_scaled_rasa_processes_start_after_the_balancer_they_pull_their_model_through(tmp_path: Path) -> None:
    """The order in which Supervisor.start spawns: backends and action servers, the balancer, then Rasa."""
    names = ["api-1", "actions-1", "balancer", "rasa-1"]
    services = [stack.Service(name, [sys.executable, "-c", "pass"], "http://127.0.0.1:9", "/") for name in names]
    services[2].starts_last, services[3].after_balancer = True, True
    spawned: list[str] = []
    supervisor = stack.Supervisor(services, dict(os.environ), log_dir=tmp_path)
    supervisor._spawn = lambda service: spawned.append(service.name)  # type: ignore[method-assign]
    supervisor._wait_healthy = lambda group, *_: spawned.append("|")  # type: ignore[method-assign]
    asked: list[str] = []
    services[2].ready_after = ["http://127.0.0.1:9/webhooks/wechat/"]
    supervisor.health = lambda url: asked.append(url) or len(asked) > 1  # the front end answers at the 2nd look
    supervisor.start()
    assert spawned == ["api-1", "actions-1", "|", "balancer", "|", "rasa-1", "|"]
    assert asked == ["http://127.0.0.1:9/webhooks/wechat/"] * 2


def test_the_balancer_configuration_is_valid_haproxy() -> None:
    import shutil
    import subprocess

    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        if os.environ.get("CI"):
            pytest.fail("haproxy is required in CI (.ci/run installs it)")
        pytest.skip("haproxy not installed")
    env = {"API_URL": "http://127.0.0.1:8000", "ACTION_SERVER_URL": "http://127.0.0.1:5055",
           "RASA_URL": "http://127.0.0.1:5005", "BIND_HOST": "127.0.0.1"}  # fmt: skip
    stack.scaled_layout(env, 2)
    checked = subprocess.run(
        [haproxy, "-c", "-f", str(stack.HAPROXY_CONFIG)], env={**os.environ, **env}, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_without_haproxy_the_scaled_start_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stack.shutil, "which", lambda name: None)
    monkeypatch.setattr(stack.scaled, "Path", lambda p: Path("/nonexistent") / str(p).lstrip("/"))
    with pytest.raises(stack.StackError, match="apt-get install haproxy"):
        stack.balancer_service({"API_URL": "http://127.0.0.1:8000"})


def test_postgresql_or_redis_down_is_one_clear_message() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        env = {
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/heating",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
        }
        with pytest.raises(stack.StackError, match=f"PostgreSQL is not reachable at 127.0.0.1:{port}"):
            stack.check_reachable(env)
