"""What the agent keeps in its data dir besides the buffer and the mirror.

* ``device.key``: the device's X25519 private key, created on first start (0600).
* ``state.json``: the pinned hub key (trust on first use), the blocked flag and
  settings changed by the hub's ``config`` command (0600, written atomically).
* ``replay.json``: the replay guard's window, written when the agent stops, so a
  message the agent took before a restart is not taken again after it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from fluxilab_protocol.security import GuardWindow, KeyPair, parse_public_key

_LOGGER = logging.getLogger(__name__)

KEY_FILE = "device.key"
STATE_FILE = "state.json"
MIRROR_FILE = "credentials.json"
BUFFER_FILE = "buffer.sqlite"
REPLAY_FILE = "replay.json"


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` atomically (tmp, fsync, rename, fsync dir) with mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:  # write() loops until every byte is out
        file.write(data)
        file.flush()
        os.fsync(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def load_device_key(data_dir: Path) -> KeyPair:
    """Load the device key pair, creating it on first start."""
    path = data_dir / KEY_FILE
    try:
        return KeyPair.from_private_b64(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    except ValueError as err:
        raise RuntimeError(
            f"{path} is damaged ({err}); delete it to create a new key (the device "
            "must then be adopted again)"
        ) from err
    keys = KeyPair.generate()
    write_private(path, keys.private_b64().encode("ascii"))
    _LOGGER.info("Created the device key %s", path)
    return keys


def load_replay(data_dir: Path) -> Any:
    """Return what :func:`save_replay` stored (None if nothing or damaged).

    The replay guard treats anything but a complete snapshot as a crash.
    """
    try:
        return json.loads((data_dir / REPLAY_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        _LOGGER.error("Ignoring the damaged replay window %s: %s", REPLAY_FILE, err)
        return None


def save_replay(data_dir: Path, data: GuardWindow) -> None:
    """Store the replay guard's window (or its interrupted marker) atomically."""
    write_private(
        data_dir / REPLAY_FILE, json.dumps(data, separators=(",", ":")).encode()
    )


class AgentState:
    """Small persistent settings: pinned hub key, blocked flag, config overrides."""

    def __init__(self, data_dir: Path) -> None:
        """Load ``state.json`` (a damaged file is reported and ignored)."""
        self.path = data_dir / STATE_FILE
        self.hub_key: str | None = None
        self.blocked = False
        self.overrides: dict[str, Any] = {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as err:
            _LOGGER.error("Ignoring the damaged state file %s: %s", self.path, err)
            return
        if not isinstance(data, dict):
            _LOGGER.error("Ignoring the damaged state file %s", self.path)
            return
        hub_key = data.get("hub_key")
        if isinstance(hub_key, str):
            try:
                parse_public_key(hub_key)
            except ValueError:
                _LOGGER.error("Ignoring the damaged pinned hub key in %s", self.path)
            else:
                self.hub_key = hub_key
        self.blocked = data.get("blocked") is True
        if isinstance(overrides := data.get("overrides"), dict):
            self.overrides = overrides

    def save(self) -> None:
        """Persist atomically."""
        data = {
            "hub_key": self.hub_key,
            "blocked": self.blocked,
            "overrides": self.overrides,
        }
        write_private(self.path, json.dumps(data, indent=1).encode("utf-8"))


def reset_pairing(data_dir: Path) -> bool:
    """Forget the pinned hub key and the credential mirror; True if a key was pinned."""
    state = AgentState(data_dir)
    pinned = state.hub_key is not None
    state.hub_key = None
    if state.path.exists() or pinned:
        state.save()
    with contextlib.suppress(FileNotFoundError):
        (data_dir / MIRROR_FILE).unlink()
    return pinned
