"""Monitoring of the scaled configuration, as `make run-scaled PROMETHEUS=1` runs it: Prometheus scrapes
every process of every tier and HAProxy's exporter, reads their metrics, and raises the process-down alert
when an action server is killed (kill -9), naming it, until it is back (docs/deployment.md, "Monitoring").

Prometheus scrapes and evaluates every second here, and its rules are deploy/prometheus/alerts.yml's with
every `for:` shortened to 2 s (a deployment scrapes every 15 s and waits a minute before a process is
called down): the expressions are the deployment's own, only the waiting is shorter.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.e2e.conftest import eventually, stack
from tests.e2e.test_walking_skeleton import phone

ALERTS = stack.ROOT / "deploy" / "prometheus" / "alerts.yml"
SHORT_FOR = "2s"
PROCESSES = {"api-1", "api-2", "actions-1", "actions-2", "rasa-1", "rasa-2"}


@dataclass
class Monitored:
    env: dict[str, str]
    supervisor: stack.Supervisor
    prometheus: str  # its base URL

    def service(self, name: str) -> stack.Service:
        return next(s for s in self.supervisor.services if s.name == name)

    def api(self, path: str, **params: str) -> Any:
        """The ``data`` of an answer of Prometheus's HTTP API."""
        answer = httpx.get(self.prometheus + path, params=params, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        return list(self.api("/api/v1/query", query=expr)["result"])

    def alerts(self, name: str) -> list[dict[str, Any]]:
        return [a for a in self.api("/api/v1/alerts")["alerts"] if a["labels"]["alertname"] == name]


def _needed(what: str, present: bool) -> None:
    if present:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI (.ci/run provides it)")
    pytest.skip(f"{what} is not available here")


def shortened_rules(folder: Path) -> Path:
    """alerts.yml with each rule's `for:` shortened to SHORT_FOR, everything else as deployed."""
    rules = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = SHORT_FOR
    path = folder / "alerts-short.yml"
    path.write_text(yaml.safe_dump(rules, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def monitored() -> Iterator[Monitored]:
    """The scaled layout on free ports with Prometheus beside it, as `make run-scaled PROMETHEUS=1` starts
    it; its storage and configuration in a folder of the test's own."""
    _needed("HAProxy", bool(shutil.which("haproxy") or os.path.exists("/usr/sbin/haproxy")))
    _needed("Prometheus", bool(shutil.which("prometheus") or os.path.exists("/usr/bin/prometheus")))
    folder = Path(tempfile.mkdtemp(prefix="heating-e2e-prometheus-"))
    port = stack.free_port()
    try:
        env = stack.isolated_scaled_env(
            "heating_monitoring",
            {
                "API_TOKEN": "e2e-api-token",
                "RASA_AUTH_TOKEN": "e2e-rasa-token",
                "WECHAT_TOKEN": "e2e-wechat-token",
                "SCALED_PROMETHEUS": "1",
                "PROMETHEUS_DIR": str(folder),
                "PROMETHEUS_PORT": str(port),
                "PROMETHEUS_SCRAPE_INTERVAL": "1s",
                "PROMETHEUS_RULES": str(shortened_rules(folder)),
            },
        )
    except stack.StackError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        _needed(f"the scaled configuration's services ({exc})", False)
        raise
    log_dir = stack.VAR / "test-reports" / "e2e-monitoring-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    for old in log_dir.glob("*.log"):
        old.unlink()
    # no supervisor.wait(): a process killed here stays down until the test starts it again
    supervisor = stack.Supervisor(stack.scaled_services(env), env, log_dir=log_dir)
    supervisor.start(timeout=400)
    try:
        yield Monitored(env, supervisor, f"http://127.0.0.1:{port}")
    finally:
        supervisor.stop()
        shutil.rmtree(folder, ignore_errors=True)


def target_health(monitored: Monitored) -> dict[tuple[str, str], str]:
    """(job, instance) → health ("up", "down", "unknown") of each target Prometheus scrapes."""
    targets = monitored.api("/api/v1/targets", state="active")["activeTargets"]
    return {(t["labels"]["job"], t["labels"]["instance"]): t["health"] for t in targets}


def instances(result: list[dict[str, Any]]) -> set[str]:
    return {sample["metric"]["instance"] for sample in result}


def test_prometheus_scrapes_every_process_and_the_balancer(monitored: Monitored) -> None:
    expected = {(name.split("-")[0], name) for name in PROCESSES} | {("haproxy", "balancer")}
    health = eventually(
        lambda: target_health(monitored), lambda found: found == dict.fromkeys(expected, "up"), seconds=90
    )
    assert health == dict.fromkeys(expected, "up")
    targets = monitored.api("/api/v1/targets", state="active")["activeTargets"]
    rasa_urls = {t["scrapeUrl"] for t in targets if t["labels"]["job"] == "rasa"}
    assert rasa_urls and all(url.endswith("/webhooks/wechat/metrics") for url in rasa_urls)


def test_each_tiers_metrics_are_in_prometheus(monitored: Monitored) -> None:
    """A figure of each tier from each of its processes, and the balancer's view of every server."""
    per_tier = {
        "heating_db_pool_size": {"api-1", "api-2"},
        "heating_scheduler_interval_seconds": {"api-1", "api-2"},
        "actions_spool_waiting": {"actions-1", "actions-2"},
        "bot_model_loaded == 1": {"rasa-1", "rasa-2"},
        "wechat_outbox_messages": {"rasa-1", "rasa-2"},
        'process_resident_memory_bytes{job=~"api|actions|rasa"}': PROCESSES,
    }
    for expr, wanted in per_tier.items():
        found = eventually(lambda expr=expr: instances(monitored.query(expr)), lambda got, w=wanted: got == w, 60)
        assert found == wanted, expr
    servers = eventually(
        lambda: monitored.query('haproxy_server_status{state="UP",proxy=~"api_servers|action_servers|rasa_servers"}'),
        lambda result: len(result) == 6 and all(s["value"][1] == "1" for s in result),
        60,
    )
    assert {s["metric"]["server"] for s in servers} == {"api1", "api2", "actions1", "actions2", "rasa1", "rasa2"}
    assert all(s["value"][1] == "1" for s in servers)


def test_a_residents_message_reaches_the_channels_counters(monitored: Monitored) -> None:
    def total(expr: str) -> float:
        result = monitored.query(f"sum({expr})")
        return float(result[0]["value"][1]) if result else 0.0

    before = total("wechat_messages_received_total")
    answer = phone(monitored.env, "oMONITOR-1", "text", "暖气费怎么交")
    assert answer["status"] in ("reply", "success"), answer
    received = eventually(lambda: total("wechat_messages_received_total"), lambda n: n >= before + 1, 30)
    assert received >= before + 1
    assert eventually(lambda: total("wechat_replies_total"), lambda n: n >= 1, 60) >= 1
    assert eventually(lambda: total("bot_user_messages_total"), lambda n: n >= 1, 30) >= 1


def test_a_killed_action_server_is_named_by_the_process_down_alert_until_it_is_back(monitored: Monitored) -> None:
    assert target_health(monitored).get(("actions", "actions-1")) == "up"
    assert [a for a in monitored.alerts("ProcessDown") if a["state"] == "firing"] == []
    rules = {rule["name"] for group in monitored.api("/api/v1/rules")["groups"] for rule in group["rules"]}
    assert {"ProcessDown", "TierDown"} <= rules

    service = monitored.service("actions-1")
    assert service.proc is not None
    os.killpg(service.proc.pid, signal.SIGKILL)  # kill -9: no goodbye
    service.proc.wait()

    firing = eventually(
        lambda: [a for a in monitored.alerts("ProcessDown") if a["state"] == "firing"],
        lambda found: bool(found),
        seconds=60,
    )
    assert [(a["labels"]["job"], a["labels"]["instance"]) for a in firing] == [("actions", "actions-1")]
    assert firing[0]["labels"]["severity"] == "warning"
    assert "actions-1" in firing[0]["annotations"]["summary"]
    assert monitored.alerts("TierDown") == []  # actions-2 still answers
    assert instances(monitored.query('up{job="actions"} == 0')) == {"actions-1"}

    monitored.supervisor._spawn(service)
    back = eventually(lambda: stack.healthy(service.health_url), bool, seconds=120)
    assert back, "actions-1 did not come back"
    resolved = eventually(lambda: monitored.alerts("ProcessDown"), lambda found: found == [], seconds=60)
    assert resolved == []
    assert instances(monitored.query('up{job="actions"} == 1')) == {"actions-1", "actions-2"}


def test_prometheus_stops_with_the_layout(monitored: Monitored) -> None:
    """Last: the supervisor stops Prometheus with everything else; nothing listens on its port after."""
    prometheus = monitored.service("prometheus")
    monitored.supervisor.stop()
    assert prometheus.proc is not None and prometheus.proc.poll() is not None
    with contextlib.suppress(httpx.HTTPError):
        httpx.get(monitored.prometheus + "/-/ready", timeout=2)
        pytest.fail("Prometheus still answers after the layout stopped")
