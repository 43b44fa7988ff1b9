"""The device UI gateway: token entry, local login, sessions, proxy, status page.

Everything runs on 127.0.0.1: a real gateway on a free port in front of a real tiny
aiohttp upstream that records every request it gets and echoes the headers back,
and a real credential mirror with bcrypt cost 4.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import dataclasses
from dataclasses import dataclass, field
import datetime
import gzip
import hashlib
from http.cookies import SimpleCookie
import json
import logging
from pathlib import Path
import re
import socket
import ssl
import time
from typing import Any

import aiohttp
from aiohttp import web
import bcrypt
from cryptography import x509
import pytest
import voluptuous as vol
from yarl import URL

from fluxilab_agent import certificate as certificate_module
from fluxilab_agent.agent import Agent
from fluxilab_agent.certificate import (
    GatewayCertificate,
    load_certificate,
    self_signed_certificate,
)
from fluxilab_agent.cli import simulated_config
from fluxilab_agent.config import AgentConfig, GatewayConfig
from fluxilab_agent.device_ui import LazyGateway
from fluxilab_agent.gateway import (
    COOKIE_NAME,
    SECURE_COOKIE_NAME,
    TOKEN_PARAM,
    Gateway,
    LoginThrottle,
)
from fluxilab_agent.mirror import CredentialMirror, hash_secret
from fluxilab_protocol.schemas import ANNOUNCE_SCHEMA, MAX_PROBLEM_TEXT
from fluxilab_protocol.security import KeyPair, SessionKeys, issue_token

DEVICE_ID = "hood-1"
PINS = {"m-user": "246810", "m-staff": "135791", "m-admin": "424242"}


def _credentials(*member_ids: str, generation: int = 1) -> dict[str, Any]:
    people = {
        "m-user": ("Niccolò Rossi", "user"),
        "m-staff": ("Ada Lovelace", "staff"),
        "m-admin": ("Grace Hopper", "admin"),
    }
    return {
        "generation": generation,
        "members": [
            {
                "id": member_id,
                "name": people[member_id][0],
                "level": people[member_id][1],
                "cards": [f"card-{member_id}"],
                "pin_hash": hash_secret(PINS[member_id], rounds=4),
                "maintenance": False,
            }
            for member_id in member_ids
        ],
    }


def _pair() -> SessionKeys:
    return KeyPair.generate().derive(KeyPair.generate().public_b64)


@dataclass
class Upstream:
    """A device UI that records what reaches it."""

    url: str
    hits: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    state = Upstream(url="")

    async def echo(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        hit = {
            "method": request.method,
            "raw_path": request.raw_path,
            "headers": list(request.headers.items()),
            "body_len": len(body),
            "body_sha": hashlib.sha256(body).hexdigest(),
        }
        state.hits.append(hit)
        if request.path == "/redirect":
            raise web.HTTPFound(state.url + "/elsewhere")
        if request.path == "/gzip":
            return web.Response(
                body=gzip.compress(b"compressed payload"),
                headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"},
            )
        if request.path == "/chunked":
            streamed = web.StreamResponse()
            streamed.enable_chunked_encoding()
            await streamed.prepare(request)
            for part in range(50):
                await streamed.write(f"part {part}\n".encode())
            await streamed.write_eof()
            return streamed
        if request.path == "/cookie":
            response = web.json_response(hit)
            response.set_cookie("ui_pref", "dark")
            response.set_cookie(COOKIE_NAME, "hijack")
            return response
        return web.json_response(hit)

    async def websocket(request: web.Request) -> web.StreamResponse:
        state.hits.append({"method": "WS", "raw_path": request.raw_path})
        ws = web.WebSocketResponse(protocols=("fluxi.v1",))
        await ws.prepare(request)
        await ws.send_str("hello " + request.headers.get("X-FluxiLab-User", "?"))
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                await ws.send_str("echo:" + msg.data)
            elif msg.type is aiohttp.WSMsgType.BINARY:
                await ws.send_bytes(msg.data[::-1])
        return ws

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_get("/ws", websocket)
    app.router.add_route("*", "/{tail:.*}", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    state.url = f"http://127.0.0.1:{port}"
    yield state
    await runner.cleanup()


@pytest.fixture
def keys() -> SessionKeys:
    return _pair()


@pytest.fixture
def mirror(tmp_path: Path) -> CredentialMirror:
    mirror = CredentialMirror(tmp_path / "credentials.json")
    mirror.replace(_credentials("m-user", "m-staff", "m-admin"))
    return mirror


@dataclass
class Actions:
    """Records what the status page's controls asked the device to do."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fail: bool = False

    async def __call__(self, name: str, args: dict[str, Any]) -> None:
        if self.fail:
            raise RuntimeError("relay driver fault")
        self.calls.append((name, args))


STATUS = {
    "name": "Fumehood 1",
    "kind": "fumehood",
    "online": True,
    "telemetry": {
        "face_velocity": {"name": "Face velocity", "value": 0.52, "unit": "m/s"},
        "sash": {"name": "Sash height", "value": 40, "unit": "%"},
    },
    "actions": ["relay", "sync", "block", "unblock"],
}

GatewayFactory = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def make_gateway(
    keys: SessionKeys, mirror: CredentialMirror
) -> AsyncIterator[GatewayFactory]:
    started: list[Gateway] = []

    async def factory(**kwargs: Any) -> Gateway:
        options: dict[str, Any] = {
            "device_id": DEVICE_ID,
            "keys_provider": lambda: keys,
            "mirror": mirror,
            "upstream": None,
            "status_provider": lambda: STATUS,
            "port": 0,
        }
        options.update(kwargs)
        gateway = Gateway(**options)
        await gateway.start()
        started.append(gateway)
        return gateway

    yield factory
    for gateway in started:
        await gateway.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    # Cookies are handled by hand so every test states exactly what it sends.
    async with aiohttp.ClientSession(
        cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False
    ) as session:
        yield session


def _base(gateway: Gateway) -> str:
    return f"http://127.0.0.1:{gateway.port}"


def _token(keys: SessionKeys, **kwargs: Any) -> str:
    options: dict[str, Any] = {
        "device_id": DEVICE_ID,
        "subject": "m-staff",
        "role": "staff",
        "name": "Ada Lovelace",
    }
    options.update(kwargs)
    return issue_token(keys, **options)


def _session_cookie(response: aiohttp.ClientResponse, name: str = COOKIE_NAME) -> str:
    cookies: SimpleCookie = SimpleCookie()
    for header in response.headers.getall("Set-Cookie", []):
        cookies.load(header)
    return cookies[name].value


async def _enter(
    http: aiohttp.ClientSession, gateway: Gateway, keys: SessionKeys, **claims: Any
) -> str:
    """Use a fresh token and return the session cookie header."""
    async with http.get(
        _base(gateway) + "/", params={TOKEN_PARAM: _token(keys, **claims)}
    ) as response:
        assert response.status == 200
        return f"{COOKIE_NAME}={_session_cookie(response)}"


async def _login(
    http: aiohttp.ClientSession, gateway: Gateway, login: str, secret: str, **form: str
) -> aiohttp.ClientResponse:
    async with http.post(
        _base(gateway) + "/_fluxilab/login",
        data={"login": login, "secret": secret, **form},
        allow_redirects=False,
    ) as response:
        await response.read()
        return response


def _identity(hit: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in hit["headers"]:
        if name.lower().startswith("x-fluxilab-"):
            found.setdefault(name.lower(), []).append(value)
    return found


# -- token entry --------------------------------------------------------------


async def test_token_entry_opens_session_and_proxies_identity(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
    upstream: Upstream,
) -> None:
    gateway = await make_gateway(upstream=upstream.url, session_ttl=900)
    token = _token(keys, subject="m-user", role="user", name="Niccolò Rossi")
    async with http.get(
        _base(gateway) + "/lab/page",
        params={"tab": "live", TOKEN_PARAM: token},
        allow_redirects=False,
    ) as response:
        page = await response.text()
        assert response.status == 200
        set_cookie = response.headers.getall("Set-Cookie")
        session_id = _session_cookie(response)
    assert upstream.hits == []
    assert len(set_cookie) == 1
    attributes = {part.strip().lower() for part in set_cookie[0].split(";")}
    assert {"httponly", "samesite=strict", "path=/", "max-age=900"} <= attributes
    assert "secure" not in attributes
    assert len(session_id) >= 40
    # The page replaces itself with the same URL without the token.
    assert '<meta http-equiv="refresh" content="0;url=/lab/page?tab=live">' in page
    assert token not in page
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"

    async with http.get(
        _base(gateway) + "/lab/page?tab=live",
        headers={
            "Cookie": f"theme=dark; {COOKIE_NAME}={session_id}",
            "X-FluxiLab-User": "m-admin",
            "x-fluxilab-role": "admin",
            "X-Fluxilab-Extra": "1",
            "X-Forwarded-For": "10.6.6.6",
        },
    ) as response:
        assert response.status == 200
        echoed = await response.json()
    assert len(upstream.hits) == 1
    assert echoed["raw_path"] == "/lab/page?tab=live"
    assert _identity(echoed) == {
        "x-fluxilab-user": ["m-user"],
        "x-fluxilab-role": ["user"],
        "x-fluxilab-name": ["Niccol%C3%B2%20Rossi"],
    }
    headers = dict(echoed["headers"])
    assert headers["Host"] == URL(upstream.url).raw_authority
    assert headers["Cookie"] == "theme=dark"
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert headers["X-Forwarded-Host"] == f"127.0.0.1:{gateway.port}"


async def test_identity_headers_spelled_with_underscores_are_dropped(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
    upstream: Upstream,
) -> None:
    # Before: "X_FluxiLab_Role: admin" passed (only "x-fluxilab-" was matched), and
    # CGI/WSGI-style servers (PHP, wsgiref, ...) read X_FluxiLab_Role and
    # X-FluxiLab-Role alike as HTTP_X_FLUXILAB_ROLE: the client's value, first in
    # the request, could stand for the gateway's identity at the device UI.
    gateway = await make_gateway(upstream=upstream.url)
    async with http.get(
        _base(gateway) + "/", params={TOKEN_PARAM: _token(keys, role="user")}
    ) as response:
        session_id = _session_cookie(response)
    async with http.get(
        _base(gateway) + "/lab",
        headers={
            "Cookie": f"{COOKIE_NAME}={session_id}",
            "X_FluxiLab_Role": "admin",
            "X-FluxiLab_User": "m-admin",
            "X_Forwarded_For": "10.6.6.6",
        },
    ) as response:
        assert response.status == 200
        echoed = await response.json()
    spelled = [
        name.lower().replace("_", "-")
        for name, _value in echoed["headers"]
        if "_" in name
    ]
    assert spelled == []
    assert _identity(echoed)["x-fluxilab-role"] == ["user"]


async def test_secure_cookie_uses_host_prefix(
    make_gateway: GatewayFactory, http: aiohttp.ClientSession, keys: SessionKeys
) -> None:
    gateway = await make_gateway(cookie_secure=True)
    async with http.get(
        _base(gateway) + "/", params={TOKEN_PARAM: _token(keys)}
    ) as response:
        assert response.status == 200
        (set_cookie,) = response.headers.getall("Set-Cookie")
    assert set_cookie.startswith(f"{SECURE_COOKIE_NAME}=")
    attributes = {part.strip().lower() for part in set_cookie.split(";")}
    assert {"httponly", "samesite=strict", "secure", "path=/"} <= attributes


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(
            lambda keys: _token(keys, now=time.time() - 400, lifetime=60), id="expired"
        ),
        pytest.param(lambda keys: _token(_pair()), id="forged"),
        pytest.param(
            lambda keys: _token(keys, device_id="hood-2"), id="wrong-audience"
        ),
        pytest.param(
            lambda keys: _token(_pair(), device_id="hood-2"), id="other-device"
        ),
        pytest.param(lambda keys: _token(keys, name=""), id="empty-name"),
        pytest.param(lambda keys: _token(keys)[:-4] + "AAAA", id="tampered-signature"),
        pytest.param(lambda keys: "not.a.jwt", id="garbage"),
        pytest.param(lambda keys: "", id="empty"),
    ],
)
async def test_bad_tokens_are_refused(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
    upstream: Upstream,
    make_token: Callable[[SessionKeys], str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = await make_gateway(upstream=upstream.url)
    token = make_token(keys)
    caplog.set_level(logging.INFO)
    for path in ("/", "/api/relay", "/_fluxilab/status.json"):
        async with http.get(
            _base(gateway) + path, params={TOKEN_PARAM: token}, allow_redirects=False
        ) as response:
            page = await response.text()
            assert response.status == 403
            assert "Set-Cookie" not in response.headers
            assert "Link not valid" in page
    assert upstream.hits == []
    assert "Refused a gateway token" in caplog.text
    if token:
        assert token not in caplog.text


async def test_token_is_single_use(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
    upstream: Upstream,
) -> None:
    gateway = await make_gateway(upstream=upstream.url)
    url = _base(gateway) + "/"
    token = _token(keys)
    async with http.get(url, params={TOKEN_PARAM: token}) as response:
        assert response.status == 200
        cookie = f"{COOKIE_NAME}={_session_cookie(response)}"
    # Replayed, with or without the session it opened: refused, nothing proxied.
    for headers in ({}, {"Cookie": cookie}):
        async with http.get(
            url, params={TOKEN_PARAM: token}, headers=headers
        ) as response:
            assert response.status == 403
    assert upstream.hits == []
    # The first session still works.
    async with http.get(url, headers={"Cookie": cookie}) as response:
        assert response.status == 200
    assert len(upstream.hits) == 1


async def test_new_entry_replaces_the_current_session(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
    upstream: Upstream,
) -> None:
    gateway = await make_gateway(upstream=upstream.url)
    first = await _enter(http, gateway, keys, subject="m-user", role="user")
    async with http.get(
        _base(gateway) + "/",
        params={TOKEN_PARAM: _token(keys, subject="m-admin", role="admin")},
        headers={"Cookie": first},
    ) as response:
        second = f"{COOKIE_NAME}={_session_cookie(response)}"
    assert second != first
    async with http.get(
        _base(gateway) + "/", headers={"Cookie": first}, allow_redirects=False
    ) as response:
        assert response.status == 303
    async with http.get(_base(gateway) + "/", headers={"Cookie": second}) as response:
        assert _identity(await response.json())["x-fluxilab-user"] == ["m-admin"]
    # Signed in already: the login page sends the browser on.
    async with http.get(
        _base(gateway) + "/_fluxilab/login",
        params={"next": "/dash"},
        headers={"Cookie": second},
        allow_redirects=False,
    ) as response:
        assert response.status == 303
        assert response.headers["Location"] == "/dash"


@pytest.mark.parametrize(
    "options",
    [
        {"upstream": "ftp://127.0.0.1/"},
        {"upstream": "127.0.0.1:8000"},
        {"session_ttl": 0},
    ],
)
def test_invalid_options_are_refused(
    keys: SessionKeys, mirror: CredentialMirror, options: dict[str, Any]
) -> None:
    arguments: dict[str, Any] = {
        "device_id": DEVICE_ID,
        "keys_provider": lambda: keys,
        "mirror": mirror,
        "upstream": None,
        "status_provider": dict,
    }
    with pytest.raises(ValueError, match=r"upstream|session_ttl"):
        Gateway(**{**arguments, **options})


async def test_unpaired_device_refuses_tokens_but_allows_login(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
    upstream: Upstream,
) -> None:
    gateway = await make_gateway(upstream=upstream.url, keys_provider=lambda: None)
    async with http.get(
        _base(gateway) + "/", params={TOKEN_PARAM: _token(keys)}
    ) as response:
        assert response.status == 503
        assert "not paired" in await response.text()
        assert "Set-Cookie" not in response.headers
    async with http.get(_base(gateway) + "/_fluxilab/login") as response:
        assert response.status == 200
        assert "not paired with the lab hub yet" in await response.text()
    response = await _login(http, gateway, "m-staff", PINS["m-staff"])
    assert response.status == 303
    async with http.get(
        _base(gateway) + "/x",
        headers={"Cookie": f"{COOKIE_NAME}={_session_cookie(response)}"},
    ) as proxied:
        assert _identity(await proxied.json())["x-fluxilab-role"] == ["staff"]
    assert len(upstream.hits) == 1


# -- nothing unauthenticated reaches the upstream -------------------------------

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
PATHS = (
    "/",
    "/index.html",
    "/api/relay?on=1",
    "/_fluxilab",
    "/_fluxilab/",
    "/_fluxilab/status.json",
    "/_fluxilab/action",
    "/_fluxilab/logout",
    "/_fluxilab/unknown",
    "/%5Ffluxilab/status.json",
    "/_fluxilab%2F..%2Fapi",
    "/_fluxilab/../api/relay",
    "/a%2Fb",
    "//127.0.0.1/api",
    "/?fluxilab_session=x",
)


async def _raw_request(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(65536), timeout=5)
    finally:
        writer.close()
        await writer.wait_closed()


async def test_unauthenticated_requests_never_reach_upstream(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    upstream: Upstream,
) -> None:
    gateway = await make_gateway(upstream=upstream.url)
    base = _base(gateway)
    forged_cookies: tuple[dict[str, str], ...] = (
        {},
        {"Cookie": f"{COOKIE_NAME}=guess"},
        {"Cookie": f"{SECURE_COOKIE_NAME}=guess"},
        {"X-FluxiLab-User": "m-admin", "X-FluxiLab-Role": "admin"},
    )
    statuses: set[int] = set()
    for method in METHODS:
        for path in PATHS:
            for headers in forged_cookies:
                async with http.request(
                    method,
                    URL(base + path, encoded=True),
                    headers=headers,
                    data=b"relay=on" if method in ("POST", "PUT", "PATCH") else None,
                    allow_redirects=False,
                ) as response:
                    await response.read()
                    statuses.add(response.status)
                    if response.status == 303:
                        assert response.headers["Location"].startswith(
                            "/_fluxilab/login"
                        )
    # A WebSocket upgrade without a session, and raw request targets aiohttp's
    # client would normalise.
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await http.ws_connect(base + "/ws")
    for target in (
        f"http://127.0.0.1:{URL(upstream.url).port}/api",
        "/..%2f..%2fapi",
        "*",
    ):
        reply = await _raw_request(
            gateway.port,
            f"OPTIONS {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Connection: close\r\n\r\n".encode(),
        )
        assert reply[9:12] in (b"400", b"401", b"404"), reply
    assert upstream.hits == []
    assert statuses <= {303, 401, 404, 405}, statuses


async def test_gateway_paths_are_never_proxied_even_with_session(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
    upstream: Upstream,
) -> None:
    gateway = await make_gateway(upstream=upstream.url)
    cookie = await _enter(http, gateway, keys)
    for path in ("/_fluxilab/unknown", "/%5Ffluxilab/unknown", "/_fluxilab/x/../y"):
        async with http.get(
            URL(_base(gateway) + path, encoded=True), headers={"Cookie": cookie}
        ) as response:
            assert response.status == 404
    assert upstream.hits == []


# -- proxy behaviour -----------------------------------------------------------


async def test_proxy_streams_bodies_and_passes_responses_through(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
    upstream: Upstream,
) -> None:
    gateway = await make_gateway(upstream=upstream.url)
    cookie = await _enter(http, gateway, keys)
    base = _base(gateway)
    payload = bytes(range(256)) * 8192  # 2 MiB

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), 65536):
            yield payload[start : start + 65536]

    async with http.put(
        base + "/upload?kind=log",
        data=chunks(),
        headers={"Cookie": cookie},
        expect100=True,
    ) as response:
        echoed = await response.json()
    assert echoed["method"] == "PUT"
    assert echoed["body_len"] == len(payload)
    assert echoed["body_sha"] == hashlib.sha256(payload).hexdigest()

    async with http.get(
        base + "/redirect", headers={"Cookie": cookie}, allow_redirects=False
    ) as response:
        assert response.status == 302
        assert response.headers["Location"] == "/elsewhere"

    async with http.get(base + "/gzip", headers={"Cookie": cookie}) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(await response.read()) == b"compressed payload"

    async with http.get(base + "/cookie", headers={"Cookie": cookie}) as response:
        set_cookies = response.headers.getall("Set-Cookie")
    assert [c.split("=", 1)[0] for c in set_cookies] == ["ui_pref"]

    async with http.head(base + "/page", headers={"Cookie": cookie}) as response:
        assert response.status == 200
        assert await response.read() == b""

    async with http.get(base + "/chunked", headers={"Cookie": cookie}) as response:
        assert response.headers["Transfer-Encoding"] == "chunked"
        assert (await response.text()).splitlines() == [f"part {i}" for i in range(50)]

    # Headers the client names in Connection are hop-by-hop and stay here.
    async with http.get(
        base + "/hop",
        headers={"Cookie": cookie, "Connection": "X-Hop-Only", "X-Hop-Only": "1"},
    ) as response:
        forwarded = {name.lower() for name, _ in (await response.json())["headers"]}
    assert "x-hop-only" not in forwarded

    assert [hit["method"] for hit in upstream.hits] == [
        "PUT",
        "GET",
        "GET",
        "GET",
        "HEAD",
        "GET",
        "GET",
    ]


async def test_upstream_down_gives_502(
    make_gateway: GatewayFactory, http: aiohttp.ClientSession, keys: SessionKeys
) -> None:
    # A port nothing listens on: bind, read the number, close.
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    gateway = await make_gateway(upstream=f"http://127.0.0.1:{port}")
    cookie = await _enter(http, gateway, keys)
    async with http.get(_base(gateway) + "/", headers={"Cookie": cookie}) as response:
        assert response.status == 502


async def test_websocket_is_proxied_with_identity(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
    upstream: Upstream,
) -> None:
    gateway = await make_gateway(upstream=upstream.url)
    cookie = await _enter(http, gateway, keys, subject="m-admin", role="admin")
    async with http.ws_connect(
        _base(gateway) + "/ws",
        headers={"Cookie": cookie, "X-FluxiLab-User": "spoof"},
        protocols=("fluxi.v1",),
    ) as ws:
        assert ws.protocol == "fluxi.v1"
        assert await ws.receive_str(timeout=5) == "hello m-admin"
        await ws.send_str("ping")
        assert await ws.receive_str(timeout=5) == "echo:ping"
        await ws.send_bytes(b"\x01\x02\x03")
        assert await ws.receive_bytes(timeout=5) == b"\x03\x02\x01"
    assert upstream.hits == [{"method": "WS", "raw_path": "/ws"}]


async def test_websocket_refused_by_upstream_gives_502(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
    upstream: Upstream,
) -> None:
    gateway = await make_gateway(upstream=upstream.url)
    cookie = await _enter(http, gateway, keys)
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await http.ws_connect(
            _base(gateway) + "/not-a-socket", headers={"Cookie": cookie}
        )
    assert err.value.status == 502


async def test_stop_closes_open_websockets(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
    upstream: Upstream,
) -> None:
    gateway = await make_gateway(upstream=upstream.url)
    cookie = await _enter(http, gateway, keys)
    async with http.ws_connect(
        _base(gateway) + "/ws", headers={"Cookie": cookie}
    ) as ws:
        assert (await ws.receive_str(timeout=5)).startswith("hello")
        await asyncio.wait_for(gateway.stop(), timeout=10)
        message = await ws.receive(timeout=5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


# -- local login ---------------------------------------------------------------


async def test_login_by_id_or_name(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    upstream: Upstream,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = await make_gateway(upstream=upstream.url)
    async with http.get(
        _base(gateway) + "/device?x=1", allow_redirects=False
    ) as response:
        assert response.status == 303
        login_url = response.headers["Location"]
    assert URL(login_url).query["next"] == "/device?x=1"
    async with http.get(_base(gateway) + login_url) as response:
        page = await response.text()
        assert response.status == 200
    assert 'name="next" value="/device?x=1"' in page
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]

    caplog.set_level(logging.INFO)
    wrong = await _login(http, gateway, "m-staff", "000000", next="/device?x=1")
    assert wrong.status == 401
    assert "Set-Cookie" not in wrong.headers
    unknown = await _login(http, gateway, "nobody", PINS["m-staff"])
    assert unknown.status == 401
    assert "000000" not in caplog.text
    assert PINS["m-staff"] not in caplog.text
    assert "Failed device login for 'm-staff' from 127.0.0.1" in caplog.text

    for login in ("m-staff", "Ada Lovelace"):
        good = await _login(http, gateway, login, PINS["m-staff"], next="/device?x=1")
        assert good.status == 303
        assert good.headers["Location"] == "/device?x=1"
        set_cookie = good.headers["Set-Cookie"].lower()
        assert "httponly" in set_cookie
        assert "samesite=strict" in set_cookie
        async with http.get(
            _base(gateway) + "/device",
            headers={"Cookie": f"{COOKIE_NAME}={_session_cookie(good)}"},
        ) as response:
            identity = _identity(await response.json())
        assert identity["x-fluxilab-user"] == ["m-staff"]
        assert identity["x-fluxilab-role"] == ["staff"]
        assert identity["x-fluxilab-name"] == ["Ada%20Lovelace"]
    assert PINS["m-staff"] not in caplog.text


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("http://127.0.0.1:8081/elsewhere?a=1", "/elsewhere?a=1"),
        ("http://127.0.0.1:8081", "/"),
        # A path of the upstream's own that would leave the gateway's site once
        # the upstream's origin is cut off: passed back as the upstream sent it.
        (
            "http://127.0.0.1:8081//evil.example/",
            "http://127.0.0.1:8081//evil.example/",
        ),
        (
            "http://127.0.0.1:8081/\\evil.example",
            "http://127.0.0.1:8081/\\evil.example",
        ),
        ("http://127.0.0.1:8081\\evil.example", "http://127.0.0.1:8081\\evil.example"),
        (
            "http://127.0.0.1:8081/\t/evil.example",
            "http://127.0.0.1:8081/\t/evil.example",
        ),
    ],
)
def test_upstream_redirects_are_made_local_only_when_they_stay_local(
    location: str, expected: str
) -> None:
    # Before: "http://<upstream>//evil.example/" (a path on the upstream, say from
    # its own ?next= handling) became "Location: //evil.example/", a redirect off
    # the device to any site, under the device's name.
    headers = Gateway._response_headers(
        "http://127.0.0.1:8081", [("Location", location)]
    )
    assert headers.getall("Location") == [expected]


@pytest.mark.parametrize(
    ("next_path", "expected"),
    [
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        # Before: not Latin-1, so the Location could not be written: no answer,
        # an unhandled error logged, and the new session's cookie never sent.
        ("/\u0100", "/"),
        ("/caf\u00e9", "/"),
        ("/ok/path?q=1", "/ok/path?q=1"),
    ],
)
async def test_login_redirects_only_to_local_paths(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    next_path: str,
    expected: str,
) -> None:
    gateway = await make_gateway()
    response = await _login(http, gateway, "m-user", PINS["m-user"], next=next_path)
    assert response.status == 303
    assert response.headers["Location"] == expected


async def test_cross_site_login_post_is_refused(
    make_gateway: GatewayFactory, http: aiohttp.ClientSession
) -> None:
    gateway = await make_gateway()
    async with http.post(
        _base(gateway) + "/_fluxilab/login",
        data={"login": "m-user", "secret": PINS["m-user"]},
        headers={"Origin": "http://evil.example"},
        allow_redirects=False,
    ) as response:
        assert response.status == 403
        assert "Set-Cookie" not in response.headers


async def test_login_with_an_initial_pin_says_to_replace_it(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    mirror: CredentialMirror,
) -> None:
    """Issue 14: the right initial PIN opens no session; the page says what to do."""
    body = _credentials("m-user", "m-staff", generation=2)
    body["members"][0]["pin_must_change"] = True
    mirror.replace(body)
    gateway = await make_gateway()
    async with http.post(
        _base(gateway) + "/_fluxilab/login",
        data={"login": "m-user", "secret": PINS["m-user"]},
        allow_redirects=False,
    ) as response:
        page = await response.text()
        assert response.status == 403
        assert "Set-Cookie" not in response.headers
    assert "initial PIN" in page
    assert "replace it in your profile" in page
    assert (await _login(http, gateway, "m-user", "999999")).status == 401
    assert (await _login(http, gateway, "m-staff", PINS["m-staff"])).status == 303


async def test_failed_logins_are_rate_limited_per_address(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = await make_gateway(login_window=1.0)
    for _ in range(5):
        assert (await _login(http, gateway, "m-user", "999999")).status == 401
    # Even the right PIN is refused while the address is locked out.
    blocked = await _login(http, gateway, "m-user", PINS["m-user"])
    assert blocked.status == 429
    assert "Set-Cookie" not in blocked.headers
    assert "too many failed attempts" in caplog.text
    await asyncio.sleep(1.1)
    assert (await _login(http, gateway, "m-user", PINS["m-user"])).status == 303


async def test_huge_login_fields_are_failed_logins(
    make_gateway: GatewayFactory, http: aiohttp.ClientSession
) -> None:
    gateway = await make_gateway()
    assert (await _login(http, gateway, "m-user", "1" * 5000)).status == 401
    assert (await _login(http, gateway, "m" * 5000, PINS["m-user"])).status == 401
    assert (await _login(http, gateway, "m-user", PINS["m-user"])).status == 303


async def test_login_session_ends_when_member_leaves_mirror(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    mirror: CredentialMirror,
    upstream: Upstream,
) -> None:
    gateway = await make_gateway(upstream=upstream.url)
    response = await _login(http, gateway, "m-user", PINS["m-user"])
    cookie = f"{COOKIE_NAME}={_session_cookie(response)}"
    async with http.get(_base(gateway) + "/a", headers={"Cookie": cookie}) as proxied:
        assert proxied.status == 200
    mirror.replace(_credentials("m-staff", "m-admin", generation=2))
    async with http.get(
        _base(gateway) + "/a", headers={"Cookie": cookie}, allow_redirects=False
    ) as proxied:
        assert proxied.status == 303
    assert len(upstream.hits) == 1


async def test_session_expires(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
    upstream: Upstream,
) -> None:
    gateway = await make_gateway(upstream=upstream.url, session_ttl=1)
    cookie = await _enter(http, gateway, keys)
    async with http.get(_base(gateway) + "/", headers={"Cookie": cookie}) as response:
        assert response.status == 200
    await asyncio.sleep(1.1)
    async with http.get(
        _base(gateway) + "/", headers={"Cookie": cookie}, allow_redirects=False
    ) as response:
        assert response.status == 303
        assert response.headers["Location"].startswith("/_fluxilab/login")
    assert len(upstream.hits) == 1


# -- built-in status page ------------------------------------------------------


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


async def test_status_page_and_json(
    make_gateway: GatewayFactory, http: aiohttp.ClientSession, keys: SessionKeys
) -> None:
    gateway = await make_gateway(actions=Actions())
    cookie = await _enter(http, gateway, keys)
    async with http.get(_base(gateway) + "/", headers={"Cookie": cookie}) as response:
        page = await response.text()
        assert response.status == 200
        csp = response.headers["Content-Security-Policy"]
    assert "prefers-color-scheme:dark" in page
    assert 'name="viewport"' in page
    assert "Face velocity" in page
    assert "Ada Lovelace" in page
    # No external assets: every src/href is local.
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "script-src 'nonce-" in csp
    controls = re.findall(r'name="control" value="([^"]+)"', page)
    assert controls == ["relay_on", "relay_off", "sync"]

    async with http.get(
        _base(gateway) + "/_fluxilab/status.json", headers={"Cookie": cookie}
    ) as response:
        status = await response.json()
    assert status["device"]["telemetry"]["face_velocity"]["value"] == 0.52
    assert status["user"] == {"id": "m-staff", "name": "Ada Lovelace", "role": "staff"}
    assert [c["id"] for c in status["controls"]] == ["relay_on", "relay_off", "sync"]
    assert 0 < status["expires_in"] <= 3600

    async with http.get(
        _base(gateway) + "/_fluxilab/status.json", allow_redirects=False
    ) as response:
        assert response.status == 303


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("user", []),
        ("staff", ["relay_on", "relay_off", "sync"]),
        ("admin", ["relay_on", "relay_off", "sync", "block", "unblock"]),
    ],
)
async def test_controls_follow_role(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
    role: str,
    expected: list[str],
) -> None:
    gateway = await make_gateway(actions=Actions())
    cookie = await _enter(http, gateway, keys, subject=f"m-{role}", role=role)
    async with http.get(
        _base(gateway) + "/_fluxilab/status.json", headers={"Cookie": cookie}
    ) as response:
        assert [c["id"] for c in (await response.json())["controls"]] == expected


INTERNALS = {
    "fingerprint": "AB:CD:EF",
    "buffered": 3,
    "credentials": 12,
    "relay": True,
    "user": "Grace Hopper",
}


@pytest.mark.parametrize("holder", ["m-user", "m-other"])
async def test_a_member_sees_what_they_came_for(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
    holder: str,
) -> None:
    """Issue 18 item 8: status, their session, readings with limits; no internals."""
    status = {
        **STATUS,
        **INTERNALS,
        "link": "ok",
        "blocked": False,
        "session_member": holder,
        "session_duration": 125,
        "safety_limits": [{"channel": "face_velocity", "min": 0.4}],
        "maintenance": {"description": "Change the filter"},
        "pin_wanted": True,
    }
    gateway = await make_gateway(status_provider=lambda: status)
    member = await _enter(http, gateway, keys, subject="m-user", role="user")
    async with http.get(
        _base(gateway) + "/_fluxilab/status.json", headers={"Cookie": member}
    ) as response:
        shown = (await response.json())["device"]
    assert shown["telemetry"] == STATUS["telemetry"]
    assert shown["safety_limits"] == [{"channel": "face_velocity", "min": 0.4}]
    assert shown["online"] is True
    assert shown["in_use"] is True
    # Due maintenance is for everyone at the machine, as on a board's LCD.
    assert shown["maintenance"] == {"description": "Change the filter"}
    # A card + PIN type waits for the PIN after the card: whoever stands there enters it.
    assert shown["pin_wanted"] is True
    assert ("your_session" in shown) is (holder == "m-user")
    if holder == "m-user":
        assert shown["your_session"] == 125
    for internal in (*INTERNALS, "session_member", "session_duration", "actions"):
        assert internal not in shown, internal
    # Nor in the page's own data (the script's first render).
    async with http.get(_base(gateway) + "/", headers={"Cookie": member}) as response:
        page = await response.text()
    assert "AB:CD:EF" not in page
    assert "Grace Hopper" not in page

    # Staff see the internals too.
    staff = await _enter(http, gateway, keys, subject="m-staff", role="staff")
    async with http.get(
        _base(gateway) + "/_fluxilab/status.json", headers={"Cookie": staff}
    ) as response:
        shown = (await response.json())["device"]
    assert {key: shown[key] for key in INTERNALS} == INTERNALS


async def test_action_needs_session_csrf_and_role(
    make_gateway: GatewayFactory, http: aiohttp.ClientSession, keys: SessionKeys
) -> None:
    actions = Actions()
    gateway = await make_gateway(actions=actions)
    url = _base(gateway) + "/_fluxilab/action"
    cookie = await _enter(http, gateway, keys)
    async with http.get(_base(gateway) + "/", headers={"Cookie": cookie}) as response:
        csrf = _csrf(await response.text())
    json_accept = {"Accept": "application/json"}

    async def post(
        data: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        async with http.post(
            url, data=data, headers=headers, allow_redirects=False
        ) as response:
            body = await response.read()
            return response.status, json.loads(body) if body.startswith(b"{") else {}

    # No session, no token, a wrong token, another site, a control above the role.
    assert (await post({"control": "relay_on", "csrf": csrf}, json_accept))[0] == 401
    for data, extra in (
        ({"control": "relay_on"}, {}),
        ({"control": "relay_on", "csrf": "x" * 43}, {}),
        ({"control": "relay_on", "csrf": csrf}, {"Origin": "http://evil.example"}),
    ):
        status, _ = await post(data, {"Cookie": cookie, **json_accept, **extra})
        assert status == 403
    status, body = await post(
        {"control": "block", "csrf": csrf}, {"Cookie": cookie, **json_accept}
    )
    assert (status, body) == (403, {"ok": False, "error": "forbidden"})
    assert actions.calls == []

    status, body = await post(
        {"control": "relay_on", "csrf": csrf}, {"Cookie": cookie, **json_accept}
    )
    assert (status, body) == (200, {"ok": True})
    # The CSRF token may also come as a header; a plain form post redirects back.
    status, _ = await post(
        {"control": "relay_off"}, {"Cookie": cookie, "X-FluxiLab-CSRF": csrf}
    )
    assert status == 303
    assert actions.calls == [("relay", {"on": True}), ("relay", {"on": False})]

    # Another session's token does not work for this one.
    other = await _enter(http, gateway, keys)
    status, _ = await post(
        {"control": "sync", "csrf": csrf}, {"Cookie": other, **json_accept}
    )
    assert status == 403
    actions.fail = True
    status, body = await post(
        {"control": "sync", "csrf": csrf}, {"Cookie": cookie, **json_accept}
    )
    assert (status, body) == (500, {"ok": False, "error": "failed"})


async def test_device_without_actions_offers_no_controls(
    make_gateway: GatewayFactory, http: aiohttp.ClientSession, keys: SessionKeys
) -> None:
    gateway = await make_gateway(actions=None)
    cookie = await _enter(http, gateway, keys, role="admin")
    async with http.get(_base(gateway) + "/", headers={"Cookie": cookie}) as response:
        page = await response.text()
    assert 'name="control"' not in page
    async with http.post(
        _base(gateway) + "/_fluxilab/action",
        data={"control": "relay_on", "csrf": _csrf(page)},
        headers={"Cookie": cookie, "Accept": "application/json"},
    ) as response:
        assert response.status == 403


async def test_logout_ends_session(
    make_gateway: GatewayFactory, http: aiohttp.ClientSession, keys: SessionKeys
) -> None:
    gateway = await make_gateway()
    cookie = await _enter(http, gateway, keys)
    async with http.get(_base(gateway) + "/", headers={"Cookie": cookie}) as response:
        csrf = _csrf(await response.text())
    async with http.post(
        _base(gateway) + "/_fluxilab/logout",
        data={"csrf": "wrong"},
        headers={"Cookie": cookie},
        allow_redirects=False,
    ) as response:
        assert response.status == 403
    async with http.post(
        _base(gateway) + "/_fluxilab/logout",
        data={"csrf": csrf},
        headers={"Cookie": cookie},
        allow_redirects=False,
    ) as response:
        assert response.status == 303
        assert response.headers["Location"] == "/_fluxilab/login"
        assert f'{COOKIE_NAME}=""' in response.headers["Set-Cookie"]
    async with http.get(
        _base(gateway) + "/", headers={"Cookie": cookie}, allow_redirects=False
    ) as response:
        assert response.status == 303


async def test_failing_status_provider_still_serves_page(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> dict[str, Any]:
        raise OSError("sensor bus gone")

    gateway = await make_gateway(status_provider=broken)
    cookie = await _enter(http, gateway, keys)
    async with http.get(
        _base(gateway) + "/_fluxilab/status.json", headers={"Cookie": cookie}
    ) as response:
        assert response.status == 200
        assert (await response.json())["device"] == {}
    assert "status provider failed" in caplog.text


# -- PIN guessing (issue 14, finding 5) ------------------------------------------


def _client(address: str) -> aiohttp.ClientSession:
    """A client whose requests come from ``address`` (any of 127.0.0.0/8)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(local_addr=(address, 0)),
        cookie_jar=aiohttp.DummyCookieJar(),
    )


async def test_a_successful_login_does_not_reset_failures(
    make_gateway: GatewayFactory, http: aiohttp.ClientSession
) -> None:
    """A member's own login between guesses at others' PINs clears nothing."""
    gateway = await make_gateway()
    for _ in range(4):
        assert (await _login(http, gateway, "m-admin", "000000")).status == 401
    assert (await _login(http, gateway, "m-user", PINS["m-user"])).status == 303
    assert (await _login(http, gateway, "m-staff", "000000")).status == 401
    # Five failures from this address: locked, own PIN or not.
    refused = await _login(http, gateway, "m-user", PINS["m-user"])
    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "Set-Cookie" not in refused.headers


async def test_an_account_is_locked_whatever_the_address(
    make_gateway: GatewayFactory, http: aiohttp.ClientSession
) -> None:
    gateway = await make_gateway()
    for last in range(2, 7):
        async with _client(f"127.0.0.{last}") as guesser:
            assert (await _login(guesser, gateway, "m-admin", "000000")).status == 401
    async with _client("127.0.0.7") as fresh:
        # The account is locked, even for its right PIN from a fresh address ...
        by_name = await _login(fresh, gateway, "Grace Hopper", PINS["m-admin"])
        assert by_name.status == 429
        assert (await _login(fresh, gateway, "m-admin", PINS["m-admin"])).status == 429
        # ... while that address and the other accounts are not.
        assert (await _login(fresh, gateway, "m-user", PINS["m-user"])).status == 303


def test_lockouts_back_off_exponentially_and_memory_is_bounded() -> None:
    throttle = LoginThrottle(max_failures=3, window=10.0, max_lockout=35.0, max_keys=4)
    keys = ("address:192.0.2.1", "member:m-user")

    def fail(now: float) -> None:
        assert throttle.retry_after(keys, now) == 0
        throttle.begin(keys, now)
        throttle.end(keys, now, failed=True)

    lockouts = []
    now = 0.0
    for _ in range(4):
        for _ in range(3):
            fail(now)
        wait = throttle.retry_after(keys, now)
        lockouts.append(wait)
        # A success from another account on the same address forgives nothing.
        other = ("address:192.0.2.1", "member:m-staff")
        assert throttle.retry_after(other, now) == wait
        now += wait + 0.001
    assert lockouts == pytest.approx([10.0, 20.0, 35.0, 35.0])
    # A success settles its own attempt only: the failures before it still count.
    fail(now)
    fail(now)
    throttle.begin(keys, now)
    throttle.end(keys, now, failed=False)
    fail(now)
    assert throttle.retry_after(keys, now) == pytest.approx(35.0)
    # Refused attempts with made-up names track nothing: the lockout stays.
    for number in range(20):
        names = ("address:192.0.2.1", f"login:nobody-{number}")
        assert throttle.retry_after(names, now) > 0
    assert len(throttle) == 2  # the address and m-user
    assert throttle.retry_after(keys, now) > 0
    # Attempts that were checked are tracked, at most max_keys of them.
    for number in range(20):
        throttle.begin((f"address:198.51.100.{number}",), now)
        throttle.end((f"address:198.51.100.{number}",), now, failed=True)
    assert len(throttle) == 4


def test_unknown_logins_cost_as_much_as_real_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dummy hash has the cost field of the real hashes (no timing oracle)."""
    mirror = CredentialMirror(tmp_path / "credentials.json")
    body = _credentials("m-user", "m-staff")
    body["members"][0]["pin_hash"] = hash_secret(PINS["m-user"], rounds=5)
    body["members"][1]["pin_hash"] = None  # a member without a PIN
    mirror.replace(body)
    checked: list[bytes] = []
    real_checkpw = bcrypt.checkpw

    def spy(secret: bytes, hashed: bytes) -> bool:
        checked.append(hashed)
        return real_checkpw(secret, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", spy)
    assert mirror.verify_login("m-user", "000000") is None
    assert mirror.verify_login("nobody", "000000") is None
    assert mirror.verify_login("m-staff", "000000") is None
    assert mirror.verify_login("m-user", PINS["m-user"]) is not None
    assert [hashed[:7] for hashed in checked] == [b"$2b$05$"] * 4


# -- sessions follow revocation and the mirror (issue 14, finding 8) -------------


async def _proxied_status(
    http: aiohttp.ClientSession, gateway: Gateway, cookie: str
) -> int:
    async with http.get(
        _base(gateway) + "/page", headers={"Cookie": cookie}, allow_redirects=False
    ) as response:
        return response.status


async def test_token_session_ends_when_the_device_is_revoked_or_repaired(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
    upstream: Upstream,
) -> None:
    current: list[SessionKeys | None] = [keys]
    gateway = await make_gateway(
        upstream=upstream.url, keys_provider=lambda: current[0]
    )
    cookie = await _enter(http, gateway, keys)
    assert await _proxied_status(http, gateway, cookie) == 200
    current[0] = None  # revoked
    assert await _proxied_status(http, gateway, cookie) == 303
    current[0] = keys
    cookie = await _enter(http, gateway, keys)
    current[0] = _pair()  # paired again, with another hub
    assert await _proxied_status(http, gateway, cookie) == 303
    assert len(upstream.hits) == 1


async def test_revocation_ends_every_session_even_with_a_pinned_hub_key(
    tmp_path: Path, http: aiohttp.ClientSession, upstream: Upstream
) -> None:
    """A hub key pinned in the config comes back after a revoke: sessions do not."""
    config = _agent_config(tmp_path, GatewayConfig(port=0, tls=False))
    agent = Agent(
        dataclasses.replace(
            config,
            device=dataclasses.replace(config.device, ui_url=None),
            hub_key=KeyPair.generate().public_b64,
        )
    )
    assert agent.keys is not None
    agent.gateway = gateway = Gateway(
        device_id=agent.device_id,
        keys_provider=lambda: agent.keys,
        mirror=agent.mirror,
        upstream=upstream.url,
        status_provider=agent.status,
        port=0,
    )
    await gateway.start()
    try:
        cookie = await _enter_device(http, gateway, agent.keys, subject="ha:0123")
        assert await _proxied_status(http, gateway, cookie) == 200
        agent.revoke()
        assert agent.keys is not None  # the pinned key, derived again
        assert await _proxied_status(http, gateway, cookie) == 303
    finally:
        await gateway.stop()
        agent.buffer.close()


async def _enter_device(
    http: aiohttp.ClientSession, gateway: Gateway, keys: SessionKeys, subject: str
) -> str:
    token = issue_token(
        keys, device_id="sim-hood-1", subject=subject, role="admin", name="Admin"
    )
    async with http.get(_base(gateway) + "/", params={TOKEN_PARAM: token}) as response:
        assert response.status == 200
        return f"{COOKIE_NAME}={_session_cookie(response)}"


async def test_token_session_follows_the_member_in_the_mirror(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
    mirror: CredentialMirror,
    upstream: Upstream,
) -> None:
    gateway = await make_gateway(upstream=upstream.url)
    admin = await _enter(http, gateway, keys, subject="m-admin", role="admin")
    user = await _enter(http, gateway, keys, subject="m-user", role="user")
    assert await _proxied_status(http, gateway, user) == 200
    # m-user removed or deactivated (the hub drops them), m-admin demoted.
    body = _credentials("m-staff", "m-admin", generation=2)
    body["members"][1]["level"] = "user"
    mirror.replace(body)
    assert await _proxied_status(http, gateway, user) == 303
    async with http.get(_base(gateway) + "/page", headers={"Cookie": admin}) as proxied:
        assert _identity(await proxied.json())["x-fluxilab-role"] == ["user"]


async def test_token_session_of_someone_the_mirror_never_named(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
    mirror: CredentialMirror,
    upstream: Upstream,
) -> None:
    """An HA admin without member lasts as long as the credential set it met."""
    gateway = await make_gateway(upstream=upstream.url)
    cookie = await _enter(http, gateway, keys, subject="ha:0123abcd", role="admin")
    assert await _proxied_status(http, gateway, cookie) == 200
    assert await _proxied_status(http, gateway, cookie) == 200
    mirror.replace(_credentials("m-user", "m-staff", "m-admin", generation=2))
    assert await _proxied_status(http, gateway, cookie) == 303


async def test_open_websocket_closes_when_its_session_ends(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
    mirror: CredentialMirror,
    upstream: Upstream,
) -> None:
    gateway = await make_gateway(upstream=upstream.url, recheck_interval=0.05)
    cookie = await _enter(http, gateway, keys, subject="m-user", role="user")
    async with http.ws_connect(
        _base(gateway) + "/ws", headers={"Cookie": cookie}
    ) as ws:
        assert await ws.receive_str(timeout=5) == "hello m-user"
        mirror.replace(_credentials("m-staff", generation=2))
        message = await ws.receive(timeout=5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == aiohttp.WSCloseCode.POLICY_VIOLATION


async def test_cross_site_websocket_is_refused(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
    upstream: Upstream,
) -> None:
    gateway = await make_gateway(upstream=upstream.url)
    cookie = await _enter(http, gateway, keys)
    for origin in ("http://evil.example", "null"):
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await http.ws_connect(
                _base(gateway) + "/ws", headers={"Cookie": cookie, "Origin": origin}
            )
        assert err.value.status == 403
    assert upstream.hits == []
    async with http.ws_connect(
        _base(gateway) + "/ws", headers={"Cookie": cookie, "Origin": _base(gateway)}
    ) as ws:
        assert (await ws.receive_str(timeout=5)).startswith("hello")


async def _raw_get(port: int, target: str, cookie: str) -> tuple[int, bytes]:
    """Send ``target`` exactly as written (no client normalizes it)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n"
        "Connection: close\r\n\r\n".encode("latin-1")
    )
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    status = int(data.split(b" ", 2)[1])
    return status, data.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize(
    "target",
    [
        "/../secret",
        "/ui/../../secret",
        "/%2e%2e/secret",
        "/%2E%2e/secret",
        "/.%2e/secret",
        "/%252e%252e/secret",
        "/..%2fsecret",
        "/..%5csecret",
        "/a\\..\\secret",
        "//evil.example/secret",
        "/./secret",
        "/a/%00/secret",
    ],
)
async def test_paths_that_leave_the_upstream_base_are_refused(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
    upstream: Upstream,
    target: str,
) -> None:
    gateway = await make_gateway(upstream=upstream.url + "/app")
    cookie = await _enter(http, gateway, keys)
    status, _body = await _raw_get(gateway.port, target, cookie)
    assert status == 400
    assert upstream.hits == []


async def test_ordinary_paths_are_appended_to_the_upstream_base(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
    upstream: Upstream,
) -> None:
    gateway = await make_gateway(upstream=upstream.url + "/app/")
    cookie = await _enter(http, gateway, keys)
    for target, seen in (
        ("/", "/app/"),
        ("/a/b%20c?x=../y&z=%2e%2e", "/app/a/b%20c?x=../y&z=%2e%2e"),
        ("/files/100%25.txt", "/app/files/100%25.txt"),
        ("/v1.2/..data/a..b", "/app/v1.2/..data/a..b"),
    ):
        status, body = await _raw_get(gateway.port, target, cookie)
        assert status == 200, target
        assert json.loads(body)["raw_path"] == seen


# -- HTTPS (issue 14, finding 9) ---------------------------------------------------


def _pin(certificate: GatewayCertificate) -> aiohttp.ClientSession:
    """A client that trusts exactly this certificate, as a user checking it would."""
    digest = bytes.fromhex(certificate.fingerprint.replace(":", ""))
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=aiohttp.Fingerprint(digest)),
        cookie_jar=aiohttp.DummyCookieJar(),
    )


async def test_gateway_serves_https_with_its_self_signed_certificate(
    make_gateway: GatewayFactory, keys: SessionKeys, tmp_path: Path
) -> None:
    certificate = self_signed_certificate(
        tmp_path,
        device_id=DEVICE_ID,
        hosts=["0.0.0.0", "hood-1.lab.example"],  # noqa: S104
    )
    assert certificate.self_signed
    assert re.fullmatch(r"[0-9A-F]{2}(:[0-9A-F]{2}){31}", certificate.fingerprint)
    gateway = await make_gateway(
        ssl_context=certificate.server_context(), cookie_secure=True
    )
    base = f"https://127.0.0.1:{gateway.port}"
    async with _pin(certificate) as client:
        async with client.get(
            base + "/", params={TOKEN_PARAM: _token(keys)}
        ) as response:
            assert response.status == 200
            (set_cookie,) = response.headers.getall("Set-Cookie")
        assert set_cookie.startswith(f"{SECURE_COOKIE_NAME}=")
        assert "secure" in set_cookie.lower()
    # The certificate names the addresses users reach the gateway at.
    verifying = ssl.create_default_context(cafile=str(certificate.cert))
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=verifying)) as client,
        client.get(base + "/_fluxilab/login") as response,
    ):
        assert response.status == 200
    names = x509.load_pem_x509_certificate(
        certificate.cert.read_bytes()
    ).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert "hood-1.lab.example" in names.value.get_values_for_type(x509.DNSName)
    # Another certificate (a machine in the middle) does not match the pin.
    other = self_signed_certificate(tmp_path / "other", device_id=DEVICE_ID)
    async with _pin(other) as client:
        with pytest.raises(aiohttp.ServerFingerprintMismatch):
            await client.get(base + "/")
    # Nothing is served in clear on the TLS port.
    async with aiohttp.ClientSession() as client:
        with pytest.raises(aiohttp.ClientError):
            await client.get(f"http://127.0.0.1:{gateway.port}/_fluxilab/login")


def test_self_signed_certificate_is_kept_then_renewed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = self_signed_certificate(tmp_path, device_id=DEVICE_ID)
    assert first.key.stat().st_mode & 0o777 == 0o600
    again = self_signed_certificate(tmp_path, device_id=DEVICE_ID)
    assert again.fingerprint == first.fingerprint
    # One that ends within the renewal margin is replaced on start.
    monkeypatch.setattr(certificate_module, "VALIDITY", datetime.timedelta(days=20))
    short = self_signed_certificate(tmp_path / "short", device_id=DEVICE_ID)
    monkeypatch.undo()
    renewed = self_signed_certificate(tmp_path / "short", device_id=DEVICE_ID)
    assert renewed.fingerprint != short.fingerprint
    assert self_signed_certificate(tmp_path / "short", device_id=DEVICE_ID) == renewed
    # A damaged file is replaced, not fatal.
    renewed.cert.write_text("not a certificate")
    assert self_signed_certificate(tmp_path, device_id=DEVICE_ID) != renewed


def test_operator_certificate_is_checked(tmp_path: Path) -> None:
    made = self_signed_certificate(tmp_path / "operator", device_id="hood-1.lab")
    operator = load_certificate(made.cert, made.key)
    assert operator.fingerprint == made.fingerprint
    assert not operator.self_signed
    other = self_signed_certificate(tmp_path / "other", device_id="x")
    with pytest.raises(RuntimeError, match="unusable"):
        load_certificate(made.cert, other.key)  # key of another certificate
    with pytest.raises(RuntimeError, match="unusable"):
        load_certificate(tmp_path / "missing.pem", made.key)


def _agent_config(tmp_path: Path, gateway: GatewayConfig) -> AgentConfig:
    config = simulated_config(
        1, data_dir=tmp_path / "agent", host="127.0.0.1", port=1, gateway_port=8443
    )
    device = dataclasses.replace(config.device, ui_url="https://hood.lab:8443/")
    return dataclasses.replace(config, device=device, gateway=gateway)


def test_agent_announces_and_logs_the_gateway_fingerprint(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    agent = Agent(_agent_config(tmp_path, GatewayConfig(host="::", port=8443)))
    certificate = agent.gateway_certificate
    assert certificate is not None
    assert certificate.cert.parent == tmp_path / "agent" / "sim-hood-1"
    announce = ANNOUNCE_SCHEMA(agent.announcement())
    assert announce["gateway_fingerprint"] == certificate.fingerprint
    assert f"SHA-256 fingerprint {certificate.fingerprint}" in caplog.text
    names = x509.load_pem_x509_certificate(
        certificate.cert.read_bytes()
    ).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert "hood.lab" in names.value.get_values_for_type(x509.DNSName)
    agent.buffer.close()

    plain = Agent(
        _agent_config(tmp_path / "plain", GatewayConfig(port=8443, tls=False))
    )
    assert plain.gateway_certificate is None
    assert "gateway_fingerprint" not in plain.announcement()
    plain.buffer.close()


def test_announce_refuses_a_malformed_gateway_fingerprint() -> None:
    agent_announce = {
        "v": 1,
        "id": DEVICE_ID,
        "name": "Fumehood 1",
        "kind": "fumehood",
        "model": "m",
        "sw_version": "1",
        "key": KeyPair.generate().public_b64,
    }
    good = "AB:" * 31 + "CD"
    assert ANNOUNCE_SCHEMA({**agent_announce, "gateway_fingerprint": good})
    for bad in ("ab:" * 31 + "cd", "AB" * 32, "<script>", 42):
        with pytest.raises(vol.Invalid):
            ANNOUNCE_SCHEMA({**agent_announce, "gateway_fingerprint": bad})


async def test_agent_binds_the_gateway_port_and_loads_the_gateway_on_first_use(
    tmp_path: Path, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """Memory on a Pi: nothing of the gateway is built until someone connects."""
    caplog.set_level(logging.INFO)
    agent = Agent(
        _agent_config(tmp_path, GatewayConfig(host="127.0.0.1", port=0, tls=False))
    )
    await agent.start()
    try:
        lazy = agent.gateway
        assert lazy is not None
        assert lazy.gateway is None  # listening, not loaded
        assert "speaks plain HTTP" in caplog.text  # warned at once, not on first use
        url = f"http://127.0.0.1:{lazy.port}/_fluxilab/login"
        # The first connection waits in the listen queue while the gateway loads.
        async with http.get(url) as response:
            assert response.status == 200
            assert "Sign in" in await response.text()
        assert lazy.gateway is not None
        async with http.get(url) as response:
            assert response.status == 200
    finally:
        await agent.stop()
    with pytest.raises(aiohttp.ClientConnectionError):
        async with http.get(url):
            pass


async def test_agent_refuses_to_start_on_a_taken_gateway_port(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        agent = Agent(
            _agent_config(
                tmp_path, GatewayConfig(host="127.0.0.1", port=port, tls=False)
            )
        )
        with pytest.raises(OSError, match="in use"):
            await agent.start()
        await agent.stop()


async def test_a_gateway_that_cannot_load_closes_its_port(
    http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> Gateway:
        raise ImportError("No module named 'aiohttp'")

    lazy = LazyGateway(
        broken, host="127.0.0.1", port=0, ssl_context=None, upstream=None
    )
    await lazy.start()
    port = lazy.port
    with pytest.raises(aiohttp.ClientConnectionError):
        async with http.get(f"http://127.0.0.1:{port}/"):
            pass
    assert "could not start; port closed" in caplog.text
    assert lazy.gateway is None
    await lazy.stop()


# -- a broken secure link -------------------------------------------------------


async def test_device_page_and_refused_link_say_the_link_is_broken(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
) -> None:
    status = {**STATUS, "link": "broken", "link_problem": "hub_key_changed"}
    gateway = await make_gateway(status_provider=lambda: status)
    # A link Home Assistant signed with a key this device does not share.
    other = KeyPair.generate().derive(KeyPair.generate().public_b64)
    async with http.get(
        _base(gateway) + "/", params={TOKEN_PARAM: _token(other)}
    ) as response:
        page = await response.text()
        assert response.status == 403
        assert "Secure link to the lab hub broken" in page
        assert "Settings &gt; Repairs" in page
        assert "Link not valid" not in page

    cookie = await _enter(http, gateway, keys)
    async with http.get(_base(gateway) + "/", headers={"Cookie": cookie}) as response:
        page = await response.text()
        assert 'id="fl-link"' in page
        assert "no longer share keys" in page


async def test_device_page_of_a_working_link_has_no_alert(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
) -> None:
    gateway = await make_gateway(status_provider=lambda: {**STATUS, "link": "ok"})
    cookie = await _enter(http, gateway, keys)
    async with http.get(_base(gateway) + "/", headers={"Cookie": cookie}) as response:
        assert 'id="fl-link"' not in await response.text()


async def test_device_page_links_back_to_home_assistant_only_to_a_web_address(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
) -> None:
    """Issue 18 item 8: "Back to Home Assistant" goes where the signed token says."""
    gateway = await make_gateway()
    back = "https://ha.lab.example:8123/fluxilab?view=lab&tab=devices"
    cookie = await _enter(http, gateway, keys, back=back)
    async with http.get(_base(gateway) + "/", headers={"Cookie": cookie}) as response:
        page = await response.text()
    links = re.findall(r'<a class="button secondary" id="fl-back" href="([^"]+)"', page)
    assert links == [back.replace("&", "&amp;")]
    assert "Back to Home Assistant" in page

    # A claim the page must not link to: the person still gets in, without it.
    for bad in ("javascript:alert(1)", "https://user@elsewhere/", "x" * 600):
        cookie = await _enter(http, gateway, keys, back=bad)
        async with http.get(
            _base(gateway) + "/", headers={"Cookie": cookie}
        ) as response:
            page = await response.text()
            assert response.status == 200
        assert 'id="fl-back"' not in page, bad
    cookie = await _enter(http, gateway, keys)
    async with http.get(_base(gateway) + "/", headers={"Cookie": cookie}) as response:
        assert 'id="fl-back"' not in await response.text()


async def test_the_login_page_leads_to_home_assistant_once_a_link_came_from_it(
    make_gateway: GatewayFactory,
    http: aiohttp.ClientSession,
    keys: SessionKeys,
) -> None:
    """One identity: the member's Home Assistant login (and the panel's link) is the
    way in; the PIN form stays for the machine's keypad PIN."""
    gateway = await make_gateway()
    login_page = _base(gateway) + "/_fluxilab/login"
    async with http.get(login_page) as response:
        page = await response.text()
    assert 'id="fl-home"' not in page
    # A claim that is no web address is never linked to.
    await _enter(http, gateway, keys, back="javascript:alert(1)")
    async with http.get(login_page) as response:
        assert 'id="fl-home"' not in await response.text()
    back = "https://ha.lab.example:8123/fluxilab?view=lab"
    await _enter(http, gateway, keys, back=back)
    async with http.get(login_page) as response:
        page = await response.text()
    links = re.findall(r'<a class="button" id="fl-home" href="([^"]+)"', page)
    assert links == [back]
    assert "Sign in with Home Assistant" in page
    assert "no other password" in page
    assert 'name="secret"' in page  # the keypad PIN still signs in at the device


@dataclass
class Reports:
    """Records the problem reports the device UI sent on, answering ``reason``."""

    calls: list[tuple[str, str, bool]] = field(default_factory=list)
    reason: str = "problem_reported"

    async def __call__(self, member_id: str, description: str, unsafe: bool) -> str:
        self.calls.append((member_id, description, unsafe))
        return self.reason


async def test_a_signed_in_member_reports_a_problem_from_the_device_ui(
    make_gateway: GatewayFactory, http: aiohttp.ClientSession, keys: SessionKeys
) -> None:
    reports = Reports()
    gateway = await make_gateway(report=reports)
    url = _base(gateway) + "/_fluxilab/report"
    cookie = await _enter(http, gateway, keys)
    async with http.get(_base(gateway) + "/", headers={"Cookie": cookie}) as response:
        page = await response.text()
    assert 'action="/_fluxilab/report"' in page
    csrf = _csrf(page)

    async def post(data: dict[str, str], cookie: str = cookie) -> tuple[int, str]:
        async with http.post(
            url, data=data, headers={"Cookie": cookie}, allow_redirects=False
        ) as response:
            return response.status, await response.text()

    # No session, no form token, no words: nothing reaches the hub.
    assert (await post({"description": "x", "csrf": csrf}, cookie=""))[0] == 401
    assert (await post({"description": "Sparks"}))[0] == 403
    assert (await post({"description": "   ", "csrf": csrf}))[0] == 400
    assert reports.calls == []

    status, text = await post(
        {"description": "Sparks at the plug", "unsafe": "on", "csrf": csrf}
    )
    assert status == 200
    assert "blocked until staff clear it" in text
    assert reports.calls == [("m-staff", "Sparks at the plug", True)]
    # Long text is cut to what one request carries; unsafe is off unless ticked.
    await post({"description": "y" * 1000, "csrf": csrf})
    assert reports.calls[-1] == ("m-staff", "y" * MAX_PROBLEM_TEXT, False)
    # The hub out of reach, or refusing: the member reads why.
    reports.reason = "hub_unreachable"
    status, text = await post({"description": "Sparks", "csrf": csrf})
    assert (status, "tell staff in person" in text) == (503, True)
    reports.reason = "not_authorized"
    status, text = await post({"description": "Sparks", "csrf": csrf})
    assert (status, "machines you may use" in text) == (403, True)


async def test_no_report_form_without_a_report_path(
    make_gateway: GatewayFactory, http: aiohttp.ClientSession, keys: SessionKeys
) -> None:
    gateway = await make_gateway()
    cookie = await _enter(http, gateway, keys)
    async with http.get(_base(gateway) + "/", headers={"Cookie": cookie}) as response:
        assert "/_fluxilab/report" not in await response.text()
    async with http.post(
        _base(gateway) + "/_fluxilab/report", headers={"Cookie": cookie}
    ) as response:
        assert response.status == 404
