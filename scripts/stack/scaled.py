"""The scaled configuration: two processes of each tier behind HAProxy, on PostgreSQL and Redis; and the
other commands (setup, admin, train, retrain)."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from stack.config import ROOT, VAR, StackError, check_for_production, load_env, port_of, say, use_simulator_by_default
from stack.envs import API_VENV, ensure_api_env, ensure_bot_env, migrate, migrate_conversation_stores, run
from stack.model import ensure_model, model_path, use_repository_build
from stack.monitoring import monitoring_wanted, prometheus_service
from stack.rolling import PID_FILE, rolling_restart
from stack.supervisor import URL_VARIABLES, Service, Supervisor, build_services, describe, free_port, prepare

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
    env.setdefault("HAPROXY_SOCKET", str(VAR / "haproxy.sock"))  # its runtime API (stack/rolling.py)
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
            "HAPROXY_SOCKET": str(VAR / f"haproxy-{name}.sock"),
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
    through which they pull the model in force from the backends (deploy/endpoints.scaled.yml). With
    SCALED_PROMETHEUS, Prometheus too, first, so that it sees the others start (stack/monitoring.py)."""
    names, urls = scaled_layout(env, int(env.get("SCALED_PROCESSES") or 2))
    services = build_services(names, env, urls)
    for service in services:
        service.after_balancer = service.name.startswith("rasa")
    monitoring = [prometheus_service(env, names, urls)] if monitoring_wanted(env) else []
    return monitoring + services + [balancer_service(env)]


def cmd_serve_scaled() -> int:
    env = load_env(scaled=True)
    use_simulator_by_default(env)
    prepare_scaled(env)
    services = scaled_services(env)
    supervisor = Supervisor(services, env)
    say(f"starting {', '.join(s.name for s in services)} ...")
    supervisor.start()
    say(describe(services, env))
    prometheus = next((s for s in services if s.name == "prometheus"), None)
    if prometheus:
        say(
            f"Prometheus: {prometheus.url}/alerts (targets: {prometheus.url}/targets); "
            "Grafana: import deploy/grafana/heating-dashboard.json with this Prometheus as its data source"
        )
    PID_FILE.write_text(f"{os.getpid()}\n")  # `make rolling-restart` signals this launcher
    try:
        return supervisor.wait(on_hangup=lambda: rolling_restart(supervisor))
    finally:
        PID_FILE.unlink(missing_ok=True)


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
