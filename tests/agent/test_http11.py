"""The gateway's own HTTP/1.1 layer: what it refuses, and how it frames and relays.

Raw bytes on a socket, so nothing in a client library normalises what is sent.
The gateway under test is a real one (``Gateway``) in front of an aiohttp upstream;
``tests/agent/test_gateway.py`` covers what it does with a well-formed request.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
import datetime
import os
from pathlib import Path
import struct
import subprocess
import sys

import aiohttp
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from hypothesis import given, settings, strategies as st
import pytest

from fluxilab_agent import certificate as certificate_module
from fluxilab_agent.certificate import CERT_FILE, KEY_FILE, self_signed_certificate
from fluxilab_agent.gateway import TOKEN_PARAM, Gateway
from fluxilab_agent.http11 import (
    MAX_FORM,
    MAX_HEAD,
    MAX_HEADERS,
    HttpError,
    parse_request,
    websocket_accept,
)
from fluxilab_agent.mirror import CredentialMirror
from fluxilab_protocol.security import KeyPair, SessionKeys, issue_token

DEVICE_ID = "hood-1"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[str, list[str]]]:
    hits: list[str] = []

    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        hits.append(f"{request.method} {request.raw_path} {len(body)}")
        return web.Response(text=f"{request.method} {len(body)}")

    async def socket(request: web.Request) -> web.WebSocketResponse:
        hits.append("WS")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            if message.type is aiohttp.WSMsgType.TEXT:
                await ws.send_str("echo:" + message.data)
        return ws

    app = web.Application()
    app.router.add_get("/ws", socket)
    app.router.add_route("*", "/{tail:.*}", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", hits
    await runner.cleanup()


@pytest.fixture
def keys() -> SessionKeys:
    return KeyPair.generate().derive(KeyPair.generate().public_b64)


@pytest.fixture
async def gateway(
    tmp_path: Path, keys: SessionKeys, upstream: tuple[str, list[str]]
) -> AsyncIterator[Gateway]:
    gateway = Gateway(
        device_id=DEVICE_ID,
        keys_provider=lambda: keys,
        mirror=CredentialMirror(tmp_path / "credentials.json"),
        upstream=upstream[0],
        status_provider=lambda: {"name": "Fumehood 1"},
        port=0,
        recheck_interval=0.05,
    )
    await gateway.start()
    yield gateway
    await gateway.stop()


async def _exchange(port: int, data: bytes) -> bytes:
    """Send ``data`` and return everything the gateway answers until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


async def _response(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """Read one response framed by Content-Length: (head, body)."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return head, await asyncio.wait_for(reader.readexactly(length), 10)


def _status(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1])


async def _cookie(gateway: Gateway, keys: SessionKeys) -> str:
    token = issue_token(
        keys, device_id=DEVICE_ID, subject="m-staff", role="staff", name="Ada"
    )
    reply = await _exchange(
        gateway.port,
        f"GET /?{TOKEN_PARAM}={token} HTTP/1.1\r\nHost: x\r\n"
        "Connection: close\r\n\r\n".encode(),
    )
    assert _status(reply) == 200
    for line in reply.split(b"\r\n"):
        if line.lower().startswith(b"set-cookie:"):
            return line.split(b":", 1)[1].split(b";", 1)[0].strip().decode()
    raise AssertionError("no session cookie")


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        # Two ways to read the body: request smuggling, refused.
        (
            b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400,
        ),
        (
            b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
            b"Content-Length: 4\r\n\r\nabcd",
            400,
        ),
        (b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        (
            b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            501,
        ),
        # Malformed heads.
        (b"GET /x HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n", 400),
        (b"GET /x HTTP/1.1\r\nHost: x\nX-A: 1\r\n\r\n", 400),
        (b"GET /x HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n", 400),
        (b"GET /x HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400),
        (b"GET /x HTTP/1.1\r\n\r\n", 400),  # no Host
        (b"GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        (b"GET /x HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        (b"GET  /x HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"G(T /x HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET /\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        # Sizes.
        (
            b"GET /x HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-%d: 1\r\n" % i for i in range(MAX_HEADERS + 1))
            + b"\r\n",
            431,
        ),
        (b"GET /x HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * MAX_HEAD + b"\r\n\r\n", 431),
        (
            b"POST /_fluxilab/login HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: %d\r\n\r\n" % (MAX_FORM + 1),
            413,
        ),
    ],
)
async def test_malformed_requests_are_refused_and_never_proxied(
    gateway: Gateway,
    upstream: tuple[str, list[str]],
    request_bytes: bytes,
    status: int,
) -> None:
    reply = await _exchange(gateway.port, request_bytes)
    assert _status(reply) == status, reply[:200]
    assert upstream[1] == []


class _Peer:
    """What parse_request asks of a connection: who is on the other end."""

    @staticmethod
    def get_extra_info(_name: str) -> tuple[str, int]:
        return ("192.0.2.1", 50000)


_LINE_PIECES = st.sampled_from(
    [
        b"GET",
        b"POST",
        b"G T",
        b"/",
        b"/a?b=c",
        b"*",
        b"http://x/",
        b"HTTP/1.1",
        b"HTTP/1.0",
        b"HTTP/9",
        b" ",
        b"\t",
        b"\r",
        b"\n",
        b"\x00",
        b"%2e",
        b"\xff",
    ]
)
_FIELD_PIECES = st.sampled_from(
    [
        b"Host",
        b"Content-Length",
        b"Transfer-Encoding",
        b"Connection",
        b"Cookie",
        b":",
        b" ",
        b"\t",
        b"chunked",
        b"close",
        b"5",
        b"-1",
        b"1, 2",
        b"\r",
        b"\n",
        b"\x00",
        b"\x7f",
        b"\xe9",
        b"a=b; c",
        b"Upgrade",
    ]
)


@settings(max_examples=600, derandomize=True, deadline=None)
@given(
    line=st.one_of(
        st.sampled_from([b"GET /a HTTP/1.1", b"POST /b?c=d HTTP/1.0"]),
        st.lists(_LINE_PIECES, max_size=8).map(b"".join),
    ),
    fields=st.lists(
        st.one_of(
            st.sampled_from([b"Host: x", b"Content-Length: 3", b"Connection: close"]),
            st.lists(_FIELD_PIECES, max_size=6).map(b"".join),
            st.binary(max_size=40),
        ),
        max_size=8,
    ),
)
def test_any_head_parses_cleanly_or_is_refused_with_a_status(
    line: bytes, fields: list[bytes]
) -> None:
    head = b"\r\n".join([line, *fields]) + b"\r\n\r\n"
    status = None
    try:
        request = parse_request(head, None, _Peer(), "http")  # type: ignore[arg-type]
    except HttpError as err:
        status = err.status
    if status is not None:
        assert 400 <= status <= 505
        return
    assert request.raw_path.startswith("/")
    assert request.method.isascii()
    assert " " not in request.method
    assert not (request.chunked and request.length is not None)
    for name, value in request.headers.items():
        assert not {"\r", "\n"} & set(name + value)
        assert "\x00" not in value


async def test_malformed_bodies_with_a_session_are_refused(
    gateway: Gateway, keys: SessionKeys, upstream: tuple[str, list[str]]
) -> None:
    cookie = await _cookie(gateway, keys)
    head = f"POST /x HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n".encode()
    for tail in (
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n",
        b"Expect: magic\r\nContent-Length: 1\r\n\r\nx",
    ):
        reply = await _exchange(gateway.port, head + tail)
        assert _status(reply) in (400, 417), reply[:200]
    # A well-formed chunked body with an extension and a trailer goes through.
    reply = await _exchange(
        gateway.port,
        head + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n",
    )
    assert _status(reply) == 200
    assert reply.endswith(b"POST 5")


async def test_keep_alive_serves_several_requests_on_one_connection(
    gateway: Gateway, keys: SessionKeys, upstream: tuple[str, list[str]]
) -> None:
    cookie = await _cookie(gateway, keys)
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    try:
        for body in (b"", b"abc"):
            writer.write(
                f"POST /k HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            head, answer = await _response(reader)
            assert head.startswith(b"HTTP/1.1 200")
            assert answer == f"POST {len(body)}".encode()
        # The gateway's own pages on the same connection too.
        writer.write(
            f"GET /_fluxilab/login HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n".encode()
        )
        head, _body = await _response(reader)
        assert head.startswith(b"HTTP/1.1 303")  # signed in already
    finally:
        writer.close()
    assert upstream[1] == ["POST /k 0", "POST /k 3"]


async def test_stop_closes_idle_connections_at_once(gateway: Gateway) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    writer.write(b"GET /_fluxilab/login HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _body = await _response(reader)
    assert head.startswith(b"HTTP/1.1 200")
    started = asyncio.get_running_loop().time()
    await asyncio.wait_for(gateway.stop(), 10)
    assert asyncio.get_running_loop().time() - started < 2
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()


def _masked(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes(((0x80 if fin else 0) | opcode, 0x80 | len(payload))) + mask + body


async def _open_websocket(
    gateway: Gateway, cookie: str, *, version: str = "13", extra: str = ""
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    key = base64.b64encode(os.urandom(16)).decode()
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    writer.write(
        f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{gateway.port}\r\nCookie: {cookie}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        f"Sec-WebSocket-Version: {version}\r\n{extra}\r\n".encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    if head.startswith(b"HTTP/1.1 101"):
        assert f"Sec-WebSocket-Accept: {websocket_accept(key)}".encode() in head
    return reader, writer, head


async def _frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    first, second = await asyncio.wait_for(reader.readexactly(2), 10)
    assert not second & 0x80  # the gateway relays the upstream's unmasked frames
    return first & 0x0F, await reader.readexactly(second & 0x7F)


async def test_websocket_frames_are_relayed_and_checked(
    gateway: Gateway, keys: SessionKeys, upstream: tuple[str, list[str]]
) -> None:
    cookie = await _cookie(gateway, keys)
    # A handshake that is not exactly version 13 never reaches the upstream.
    for options in (
        {"version": "8"},
        {"extra": "Sec-WebSocket-Version: 8\r\n"},
        {"extra": "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n"},
    ):
        _reader, writer, head = await _open_websocket(gateway, cookie, **options)
        writer.close()
        assert head.startswith(b"HTTP/1.1 400"), options
    assert upstream[1] == []

    reader, writer, head = await _open_websocket(gateway, cookie)
    assert head.startswith(b"HTTP/1.1 101")
    assert b"sec-websocket-extensions" not in head.lower()
    # A message in two fragments, with a ping between them.
    writer.write(
        _masked(0x1, b"hel", fin=False) + _masked(0x9, b"p") + _masked(0x0, b"lo")
    )
    assert await _frame(reader) == (0xA, b"p")  # the upstream's pong
    assert await _frame(reader) == (0x1, b"echo:hello")
    # An unmasked frame from a client breaks RFC 6455: closed with 1002.
    writer.write(bytes((0x81, 2)) + b"hi")
    opcode, payload = await _frame(reader)
    assert opcode == 0x8
    assert struct.unpack("!H", payload[:2])[0] == 1002
    writer.close()
    assert upstream[1] == ["WS"]


async def test_websocket_closes_at_a_frame_boundary_when_the_session_ends(
    gateway: Gateway, keys: SessionKeys
) -> None:
    cookie = await _cookie(gateway, keys)
    reader, writer, head = await _open_websocket(gateway, cookie)
    assert head.startswith(b"HTTP/1.1 101")
    writer.write(_masked(0x1, b"x"))
    assert await _frame(reader) == (0x1, b"echo:x")
    gateway.end_sessions("test")
    opcode, payload = await _frame(reader)
    assert (opcode, payload) == (0x8, struct.pack("!H", 1008) + b"session ended")
    assert await asyncio.wait_for(reader.read(), 10) == b""
    writer.close()


async def test_slow_request_heads_are_cut(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fluxilab_agent import http11  # noqa: PLC0415

    monkeypatch.setattr(http11, "HEAD_TIMEOUT", 0.2)
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    writer.write(b"GET /_fluxilab/login HTTP/1.1\r\nHost: x\r\n")  # never finished
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()


async def test_slow_form_bodies_are_cut(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: a login POST whose body never came held its connection for ever, so
    # 256 of them from anywhere (no session needed) locked everyone out.
    from fluxilab_agent import http11  # noqa: PLC0415

    monkeypatch.setattr(http11, "FORM_TIMEOUT", 0.2)
    for tail in (
        b"Content-Length: 20\r\n\r\nlogin=a",
        b"Transfer-Encoding: chunked\r\n\r\n5\r\n",
    ):
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(
            b"POST /_fluxilab/login HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n" + tail
        )
        reply = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        assert _status(reply) == 408, reply[:200]


@pytest.mark.parametrize("digit", [b"\xb2", b"\xb9", b"1\xb3"])
async def test_non_ascii_digits_in_content_length_are_refused(
    gateway: Gateway, upstream: tuple[str, list[str]], digit: bytes
) -> None:
    # Before: "Content-Length: \xb2" (a superscript two, a digit to str.isdigit)
    # passed the check and int() raised: an unhandled error and a traceback in the
    # log for every such request, from anyone.
    reply = await _exchange(
        gateway.port,
        b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: " + digit + b"\r\n\r\n",
    )
    assert _status(reply) == 400, reply[:200]
    assert upstream[1] == []


async def test_an_overlong_chunk_line_is_a_bad_request(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    # Before: a chunk-size line longer than the reader's limit raised
    # LimitOverrunError, which no handler expected: a 500 and a traceback in the
    # log for each such POST to the login form, from anyone.
    reply = await _exchange(
        gateway.port,
        b"POST /_fluxilab/login HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n5;" + b"a" * (MAX_HEAD + 1) + b"\r\n",
    )
    assert _status(reply) == 400, reply[:200]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


# -- the certificate without cryptography's X.509 code ----------------------------


def _certificate(not_after: datetime.datetime) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "t")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
        .public_bytes(Encoding.DER)
    )


@pytest.mark.parametrize(
    "not_after",
    [
        datetime.datetime(2049, 12, 31, 23, 59, 59, tzinfo=datetime.UTC),  # UTCTime
        datetime.datetime(2051, 6, 1, 12, 0, 0, tzinfo=datetime.UTC),  # Generalized
    ],
)
def test_the_end_date_is_read_as_cryptography_reads_it(
    not_after: datetime.datetime,
) -> None:
    der = _certificate(not_after)
    parsed = certificate_module._not_valid_after(der)
    assert parsed == x509.load_der_x509_certificate(der).not_valid_after_utc
    assert parsed == not_after
    for broken in (der[:40], b"\x02\x01\x00", b"", der[:1] + b"\x85" + der[2:]):
        with pytest.raises(ValueError, match=r"DER|certificate|tbs|field|validity"):
            certificate_module._not_valid_after(broken)


def test_the_agent_never_loads_x509_for_its_certificate(tmp_path: Path) -> None:
    """Made by a child process, read back without it: the agent stays ~4 MiB smaller."""
    made = self_signed_certificate(tmp_path, device_id=DEVICE_ID)
    expected = x509.load_pem_x509_certificate(made.cert.read_bytes()).fingerprint(
        hashes.SHA256()
    )
    assert made.fingerprint == expected.hex(":").upper()
    script = (
        "import sys; from pathlib import Path\n"
        "from fluxilab_agent.certificate import CERT_FILE, KEY_FILE, self_signed_certificate\n"
        f"old = self_signed_certificate(Path({str(tmp_path)!r}), device_id='hood-1')\n"
        f"new = self_signed_certificate(Path({str(tmp_path / 'new')!r}), "
        "device_id='hood-1', hosts=['hood-1.lab.example'])\n"
        "old.server_context(); new.server_context()\n"
        "print(old.fingerprint, new.fingerprint, 'cryptography.x509' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
    )
    old, new, loaded = result.stdout.split()
    assert (old, loaded) == (made.fingerprint, "False")
    assert new != old
    made_new = x509.load_pem_x509_certificate(
        (tmp_path / "new" / CERT_FILE).read_bytes()
    )
    assert made_new.fingerprint(hashes.SHA256()).hex(":").upper() == new
    names = made_new.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert "hood-1.lab.example" in names.value.get_values_for_type(x509.DNSName)
    assert (tmp_path / "new" / KEY_FILE).stat().st_mode & 0o777 == 0o600
