"""Nonces come from the OS a block at a time, and no byte is handed out twice.

Not in a thread that forked, nor across threads, nor across the block's edge.
"""

from __future__ import annotations

import os
from pathlib import Path
import subprocess
import sys
import threading

import pytest

from fluxilab_protocol import nonces, security
from fluxilab_protocol.nonces import NonceSource

REPO = Path(__file__).resolve().parents[2]


def test_bytes_are_read_a_block_at_a_time_and_handed_out_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads: list[int] = []
    counter = iter(range(1_000_000))

    def urandom(size: int) -> bytes:
        reads.append(size)
        # Distinct, recognisable bytes: a repeat would show as a repeated window.
        return b"".join(next(counter).to_bytes(4, "big") for _ in range(size // 4))

    monkeypatch.setattr(nonces.os, "urandom", urandom)
    source = NonceSource(block=64)
    taken = [source.take(12) for _ in range(20)]
    assert all(len(piece) == 12 for piece in taken)
    # 64 bytes hold five 12-byte pieces: the sixth needs the next block.
    assert reads == [64, 64, 64, 64]
    assert len(set(taken)) == len(taken)
    # Larger than a block: one read of that size.
    assert len(source.take(100)) == 100
    assert reads[-1] == 100


def test_many_nonces_from_many_threads_never_repeat() -> None:
    source = NonceSource(block=256)
    found: list[list[bytes]] = [[] for _ in range(4)]

    def take(into: list[bytes]) -> None:
        for _ in range(5_000):
            into.append(source.take(8))

    threads = [threading.Thread(target=take, args=(into,)) for into in found]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [piece for into in found for piece in into]
    assert len(every) == 20_000
    assert len(set(every)) == 20_000


FORK = """
import os, sys
from fluxilab_protocol import nonces
nonces.nonce_bytes(1)  # the parent has a block under way
read, write = os.pipe()
pid = os.fork()
if pid == 0:  # the child: its next nonce, to the parent
    os.write(write, nonces.nonce_bytes(16))
    os._exit(0)
os.close(write)
child = os.read(read, 16)
os.waitpid(pid, 0)
print(child.hex(), nonces.nonce_bytes(16).hex())
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_child_does_not_hand_out_its_parents_bytes() -> None:
    # In an interpreter of its own: pytest's has threads, and fork warns of them.
    done = subprocess.run(
        [sys.executable, "-c", FORK],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    child, parent = done.stdout.split()
    assert len(bytes.fromhex(child)) == 16
    assert child != parent


def test_sealed_envelopes_carry_distinct_nonces_and_ivs() -> None:
    keys = security.KeyPair.generate().derive(security.KeyPair.generate().public_b64)
    sealed = [
        security.seal(keys, "fluxilab/d/credentials", {"n": n}, encrypt=True)
        for n in range(200)
    ]
    assert len({s["nonce"] for s in sealed}) == 200
    assert len({s["body"]["iv"] for s in sealed}) == 200
    assert all(len(s["nonce"]) == 16 for s in sealed)
