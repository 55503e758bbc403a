"""Installs the account's custom menu (``config/wechat_menu.yml``) on the platform.

    python -m channels.menu [--file config/wechat_menu.yml]   (``make menu``)

Reads ``WECHAT_APP_ID``, ``WECHAT_APP_SECRET`` and ``WECHAT_API_BASE_URL`` from the environment,
takes an access token and posts the menu to ``/cgi-bin/menu/create``; our ``intent`` fields are
stripped first. Exits non-zero with the platform's error when it refuses the menu.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from channels.delivery import PlatformClient, PlatformUnavailable, TokenCache
from channels.protocol import DEFAULT_API_BASE_URL
from channels.state import MemoryState
from channels.wechat import load_menu

PLATFORM_FIELDS = ("type", "name", "key", "url", "appid", "pagepath", "media_id", "article_id")


def platform_menu(menu: dict[str, Any]) -> dict[str, Any]:
    """The menu as the platform takes it: only the platform's own fields."""

    def clean(item: dict[str, Any]) -> dict[str, Any]:
        out = {k: item[k] for k in PLATFORM_FIELDS if k in item}
        if item.get("sub_button"):
            out["sub_button"] = [clean(sub) for sub in item["sub_button"]]
        return out

    return {"button": [clean(button) for button in menu.get("button", [])]}


async def install(path: str, base_url: str, app_id: str, secret: str) -> dict[str, Any]:
    client = PlatformClient(base_url)
    try:
        token = await TokenCache(MemoryState(), client, app_id, secret).get()
        return await client.post("/cgi-bin/menu/create", token, platform_menu(load_menu(path)))
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", default=os.environ.get("WECHAT_MENU") or "config/wechat_menu.yml")
    args = parser.parse_args(argv)
    app_id, secret = os.environ.get("WECHAT_APP_ID", ""), os.environ.get("WECHAT_APP_SECRET", "")
    if not (app_id and secret):
        print("menu: set WECHAT_APP_ID and WECHAT_APP_SECRET", file=sys.stderr)
        return 2
    base_url = os.environ.get("WECHAT_API_BASE_URL") or DEFAULT_API_BASE_URL
    try:
        result = asyncio.run(install(args.file, base_url, app_id, secret))
    except (PlatformUnavailable, ValueError) as exc:
        print(f"menu: not installed: {exc}", file=sys.stderr)
        return 1
    if int(result.get("errcode") or 0) != 0:
        print(f"menu: the platform refused it: {result}", file=sys.stderr)
        return 1
    print(f"menu: installed from {args.file} on {base_url}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
