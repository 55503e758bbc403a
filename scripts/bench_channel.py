"""Time to the resident's first answer: the WeChat channel against Rasa's REST channel.

Starts the product (API, action server, Rasa with the same model) on free ports with both channels
registered, then sends the same messages through each: a signed XML push to
``/webhooks/wechat/webhook`` (the passive reply is the first answer) and a JSON POST to
``/webhooks/rest/webhook``. Every request is a new resident, so each turn does the same work.
Reports p50/p95 at 1 and 20 concurrent residents and the WeChat/REST ratio of the medians.

    .venv/api/bin/python scripts/bench_channel.py [--requests 200] [--write]   (part of ``make bench``)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402

from scripts.benchdoc import write_section  # noqa: E402

MESSAGES = [
    "暖气费一平方多少钱",
    "今年什么时候开始供暖",
    "家里要多少度才算合格",
    "多交的暖气费怎么退",
    "你们的服务热线是多少",
]
TOKEN = "bench-wechat-token"
PUSH = (
    "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
    "<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>"
    "<MsgId>{msg_id}</MsgId></xml>"
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


async def wechat_turn(client: httpx.AsyncClient, rasa: str, n: int) -> float:
    ts, nonce = str(int(time.time())), str(n)
    signature = hashlib.sha1("".join(sorted([TOKEN, ts, nonce])).encode()).hexdigest()
    body = PUSH.format(openid=f"oBENCH{n:06d}", ts=ts, text=MESSAGES[n % len(MESSAGES)], msg_id=10**16 + n)
    started = time.perf_counter()
    response = await client.post(
        f"{rasa}/webhooks/wechat/webhook",
        params={"signature": signature, "timestamp": ts, "nonce": nonce},
        content=body.encode("utf-8"),
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 200 or "<Content>" not in response.text:
        raise RuntimeError(f"wechat turn {n}: {response.status_code} {response.text[:200]}")
    return elapsed


async def rest_turn(client: httpx.AsyncClient, rasa: str, n: int) -> float:
    started = time.perf_counter()
    response = await client.post(
        f"{rasa}/webhooks/rest/webhook", json={"sender": f"rBENCH{n:06d}", "message": MESSAGES[n % len(MESSAGES)]}
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 200 or not response.json():
        raise RuntimeError(f"rest turn {n}: {response.status_code} {response.text[:200]}")
    return elapsed


async def measure(turn: object, rasa: str, requests: int, concurrency: int, offset: int) -> list[float]:
    semaphore = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=60) as client:

        async def one(n: int) -> float:
            async with semaphore:
                return await turn(client, rasa, offset + n)  # type: ignore[operator]

        return list(await asyncio.gather(*(one(n) for n in range(requests))))


def start_stack(work: Path) -> tuple[stack.Supervisor, dict[str, str]]:
    credentials = work / "credentials.yml"
    credentials.write_text(
        (ROOT / "credentials.yml").read_text(encoding="utf-8") + "\n# the benchmark's baseline\nrest:\n",
        encoding="utf-8",
    )
    env = stack.isolated_env(work, {"WECHAT_TOKEN": TOKEN})
    services = stack.build_services(["api", "actions", "rasa"], env)
    rasa = next(s for s in services if s.name == "rasa")
    rasa.command[rasa.command.index("credentials.yml")] = str(credentials)
    supervisor = stack.Supervisor(services, env, log_dir=work)
    supervisor.start(timeout=300)
    return supervisor, env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="turns per channel and concurrency")
    parser.add_argument("--write", action="store_true", help="write the figures into docs/benchmarks.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        supervisor, env = start_stack(Path(tmp))
        rasa = env["RASA_URL"].rstrip("/")
        try:
            asyncio.run(measure(wechat_turn, rasa, 20, 4, 900_000))  # warm-up: models, caches, connections
            asyncio.run(measure(rest_turn, rasa, 20, 4, 900_000))
            rows, ratios = [], []
            for concurrency in (1, 20):
                offset = concurrency * 100_000
                # alternate the channels so drift on the machine hits both alike
                wechat = asyncio.run(measure(wechat_turn, rasa, args.requests, concurrency, offset))
                rest = asyncio.run(measure(rest_turn, rasa, args.requests, concurrency, offset))
                ratio = statistics.median(wechat) / statistics.median(rest)
                ratios.append(ratio)
                for name, values in (("WeChat", wechat), ("REST", rest)):
                    rows.append(
                        f"| {name} | {concurrency} | {args.requests} | {percentile(values, 0.5) * 1000:.0f} | "
                        f"{percentile(values, 0.95) * 1000:.0f} |"
                    )
                print(f"concurrency {concurrency}: WeChat/REST median ratio {ratio:.2f}", flush=True)
        finally:
            supervisor.stop()
    body = "\n".join(
        [
            "## WeChat channel against Rasa's REST channel",
            "",
            f"Command: `make bench` (`scripts/bench_channel.py --requests {args.requests}`), "
            f"{platform.machine()}, Python {platform.python_version()} for the client; the same model and "
            "processes serve both channels; each turn is a new resident asking a policy question "
            "(NLU, rules, one custom action reading the knowledge file).",
            "",
            "| channel | concurrent residents | turns | p50 ms | p95 ms |",
            "|---|---|---|---|---|",
            *rows,
            "",
            f"Time to first answer, WeChat/REST ratio of the medians: {ratios[0]:.2f} with 1 resident, "
            f"{ratios[1]:.2f} with 20 (target ≤ 1.2). The WeChat turn adds signature checks, XML parsing, "
            "the retry key in the shared state and the reply XML.",
        ]
    )
    print(body)
    if args.write:
        write_section("channel", body)
    return 0 if max(ratios) <= 1.2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
