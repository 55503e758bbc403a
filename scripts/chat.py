"""`make chat`: talk to the bot from a terminal, as a WeChat resident, through the simulator.

Needs `make run` in another terminal (the simulator lives in the backend). Each line you type is
pushed to the bot's webhook the way the platform does it (signed, encrypted in safe mode, 5-second
timeout, retries); passive replies print at once and customer-service pushes as they arrive.
Commands: /subscribe, /menu KEY, /voice TEXT, /image, /location PLACE, /openid ID, /quit.
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any


def call(base: str, path: str, body: dict[str, Any] | None = None, timeout: float = 30) -> dict[str, Any]:
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(base + path, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return dict(json.loads(response.read().decode("utf-8")))


def show(prefix: str, text: str) -> None:
    print(f"\r{prefix} " + text.replace("\n", "\n" + " " * (len(prefix) + 1)), flush=True)


class Pushes(threading.Thread):
    """Polls the simulator's inbox and prints customer-service and template messages."""

    def __init__(self, base: str, openid: str) -> None:
        super().__init__(daemon=True)
        self.base, self.openid, self.after = base, openid, 0

    def run(self) -> None:
        while True:
            try:
                inbox = call(self.base, f"/simulator/api/inbox?openid={self.openid}&after={self.after}", timeout=5)
                for message in inbox.get("messages", []):
                    self.after = max(self.after, int(message["seq"]))
                    show("客服消息>" if message["kind"] == "custom" else "模板消息>", message["text"])
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(1)


def parse(line: str) -> tuple[str, str]:
    """A typed line as (kind, content) of the simulator's push API."""
    if line.startswith("/subscribe"):
        return "subscribe", ""
    for command, kind in (("/menu ", "click"), ("/voice ", "voice"), ("/location ", "location")):
        if line.startswith(command):
            return kind, line[len(command) :].strip()
    if line.startswith("/image"):
        return "image", "https://example.invalid/radiator.jpg"
    return "text", line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Chat with the bot as a WeChat resident (needs `make run`).")
    parser.add_argument("--api", default=os.environ.get("API_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--openid", default="oTERMINAL0001")
    args = parser.parse_args(argv)
    base = args.api.rstrip("/")
    try:
        menu = call(base, "/simulator/api/menu", timeout=5)
    except (urllib.error.URLError, OSError) as exc:
        print(f"chat: the simulator at {base}/simulator is not reachable ({exc}).", file=sys.stderr)
        print("chat: start everything with `make run` in another terminal first.", file=sys.stderr)
        return 2
    keys = [
        f"{b['key']}={b['name']}"
        for top in menu.get("button", [])
        for b in top.get("sub_button", [top])
        if b.get("key")
    ]
    print(f"You are resident {args.openid}. Type a message; /quit to leave.")
    print("Menu keys (/menu KEY): " + ", ".join(keys))
    openid = args.openid
    pushes = Pushes(base, openid)
    pushes.start()
    while True:
        try:
            line = input("我> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not line:
            continue
        if line == "/quit":
            return 0
        if line.startswith("/openid "):
            openid = line.split(maxsplit=1)[1]
            pushes = Pushes(base, openid)
            pushes.start()
            continue
        kind, content = parse(line)
        try:
            result = call(base, "/simulator/api/push", {"openid": openid, "kind": kind, "content": content})
        except urllib.error.HTTPError as exc:
            show("!", f"the simulator refused it: {exc.read().decode('utf-8', 'replace')[:300]}")
            continue
        except (urllib.error.URLError, OSError) as exc:
            show("!", f"the simulator is not reachable: {exc}")
            continue
        retried = f" (第{result['tries']}次推送)" if result.get("tries", 1) > 1 else ""
        if result["status"] == "reply":
            show("助手>", result["reply"] + retried)
        elif result["status"] == "success":
            show("…", "已受理，答复将通过客服消息送达" + retried)
        elif result["status"] == "no-answer":
            show("!", f"5秒内无应答，平台重试了{result['tries']}次")
        else:
            show("!", f"推送被拒绝：{result.get('http_status')} {result.get('detail')}")


if __name__ == "__main__":
    raise SystemExit(main())
