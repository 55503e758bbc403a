"""The monitoring configuration in deploy/: the alert rules and their unit tests (promtool), Prometheus's
configurations (the deployment's sample and the one `make run-scaled PROMETHEUS=1` writes), the Grafana
dashboard, and that each of them names only the metrics docs/metrics.md promises."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402
from stack import monitoring  # noqa: E402

PROMETHEUS = ROOT / "deploy" / "prometheus"
ALERTS = PROMETHEUS / "alerts.yml"
ALERT_TESTS = (PROMETHEUS / "alerts_test.yml", PROMETHEUS / "alerts_daily_test.yml")
DASHBOARD = ROOT / "deploy" / "grafana" / "heating-dashboard.json"
METRICS_DOC = ROOT / "docs" / "metrics.md"
# names served by others than our processes: HAProxy's exporter, the client library's collectors, and
# Prometheus's own `up`
OTHER_PREFIXES = ("haproxy_", "process_", "python_")
OTHER_NAMES = {"up"}


def promtool() -> str:
    """Debian's promtool, or a skip saying how to get it (CI installs it: .ci/run)."""
    found = shutil.which("promtool") or ("/usr/bin/promtool" if Path("/usr/bin/promtool").exists() else None)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("promtool is required in CI (.ci/run installs Debian's prometheus package)")
    pytest.skip("promtool is not installed (apt-get install prometheus): the alert rules are not checked here")


def run_promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool(), *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=300)


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


# --------------------------------------------------------------------------- metric names


def documented_metrics() -> tuple[set[str], set[str]]:
    """(names, histogram names) of docs/metrics.md's tables of names: each row's first cell's `names`,
    in the rows whose second cell is a type."""
    names: set[str] = set()
    histograms: set[str] = set()
    for line in METRICS_DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not line.lstrip().startswith("|") or cells[1] not in ("counter", "gauge", "histogram", ""):
            continue
        for name in re.findall(r"`([a-z_][a-z0-9_]*)`", cells[0]):
            names.add(name)
            if cells[1] == "histogram":
                histograms.add(name)
    return names, histograms


def allowed(name: str) -> bool:
    names, histograms = documented_metrics()
    series = names | {f"{h}_{suffix}" for h in histograms for suffix in ("bucket", "sum", "count")}
    return name in series or name in OTHER_NAMES or name.startswith(OTHER_PREFIXES)


KEYWORDS = {"and", "or", "unless", "offset", "bool", "inf", "nan"}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (not its functions, labels, durations or variables)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # label values
    text = re.sub(r"\{[^}]*\}", "", text)  # matchers
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges and subqueries
    text = re.sub(r"\$\w+", "", text)  # Grafana's variables
    found = set()
    for match in re.finditer(r"(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        rest = text[match.end() :].lstrip()
        if rest.startswith("(") or match.group() in KEYWORDS:
            continue  # a function or an aggregation
        found.add(match.group())
    return found


def test_metric_names_are_read_out_of_expressions() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, via) (rate(wechat_reply_seconds_bucket{via="passive"}[5m]))) > 4 '
        "and on () sum(increase(bot_user_messages_total[1h] offset 1d)) >= 100 or vector(0) - time()"
    )
    assert metric_names(expr) == {"wechat_reply_seconds_bucket", "bot_user_messages_total"}


def dashboard() -> dict[str, Any]:
    return dict(json.loads(DASHBOARD.read_text(encoding="utf-8")))


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, expression) of every query on the dashboard."""
    panels = dashboard()["panels"]
    every = panels + [inner for panel in panels for inner in panel.get("panels", [])]
    return [(panel["title"], target["expr"]) for panel in every for target in panel.get("targets", [])]


def test_the_dashboard_and_the_alerts_use_only_the_documented_metrics() -> None:
    used = [(f"panel {title!r}", expr) for title, expr in dashboard_queries()]
    used += [(f"alert {rule['alert']}", rule["expr"]) for rule in alert_rules()]
    unknown = {(where, name) for where, expr in used for name in metric_names(expr) if not allowed(name)}
    assert not unknown, f"names docs/metrics.md does not have: {sorted(unknown)}"


def test_every_documented_metric_is_on_the_dashboard_or_in_an_alert() -> None:
    names, histograms = documented_metrics()
    used = {name for _, expr in dashboard_queries() for name in metric_names(expr)}
    used |= {name for rule in alert_rules() for name in metric_names(rule["expr"])}
    base = {re.sub(r"_(bucket|sum|count)$", "", name) for name in used}
    missing = {name for name in names if name not in used and name not in base}
    assert not missing, f"documented but nowhere on the dashboard or in the alerts: {sorted(missing)}"
    assert len(names) > 30 and histograms  # the tables were read


# --------------------------------------------------------------------------- alert rules


def test_every_alert_has_a_duration_a_severity_and_what_it_means() -> None:
    rules = alert_rules()
    assert {rule["alert"] for rule in rules} >= {
        "ProcessDown",
        "ReplyTimeP95Over4s",
        "OutboxBacklogGrowing",
        "SpoolBacklogGrowing",
        "SchedulerLagging",
        "BreachesRising",
        "FallbackRateDoubled",
        "DiskAlmostFull",
        "DatabaseOutgrowingDisk",
    }
    for rule in rules:
        assert rule.get("for"), rule["alert"]
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]


def test_every_alert_is_unit_tested_firing_and_silent() -> None:
    fires: set[str] = set()
    silent: set[str] = set()
    for path in ALERT_TESTS:
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            for check in case.get("alert_rule_test", []):
                (fires if check.get("exp_alerts") else silent).add(check["alertname"])
    names = {rule["alert"] for rule in alert_rules()}
    assert names - fires == set(), "alerts never tested firing"
    assert names - silent == set(), "alerts never tested staying silent"


def test_the_alert_rules_pass_promtool_check() -> None:
    checked = run_promtool("check", "rules", ALERTS.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in checked.stdout


def test_the_alert_rules_unit_tests_pass() -> None:
    tested = run_promtool("test", "rules", *(path.name for path in ALERT_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert tested.stdout.count("SUCCESS") == len(ALERT_TESTS)


def test_a_wrong_expectation_fails_the_unit_tests(tmp_path: Path) -> None:
    """promtool does compare: the process-down test, made to expect another instance, fails."""
    shutil.copy(ALERTS, tmp_path / ALERTS.name)
    tests = yaml.safe_load(ALERT_TESTS[0].read_text(encoding="utf-8"))
    case = next(case for case in tests["tests"] if case["name"] == "one action server down for a minute")
    firing = next(check for check in case["alert_rule_test"] if check["exp_alerts"])
    firing["exp_alerts"][0]["exp_labels"]["instance"] = "actions-2"
    (tmp_path / "wrong_test.yml").write_text(yaml.safe_dump({**tests, "tests": [case]}), encoding="utf-8")
    tested = subprocess.run(
        [promtool(), "test", "rules", "wrong_test.yml"], cwd=tmp_path, capture_output=True, text=True
    )
    assert tested.returncode != 0
    assert 'instance="actions-2"' in tested.stdout + tested.stderr  # expected, and not what it got


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    """Each query, with Grafana's variables given values, checked by promtool as a recording rule."""
    rules = [
        {"record": f"dashboard:query_{i}", "expr": expr.replace("$__rate_interval", "1m").replace("$__range", "1h")}
        for i, (_, expr) in enumerate(dashboard_queries())
    ]
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")
    checked = run_promtool("check", "rules", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr


# --------------------------------------------------------------------------- Prometheus's configuration


def test_the_sample_configuration_passes_promtool_check() -> None:
    checked = run_promtool("check", "config", "prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text(encoding="utf-8"))
    assert config["global"]["scrape_interval"] == "15s"
    assert {job["job_name"] for job in config["scrape_configs"]} == {"api", "actions", "rasa", "haproxy"}


def scaled_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    port = stack.free_port()
    return stack.load_env(
        {"APP_ENV": "test", "PROMETHEUS_DIR": str(tmp_path / "prometheus"), "PROMETHEUS_PORT": str(port), **overrides},
        scaled=True,
    )


def test_the_scaled_layout_writes_a_configuration_scraping_every_process(tmp_path: Path) -> None:
    promtool()
    env = scaled_env(tmp_path, PROMETHEUS_SCRAPE_INTERVAL="2s", SCALED_PROCESSES="3")
    names, urls = stack.scaled_layout(env, 3)
    service = monitoring.prometheus_service(env, names, urls)

    config_file = tmp_path / "prometheus" / "prometheus.yml"
    checked = run_promtool("check", "config", str(config_file))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    assert config["global"]["scrape_interval"] == "2s" and config["global"]["scrape_timeout"] == "2s"
    assert config["rule_files"] == [str(ALERTS)]
    scraped = {
        (job["job_name"], job["metrics_path"], static["labels"]["instance"], static["targets"][0])
        for job in config["scrape_configs"]
        for static in job["static_configs"]
    }
    host, paths = env["BIND_HOST"], {"api": "/metrics", "actions": "/metrics", "rasa": "/webhooks/wechat/metrics"}
    expected = {(name.split("-")[0], paths[name.split("-")[0]], name, urls[name].split("//")[1]) for name in names}
    expected.add(("haproxy", "/metrics", "balancer", f"{host}:{env['HAPROXY_STATS_PORT']}"))
    assert scraped == expected
    assert len(names) == 9

    assert service.name == "prometheus" and service.health_path == "/-/ready"
    assert f"--web.listen-address={host}:{env['PROMETHEUS_PORT']}" in service.command
    assert f"--storage.tsdb.path={tmp_path / 'prometheus' / 'data'}" in service.command
    assert f"--config.file={config_file}" in service.command


def test_prometheus_starts_with_the_scaled_layout_only_when_asked(tmp_path: Path) -> None:
    if not (shutil.which("haproxy") or Path("/usr/sbin/haproxy").exists()):
        pytest.skip("HAProxy is not installed: the scaled layout's services cannot be built")
    promtool()
    without = [s.name for s in stack.scaled_services(scaled_env(tmp_path, SCALED_PROMETHEUS=""))]
    with_it = [s.name for s in stack.scaled_services(scaled_env(tmp_path, SCALED_PROMETHEUS="1"))]
    assert "prometheus" not in without
    assert with_it == ["prometheus", *without]


def test_a_taken_prometheus_port_is_a_clear_message(tmp_path: Path) -> None:
    promtool()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = scaled_env(tmp_path, PROMETHEUS_PORT=str(taken.getsockname()[1]))
        names, urls = stack.scaled_layout(env, 2)
        with pytest.raises(stack.StackError, match="PROMETHEUS_PORT"):
            monitoring.prometheus_service(env, names, urls)


def test_the_balancer_serves_its_exporter_on_the_statistics_port() -> None:
    config = (ROOT / "deploy" / "haproxy.cfg").read_text(encoding="utf-8")
    stats = config.split("frontend stats", 1)[1].split("\nfrontend ", 1)[0]
    assert "http-request use-service prometheus-exporter if { path /metrics }" in stats


# --------------------------------------------------------------------------- the dashboard


def test_the_dashboard_is_importable_grafana_json_on_a_prometheus_input() -> None:
    board = dashboard()
    assert [item["name"] for item in board["__inputs"]] == ["DS_PROMETHEUS"]
    assert board["__inputs"][0]["pluginId"] == "prometheus"
    assert board["schemaVersion"] >= 36 and board["uid"]
    rows = [panel["title"] for panel in board["panels"] if panel["type"] == "row"]
    assert [row.split(" ")[0] for row in rows] == ["Residents", "Bot", "Backend", "Processes", "HAProxy"]
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}, panel["title"]
            assert panel["targets"] and all(target["expr"] for target in panel["targets"]), panel["title"]
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, panel["title"]
