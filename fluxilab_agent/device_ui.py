"""The agent's side of the device UI gateway: its certificate, and starting it.

The gateway itself (``gateway.py``, aiohttp) is imported only when ``[gateway]`` is
configured, and so are the X.509 parts of ``cryptography`` (``certificate.py``): a
device without a UI never loads either.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fluxilab_protocol.security import SessionKeys

from .config import AgentConfig
from .mirror import CredentialMirror

if TYPE_CHECKING:
    from .certificate import GatewayCertificate
    from .gateway import Gateway

_LOGGER = logging.getLogger("fluxilab_agent.agent")


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


async def start_gateway(
    config: AgentConfig,
    certificate: GatewayCertificate | None,
    *,
    keys_provider: Callable[[], SessionKeys | None],
    mirror: CredentialMirror,
    status_provider: Callable[[], dict[str, Any]],
    actions: Callable[[str, dict[str, Any]], Awaitable[None]],
) -> Gateway | None:
    """Start the gateway ``[gateway]`` configures; None without one."""
    gateway_config = config.gateway
    if gateway_config is None:
        return None
    try:
        from .gateway import Gateway  # noqa: PLC0415  # optional part
    except ImportError as err:
        _LOGGER.warning("Device UI gateway unavailable: %s", err)
        return None
    gateway = Gateway(
        device_id=config.device.id,
        keys_provider=keys_provider,
        mirror=mirror,
        upstream=config.ui_upstream,
        status_provider=status_provider,
        actions=actions,
        host=gateway_config.host,
        port=gateway_config.port,
        cookie_secure=gateway_config.secure_cookies,
        ssl_context=(certificate.server_context() if certificate is not None else None),
    )
    await gateway.start()
    return gateway
