"""Capacity of the scaled layout on this machine: messages a second against the time to the first answer,
and what one message costs each process in CPU time.

Starts the layout of `make run-scaled` (HAProxy, two processes of each tier, PostgreSQL, Redis) on free
ports with fresh databases, then offers residents' messages at fixed rates (an open loop: a message goes
at its time whether or not earlier ones were answered, as residents in a cold snap do), signed like the
platform's pushes and sent straight to the balancer's webhook. Residents ask a question (3 in 5) or file
a repair in three messages; a resident sends the next message of their script only after the answer to
the last, and leaves after each script with even odds. At each rate:

- messages offered and answered a second, errors;
- time to the first answer: the passive reply, or for an answer pushed after the reply budget, the
  moment the platform received it; p50, p95, p99;
- the cores' busy share, and CPU milliseconds per message of each tier's processes, PostgreSQL, Redis,
  HAProxy and this load generator (from /proc: user and system time of each process group).

A rate whose p95 passes 5 s ends the curve (the platform gives up at 5 s; the layout is saturated).

    .venv/api/bin/python scripts/bench_capacity.py [--rates 4,8,12] [--seconds 60] [--write]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402

from scripts.bench_channel import percentile  # noqa: E402
from scripts.bench_scaled import QUESTIONS, TOKEN, MemorySampler, signed_push  # noqa: E402
from scripts.benchdoc import write_section  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
SATURATED = 5.0  # seconds: the platform's limit for a passive reply
PARTS = ("rasa", "actions", "api", "postgres", "redis", "haproxy", "load generator")


# --------------------------------------------------------------------------- CPU time by part


def processes() -> list[tuple[int, str, float]]:
    """Every process's group, command name and user + system seconds, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        command = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        found.append((int(fields[2]), command, (int(fields[11]) + int(fields[12])) / TICK))
    return found


def cpu_by_part(services: list[stack.Service]) -> dict[str, float]:
    """CPU seconds so far of each part: a tier's process groups, PostgreSQL and Redis by their command
    names, and this load generator."""
    parts = dict.fromkeys(PARTS, 0.0)
    tier_of = {
        s.proc.pid: "haproxy" if s.name == "balancer" else s.name.split("-")[0] for s in services if s.proc is not None
    }
    for group, command, seconds in processes():
        if group in tier_of:
            parts[tier_of[group]] += seconds
        elif command.startswith("postgres"):
            parts["postgres"] += seconds
        elif command.startswith("redis-server"):
            parts["redis"] += seconds
    usage = resource.getrusage(resource.RUSAGE_SELF)
    parts["load generator"] = usage.ru_utime + usage.ru_stime
    return parts


# --------------------------------------------------------------------------- the open loop


@dataclass
class Resident:
    openid: str
    script: list[str]
    step: int = 0
    busy: bool = False


@dataclass
class Rate:
    offered: float
    seconds: float
    sent: int = 0
    answered: int = 0
    first_answer: list[float] = field(default_factory=list)
    pushed: list[tuple[str, float]] = field(default_factory=list)  # (openid, sent at: wall clock)
    errors: list[str] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)


class Residents:
    """Who writes next: a resident whose last message was answered goes on with the script; one who
    finished a script leaves with even odds; otherwise a new resident writes."""

    def __init__(self, label: str, rng: random.Random) -> None:
        self.label, self.rng = label, rng
        self.ready: list[Resident] = []
        self.count = 0

    def script(self) -> list[str]:
        if self.rng.random() < 0.6:
            return [self.rng.choice(QUESTIONS)]
        address = f"海滨花园{self.rng.randint(1, 40)}号楼{self.rng.randint(1, 6)}单元{self.rng.randint(1, 18)}01"
        return [f"我家暖气阀门坏了 {address} 电话137{self.rng.randint(0, 99_999_999):08d}", "明天上午", "对"]

    def next(self) -> Resident:
        if self.ready and self.rng.random() < 0.7:
            return self.ready.pop(self.rng.randrange(len(self.ready)))
        self.count += 1
        return Resident(f"oCAP{self.label}{self.count:06d}", self.script())

    def answered(self, resident: Resident) -> None:
        resident.step += 1
        if resident.step >= len(resident.script):
            if self.rng.random() < 0.5:
                return  # leaves
            resident.script, resident.step = self.script(), 0
        self.ready.append(resident)


async def offer(env: dict[str, str], rate: float, seconds: float, label: str, services: list[stack.Service]) -> Rate:
    """Messages at ``rate`` a second for ``seconds``; the answers, and CPU seconds by part."""
    measured = Rate(rate, seconds)
    residents = Residents(label, random.Random(label))
    webhook = f"{env['RASA_URL']}/webhooks/wechat/webhook"
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=100)
    counter = iter(range(10**15, 10**16))
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def one(resident: Resident) -> None:
            params, body = signed_push(resident.openid, resident.script[resident.step], next(counter))
            sent_wall, started = time.time(), time.perf_counter()
            try:
                answer = await client.post(webhook, params=params, content=body)
            except httpx.HTTPError as exc:
                measured.errors.append(f"{resident.openid}: {exc!r}")
                return
            if answer.status_code != 200:
                measured.errors.append(f"{resident.openid}: HTTP {answer.status_code}")
            elif "<Content>" in answer.text:
                measured.first_answer.append(time.perf_counter() - started)
                if "系统暂时出了点问题" in answer.text:
                    measured.errors.append(f"{resident.openid}: the bot failed")
            else:
                measured.pushed.append((resident.openid, sent_wall))
            residents.answered(resident)

        before = cpu_by_part(services)
        measured.started = time.monotonic()
        tasks = []
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, measured.started + n / rate - time.monotonic()))
            tasks.append(asyncio.ensure_future(one(residents.next())))
            measured.sent += 1
        await asyncio.gather(*tasks)
        measured.ended = time.monotonic()
        after = cpu_by_part(services)
        measured.cpu = {part: after[part] - before[part] for part in PARTS}
        measured.answered = len(measured.first_answer)
        await pushed_times(client, env, measured)
    return measured


async def pushed_times(client: httpx.AsyncClient, env: dict[str, str], measured: Rate) -> None:
    """Each pushed answer's time: the first message the platform received for its resident after it.
    Past saturation the turns still queued are answered after the rate's end: waited for up to 3 minutes."""
    missing = list(measured.pushed)
    for _ in range(12):
        if not missing:
            break
        await asyncio.sleep(15)
        waiting = []
        for openid in sorted({o for o, _ in missing}):
            inbox = (await client.get(f"{env['API_URL']}/simulator/api/inbox", params={"openid": openid})).json()
            for who, sent in (m for m in missing if m[0] == openid):
                later = [m["at"] for m in inbox["messages"] if m["at"] >= sent]
                if later:
                    measured.first_answer.append(min(later) - sent)
                    measured.answered += 1
                else:
                    waiting.append((who, sent))
        missing = waiting
    measured.errors += [f"{openid}: a pushed answer never arrived" for openid, _ in missing]


# --------------------------------------------------------------------------- report


def report(rates: list[Rate], busy: list[float], machine: str, cores: int) -> str:
    lines = [
        "## Capacity: messages a second against the time to the first answer",
        "",
        f"Command: `.venv/api/bin/python scripts/bench_capacity.py --write` (part of `make bench`), {machine}, "
        f"{cores} cores, everything on this one machine: the layout of `make run-scaled` (HAProxy, two "
        "backends, two Rasa servers, two action servers, PostgreSQL, Redis) and the load generator. "
        "Messages are offered at a fixed rate (an open loop), signed like the platform's pushes and sent "
        "straight to the balancer's webhook; residents ask a question (3 in 5) or file a repair in three "
        "messages, each message after the answer to the one before.",
        "",
        "| offered msg/s | answered msg/s | messages | errors | p50 ms | p95 ms | p99 ms | pushed | cores busy |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for rate, share in zip(rates, busy, strict=True):
        took = rate.ended - rate.started
        values = rate.first_answer or [float("nan")]
        lines.append(
            f"| {rate.offered:g} | {rate.answered / took:.1f} | {rate.sent} | {len(rate.errors)} | "
            f"{percentile(values, 0.5) * 1000:.0f} | {percentile(values, 0.95) * 1000:.0f} | "
            f"{percentile(values, 0.99) * 1000:.0f} | {len(rate.pushed) / max(1, rate.sent):.1%} | {share:.0%} |"
        )
    lines += [
        "",
        "CPU milliseconds per message, by part (user and system time over the rate's run, divided by the "
        "messages sent):",
        "",
        "| offered msg/s | " + " | ".join(PARTS) + " | all | product |",
        "|---|" + "---|" * (len(PARTS) + 2),
    ]
    for rate in rates:
        per = {part: rate.cpu[part] / max(1, rate.sent) * 1000 for part in PARTS}
        total = sum(per.values())
        lines.append(
            f"| {rate.offered:g} | "
            + " | ".join(f"{per[p]:.1f}" for p in PARTS)
            + f" | {total:.1f} | {total - per['load generator']:.1f} |"
        )
    for rate in rates:
        if rate.errors:
            lines.append(f"\nErrors at {rate.offered:g}/s: " + "; ".join(rate.errors[:5]))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", default="4,8,12,16,20,24", help="messages a second, in order")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds at each rate")
    parser.add_argument("--write", action="store_true", help="write the figures into docs/benchmarks.md")
    args = parser.parse_args()
    env = stack.isolated_scaled_env(
        "heating_capacity",
        {"WECHAT_TOKEN": TOKEN, "REDIS_URL": "redis://127.0.0.1:6379/9", "RASA_LOCK_REDIS_DB": "8"},
    )
    for db in ("8", "9"):
        subprocess.run(["redis-cli", "-n", db, "flushdb"], capture_output=True)
    log_dir = stack.VAR / "bench-capacity-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    services = stack.scaled_services(env)
    supervisor = stack.Supervisor(services, env, log_dir=log_dir)
    print("starting the scaled layout ...", flush=True)
    rates: list[Rate] = []
    busy: list[float] = []
    with MemorySampler(services) as sampler:
        supervisor.start(timeout=400)
        try:
            asyncio.run(offer(env, 2.0, 15.0, "warm", services))  # models and connections warm
            for value in (float(v) for v in args.rates.split(",")):
                print(f"{value:g} messages a second for {args.seconds:.0f} s ...", flush=True)
                rate = asyncio.run(offer(env, value, args.seconds, f"{value:g}r", services))
                rates.append(rate)
                busy.append(sampler.busy_between(rate.started, rate.ended))
                p95 = percentile(rate.first_answer, 0.95) if rate.first_answer else float("inf")
                product = sum(v for k, v in rate.cpu.items() if k != "load generator") / max(1, rate.sent) * 1000
                print(f"  p95 {p95 * 1000:.0f} ms, {len(rate.errors)} errors, {product:.0f} CPU ms a message")
                if p95 > SATURATED:
                    break
        finally:
            supervisor.stop()
    machine = subprocess.run(["uname", "-m"], capture_output=True, text=True).stdout.strip()
    body = report(rates, busy, machine, os.cpu_count() or 0)
    print(body)
    if args.write:
        write_section("capacity", body)
    print(statistics.mean([len(r.errors) for r in rates]) if rates else "no rate measured")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
