"""``python -m fluxilab_agent`` runs the ``fluxilab-agent`` command line."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
