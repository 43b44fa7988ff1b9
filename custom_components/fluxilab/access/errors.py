"""Translated errors of the access-control engine."""

from __future__ import annotations

from homeassistant.exceptions import ServiceValidationError

from custom_components.fluxilab.const import DOMAIN


class AccessValidationError(ServiceValidationError):
    """Bad data from a service or websocket caller; nothing was changed."""

    def __init__(self, translation_key: str, **placeholders: str) -> None:
        """Build a translated error; placeholders fill the message."""
        super().__init__(
            translation_domain=DOMAIN,
            translation_key=translation_key,
            translation_placeholders=placeholders or None,
        )
