"""The FluxiLab device protocol: topics, payload schemas, signing, pairing.

Pure Python with no Home Assistant imports. The integration imports it as
``custom_components.fluxilab.protocol``; the edge agent's distribution ships the same
source files as the top-level package ``fluxilab_protocol`` (see pyproject.toml). One
definition, tested once, used by both sides. docs/PROTOCOL.md describes it in prose.
"""

from __future__ import annotations

PROTOCOL_VERSION = 1
"""Major protocol version. Bumped only for incompatible changes (see PROTOCOL.md)."""

DEFAULT_BASE_TOPIC = "fluxilab"
