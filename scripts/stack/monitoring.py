"""Prometheus beside the scaled layout (`make run-scaled PROMETHEUS=1`, or SCALED_PROMETHEUS=1): its
configuration written from the layout's own ports, and the supervised service that runs it.

Every process of every tier is scraped directly on its own port (the balancer would spread the scrapes
over a tier's processes), and HAProxy's own exporter on its statistics port; each target is labelled
``job`` = tier and ``instance`` = process name, as deploy/prometheus/alerts.yml expects (docs/metrics.md).
"""

from __future__ import annotations

import json
import re
import shutil
import socket
from pathlib import Path

from stack.config import ROOT, VAR, StackError
from stack.supervisor import Service

PROMETHEUS_RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
# where each tier serves its metrics (docs/metrics.md)
METRICS_PATHS = {"api": "/metrics", "actions": "/metrics", "rasa": "/webhooks/wechat/metrics", "haproxy": "/metrics"}
# FallbackRateDoubled compares the last hour with the same hour a week before: keep more than a week
RETENTION = "15d"


def monitoring_wanted(env: dict[str, str]) -> bool:
    """Whether the scaled layout starts Prometheus beside it (SCALED_PROMETHEUS, set by `make run-scaled
    PROMETHEUS=1`)."""
    return env.get("SCALED_PROMETHEUS", "").strip().lower() in ("1", "true", "yes", "on")


def prometheus_dir(env: dict[str, str]) -> Path:
    """Prometheus's configuration and storage: var/prometheus/, or PROMETHEUS_DIR."""
    return Path(env.get("PROMETHEUS_DIR") or VAR / "prometheus")


def _seconds(duration: str) -> float:
    """Seconds in a Prometheus duration such as ``15s``, ``1m`` or ``500ms``."""
    match = re.fullmatch(r"(\d+)(ms|s|m|h)", duration.strip())
    if not match:
        raise StackError(f"PROMETHEUS_SCRAPE_INTERVAL={duration!r} is not a duration such as 15s or 1m")
    value, unit = int(match.group(1)), match.group(2)
    return value * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


def scrape_targets(names: list[str], urls: dict[str, str], env: dict[str, str]) -> dict[str, list[tuple[str, str]]]:
    """(instance, host:port) of each process by job (its tier), and the balancer's exporter."""
    targets: dict[str, list[tuple[str, str]]] = {}
    for name in names:
        address = urls[name].split("://", 1)[-1].rstrip("/")
        targets.setdefault(name.split("-")[0], []).append((name, address))
    host = env.get("BIND_HOST", "127.0.0.1")
    targets["haproxy"] = [("balancer", f"{host}:{env['HAPROXY_STATS_PORT']}")]
    return targets


def prometheus_config(targets: dict[str, list[tuple[str, str]]], rules: Path, interval: str) -> str:
    """prometheus.yml for these targets (strings quoted as JSON, which YAML reads as they are)."""
    timeout = f"{min(_seconds(interval), 10.0):g}s"
    lines = [
        "# Written by scripts/stack/monitoring.py for `make run-scaled PROMETHEUS=1`; rewritten at each start.",
        "# A deployment's own: deploy/prometheus/prometheus.yml.",
        "global:",
        f"  scrape_interval: {interval}",
        f"  scrape_timeout: {timeout}",
        f"  evaluation_interval: {interval}",
        "rule_files:",
        f"  - {json.dumps(str(rules))}",
        "scrape_configs:",
    ]
    for job, instances in targets.items():
        lines += [f"  - job_name: {job}", f"    metrics_path: {json.dumps(METRICS_PATHS[job])}", "    static_configs:"]
        for instance, address in instances:
            lines += [
                f"      - targets: [{json.dumps(address)}]",
                f"        labels: {{instance: {json.dumps(instance)}}}",
            ]
    return "\n".join(lines) + "\n"


def prometheus_service(env: dict[str, str], names: list[str], urls: dict[str, str]) -> Service:
    """Prometheus (Debian's package) scraping every process of the layout, with the alert rules, its
    storage and configuration under var/prometheus/, its web UI on BIND_HOST:PROMETHEUS_PORT (9090)."""
    binary = shutil.which("prometheus") or ("/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None)
    if not binary:
        raise StackError(
            "PROMETHEUS=1 starts Prometheus beside the stack, and it is not installed.\n"
            "  Install Debian's package, then run the command again:  apt-get install prometheus\n"
            "  (the package may start its own daemon on :9090: `systemctl disable --now prometheus`, or set "
            "PROMETHEUS_PORT)"
        )
    host, port = env.get("BIND_HOST", "127.0.0.1"), int(env.get("PROMETHEUS_PORT") or 9090)
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            raise StackError(
                f"port {port} for Prometheus is already taken (Debian's package starts its own daemon there: "
                "`systemctl disable --now prometheus`); or choose another port with PROMETHEUS_PORT"
            ) from None
    folder = prometheus_dir(env)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    rules = Path(env.get("PROMETHEUS_RULES") or PROMETHEUS_RULES)
    interval = env.get("PROMETHEUS_SCRAPE_INTERVAL") or "15s"
    config = folder / "prometheus.yml"
    config.write_text(prometheus_config(scrape_targets(names, urls, env), rules, interval), encoding="utf-8")
    command = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={folder / 'data'}",
        f"--storage.tsdb.retention.time={RETENTION}",
        f"--web.listen-address={host}:{port}",
    ]
    return Service("prometheus", command, f"http://{host}:{port}", "/-/ready")
