"""Emulated Fab-O-Matic boards for the dev lab: the firmware's exact MQTT JSON.

Each board speaks as the ESP32 firmware does (docs/FABOMATIC.md, payloads byte for
byte as src/MQTTtypes.cpp writes them): ``alive`` on connect and every
``--alive`` seconds, ``checkmachine`` on connect and every ``--check-machine``
seconds, and on a card swipe ``checkuser`` then ``startuse``, ``inuse`` with the
running duration every ``--inuse`` seconds, and ``stopuse`` on the next swipe of the
same card. While the broker is away the board decides from the cards it accepted
before (its cache) and buffers startuse, stopuse and maintenance; on reconnection it
re-sends them oldest first with ``, "replay":true`` appended, as BufferedQuery does.

    python scripts/fabomatic_emulator.py run --boards 1,2 --broker 127.0.0.1:1883 \\
        --control /tmp/fabomatic.sock [--credentials logins.json]
    python scripts/fabomatic_emulator.py swipe --control /tmp/fabomatic.sock \\
        --board 1 --card a1b2c3d4 [--maintenance]
    python scripts/fabomatic_emulator.py cut --control ... --board 1 --seconds 30
    python scripts/fabomatic_emulator.py status --control ...

``--credentials`` is a JSON object of broker logins by device id
(``{"fabomatic-1": {"username": ..., "password": ...}}``), as
fluxilab.generate_broker_config returns them. Runs on the agent's Python (paho-mqtt).
"""

from __future__ import annotations

import argparse
from collections import deque
from dataclasses import dataclass, field
import json
import logging
from pathlib import Path
import queue
import signal
import socket
import socketserver
import sys
import threading
import time
from typing import Any, ClassVar

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

FIRMWARE_VERSION = "1.0.3,emulator"
REPLY_TIMEOUT = 3.0
"""Seconds a board waits for the backend's reply (conf::mqtt::TIMEOUT_REPLY_SERVER)."""
_LOGGER = logging.getLogger("fabomatic")


def _uid(card: str) -> str:
    """A card uid as card::uid_str writes it: lowercase hex, at least 8 digits."""
    text = card.strip().lower()
    int(text, 16)  # refuse what a reader cannot produce
    return text.rjust(8, "0")


@dataclass
class Session:
    """The board's running session."""

    uid: str
    started: float
    last_inuse: float


@dataclass
class Board:
    """One emulated board and its MQTT connection."""

    machine_id: int
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    alive_period: float = 120.0
    check_machine_period: float = 30.0
    inuse_period: float = 60.0
    session: Session | None = None
    allowed: bool = True
    cached_cards: set[str] = field(default_factory=set)
    buffered: deque[str] = field(default_factory=deque)
    last_reply: dict[str, Any] | None = None
    cut_until: float = 0.0
    connected: bool = False

    def __post_init__(self) -> None:
        """Create the paho client; ``start`` connects it."""
        self.topic = f"machine/{self.machine_id}"
        self._replies: queue.Queue[dict[str, Any]] = queue.Queue()
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"fabomatic-{self.machine_id}"
        )
        if self.username:
            self.client.username_pw_set(self.username, self.password)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(1, 5)
        self._thread = threading.Thread(
            target=self._run, name=f"board-{self.machine_id}", daemon=True
        )

    # --- MQTT ------------------------------------------------------------------------
    def _on_connect(
        self, client: Any, userdata: Any, flags: Any, rc: Any, props: Any
    ) -> None:
        if rc.is_failure:
            _LOGGER.warning(
                "board %s: broker refused the login (%s)", self.machine_id, rc
            )
            return
        client.subscribe([(f"{self.topic}/reply", 1), (f"{self.topic}/request", 1)])
        self.connected = True
        _LOGGER.info("board %s: connected", self.machine_id)

    def _on_disconnect(
        self, client: Any, userdata: Any, flags: Any, rc: Any, props: Any
    ) -> None:
        self.connected = False

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        try:
            body = json.loads(msg.payload)
        except ValueError:
            _LOGGER.warning("board %s: reply is not JSON", self.machine_id)
            return
        if not isinstance(body, dict):
            return
        if msg.topic.endswith("/reply"):
            self._replies.put(body)
        else:
            # Backend request (BoardLogic::processBackendRequests): run it off the
            # network thread, which must stay free to deliver the replies.
            threading.Thread(
                target=self._backend_request, args=(body,), daemon=True
            ).start()

    def _query(self, payload: str, *, wait: bool = True) -> dict[str, Any] | None:
        """Publish a query exactly as given; return the reply (None if none)."""
        with self._lock:
            if not self.connected:
                return None
            while not self._replies.empty():
                self._replies.get_nowait()
            info = self.client.publish(self.topic, payload, qos=1)
            if not wait:
                return {}
            try:
                info.wait_for_publish(REPLY_TIMEOUT)
                reply = self._replies.get(timeout=REPLY_TIMEOUT)
            except (queue.Empty, RuntimeError, ValueError):
                _LOGGER.warning("board %s: no reply to %s", self.machine_id, payload)
                return None
            self.last_reply = reply
            return reply

    # --- firmware behaviour --------------------------------------------------------
    def alive(self) -> None:
        """AliveQuery: version, ip, serial and free heap (a string, as 0.6.7+ send it)."""
        self._query(
            '{"action":"alive","version":"' + FIRMWARE_VERSION + '","ip":"127.0.0.1",'
            '"serial":"EMU' + f"{self.machine_id:09d}" + '","heap":"143220"}',
            wait=False,
        )

    def check_machine(self) -> None:
        """MachineQuery: the backend says whether the machine may be used."""
        reply = self._query('{"action":"checkmachine"}')
        if reply is not None and reply.get("request_ok"):
            self.allowed = bool(reply.get("allowed", True))

    def _buffered_or_sent(self, payload: str) -> None:
        """Send a startuse/stopuse/maintenance; buffer it when the backend is away."""
        if self._query(payload) is None:
            self.buffered.append(payload)
            _LOGGER.info("board %s: buffered %s", self.machine_id, payload)

    def replay(self) -> None:
        """Re-send the buffered queries oldest first, flagged as replays."""
        while self.buffered and self.connected:
            payload = self.buffered[0]
            flagged = payload[:-1] + ', "replay":true}'
            if self._query(flagged) is None:
                return
            self.buffered.popleft()

    def swipe(self, card: str, maintenance: bool = False) -> dict[str, Any]:
        """A card at the reader: start, stop or register maintenance."""
        uid = _uid(card)
        with self._lock:
            if maintenance:
                self._buffered_or_sent('{"action":"maintenance", "uid":"' + uid + '"}')
                return {"ok": True, "result": "maintenance", "reply": self.last_reply}
            if self.session is not None:
                if self.session.uid != uid:
                    return {"ok": False, "result": "busy", "user": self.session.uid}
                return self._stop_use("stopped")
            reply = self._query('{"action":"checkuser","uid":"' + uid + '"}')
            if reply is None:
                # Offline: the firmware trusts the cards it accepted before.
                if uid not in self.cached_cards:
                    return {"ok": False, "result": "offline_denied"}
                _LOGGER.info(
                    "board %s: offline, %s from the cache", self.machine_id, uid
                )
            elif not (reply.get("request_ok") and reply.get("is_valid") is True):
                self.cached_cards.discard(uid)
                return {"ok": False, "result": "denied", "reply": reply}
            elif not self.allowed:
                return {"ok": False, "result": "machine_blocked"}
            else:
                self.cached_cards.add(uid)
            now = time.monotonic()
            self.session = Session(uid=uid, started=now, last_inuse=now)
            self._buffered_or_sent('{"action":"startuse", "uid":"' + uid + '"}')
            return {"ok": True, "result": "started", "reply": reply}

    def _stop_use(self, result: str) -> dict[str, Any]:
        session, self.session = self.session, None
        if session is None:
            return {"ok": False, "result": "idle"}
        duration = int(time.monotonic() - session.started)
        uid = session.uid
        self._buffered_or_sent(
            '{"action":"stopuse", "uid":"' + uid + '","duration":' + str(duration) + "}"
        )
        return {"ok": True, "result": result, "duration": duration}

    def _backend_request(self, body: dict[str, Any]) -> None:
        with self._lock:
            kind, uid = body.get("request_type"), str(body.get("uid", ""))
            if kind == "stop" and self.session is not None:
                self._stop_use("stopped_by_backend")
            elif kind == "start" and self.session is None and uid:
                self.swipe(uid)

    def cut(self, seconds: float) -> dict[str, Any]:
        """Lose the broker for a while (the board buffers meanwhile)."""
        with self._lock:
            self.cut_until = time.monotonic() + seconds
            self.client.disconnect()
            self.client.loop_stop()
            self.connected = False
        return {"ok": True, "result": "cut", "seconds": seconds}

    def status(self) -> dict[str, Any]:
        """What the board shows."""
        return {
            "board": self.machine_id,
            "connected": self.connected,
            "allowed": self.allowed,
            "session": (
                {
                    "uid": self.session.uid,
                    "duration": int(time.monotonic() - self.session.started),
                }
                if self.session
                else None
            ),
            "buffered": list(self.buffered),
        }

    # --- main loop ------------------------------------------------------------------
    def start(self) -> None:
        """Connect (paho keeps reconnecting) and start the board's loop thread."""
        self.client.connect_async(self.host, self.port)
        self.client.loop_start()
        self._thread.start()

    def signal_stop(self) -> None:
        """Ask the loop to stop (``stop`` waits for it)."""
        self._stop.set()

    def stop(self) -> None:
        """Stop the loop and disconnect."""
        self._stop.set()
        self._thread.join(timeout=10)
        self.client.disconnect()
        self.client.loop_stop()

    def _run(self) -> None:
        next_alive = next_check = 0.0
        was_connected = False
        while not self._stop.wait(0.5):
            now = time.monotonic()
            if self.cut_until and now >= self.cut_until:
                self.cut_until = 0.0
                self.client.connect_async(self.host, self.port)
                self.client.loop_start()
            if not self.connected:
                was_connected = False
                continue
            if not was_connected:
                # Like the firmware after (re)connecting: alive and checkmachine now.
                was_connected = True
                next_alive = next_check = now
            if now >= next_alive:
                self.alive()
                next_alive = now + self.alive_period
            if now >= next_check:
                self.check_machine()
                next_check = now + self.check_machine_period
            if self.buffered:
                self.replay()
            with self._lock:
                session = self.session
                if (
                    session is not None
                    and now - session.last_inuse >= self.inuse_period
                ):
                    session.last_inuse = now
                    duration = int(now - session.started)
                    self._query(
                        '{"action":"inuse", "uid":"'
                        + session.uid
                        + '","duration":'
                        + str(duration)
                        + "}"
                    )


class _Handler(socketserver.StreamRequestHandler):
    """One JSON request per connection, one JSON reply."""

    boards: ClassVar[dict[int, Board]] = {}

    def handle(self) -> None:
        try:
            request = json.loads(self.rfile.readline())
            reply = self._dispatch(request)
        except (ValueError, KeyError, TypeError) as err:
            reply = {"ok": False, "error": str(err)}
        self.wfile.write(json.dumps(reply).encode() + b"\n")

    def _dispatch(self, request: dict[str, Any]) -> dict[str, Any]:
        command = request["command"]
        if command == "status":
            return {"ok": True, "boards": [b.status() for b in self.boards.values()]}
        board = self.boards.get(int(request["board"]))
        if board is None:
            return {"ok": False, "error": f"no board {request['board']}"}
        if command == "swipe":
            return board.swipe(str(request["card"]), bool(request.get("maintenance")))
        if command == "cut":
            return board.cut(float(request["seconds"]))
        return {"ok": False, "error": f"unknown command {command}"}


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def _run(args: argparse.Namespace) -> int:
    host, _, port = args.broker.rpartition(":")
    logins: dict[str, dict[str, str]] = {}
    if args.credentials is not None and args.credentials.exists():
        logins = json.loads(args.credentials.read_text())
    boards = {}
    for text in args.boards.split(","):
        machine_id = int(text)
        login = logins.get(f"fabomatic-{machine_id}", {})
        boards[machine_id] = Board(
            machine_id,
            host,
            int(port),
            username=login.get("username"),
            password=login.get("password"),
            alive_period=args.alive,
            check_machine_period=args.check_machine,
            inuse_period=args.inuse,
        )
    _Handler.boards = boards
    args.control.unlink(missing_ok=True)
    server = _Server(str(args.control), _Handler)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    for board in boards.values():
        board.start()
    _LOGGER.info("%d Fab-O-Matic board(s) running: %s", len(boards), args.boards)
    stop.wait()
    server.shutdown()
    server.server_close()
    args.control.unlink(missing_ok=True)
    # Every loop told at once: each wakes within 0.5 s, so 48 boards stop in about
    # that long, not 48 times it.
    for board in boards.values():
        board.signal_stop()
    for board in boards.values():
        board.stop()
    return 0


def _control(path: Path, request: dict[str, Any]) -> int:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(3 * REPLY_TIMEOUT + 2)
            sock.connect(str(path))
            sock.sendall(json.dumps(request).encode() + b"\n")
            reply = json.loads(sock.makefile().readline())
    except OSError as err:
        print(f"cannot reach the boards at {path}: {err}", file=sys.stderr)
        return 1
    print(json.dumps(reply, indent=2))
    return 0 if reply.get("ok") else 1


def main() -> int:
    """Run the boards or send one command to running ones."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the boards")
    run.add_argument("--boards", default="1,2", help="machine ids, comma separated")
    run.add_argument("--broker", default="127.0.0.1:1883", help="host:port")
    run.add_argument("--credentials", type=Path, help="JSON logins by device id")
    run.add_argument("--alive", type=float, default=120.0, help="alive period (s)")
    run.add_argument("--check-machine", type=float, default=30.0)
    run.add_argument("--inuse", type=float, default=60.0, help="inuse period (s)")
    for command in ("run", "swipe", "cut", "status"):
        target = run if command == "run" else sub.add_parser(command)
        target.add_argument("--control", type=Path, required=True)
        if command in ("swipe", "cut"):
            target.add_argument("--board", type=int, required=True)
    sub.choices["swipe"].add_argument("--card", required=True)
    sub.choices["swipe"].add_argument("--maintenance", action="store_true")
    sub.choices["cut"].add_argument("--seconds", type=float, required=True)
    args = parser.parse_args()
    if args.command == "run":
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(name)s: %(message)s"
        )
        return _run(args)
    request: dict[str, Any] = {"command": args.command}
    if args.command in ("swipe", "cut"):
        request["board"] = args.board
    if args.command == "swipe":
        request.update(card=args.card, maintenance=args.maintenance)
    if args.command == "cut":
        request["seconds"] = args.seconds
    return _control(args.control, request)


if __name__ == "__main__":
    sys.exit(main())
