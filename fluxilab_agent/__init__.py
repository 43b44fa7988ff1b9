"""FluxiLab edge agent: connects one lab device (or a simulated lab) to the hub."""

from __future__ import annotations

__version__ = "0.1.0"
