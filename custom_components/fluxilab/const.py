"""Constants of the FluxiLab integration."""

from __future__ import annotations

import logging
from typing import Final

from .protocol import DEFAULT_BASE_TOPIC

DOMAIN: Final = "fluxilab"
LOGGER = logging.getLogger(__package__)
MANUFACTURER: Final = "FluxiLab"

CONF_BASE_TOPIC: Final = "base_topic"
CONF_DEVICE_ID: Final = "device_id"
CONF_DEVICE_KEY: Final = "device_key"
CONF_FINGERPRINT: Final = "fingerprint"

DEFAULT_BASE: Final = DEFAULT_BASE_TOPIC
