"""The simulator's HTTP side: the fake platform API under ``/simulator/platform`` and the chat
front end (a page at ``/simulator/`` and the JSON it and ``make chat`` use)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

import httpx
import yaml
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from api.settings import ROOT
from api.simulator.phone import Phone, PhoneConfig, PhoneResult
from fake_wechat.platform import FakePlatform

PAGE = Path(__file__).with_name("chat.html")
# Development only, and no part of the API contract: kept out of the OpenAPI description.
router = APIRouter(prefix="/simulator", tags=["simulator"], include_in_schema=False)


def platform_of(request: Request) -> FakePlatform:
    platform: FakePlatform = request.app.state.simulator_platform
    return platform


# --- the fake platform API (what the channel calls) ---------------------------------------
@router.get("/platform/cgi-bin/token")
def token(request: Request, grant_type: str = "", appid: str = "", secret: str = "") -> dict[str, Any]:
    return platform_of(request).token(grant_type, appid, secret)


async def json_body(request: Request) -> dict[str, Any] | None:
    try:
        payload = json.loads(await request.body() or b"{}")
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


BAD_JSON = {"errcode": 47001, "errmsg": "data format error"}


@router.get("/platform/cgi-bin/media/get")
def media_get(request: Request, access_token: str = "", media_id: str = "") -> Response:
    """Temporary media as the platform serves it: the bytes, or a JSON error."""
    found = platform_of(request).get_media(access_token, media_id)
    if isinstance(found, bytes):
        return Response(found, media_type="image/png")
    return JSONResponse(found)


@router.post("/platform/cgi-bin/message/custom/send")
async def custom_send(request: Request, access_token: str = "") -> dict[str, Any]:
    payload = await json_body(request)
    return BAD_JSON if payload is None else platform_of(request).custom_send(access_token, payload)


@router.post("/platform/cgi-bin/message/template/send")
async def template_send(request: Request, access_token: str = "") -> dict[str, Any]:
    payload = await json_body(request)
    return BAD_JSON if payload is None else platform_of(request).template_send(access_token, payload)


@router.get("/platform/cgi-bin/user/get")
def user_get(request: Request, access_token: str = "") -> dict[str, Any]:
    return platform_of(request).user_get(access_token)


@router.post("/platform/cgi-bin/message/mass/sendall")
async def mass_sendall(request: Request, access_token: str = "") -> dict[str, Any]:
    payload = await json_body(request)
    return BAD_JSON if payload is None else platform_of(request).mass_sendall(access_token, payload)


@router.post("/platform/cgi-bin/message/mass/get")
async def mass_get(request: Request, access_token: str = "") -> dict[str, Any]:
    payload = await json_body(request)
    return BAD_JSON if payload is None else platform_of(request).mass_get(access_token, payload)


@router.post("/platform/cgi-bin/menu/create")
async def menu_create(request: Request, access_token: str = "") -> dict[str, Any]:
    payload = await json_body(request)
    return BAD_JSON if payload is None else platform_of(request).create_menu(access_token, payload)


# --- the chat front end (what the page and `make chat` call) -----------------------------------
class Push(BaseModel):
    """One thing the resident does on the phone."""

    openid: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    kind: Literal["text", "voice", "image", "location", "subscribe", "unsubscribe", "click"] = "text"
    content: str = Field(default="", max_length=2000)


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def page() -> HTMLResponse:
    return HTMLResponse(PAGE.read_text(encoding="utf-8"))


@router.post("/api/push")
async def push(request: Request, body: Push) -> dict[str, Any]:
    phone: Phone = request.app.state.simulator_phone
    result: PhoneResult
    if body.kind == "text":
        result = await phone.text(body.openid, body.content)
    elif body.kind == "voice":
        result = await phone.voice(body.openid, body.content)
    elif body.kind == "image":
        result = await phone.image(body.openid, body.content or "https://example.invalid/photo.jpg")
    elif body.kind == "location":
        result = await phone.location(body.openid, body.content or "阳光小区")
    elif body.kind == "click":
        result = await phone.event(body.openid, "CLICK", body.content)
    else:
        result = await phone.event(body.openid, body.kind)
    return asdict(result)


class PlatformTrouble(BaseModel):
    busy_calls: int = Field(ge=0, le=1_000_000)


@router.post("/api/platform/trouble")
def platform_trouble(request: Request, body: PlatformTrouble) -> dict[str, Any]:
    """The next ``busy_calls`` platform API calls answer "system busy" (errcode -1), as the platform does
    when it is in trouble; 0 ends it. For trying how the channel keeps and retries messages."""
    platform = platform_of(request)
    platform.failures_left = body.busy_calls
    return {"busy_calls": platform.failures_left}


@router.get("/api/inbox")
def inbox(request: Request, openid: str = Query(min_length=1), after: int = 0) -> dict[str, Any]:
    """Messages the platform delivered to this resident after ``after`` (customer-service and template)."""
    return {"messages": [asdict(m) for m in platform_of(request).inbox(openid, after)]}


@router.get("/api/menu")
def menu(request: Request) -> dict[str, Any]:
    """The installed menu, else the shipped definition, for the page's menu bar."""
    installed = platform_of(request).menu
    if installed:
        return installed
    path = Path(request.app.state.settings.wechat_menu)
    if not path.is_absolute():
        path = ROOT / path
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    return data if isinstance(data, dict) else {"button": []}


def make_phone(settings: Any, platform: FakePlatform, client: httpx.AsyncClient) -> Phone:
    mode = settings.wechat_mode or ("safe" if settings.wechat_encoding_aes_key else "plaintext")
    return Phone(
        PhoneConfig(
            webhook_url=settings.rasa_url.rstrip("/") + "/webhooks/wechat/webhook",
            token=settings.wechat_token.get_secret_value(),
            app_id=settings.wechat_app_id,
            encoding_aes_key=settings.wechat_encoding_aes_key,
            mode=mode,
        ),
        client,
        platform,
    )
