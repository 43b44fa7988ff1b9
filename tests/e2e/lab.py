"""A real lab on loopback: Mosquitto, Home Assistant (``hass``) and agent processes.

Shared by the end-to-end fault tests, the browser tests and the benchmarks. Home
Assistant runs as its own process on a temporary config dir with FluxiLab from this
checkout, so a test can stop and start it like a lab's server; it talks to the test
only over HTTP/websocket (an admin token from onboarding) and MQTT. Agents run as
``python -m fluxilab_agent`` processes (through :mod:`tests.e2e.journal_agent`, which
also writes down every record the device buffers: the ground truth).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
import json
import math
from pathlib import Path
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request
import uuid

import aiohttp

from custom_components.fluxilab.const import LIVE_ACK_INTERVAL
from tests.mosquitto import free_port

REPO = Path(__file__).resolve().parents[2]
BASE = "fluxilab"
START_TIMEOUT = 240.0
ADMIN = ("admin", "admin-password-1")
DEPRECATION_REPORT = "custom integration 'fluxilab'"
"""Home Assistant's "Detected that custom integration 'fluxilab' calls ..." report."""


def now_iso() -> str:
    """Return the current UTC time as Home Assistant stores it."""
    return datetime.now(UTC).isoformat()


def config_entry(
    domain: str,
    title: str,
    unique_id: str | None,
    data: dict[str, Any],
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return one config entry as HA's ``core.config_entries`` stores it."""
    return {
        "created_at": now_iso(),
        "data": data,
        "discovery_keys": {},
        "disabled_by": None,
        "domain": domain,
        "entry_id": uuid.uuid4().hex.upper()[:26],
        "minor_version": 1,
        "modified_at": now_iso(),
        "options": options or {},
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "source": "user",
        "subentries": [],
        "title": title,
        "unique_id": unique_id,
        "version": 1,
    }


def storage(key: str, data: Any, minor: int = 1) -> str:
    """Return a ``.storage`` file of HA's Store."""
    return json.dumps({"version": 1, "minor_version": minor, "key": key, "data": data})


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``check`` every 0.25 s until it returns something truthy."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        with contextlib.suppress(urllib.error.URLError, ConnectionError, OSError):
            if result := check():
                return result
            last = result
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}: {last}")


def stop_process(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGTERM, then SIGKILL if it does not end in ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


class HassClient:
    """A tiny REST and websocket client for a Home Assistant on loopback."""

    def __init__(self, url: str) -> None:
        """Point at ``url``; no token yet."""
        self.url = url.rstrip("/")
        self.client_id = f"{self.url}/"
        self.token: str | None = None

    def request(
        self, method: str, path: str, body: Any = None, *, form: bool = False
    ) -> Any:
        """Send one request; return the decoded JSON answer."""
        data = None
        headers = {}
        if body is not None and form:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(  # noqa: S310  # loopback http only
            f"{self.url}{path}", data=data, headers=headers, method=method
        )
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310
            text = resp.read().decode()
        return json.loads(text) if text else None

    def onboard(self, name: str, username: str, password: str) -> None:
        """Create the owner through onboarding and keep a long-lived token."""
        result = self.request(
            "POST",
            "/api/onboarding/users",
            {
                "client_id": self.client_id,
                "name": name,
                "username": username,
                "password": password,
                "language": "en",
            },
        )
        tokens = self.request(
            "POST",
            "/auth/token",
            {
                "grant_type": "authorization_code",
                "code": result["auth_code"],
                "client_id": self.client_id,
            },
            form=True,
        )
        self.token = tokens["access_token"]
        (reply,) = self.ws(
            {
                "type": "auth/long_lived_access_token",
                "client_name": "FluxiLab tests",
                "lifespan": 1,
            }
        )
        self.token = reply["result"]

    def ws(self, *messages: dict[str, Any]) -> list[dict[str, Any]]:
        """Send websocket commands; return their result messages."""
        assert self.token is not None
        return asyncio.run(ws_commands(self.url, self.token, list(messages)))

    def call(
        self, domain: str, service: str, data: dict[str, Any], *, response: bool = False
    ) -> Any:
        """Call a service; return its response data (raise on failure)."""
        message: dict[str, Any] = {
            "type": "call_service",
            "domain": domain,
            "service": service,
            "service_data": data,
        }
        if response:
            message["return_response"] = True
        (reply,) = self.ws(message)
        if not reply["success"]:
            raise AssertionError(f"{domain}.{service} failed: {reply}")
        return reply["result"].get("response")

    def states(self) -> dict[str, dict[str, Any]]:
        """Return every state by entity id."""
        (reply,) = self.ws({"type": "get_states"})
        return {state["entity_id"]: state for state in reply["result"]}


async def ws_commands(
    url: str, token: str, messages: list[dict[str, Any]]
) -> list[Any]:
    """Authenticate on HA's websocket and send ``messages`` one after the other."""
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{url}/api/websocket") as ws,
    ):
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": token})
        assert (await ws.receive_json())["type"] == "auth_ok"
        results = []
        for number, message in enumerate(messages, start=1):
            await ws.send_json({"id": number, **message})
            while (reply := await ws.receive_json(timeout=30))["id"] != number:
                pass
            results.append(reply)
        return results


def connect_mqtt(admin: HassClient, port: int) -> None:
    """Add the MQTT integration for an anonymous loopback broker through its flow."""
    flow = admin.request(
        "POST",
        "/api/config/config_entries/flow",
        {"handler": "mqtt", "show_advanced_options": True},
    )
    result = admin.request(
        "POST",
        f"/api/config/config_entries/flow/{flow['flow_id']}",
        {
            "broker": "127.0.0.1",
            "port": port,
            "protocol": "5",
            "other_settings": {"set_client_cert": False, "set_ca_cert": "off"},
        },
    )
    for _step in range(5):
        if result.get("type") != "form":
            break
        assert not result.get("errors"), result
        result = admin.request(
            "POST", f"/api/config/config_entries/flow/{result['flow_id']}", {}
        )
    assert result.get("type") == "create_entry", result


def adopt(admin: HassClient, device_ids: set[str], timeout: float = 90.0) -> None:
    """Confirm the FluxiLab discovery flow of each device, as an admin would."""
    adopted: set[str] = set()

    def _confirm() -> bool:
        (progress,) = admin.ws({"type": "config_entries/flow/progress"})
        for flow in progress["result"]:
            if flow["handler"] != "fluxilab" or flow.get("step_id") != "confirm":
                continue
            unique_id = flow.get("context", {}).get("unique_id")
            if unique_id not in device_ids:
                continue
            result = admin.request(
                "POST", f"/api/config/config_entries/flow/{flow['flow_id']}", {}
            )
            if result.get("type") == "create_entry":
                adopted.add(unique_id)
        return adopted >= device_ids

    wait_until(_confirm, timeout, f"discovery of {sorted(device_ids)}")


def wait_running(admin: HassClient, agent: Any, device_id: str) -> None:
    """Wait until the device is paired and Home Assistant runs it (shows it online).

    Adoption creates the entry a moment before Home Assistant subscribes to the
    device; a request sent in between gets no answer and is decided offline.
    """
    wait_until(lambda: agent.status(device_id)["status"]["paired"], 30, "pairing")
    connectivity = wait_until(
        lambda: entity_ids(admin, device_id).get(f"{device_id}_connectivity"),
        30,
        "the connectivity sensor",
    )
    wait_until(
        lambda: admin.states()[connectivity]["state"] == "on", 30, "the device online"
    )


CONFIGURATION = """
homeassistant:
  name: FluxiLab lab test
  unit_system: metric
  time_zone: UTC
  country: IT
  currency: EUR
  language: en
  latitude: 45.0
  longitude: 7.6
  elevation: 0
http:
  server_host: 127.0.0.1
  server_port: {port}
onboarding:
config:
history:
recorder:
  commit_interval: 1
logger:
  default: warning
  logs:
    custom_components.fluxilab: info
"""


class HassProcess:
    """Home Assistant as a process on its own config dir; stop and start at will."""

    def __init__(self, workdir: Path) -> None:
        """Prepare the config dir (FluxiLab linked from this checkout)."""
        self.workdir = workdir
        self.config = workdir / "config"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.client = HassClient(self.url)
        (self.config / "custom_components").mkdir(parents=True)
        (self.config / "custom_components" / "fluxilab").symlink_to(
            REPO / "custom_components" / "fluxilab"
        )
        (self.config / "configuration.yaml").write_text(
            CONFIGURATION.format(port=self.port)
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        """Start ``hass`` and wait until it answers HTTP and has finished starting."""
        self.starts += 1
        log = (self.workdir / f"hass-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "homeassistant", "--config", str(self.config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            # Not the repository: its custom_components would shadow the config's.
            cwd=self.workdir,
        )
        log.close()
        wait_until(self._answers, START_TIMEOUT, "Home Assistant to answer")
        if self.client.token is not None:
            wait_until(self._running, START_TIMEOUT, "Home Assistant to run")

    def _answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"hass exited with {self.process.returncode}")
        try:
            self.client.request("GET", "/api/onboarding")
        except urllib.error.HTTPError as err:
            return err.code in (401, 404)
        return True

    def _running(self) -> bool:
        (reply,) = self.client.ws({"type": "get_config"})
        return bool(reply["result"]["state"] == "RUNNING")

    def setup(self, broker_port: int) -> None:
        """First start: onboard the admin and connect MQTT to the broker."""
        self.start()
        self.client.onboard("Lab Admin", *ADMIN)
        wait_until(self._running, START_TIMEOUT, "Home Assistant to run")
        connect_mqtt(self.client, broker_port)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop Home Assistant (SIGTERM: a clean stop that flushes its stores)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def read_store(self, key: str) -> Any:
        """Return the data of one ``.storage`` file (None when absent)."""
        path = self.config / ".storage" / key
        if not path.exists():
            return None
        return json.loads(path.read_text())["data"]

    def read_history(self) -> dict[str, Any]:
        """Return the history database's entries and documents (the last checkpoint).

        ``audit`` and ``sessions`` in entry order, and the small documents by name
        (``usage``, ``settings`` ...), as the JSON history file held them before.
        """
        from custom_components.fluxilab.access.history import (  # noqa: PLC0415
            DATABASE_FILE,
        )
        from custom_components.fluxilab.history_db import (  # noqa: PLC0415
            AuditQuery,
            HistoryDatabase,
            SessionQuery,
            sqlite_url,
        )

        db = HistoryDatabase(sqlite_url(str(self.config / DATABASE_FILE)))
        db.open()
        try:
            return {
                **{
                    name: json.loads(value) for name, value in db.stored_state().items()
                },
                "audit": [
                    entry.as_wire()
                    for entry in db.audit_page(AuditQuery(limit=2**31))[::-1]
                ],
                "sessions": [
                    session.as_wire() for session in db.sessions(SessionQuery())
                ],
            }
        finally:
            db.close()
            db.shutdown()

    def log_text(self) -> str:
        """Return every log of this run's hass starts."""
        return "".join(
            path.read_text(errors="replace")
            for path in sorted(self.workdir.glob("hass-*.log"))
        )

    def deprecation_reports(self) -> list[str]:
        """Log lines where Home Assistant reported FluxiLab using a deprecation."""
        return [
            line for line in self.log_text().splitlines() if DEPRECATION_REPORT in line
        ]


@dataclass
class AgentProcess:
    """``fluxilab_agent simulate`` as a process, with its record journal."""

    data_dir: Path
    broker_port: int
    devices: int
    period: float
    doors: int = 0
    """Lab entrance doors (``sim-door-N``, door mode) after the devices."""
    logins: Path | None = None
    """Per-device broker logins (``simulate --logins``), for a secured broker."""
    replay_batch: int | None = None
    """Records per backlog batch (``simulate --replay-batch``); one batch in flight."""
    process: subprocess.Popen[bytes] | None = None
    runs: int = 0

    @property
    def journal(self) -> Path:
        """Where :mod:`tests.e2e.journal_agent` writes every buffered record."""
        return self.data_dir / "journal.jsonl"

    def start(self) -> None:
        """Start the simulation (the same data dir on every start)."""
        self.runs += 1
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / f"agent-{self.runs}.log").open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.e2e.journal_agent",
                str(self.journal),
                "simulate",
                "--devices",
                str(self.devices),
                "--doors",
                str(self.doors),
                "--period",
                str(self.period),
                "--data-dir",
                str(self.data_dir),
                "--broker",
                f"127.0.0.1:{self.broker_port}",
                *(["--logins", str(self.logins)] if self.logins else []),
                *(
                    [
                        "--replay-batch",
                        str(self.replay_batch),
                        "--replay-in-flight",
                        "1",
                    ]
                    if self.replay_batch
                    else []
                ),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        log.close()
        # Return only once the agent answers on its control socket: a big buffer
        # to open can delay it, and every caller talks to it next.
        wait_until(self._answers, 60, "the agent's control socket")

    def _answers(self) -> bool:
        assert self.process is not None
        if (code := self.process.poll()) is not None:
            log = self.data_dir / f"agent-{self.runs}.log"
            raise AssertionError(
                f"the agent exited with {code}: {log.read_text()[-2000:]}"
            )
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "fluxilab_agent",
                "status",
                "--data-dir",
                str(self.data_dir),
            ],
            capture_output=True,
            check=False,
            cwd=REPO,
            timeout=30,
        )
        return result.returncode == 0

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop it (SIGTERM: publishes offline and closes the buffer)."""
        if self.process is None:
            return
        if sig == signal.SIGKILL:
            self.process.kill()
            self.process.wait(10)
        else:
            stop_process(self.process)
        self.process = None

    def control(self, *args: str) -> str:
        """Run ``fluxilab-agent <args>`` against the running simulation."""
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "fluxilab_agent",
                *args,
                "--data-dir",
                str(self.data_dir),
            ],
            capture_output=True,
            check=False,
            cwd=REPO,
            timeout=30,
        )
        if result.returncode != 0:
            raise AssertionError(
                f"fluxilab-agent {' '.join(args)}: {result.stdout!r} {result.stderr!r}"
            )
        return result.stdout.decode()

    def status(self, device: str) -> dict[str, Any]:
        """Return one device's status from the control socket."""
        return dict(json.loads(self.control("status", "--device", device)))

    def records(self) -> dict[str, list[dict[str, Any]]]:
        """Return every record each device buffered, by device id, from the journal."""
        result: dict[str, list[dict[str, Any]]] = {}
        if not self.journal.exists():
            return result
        for line in self.journal.read_text().splitlines():
            if line.endswith("}"):
                record = json.loads(line)
                result.setdefault(record["device"], []).append(record)
        return result


def ha_device(admin: HassClient, device_id: str) -> dict[str, Any]:
    """Return the device registry entry of a FluxiLab device."""
    (reply,) = admin.ws({"type": "config/device_registry/list"})
    for device in reply["result"]:
        if ["fluxilab", device_id] in device["identifiers"]:
            return dict(device)
    raise AssertionError(f"{device_id} is not in the device registry")


def entity_ids(admin: HassClient, device_id: str) -> dict[str, str]:
    """Return a FluxiLab device's entity ids by unique id."""
    (reply,) = admin.ws({"type": "config/entity_registry/list"})
    return {
        entity["unique_id"]: entity["entity_id"]
        for entity in reply["result"]
        if entity["platform"] == "fluxilab"
        and entity["unique_id"].startswith(f"{device_id}_")
    }


def set_machine_type(admin: HassClient, device_id: str, machine_type_id: str) -> None:
    """Give a device a machine type through its options flow."""
    (entry_id,) = ha_device(admin, device_id)["config_entries"]
    flow = admin.request(
        "POST", "/api/config/config_entries/options/flow", {"handler": entry_id}
    )
    result = admin.request(
        "POST",
        f"/api/config/config_entries/options/flow/{flow['flow_id']}",
        {"machine_type": machine_type_id},
    )
    assert result["type"] == "create_entry", result


def create_machine_type(admin: HassClient, **fields: Any) -> str:
    """Create a machine type; return its id."""
    (reply,) = admin.ws({"type": "fluxilab/machine_type/create", **fields})
    assert reply["success"], reply
    return str(reply["result"]["id"])


def audit(admin: HassClient, device_id: str) -> list[dict[str, Any]]:
    """Return a device's audit entries, oldest first."""
    (reply,) = admin.ws({"type": "fluxilab/panel/admin/audit", "device_id": device_id})
    assert reply["success"], reply
    return list(reversed(reply["result"]["audit"]))


def hub_backlog(hass: HassProcess, device_id: str) -> dict[str, Any]:
    """Return what the hub stored of a device's records (stop hass first).

    ``seqs``: stored sequence numbers by record stream; ``per_hour``: telemetry
    messages counted per hour and numeric channel (live ones plus buffered samples).
    """
    data = hass.read_store(f"fluxilab.{device_id}.backlog") or {}
    seqs: dict[str | None, set[int]] = {}
    for stream, intervals in [[None, data.get("seqs", [])], *data.get("streams", [])]:
        seqs[stream] = {
            seq for first, last in intervals for seq in range(first, last + 1)
        }
    live = {int(hour): count for hour, count in data.get("live", {}).items()}
    per_hour: dict[str, dict[int, int]] = {}
    for key, hours in data.get("hours", {}).items():
        per_hour[key] = {int(hour): agg["n"] for hour, agg in hours.items()}
    return {"seqs": seqs, "live": live, "buffered": per_hour}


def buffered_records(data_dir: Path) -> list[tuple[int, float, str]]:
    """Return (seq, ts, kind) of every record left in a device's buffer."""
    import sqlite3  # noqa: PLC0415

    connection = sqlite3.connect(data_dir / "buffer.sqlite")
    try:
        return [
            (int(seq), float(ts), str(kind))
            for seq, ts, kind in connection.execute(
                "SELECT seq, ts, kind FROM records ORDER BY seq"
            )
        ]
    finally:
        connection.close()


def check_delivery(
    hass: HassProcess,
    agent: AgentProcess,
    devices: list[str],
    channel_of: dict[str, str],
) -> dict[str, dict[str, int]]:
    """Compare each device's journal with what the hub stored (agents and hass stopped).

    Every record the device buffered and no longer holds was stored by the hub (zero
    lost), the hub stored nothing the device did not measure, and per hour the hub
    counted exactly as many telemetry messages as the device measured (zero double
    counted). Returns counts per device for the report.
    """
    journal = agent.records()
    summary: dict[str, dict[str, int]] = {}
    for device_id in devices:
        records = journal[device_id]
        stream = records[-1]["stream"]
        left = {seq for seq, _ts, _kind in buffered_records(agent.data_dir / device_id)}
        stored = hub_backlog(hass, device_id)
        seqs = stored["seqs"].get(stream, set())
        measured = {r["seq"] for r in records}
        lost = sorted(measured - left - seqs)
        assert not lost, f"{device_id}: acknowledged but not stored: {lost[:20]}"
        assert seqs <= measured, (
            f"{device_id}: stored unknown {sorted(seqs - measured)}"
        )
        # Records the device sent in its last moments may wait for the hub's batched
        # live ack when the agent stops: still buffered (replayed next run), not lost.
        in_flight = math.ceil(LIVE_ACK_INTERVAL / agent.period) + 3
        assert len(left) <= in_flight, f"{device_id}: still buffered: {sorted(left)}"
        expected: dict[int, int] = {}
        for record in records:
            if record["kind"] == "telemetry" and record["seq"] in seqs:
                hour = int(record["ts"] // 3600 * 3600)
                expected[hour] = expected.get(hour, 0) + 1
        buffered = stored["buffered"].get(channel_of[device_id], {})
        counted = {
            hour: stored["live"].get(hour, 0) + buffered.get(hour, 0)
            for hour in set(stored["live"]) | set(buffered)
        }
        assert counted == expected, f"{device_id}: per hour {counted} != {expected}"
        summary[device_id] = {
            "measured": len(records),
            "stored": len(seqs),
            "live": sum(stored["live"].values()),
            "replayed_telemetry": sum(buffered.values()),
            "left_in_buffer": len(left),
        }
    return summary


@contextlib.contextmanager
def _subscribed(
    client: HassClient,
    event_types: tuple[str, ...],
    sink: Callable[[str, dict[str, Any]], None],
) -> Iterator[None]:
    """Hand every bus event of ``event_types`` to ``sink`` while the block runs.

    A thread of its own keeps a websocket subscription (``subscribe_events``) open,
    so a test can drive Home Assistant synchronously meanwhile.
    """
    ready = threading.Event()
    stop = threading.Event()

    async def collect() -> None:
        assert client.token is not None
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(f"{client.url}/api/websocket") as ws,
        ):
            await ws.receive_json()
            await ws.send_json({"type": "auth", "access_token": client.token})
            assert (await ws.receive_json())["type"] == "auth_ok"
            for number, event_type in enumerate(event_types, 1):
                await ws.send_json(
                    {"id": number, "type": "subscribe_events", "event_type": event_type}
                )
                assert (await ws.receive_json())["success"]
            ready.set()
            while not stop.is_set():
                try:
                    message = await ws.receive(timeout=0.2)
                except TimeoutError:
                    continue
                if message.type is not aiohttp.WSMsgType.TEXT:
                    return  # Home Assistant stopped
                data = json.loads(message.data)
                if data.get("type") == "event":
                    sink(data["event"]["event_type"], data["event"]["data"])

    thread = threading.Thread(target=asyncio.run, args=(collect(),), daemon=True)
    thread.start()
    try:
        assert ready.wait(15), f"could not subscribe to {', '.join(event_types)}"
        yield
    finally:
        stop.set()
        thread.join(10)


@contextlib.contextmanager
def bus_events(
    client: HassClient, *event_types: str
) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Collect (event type, data) of the given bus events while the block runs."""
    events: list[tuple[str, dict[str, Any]]] = []
    with _subscribed(
        client, event_types, lambda kind, data: events.append((kind, data))
    ):
        yield events


@contextlib.contextmanager
def access_events(client: HassClient) -> Iterator[list[dict[str, Any]]]:
    """Collect the data of every ``fluxilab_access`` event while the block runs.

    A device's event entity is unavailable while the device is offline, so the bus is
    where, say, a timeout shows up.
    """
    events: list[dict[str, Any]] = []
    with _subscribed(
        client, ("fluxilab_access",), lambda _kind, data: events.append(data)
    ):
        yield events


def statistics(database: str, statistic_id: str, first: int) -> dict[int, float]:
    """Return the hourly means of ``statistic_id`` from ``first`` on."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return {
            int(start): float(mean)
            for start, mean in connection.execute(
                "SELECT s.start_ts, s.mean FROM statistics s JOIN statistics_meta m"
                " ON s.metadata_id = m.id WHERE m.statistic_id = ? AND s.start_ts >= ?",
                [statistic_id, first],
            )
        }
    except sqlite3.Error:
        return {}
    finally:
        connection.close()
