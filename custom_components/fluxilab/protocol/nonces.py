"""Random bytes for message nonces, taken from the OS a block at a time.

Every sealed message needs fresh random bytes: its envelope's nonce, and an
encrypted body's AES-GCM IV. ``os.urandom`` (and ``secrets``, which reads it) is
one ``getrandom()`` call per message, and CPython lets the GIL go around that call.
On a busy hub the event loop then waits for the recorder's turn before it gets the
GIL back: in the lab bench, 6 % of the loop's busy time answering signed agents at
200 checks/s sat there (docs/PERFORMANCE.md, "Issue 15: seventh pass").

So nonces come from a block of the OS's random bytes, read once per
:data:`BLOCK_BYTES`: the same CSPRNG output as before, each byte handed out once,
hundreds of nonces per call. Nonces and IVs are public (sent in clear); they must
never repeat under one key, and a block's bytes are never handed out twice: a
forked child drops its parent's block (``os.register_at_fork``), and the block is
taken under a lock (the agent seals from more than one thread). Keys, secrets and
tokens that must stay unknown still come from ``secrets`` directly.
"""

from __future__ import annotations

import os
import threading

BLOCK_BYTES = 4096
"""Bytes read from the OS at a time (a 12-byte IV and an 8-byte nonce per message)."""


class NonceSource:
    """Hands out the OS's random bytes, each once, read a block at a time."""

    def __init__(self, block: int = BLOCK_BYTES) -> None:
        """Start with nothing read (the first call reads a block)."""
        self._block = block
        self._lock = threading.Lock()
        self._buffer = b""
        self._offset = 0

    def take(self, size: int) -> bytes:
        """Return ``size`` random bytes no caller got before."""
        with self._lock:
            end = self._offset + size
            if end > len(self._buffer):
                self._buffer = os.urandom(max(self._block, size))
                self._offset, end = 0, size
            taken = self._buffer[self._offset : end]
            self._offset = end
            return taken

    def drop(self) -> None:
        """Forget the block (a forked child must not hand out its parent's bytes)."""
        self._lock = threading.Lock()  # the parent may have held it at the fork
        self._buffer = b""
        self._offset = 0


_SOURCE = NonceSource()
os.register_at_fork(after_in_child=_SOURCE.drop)


def nonce_bytes(size: int) -> bytes:
    """Return ``size`` fresh random bytes for a nonce or an IV."""
    return _SOURCE.take(size)


def nonce_hex(size: int) -> str:
    """Return ``size`` fresh random bytes as hex (an envelope's nonce)."""
    return _SOURCE.take(size).hex()
