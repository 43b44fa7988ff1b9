"""A small, strict HTTP/1.1 server, proxy client and WebSocket relay on asyncio streams.

The gateway (``gateway.py``) is the only listener a user reaches on a device, and a
Raspberry Pi agent has about 40 MiB for everything: aiohttp alone costs 12. This
module is what the gateway needs of HTTP and nothing else, written to refuse
rather than guess:

* requests: origin-form targets only (``/path?query``; absolute-form, ``*`` and
  authority-form are 400), ``HTTP/1.0`` or ``HTTP/1.1``, CRLF line ends, token
  method and header names, no obsolete line folding, no control characters,
  exactly one ``Host`` on 1.1, at most :data:`MAX_HEADERS` headers and
  :data:`MAX_HEAD` bytes of head (431 beyond), the head within
  :data:`HEAD_TIMEOUT` seconds and an idle keep-alive connection closed after
  :data:`KEEPALIVE_TIMEOUT`;
* bodies: ``Content-Length`` (one value) or ``Transfer-Encoding: chunked``, never
  both (a request that could be read two ways is refused: no smuggling); forms are
  read up to :data:`MAX_FORM` bytes (413 beyond) within :data:`FORM_TIMEOUT`
  seconds (408 beyond); ``Expect: 100-continue`` is
  answered when the body is first read;
* the proxy: one upstream connection per request, the body streamed both ways,
  redirects passed back, never followed;
* WebSockets: the handshake is checked (version 13, a 16-byte key), the client's
  key and offered subprotocols go upstream, the upstream's accept is verified, and
  frames are relayed as they come (only their headers parsed: masking, reserved
  bits, opcodes and control-frame sizes are checked), so the gateway can close a
  socket at a frame boundary with a close code of its own when the session ends.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
import contextlib
from dataclasses import dataclass, field
import functools
import hashlib
import logging
import os
import re
import socket
import ssl
import struct
from typing import Final
from urllib.parse import parse_qsl, unquote, urlsplit

_LOGGER = logging.getLogger("fluxilab_agent.gateway")

MAX_HEAD: Final = 32 * 1024
"""Bytes of a request (or upstream response) line plus headers."""
MAX_HEADERS: Final = 100
MAX_FORM: Final = 64 * 1024
"""Bytes of a form the gateway reads itself (login, logout, controls)."""
MAX_CONNECTIONS: Final = 256
"""Open client connections; more are closed at once."""
HEAD_TIMEOUT: Final = 30.0
FORM_TIMEOUT: Final = 30.0
"""Seconds a form the gateway reads itself may take to arrive (408 beyond)."""
KEEPALIVE_TIMEOUT: Final = 75.0
CHUNK_SIZE: Final = 64 * 1024
WS_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_TARGET = re.compile(rb"/[\x21-\x7e]*")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")

REASONS: Final = {
    100: "Continue",
    101: "Switching Protocols",
    200: "OK",
    303: "See Other",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    417: "Expectation Failed",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}


class HttpError(Exception):
    """A request the server refuses before any handler sees it."""

    def __init__(self, status: int, detail: str) -> None:
        """Refuse with ``status``; ``detail`` goes to the debug log only."""
        super().__init__(detail)
        self.status = status


class Headers:
    """Header fields in order, looked up without regard to case."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        """Hold ``items`` as given."""
        self._items: list[tuple[str, str]] = list(items)

    def get(self, name: str, default: str | None = None) -> str | None:
        """Return the first value of ``name``."""
        lower = name.lower()
        for key, value in self._items:
            if key.lower() == lower:
                return value
        return default

    def getall(self, name: str) -> list[str]:
        """Return every value of ``name``."""
        lower = name.lower()
        return [value for key, value in self._items if key.lower() == lower]

    def __contains__(self, name: object) -> bool:
        """Say whether ``name`` is present."""
        return isinstance(name, str) and self.get(name) is not None

    def __getitem__(self, name: str) -> str:
        """Return the first value of ``name``; KeyError without one."""
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __setitem__(self, name: str, value: str) -> None:
        """Replace every ``name`` with this one value."""
        self.discard(name)
        self._items.append((name, value))

    def add(self, name: str, value: str) -> None:
        """Add one more ``name`` field."""
        self._items.append((name, value))

    def discard(self, name: str) -> None:
        """Remove every ``name`` field."""
        lower = name.lower()
        self._items = [(k, v) for k, v in self._items if k.lower() != lower]

    def items(self) -> list[tuple[str, str]]:
        """Return the fields in order."""
        return list(self._items)

    def encode(self) -> bytes:
        """Return the fields as a head's header lines (each ending CRLF)."""
        return b"".join(
            f"{name}: {value}\r\n".encode("latin-1") for name, value in self._items
        )


def _parse_fields(lines: list[bytes]) -> Headers:
    if len(lines) > MAX_HEADERS:
        raise HttpError(431, "too many header fields")
    headers = Headers()
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            raise HttpError(400, "malformed header field")
        value = value.strip(b" \t")
        if _BAD_VALUE.search(value):
            raise HttpError(400, "control character in a header field")
        headers.add(name.decode("ascii"), value.decode("latin-1"))
    return headers


def _split_head(head: bytes) -> list[bytes]:
    """Return the head's lines (without the final blank line); bare CR/LF is 400."""
    lines = head[:-4].split(b"\r\n")
    for line in lines:
        if b"\r" in line or b"\n" in line:
            raise HttpError(400, "bare CR or LF in the head")
    return lines


def content_length(headers: Headers) -> int | None:
    """Return the one Content-Length of ``headers``; HttpError if not one number."""
    values = headers.getall("Content-Length")
    if not values:
        return None
    distinct = {part.strip() for value in values for part in value.split(",")}
    text = distinct.pop() if len(distinct) == 1 else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise HttpError(400, "invalid Content-Length")
    return int(text)


def is_chunked(headers: Headers) -> bool:
    """Whether the body is chunked; HttpError for a coding this server cannot read."""
    values = headers.getall("Transfer-Encoding")
    if not values:
        return False
    codings = [c.strip().lower() for value in values for c in value.split(",")]
    if codings != ["chunked"]:
        raise HttpError(501, "unsupported transfer coding")
    return True


async def _line(reader: asyncio.StreamReader) -> bytes:
    """Read a chunk-size or trailer line; 400 if it overruns the reader's limit."""
    try:
        return await reader.readuntil(b"\r\n")
    except asyncio.LimitOverrunError as err:
        raise HttpError(400, "chunk line too long") from err


async def _chunks(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    """Decode a chunked body (trailers read and dropped)."""
    while True:
        line = await _line(reader)
        size_text = line[:-2].split(b";", 1)[0].strip(b" \t")
        if not _HEX.fullmatch(size_text):
            raise HttpError(400, "malformed chunk size")
        size = int(size_text, 16)
        if size == 0:
            for _ in range(MAX_HEADERS + 1):
                if await _line(reader) == b"\r\n":
                    return
            raise HttpError(400, "too many trailer fields")
        while size:
            data = await reader.read(min(size, CHUNK_SIZE))
            if not data:
                raise asyncio.IncompleteReadError(b"", size)
            size -= len(data)
            yield data
        if await reader.readexactly(2) != b"\r\n":
            raise HttpError(400, "chunk not followed by CRLF")


async def _fixed(reader: asyncio.StreamReader, length: int) -> AsyncIterator[bytes]:
    while length:
        data = await reader.read(min(length, CHUNK_SIZE))
        if not data:
            raise asyncio.IncompleteReadError(b"", length)
        length -= len(data)
        yield data


async def _to_eof(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    while data := await reader.read(CHUNK_SIZE):
        yield data


class Request:
    """One parsed request on a client connection."""

    def __init__(
        self,
        *,
        method: str,
        target: str,
        version: str,
        headers: Headers,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        scheme: str,
    ) -> None:
        """Check the framing headers; the body stays unread."""
        self.method = method
        self.raw_path = target
        """The request target exactly as sent (path and query, encoded)."""
        raw_path, _, self.query_string = target.partition("?")
        self.raw_path_only = raw_path
        self.path = unquote(raw_path, errors="replace")
        self.version = version
        self.headers = headers
        self.scheme = scheme
        self.reader = reader
        self.writer = writer
        peer = writer.get_extra_info("peername")
        self.remote: str | None = str(peer[0]) if isinstance(peer, tuple) else None
        hosts = headers.getall("Host")
        if len(hosts) > 1 or (version == "HTTP/1.1" and len(hosts) != 1):
            raise HttpError(400, "missing or repeated Host")
        self.host = hosts[0] if hosts else ""
        self.chunked = is_chunked(headers)
        self.length = content_length(headers)
        if self.chunked and self.length is not None:
            raise HttpError(400, "both Content-Length and Transfer-Encoding")
        connection = {
            token.strip().lower()
            for value in headers.getall("Connection")
            for token in value.split(",")
        }
        self.connection_tokens = connection
        self.keep_alive = (
            "close" not in connection
            if version == "HTTP/1.1"
            else "keep-alive" in connection
        )
        self.query: dict[str, str] = {}
        self.query_items = parse_qsl(self.query_string, keep_blank_values=True)
        for key, value in self.query_items:
            self.query.setdefault(key, value)
        self._body_started = False
        self.body_done = self.length in (None, 0) and not self.chunked
        self._form: dict[str, str] | None = None

    @property
    def body_exists(self) -> bool:
        """Whether the request carries a body (possibly empty when chunked)."""
        return self.chunked or bool(self.length)

    @property
    def content_type(self) -> str:
        """The media type, lower case, without parameters."""
        value = self.headers.get("Content-Type", "") or ""
        return value.split(";", 1)[0].strip().lower()

    @functools.cached_property
    def cookies(self) -> dict[str, str]:
        """Cookie name to value (the first of each name)."""
        found: dict[str, str] = {}
        for header in self.headers.getall("Cookie"):
            for part in header.split(";"):
                name, eq, value = part.strip().partition("=")
                if eq and name:
                    found.setdefault(name, value.strip().strip('"'))
        return found

    async def _continue(self) -> None:
        if self._body_started:
            raise RuntimeError("the body was read already")
        self._body_started = True
        expect = self.headers.get("Expect")
        if expect is not None and self.version == "HTTP/1.1" and self.body_exists:
            if expect.lower() != "100-continue":
                raise HttpError(417, "unsupported expectation")
            self.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await self.writer.drain()

    async def body(self) -> AsyncIterator[bytes]:
        """Stream the body as it arrives (once)."""
        await self._continue()
        if self.chunked:
            source = _chunks(self.reader)
        elif self.length:
            source = _fixed(self.reader, self.length)
        else:
            self.body_done = True
            return
        async for data in source:
            yield data
        self.body_done = True

    async def read(self, limit: int = MAX_FORM) -> bytes:
        """Return the whole body; 413 beyond ``limit`` bytes."""
        if self.length is not None and self.length > limit:
            raise HttpError(413, "body too large")
        data = bytearray()
        try:
            async with asyncio.timeout(FORM_TIMEOUT):
                async for part in self.body():
                    data += part
                    if len(data) > limit:
                        raise HttpError(413, "body too large")
        except TimeoutError:
            raise HttpError(408, "body not sent in time") from None
        return bytes(data)

    async def post(self) -> dict[str, str]:
        """Return the urlencoded form of the body (empty for any other media type).

        Only ``application/x-www-form-urlencoded`` is read: the gateway's own pages
        post nothing else. The form is read once and remembered.
        """
        if self._form is None:
            self._form = {}
            if self.content_type == "application/x-www-form-urlencoded":
                text = (await self.read()).decode("utf-8", errors="replace")
                for key, value in parse_qsl(text, keep_blank_values=True):
                    self._form.setdefault(key, value)
        return self._form


@dataclass(slots=True)
class Response:
    """A complete response the server writes for a handler."""

    status: int
    body: bytes = b""
    headers: Headers = field(default_factory=Headers)
    content_type: str | None = None

    def set_cookie(
        self,
        name: str,
        value: str,
        *,
        max_age: int | None = None,
        path: str = "/",
        httponly: bool = True,
        secure: bool = False,
        samesite: str = "Strict",
        expires: str | None = None,
    ) -> None:
        """Add a Set-Cookie field."""
        parts = [f"{name}={value}"]
        if expires is not None:
            parts.append(f"expires={expires}")
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        parts.append(f"Path={path}")
        if httponly:
            parts.append("HttpOnly")
        if secure:
            parts.append("Secure")
        parts.append(f"SameSite={samesite}")
        self.headers.add("Set-Cookie", "; ".join(parts))

    def del_cookie(self, name: str, *, path: str = "/", **options: bool | str) -> None:
        """Tell the browser to forget ``name`` (expired, empty value)."""
        self.set_cookie(
            name,
            '""',
            max_age=0,
            path=path,
            expires="Thu, 01 Jan 1970 00:00:00 GMT",
            httponly=bool(options.get("httponly", True)),
            secure=bool(options.get("secure", False)),
            samesite=str(options.get("samesite", "Strict")),
        )

    def encode(self, *, head_only: bool, keep_alive: bool) -> bytes:
        """Return the response as bytes (no body for HEAD)."""
        headers = Headers(self.headers.items())
        if self.content_type is not None and "Content-Type" not in headers:
            headers.add("Content-Type", self.content_type)
        headers["Content-Length"] = str(len(self.body))
        if not keep_alive:
            headers["Connection"] = "close"
        return (
            status_line(self.status)
            + headers.encode()
            + b"\r\n"
            + (b"" if head_only else self.body)
        )


def status_line(status: int, reason: str | None = None) -> bytes:
    """``HTTP/1.1 <status> <reason>`` with its CRLF."""
    text = reason if reason is not None else REASONS.get(status, "")
    return f"HTTP/1.1 {status} {text}\r\n".encode("latin-1", errors="replace")


Handler = Callable[[Request], Awaitable[Response | None]]
"""Answer a request: a Response to write, or None if the handler wrote its own
(and set ``request.keep_alive`` False unless its framing allows another request)."""


class Server:
    """Serve ``handler`` on a bound socket, with or without TLS."""

    def __init__(self, handler: Handler, *, ssl_context: ssl.SSLContext | None) -> None:
        """Nothing listens until start()."""
        self._handler = handler
        self._ssl_context = ssl_context
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._idle: set[asyncio.Task[None]] = set()
        """Connections waiting for a request (cut at once by stop())."""
        self.closing = False

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        """The listening sockets."""
        if self._server is None:
            return ()
        return tuple(self._server.sockets)

    async def start(self, *, sock: socket.socket | None, host: str, port: int) -> None:
        """Listen on ``sock``, or bind ``host``:``port``."""
        if sock is not None:
            self._server = await asyncio.start_server(
                self._connection, sock=sock, ssl=self._ssl_context, limit=MAX_HEAD
            )
        else:
            self._server = await asyncio.start_server(
                self._connection, host, port, ssl=self._ssl_context, limit=MAX_HEAD
            )

    async def stop(self, grace: float = 5.0) -> None:
        """Stop listening, give open requests ``grace`` seconds, then cut them."""
        self.closing = True
        if self._server is not None:
            self._server.close()
        for task in self._idle:
            task.cancel()
        if self._connections:
            _done, pending = await asyncio.wait(set(self._connections), timeout=grace)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), grace)
            self._server = None

    async def _connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if len(self._connections) >= MAX_CONNECTIONS or self.closing or task is None:
            writer.close()
            return
        self._connections.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        except asyncio.CancelledError:
            if not self.closing:
                raise
        finally:
            self._connections.discard(task)
            self._idle.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        scheme = "https" if self._ssl_context is not None else "http"
        task = asyncio.current_task()
        assert task is not None  # noqa: S101  # a connection runs in its own task
        first = True
        while not self.closing:
            self._idle.add(task)
            try:
                head = await asyncio.wait_for(
                    reader.readuntil(b"\r\n\r\n"),
                    HEAD_TIMEOUT if first else KEEPALIVE_TIMEOUT,
                )
            except (asyncio.LimitOverrunError, ValueError):
                await _refuse(writer, 431)
                return
            except TimeoutError:
                return
            except asyncio.IncompleteReadError as err:
                if err.partial.strip():
                    await _refuse(writer, 400)
                return
            finally:
                self._idle.discard(task)
            first = False
            try:
                request = parse_request(head, reader, writer, scheme)
            except HttpError as err:
                _LOGGER.debug("Refused a malformed request: %s", err)
                await _refuse(writer, err.status)
                return
            try:
                response = await self._handler(request)
            except HttpError as err:
                _LOGGER.debug("Refused a request: %s", err)
                await _refuse(writer, err.status)
                return
            except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
                raise
            except Exception:
                _LOGGER.exception("The gateway failed to answer a request")
                await _refuse(writer, 500)
                return
            if response is not None:
                keep = request.keep_alive and request.body_done and not self.closing
                writer.write(
                    response.encode(head_only=request.method == "HEAD", keep_alive=keep)
                )
                await writer.drain()
                if not keep:
                    return
            elif not (request.keep_alive and request.body_done):
                return


def parse_request(
    head: bytes,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    scheme: str,
) -> Request:
    """Parse a request head (line and fields, up to and with the blank line)."""
    lines = _split_head(head)
    # One empty line before a request is tolerated (RFC 9112 2.2).
    if lines and lines[0] == b"" and len(lines) > 1:
        lines = lines[1:]
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]):
        raise HttpError(400, "malformed request line")
    method, target, version = parts
    if version not in (b"HTTP/1.1", b"HTTP/1.0"):
        raise HttpError(505 if version.startswith(b"HTTP/") else 400, "version")
    if not _TARGET.fullmatch(target):
        raise HttpError(400, "request target not in origin form")
    return Request(
        method=method.decode("ascii"),
        target=target.decode("ascii"),
        version=version.decode("ascii"),
        headers=_parse_fields(lines[1:]),
        reader=reader,
        writer=writer,
        scheme=scheme,
    )


async def _refuse(writer: asyncio.StreamWriter, status: int) -> None:
    """Answer a request the server could not take, and close."""
    text = REASONS.get(status, "Error").encode()
    writer.write(
        status_line(status)
        + b"Content-Type: text/plain; charset=utf-8\r\n"
        + f"Content-Length: {len(text)}\r\nConnection: close\r\n\r\n".encode()
        + text
    )
    with contextlib.suppress(Exception):
        await writer.drain()


# -- upstream ------------------------------------------------------------------


class UpstreamError(Exception):
    """The upstream could not be reached, or answered something unusable."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where the upstream is: scheme, host and port, and its base path."""

    scheme: str
    host: str
    port: int
    base_path: str
    url: str
    """The base URL as configured (no trailing slash)."""

    @classmethod
    def parse(cls, url: str) -> Origin:
        """Parse an http(s) URL; ValueError for anything else."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"upstream must be an http(s) URL, got {url!r}")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ValueError(f"upstream must be a plain base URL, got {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(parts.scheme, parts.hostname, port, parts.path, url)

    @property
    def authority(self) -> str:
        """``Host`` for the upstream (the port only if it is not the default)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


@dataclass(slots=True)
class UpstreamResponse:
    """An upstream's response head, its body still in ``reader``."""

    status: int
    reason: str
    headers: Headers
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def close(self) -> None:
        """Drop the upstream connection."""
        self.writer.close()


_upstream_tls: ssl.SSLContext | None = None


def _upstream_ssl(origin: Origin) -> ssl.SSLContext | None:
    global _upstream_tls  # noqa: PLW0603  # one verifying context, made on first use
    if origin.scheme != "https":
        return None
    if _upstream_tls is None:
        _upstream_tls = ssl.create_default_context()
    return _upstream_tls


async def open_upstream(
    origin: Origin, connect_within: float
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to the upstream (TLS verified for https) within ``connect_within`` s."""
    context = _upstream_ssl(origin)
    try:
        return await asyncio.wait_for(
            asyncio.open_connection(
                origin.host,
                origin.port,
                ssl=context,
                server_hostname=origin.host if context is not None else None,
                limit=MAX_HEAD,
            ),
            connect_within,
        )
    except (OSError, TimeoutError, ssl.SSLError) as err:
        raise UpstreamError(f"cannot connect to {origin.url}: {err!r}") from err


async def read_response_head(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> UpstreamResponse:
    """Read an upstream's status line and fields, skipping 1xx other than 101."""
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = _split_head(head)
            version, _, rest = lines[0].partition(b" ")
            code, _, reason = rest.partition(b" ")
            if not version.startswith(b"HTTP/1.") or not (
                code.isdigit() and len(code) == 3
            ):
                raise HttpError(502, "malformed status line")
            headers = _parse_fields(lines[1:])
        except (asyncio.LimitOverrunError, ValueError, HttpError) as err:
            raise UpstreamError(f"unusable response: {err}") from err
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError) as err:
            raise UpstreamError(f"connection lost: {err!r}") from err
        status = int(code)
        if 100 <= status < 200 and status != 101:
            continue
        return UpstreamResponse(
            status, reason.decode("latin-1"), headers, reader, writer
        )


async def send_upstream_request(
    origin: Origin,
    target: str,
    request: Request,
    headers: Headers,
    connect_within: float,
) -> UpstreamResponse:
    """Send ``request`` (its body streamed) to ``target`` at the upstream."""
    reader, writer = await open_upstream(origin, connect_within)
    out = Headers([("Host", origin.authority), *headers.items()])
    out.discard("Content-Length")
    out.discard("Transfer-Encoding")
    if request.chunked:
        out.add("Transfer-Encoding", "chunked")
    elif request.length is not None:
        out.add("Content-Length", str(request.length))
    out.add("Connection", "close")
    try:
        writer.write(
            f"{request.method} {target} HTTP/1.1\r\n".encode("ascii")
            + out.encode()
            + b"\r\n"
        )
        async for data in request.body():
            writer.write(
                b"%x\r\n%s\r\n" % (len(data), data) if request.chunked else data
            )
            await writer.drain()
        if request.chunked:
            writer.write(b"0\r\n\r\n")
        await writer.drain()
    except (ConnectionError, ssl.SSLError) as err:
        writer.close()
        raise UpstreamError(f"connection lost: {err!r}") from err
    except BaseException:
        writer.close()
        raise
    try:
        return await read_response_head(reader, writer)
    except BaseException:
        writer.close()
        raise


def response_body(
    upstream: UpstreamResponse, method: str
) -> tuple[int | None, AsyncIterator[bytes] | None]:
    """How the upstream's body is framed: (length or None, chunks or None: no body)."""
    if method == "HEAD" or upstream.status in (204, 304):
        return 0, None
    try:
        if is_chunked(upstream.headers):
            return None, _chunks(upstream.reader)
        length = content_length(upstream.headers)
    except HttpError as err:
        raise UpstreamError(f"unusable framing: {err}") from err
    if length is not None:
        return length, _fixed(upstream.reader, length)
    return None, _to_eof(upstream.reader)


# -- WebSocket -------------------------------------------------------------------


def websocket_accept(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key``."""
    digest = hashlib.sha1(key.encode("ascii") + WS_GUID).digest()  # noqa: S324  # RFC 6455
    return base64.b64encode(digest).decode("ascii")


def websocket_key(request: Request) -> str | None:
    """Return the client's key if this is a well-formed version 13 handshake."""
    if request.method != "GET" or request.version != "HTTP/1.1":
        return None
    if "upgrade" not in request.connection_tokens:
        return None
    versions = request.headers.getall("Sec-WebSocket-Version")
    keys = request.headers.getall("Sec-WebSocket-Key")
    if len(versions) != 1 or versions[0].strip() != "13" or len(keys) != 1:
        return None
    key = keys[0].strip()
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            return None
    except ValueError:
        return None
    return key


def offered_protocols(request: Request) -> list[str]:
    """Return the subprotocols a WebSocket client offers, in order."""
    return [
        p.strip()
        for value in request.headers.getall("Sec-WebSocket-Protocol")
        for p in value.split(",")
        if p.strip()
    ]


class WebSocketProtocolError(Exception):
    """A frame that breaks RFC 6455: the relay ends with close code 1002."""


_CONTROL_OPCODES: Final = frozenset({0x8, 0x9, 0xA})
_DATA_OPCODES: Final = frozenset({0x0, 0x1, 0x2})


def close_frame(code: int, reason: bytes = b"", *, masked: bool) -> bytes:
    """Return a close frame (masked, as a client sends it, when ``masked``)."""
    payload = struct.pack("!H", code) + reason[:123]
    if not masked:
        return bytes((0x88, len(payload))) + payload
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes((0x88, 0x80 | len(payload))) + mask + body


class FrameRelay:
    """Frames from one peer to the other, whole frames at a time.

    ``lock`` is held while a frame is written, so :meth:`inject` (a close frame of
    the gateway's own) lands between frames, never inside one.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        from_client: bool,
    ) -> None:
        """Relay from ``reader`` to ``writer``; client frames must be masked."""
        self._reader = reader
        self._writer = writer
        self._from_client = from_client
        self.lock = asyncio.Lock()
        self.closed = False
        """A close frame has gone through (or been injected)."""

    async def run(self) -> None:
        """Relay until the source ends; WebSocketProtocolError on a bad frame."""
        reader = self._reader
        while True:
            try:
                head = await reader.readexactly(2)
            except asyncio.IncompleteReadError:
                return
            first, second = head
            opcode = first & 0x0F
            masked = bool(second & 0x80)
            length = second & 0x7F
            if first & 0x70 or masked != self._from_client:
                raise WebSocketProtocolError("reserved bits or wrong masking")
            if opcode in _CONTROL_OPCODES:
                if length > 125 or not first & 0x80:
                    raise WebSocketProtocolError("fragmented or long control frame")
            elif opcode not in _DATA_OPCODES:
                raise WebSocketProtocolError(f"unknown opcode {opcode}")
            extra = b""
            if length == 126:
                extra = await reader.readexactly(2)
                length = struct.unpack("!H", extra)[0]
            elif length == 127:
                extra = await reader.readexactly(8)
                length = struct.unpack("!Q", extra)[0]
                if length >> 63:
                    raise WebSocketProtocolError("frame length out of range")
            mask = await reader.readexactly(4) if masked else b""
            async with self.lock:
                if self.closed:
                    return
                self._writer.write(head + extra + mask)
                remaining = length
                while remaining:
                    data = await reader.readexactly(min(remaining, CHUNK_SIZE))
                    self._writer.write(data)
                    remaining -= len(data)
                    await self._writer.drain()
                await self._writer.drain()
                if opcode == 0x8:
                    self.closed = True
                    return

    async def inject(self, frame: bytes, wait: float = 2.0) -> None:
        """Write ``frame`` between two relayed frames and stop relaying."""
        try:
            await asyncio.wait_for(self.lock.acquire(), wait)
        except TimeoutError:
            self._writer.transport.abort()
            return
        try:
            if not self.closed:
                self.closed = True
                self._writer.write(frame)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._writer.drain(), wait)
        finally:
            self.lock.release()
