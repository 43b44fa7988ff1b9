"""A real Mosquitto broker on a free loopback port, for tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
import pwd
import shutil
import socket
import subprocess
import time


def find_mosquitto() -> str:
    """Return the broker binary (Debian installs it in /usr/sbin)."""
    found = shutil.which("mosquitto") or shutil.which(
        "mosquitto", path="/usr/sbin:/usr/local/sbin"
    )
    if found is None:
        raise RuntimeError("mosquitto is not installed: run scripts/bootstrap")
    return found


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_consecutive_ports(count: int) -> int:
    """Return the first of ``count`` consecutive ports all free on 127.0.0.1 now.

    For processes that take a base port and use the next ones (the agent's
    simulator): ``free_port() + 1`` may be somebody else's.
    """
    for _ in range(100):
        base = free_port()
        if base + count > 65536:
            continue
        with contextlib.ExitStack() as held:
            try:
                for port in range(base, base + count):
                    sock = held.enter_context(
                        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    )
                    sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return base
    raise RuntimeError(f"no {count} consecutive free ports on 127.0.0.1")


class Mosquitto:
    """Start, stop and restart a private broker; the port stays the same."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        """Write the broker's config into ``workdir``."""
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.workdir = workdir
        self.config = workdir / "mosquitto.conf"
        self.log = workdir / "mosquitto.log"
        self.config.write_text(
            f"listener {self.port} {self.host}\n"
            "allow_anonymous true\n"
            "persistence false\n"
            # Run as whoever started it (as root, Mosquitto would otherwise switch to
            # a 'mosquitto' user that cannot write the log in the test's folder).
            f"user {pwd.getpwuid(os.getuid()).pw_name}\n"
            f"log_dest file {self.log}\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
            "max_queued_messages 100000\n"
            # Without it Nagle's algorithm holds small replies back until the peer's
            # delayed ACK (~40 ms): fatal for millisecond access decisions.
            "set_tcp_nodelay true\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Start the broker and wait until it accepts connections."""
        self.process = subprocess.Popen(
            [find_mosquitto(), "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"mosquitto exited with {self.process.returncode}: "
                    f"{self.log.read_text() if self.log.exists() else ''}"
                )
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.host, self.port), timeout=0.2),
            ):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mosquitto did not listen on port {self.port}")

    def stop(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL after 5 s)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def restart(self) -> None:
        """Stop and start again on the same port."""
        self.stop()
        self.start()
