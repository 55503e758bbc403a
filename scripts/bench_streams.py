"""Live chat streams under load: does a desk of agents with chat pages open leave the backend answering?

Starts the product (API, action server, Rasa) on free ports as `make run` does, with its own SQLite
databases and the settings of ``.env.example``. 50 residents tell the bot a problem and ask for a person
through the signed WeChat webhook, so 50 chats wait with a real conversation in Rasa; 50 agents log in,
and each opens the live stream (``/console/chats/{id}/stream``, server-sent events) of four chats: 200
streams, four per person (the cap is five). Before the streams open and while they run, it measures
``/health``, the order board (``/console/orders``, the fragment htmx asks for, 1,000 open orders) and a resident's turn
through the WeChat webhook (a signed push, a new resident each time, timed to the passive reply); and
how many streams opened, the lines they received, and the machine's cores busy.

    .venv/api/bin/python scripts/bench_streams.py [--agents 50] [--per-agent 4] [--write]   (make bench)
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402

from scripts.bench_channel import TOKEN, percentile  # noqa: E402
from scripts.bench_console import seed_orders  # noqa: E402
from scripts.bench_scaled import QUESTIONS, MemorySampler, signed_push  # noqa: E402
from scripts.benchdoc import write_section  # noqa: E402

PASSWORD = "bench streams password"


def make_agents(env: dict[str, str], count: int) -> None:
    """``count`` agents (bench-agent-0 …) in one process; a low bcrypt work factor keeps the logins quick."""
    code = f"""
from datetime import UTC, datetime
from api.db import make_engine, make_session_factory
from api.schemas import StaffUserCreate
from api.services import staff
from api.settings import Settings
factory = make_session_factory(make_engine(Settings().sqlalchemy_url))
with factory() as session:
    for n in range({count}):
        data = StaffUserCreate(username=f"bench-agent-{{n}}", display_name=f"坐席{{n}}", role="agent",
                               password={PASSWORD!r})
        staff.create_staff_user(session, data, datetime.now(UTC), rounds=4)
"""
    subprocess.run([stack.API_VENV.bin("python"), "-c", code], cwd=ROOT, env=env, check=True)


async def log_in(client: httpx.AsyncClient, count: int) -> list[str]:
    """The agents' session tokens (the console's cookie carries the API's session token)."""
    tokens = []
    for n in range(count):
        answer = await client.post("/api/v1/auth/login", json={"username": f"bench-agent-{n}", "password": PASSWORD})
        answer.raise_for_status()
        tokens.append(answer.json()["token"])
    return tokens


async def push(client: httpx.AsyncClient, rasa: str, openid: str, text: str, msg_id: int) -> bool:
    """A signed WeChat push; True when the bot answered within the passive reply (not pushed later)."""
    params, body = signed_push(openid, text, msg_id)
    answer = await client.post(f"{rasa}/webhooks/wechat/webhook", params=params, content=body)
    answer.raise_for_status()
    return "<Content>" in answer.text


async def waiting_chats(api: httpx.AsyncClient, rasa: str, token: str, residents: int) -> list[int]:
    """Each resident tells the bot a problem and asks for a person; the handoffs the bot opened."""
    async with httpx.AsyncClient(timeout=60) as client:
        for n in range(residents):
            await push(client, rasa, f"oSTREAM{n:04d}", "我家暖气不热，屋里才十五度", 710_000 + n)
            await push(client, rasa, f"oSTREAM{n:04d}", "转人工", 720_000 + n)
    answer = await api.get("/api/v1/handoffs", params={"status": "waiting"}, headers={"Authorization": token})
    answer.raise_for_status()
    return sorted(h["id"] for h in answer.json()["items"])


@dataclass
class Streams:
    """The open streams: how many answered 200, were refused or failed, and the lines they received."""

    expected: int
    opened: int = 0
    refused: int = 0
    failed: list[str] = field(default_factory=list)
    received: int = 0  # events and keep-alives, all streams together
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def settled(self) -> None:
        """One more stream opened, was refused or failed; all have once none is left to answer."""
        if self.opened + self.refused + len(self.failed) >= self.expected:
            self.ready.set()


async def hold_stream(client: httpx.AsyncClient, handoff_id: int, streams: Streams) -> None:
    """One chat page's stream, read until the benchmark is done (as a browser keeps it)."""

    async def read(lines: AsyncIterator[str]) -> None:
        async for line in lines:
            if line.startswith("retry:"):
                streams.opened += 1
                streams.settled()
            elif line.startswith(("event:", ":")):
                streams.received += 1

    try:
        async with client.stream("GET", f"/console/chats/{handoff_id}/stream") as answer:
            if answer.status_code != 200:
                if answer.status_code == 429:
                    streams.refused += 1
                else:
                    streams.failed.append(str(answer.status_code))
                streams.settled()
                return
            reader = asyncio.ensure_future(read(answer.aiter_lines()))
            stopped = asyncio.ensure_future(streams.stop.wait())
            await asyncio.wait({reader, stopped}, return_when=asyncio.FIRST_COMPLETED)
            for task in (reader, stopped):
                task.cancel()
            await asyncio.gather(reader, stopped, return_exceptions=True)
    except httpx.HTTPError as exc:
        streams.failed.append(type(exc).__name__)
        streams.settled()


@dataclass
class Probes:
    """Seconds of each kind of request, one at a time, and how many of each failed (an error status, no
    answer, or for a turn no passive reply: the bot answered only later, by push)."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)

    async def time(self, kind: str, call: Callable[[int], Awaitable[bool]], runs: int) -> None:
        self.seconds[kind], self.failed[kind] = [], 0
        for n in range(runs):
            started = time.perf_counter()
            try:
                answered = await call(n)
            except httpx.HTTPError:
                answered = False
            self.seconds[kind].append(time.perf_counter() - started)
            self.failed[kind] += not answered


async def probes(api: str, rasa: str, cookie: str, runs: int, offset: int) -> Probes:
    """``/health``, the order board and a resident's turn, one at a time, ``runs`` times each."""
    found = Probes()
    async with httpx.AsyncClient(base_url=api, timeout=120) as client, httpx.AsyncClient(timeout=120) as bot:

        async def health(_: int) -> bool:
            return (await client.get("/health")).status_code == 200

        async def board(_: int) -> bool:
            answer = await client.get(
                "/console/orders", headers={"Cookie": f"hs_console={cookie}", "HX-Request": "true"}
            )
            return answer.status_code == 200

        async def turn(n: int) -> bool:
            return await push(bot, rasa, f"oPROBE{offset + n:07d}", QUESTIONS[n % len(QUESTIONS)], offset + n)

        await turn(runs)  # warm-up: a first turn loads what later ones reuse
        for kind, call in (("health", health), ("board", board), ("turn", turn)):
            await found.time(kind, call, runs)
    return found


async def scenario(
    api: str, rasa: str, agents: int, per_agent: int, runs: int, sampler: MemorySampler
) -> tuple[Probes, Probes, Streams, float, float]:
    """The probes before the streams, then with ``agents`` × ``per_agent`` streams open."""
    async with httpx.AsyncClient(base_url=api, timeout=60) as client:
        tokens = await log_in(client, agents)
        chats = await waiting_chats(client, rasa, f"Bearer {tokens[0]}", agents)
    before = await probes(api, rasa, tokens[0], runs, 800_000)
    streams = Streams(expected=agents * per_agent)
    no_read_timeout = httpx.Timeout(60, read=None)
    desks = [
        httpx.AsyncClient(base_url=api, headers={"Cookie": f"hs_console={t}"}, timeout=no_read_timeout) for t in tokens
    ]
    holders = [
        asyncio.ensure_future(hold_stream(desks[a], chats[(a + k) % len(chats)], streams))
        for a in range(agents)
        for k in range(per_agent)
    ]
    try:
        await asyncio.wait_for(streams.ready.wait(), timeout=600)
        started, received = time.monotonic(), streams.received
        during = await probes(api, rasa, tokens[0], runs, 900_000)
        held = time.monotonic() - started
        rate = (streams.received - received) / streams.expected / held
        busy = sampler.busy_between(started, time.monotonic())
    finally:
        streams.stop.set()
        await asyncio.gather(*holders, return_exceptions=True)
        for desk in desks:
            await desk.aclose()
    return before, during, streams, rate, busy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--per-agent", type=int, default=4)
    parser.add_argument("--runs", type=int, default=20, help="requests of each probe, before and during")
    parser.add_argument("--write", action="store_true", help="write the figures into docs/benchmarks.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = stack.isolated_env(Path(tmp), {"WECHAT_TOKEN": TOKEN, "SCHEDULER_ENABLED": "false"})
        supervisor = stack.Supervisor(stack.build_services(["api", "actions", "rasa"], env), env, log_dir=Path(tmp))
        supervisor.start(timeout=300)
        try:
            make_agents(env, args.agents)
            seed_orders(env, 1_000)
            with MemorySampler(supervisor.services) as sampler:
                before, during, streams, rate, busy = asyncio.run(
                    scenario(env["API_URL"], env["RASA_URL"], args.agents, args.per_agent, args.runs, sampler)
                )
        finally:
            supervisor.stop()

    def ms(values: list[float], share: float) -> str:
        return f"{percentile(values, share) * 1000:.0f}"

    names = {"health": "`/health`", "board": "order board (1,000 open orders)", "turn": "a resident's turn (WeChat)"}

    def row(kind: str) -> str:
        b, d = before.seconds[kind], during.seconds[kind]
        failed = f"{before.failed[kind]} / {during.failed[kind]}"
        return (
            f"| {names[kind]} | {ms(b, 0.5)} | {ms(b, 0.95)} | {ms(d, 0.5)} | {ms(d, 0.95)} | {max(d) * 1000:.0f} "
            f"| {failed} |"
        )

    memory = ", ".join(f"{name} {kib / 1024:.0f} MB" for name, kib in sampler.peak_kib.items()) or "not sampled"
    body = "\n".join(
        [
            "## Live chat streams",
            "",
            f"Command: `make bench` (`scripts/bench_streams.py --agents {args.agents} --per-agent {args.per_agent}`)."
            f" Machine: {platform.machine()}, 2 cores, Python {platform.python_version()}, SQLite, the settings of "
            "`.env.example` (pool 10 + 10, 5 streams per person, 4 stream workers, a look a second); measured "
            f"{time.strftime('%Y-%m-%d')}.",
            "",
            f"{args.agents} agents each hold {args.per_agent} chat pages' streams ({streams.expected} streams over "
            f"{args.agents} waiting chats with real conversations in Rasa); {args.runs} requests of each kind, one "
            "at a time, before the streams open and while they run (a turn is a new resident's question through "
            "the signed webhook, timed to the passive reply):",
            "",
            "| request | before p50 ms | before p95 ms | during p50 ms | during p95 ms | during max ms | failed |",
            "|---|---:|---:|---:|---:|---:|---:|",
            *[row(kind) for kind in names],
            "",
            f"Streams: {streams.opened} of {streams.expected} open, {streams.refused} refused, "
            f"{len(streams.failed)} failed{' ' + str(sorted(set(streams.failed))) if streams.failed else ''}; "
            f"{rate:.2f} lines (changes and keep-alives) per stream per second while measured, against 1 looked "
            f"for; cores {busy:.0%} busy while measured; peak memory: {memory}. Failed: an error status or none "
            "(before / during); for a turn, no passive reply (the bot answered later, by push).",
        ]
    )
    print(body)
    if args.write:
        write_section("streams", body)
    broken = sum(during.failed.values()) + len(streams.failed)
    return 0 if streams.opened == streams.expected and not broken else 1


if __name__ == "__main__":
    raise SystemExit(main())
