"""The agent's side of the device UI gateway: its certificate, and starting it.

The gateway (``gateway.py`` on ``http11.py``, asyncio streams) and bcrypt cost about
1 MiB of what a Raspberry Pi agent may use (40 MiB, docs/AGENT.md). The port is
bound when the agent starts; the gateway is loaded when the first connection
arrives and takes over the same socket (the connection waits in the listen queue
meanwhile), so a device whose UI nobody opens never loads it. ``certificate.py``
reads the HTTPS certificate without ``cryptography``'s X.509 code (a child process
makes one when needed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import logging
import socket
import ssl
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fluxilab_protocol.security import SessionKeys

from .config import AgentConfig
from .mirror import CredentialMirror

if TYPE_CHECKING:
    from .certificate import GatewayCertificate
    from .gateway import Gateway

_LOGGER = logging.getLogger("fluxilab_agent.agent")
_GATEWAY_LOGGER = logging.getLogger("fluxilab_agent.gateway")


def log_listening(
    ssl_context: ssl.SSLContext | None, host: str, port: int, upstream: str | None
) -> None:
    """Say where the gateway listens, and warn when it speaks plain HTTP."""
    if ssl_context is None:
        _GATEWAY_LOGGER.warning(
            "Device UI gateway speaks plain HTTP (gateway.tls = false): PINs, "
            "session cookies and tokens cross the network in clear; only for "
            "loopback or development"
        )
    _GATEWAY_LOGGER.info(
        "Device UI gateway listening on %s://%s:%s (%s)",
        "https" if ssl_context is not None else "http",
        host,
        port,
        f"proxying {upstream}" if upstream else "built-in status page",
    )


def gateway_certificate(config: AgentConfig) -> GatewayCertificate | None:
    """Load (or create) the gateway's certificate; None when it speaks plain HTTP."""
    gateway = config.gateway
    if gateway is None or not gateway.tls:
        return None
    from .certificate import (  # noqa: PLC0415  # only devices with an HTTPS UI
        load_certificate,
        self_signed_certificate,
    )

    if gateway.cert is not None and gateway.key is not None:
        certificate = load_certificate(gateway.cert, gateway.key)
    else:
        hosts = [gateway.host]
        if config.device.ui_url and (
            ui_host := urlsplit(config.device.ui_url).hostname
        ):
            hosts.append(ui_host)
        certificate = self_signed_certificate(
            config.data_dir, device_id=config.device.id, hosts=hosts
        )
    _LOGGER.info(
        "Device UI gateway certificate (%s), SHA-256 fingerprint %s",
        "self-signed" if certificate.self_signed else str(certificate.cert),
        certificate.fingerprint,
    )
    return certificate


class LazyGateway:
    """The gateway's port from the start; the gateway from its first connection."""

    def __init__(
        self,
        factory: Callable[[], Gateway],
        *,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext | None,
        upstream: str | None,
    ) -> None:
        """Bind ``host``:``port`` at start; ``factory()`` builds the gateway later."""
        self._factory = factory
        self._host = host
        self._port = port
        self._ssl_context = ssl_context
        self._upstream = upstream
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loading: asyncio.Task[None] | None = None
        self.gateway: Gateway | None = None

    @property
    def port(self) -> int:
        """The bound port once started (``port=0`` picks a free one)."""
        if self._sock is not None:
            return int(self._sock.getsockname()[1])
        return self._port

    async def start(self) -> None:
        """Bind the port (an OSError if it is taken) and wait for a connection."""
        family = socket.getaddrinfo(
            self._host, self._port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0][0]
        sock = socket.create_server((self._host, self._port), family=family)
        sock.setblocking(False)
        self._sock = sock
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(sock.fileno(), self._first_connection)
        log_listening(self._ssl_context, self._host, self.port, self._upstream)

    def _first_connection(self) -> None:
        assert self._loop is not None  # noqa: S101  # set by start()
        assert self._sock is not None  # noqa: S101
        self._loop.remove_reader(self._sock.fileno())
        self._loading = self._loop.create_task(self._load(self._sock))

    async def _load(self, sock: socket.socket) -> None:
        try:
            gateway = self._factory()
            await gateway.start(sock=sock)
        except Exception:
            # Not left bound and silent: a client sees the port refused.
            _LOGGER.exception("The device UI gateway could not start; port closed")
            sock.close()
            self._sock = None
            return
        self.gateway = gateway
        _LOGGER.info("Device UI gateway loaded for its first connection")

    async def stop(self) -> None:
        """Stop the gateway, or just close the port if it was never loaded."""
        if self._loading is not None:
            await self._loading
        if self.gateway is not None:
            await self.gateway.stop()
        elif self._sock is not None and self._loop is not None:
            self._loop.remove_reader(self._sock.fileno())
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def end_sessions(self, reason: str) -> None:
        """End every gateway session (none exist before it is loaded)."""
        if self.gateway is not None:
            self.gateway.end_sessions(reason)


async def start_gateway(
    config: AgentConfig,
    certificate: GatewayCertificate | None,
    *,
    keys_provider: Callable[[], SessionKeys | None],
    mirror: CredentialMirror,
    status_provider: Callable[[], dict[str, Any]],
    actions: Callable[[str, dict[str, Any]], Awaitable[None]],
    report: Callable[[str, str, bool], Awaitable[str]] | None = None,
) -> LazyGateway | None:
    """Start the gateway ``[gateway]`` configures; None without one."""
    gateway_config = config.gateway
    if gateway_config is None:
        return None
    ssl_context = certificate.server_context() if certificate is not None else None

    def build() -> Gateway:
        from .gateway import Gateway  # noqa: PLC0415  # loaded on first use

        return Gateway(
            device_id=config.device.id,
            keys_provider=keys_provider,
            mirror=mirror,
            upstream=config.ui_upstream,
            status_provider=status_provider,
            actions=actions,
            report=report,
            host=gateway_config.host,
            port=gateway_config.port,
            cookie_secure=gateway_config.secure_cookies,
            ssl_context=ssl_context,
        )

    gateway = LazyGateway(
        build,
        host=gateway_config.host,
        port=gateway_config.port,
        ssl_context=ssl_context,
        upstream=config.ui_upstream,
    )
    await gateway.start()
    return gateway
