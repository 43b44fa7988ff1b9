"""A device behind a site broker bridged to the hub's broker (docs/BRIDGE.md).

Two real Mosquittos on loopback: the hub's, where Home Assistant connects (plain, on
a loopback listener) and where sites bridge in (TLS, a login per site, the ACL
FluxiLab generates); and a site's, where the agent connects with its own login. The
site's files (password file, ACL, bridge section) and the hub's come from
``fluxilab.generate_broker_config``. The bridge runs through a TCP relay in this test
so that the link between the two brokers can be cut while each side stays up.

The device is added by id, its pairing confirmed in Repairs once its announcement
crossed the bridge, a member granted on it checks a card through the bridge, it
streams telemetry; then the link is cut (a card check is decided offline at the
device), restored, and everything the device buffered reaches the hub once: the
journal of every record the device measured against what the hub stored.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
from datetime import UTC, datetime, timedelta
import ipaddress
import json
import logging
from pathlib import Path
import signal
import socket
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
import pytest

from tests.e2e.lab import (
    AgentProcess,
    HassClient,
    HassProcess,
    audit,
    check_delivery,
    entity_ids,
    ha_device,
    wait_running,
    wait_until,
)
from tests.mosquitto import Mosquitto, free_port

_LOGGER = logging.getLogger(__name__)

DEVICE = "sim-hood-1"
CHANNEL_OF = {DEVICE: "face_velocity"}
CARD = "04B21D6E"
SITE = "lab2"
BRIDGE_USER = f"bridge.{SITE}"
CUT_SECONDS = 12.0
PERIOD = 0.5


class LinkRelay:
    """A TCP relay on loopback between the site's bridge and the hub's listener.

    ``cut()`` closes every relayed connection and refuses new ones until
    ``restore()``: the link between the brokers is down, both brokers stay up.
    """

    def __init__(self, upstream_port: int) -> None:
        """Listen on a free loopback port; relay to ``upstream_port``."""
        self.upstream_port = upstream_port
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._server.getsockname()[1])
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._cut = False
        self._stopped = False
        self.connections = 0
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            with self._lock:
                if self._cut:
                    client.close()
                    continue
                try:
                    upstream = socket.create_connection(
                        ("127.0.0.1", self.upstream_port), timeout=5
                    )
                except OSError:
                    client.close()
                    continue
                upstream.settimeout(None)
                self._open += [client, upstream]
                self.connections += 1
            for source, sink in ((client, upstream), (upstream, client)):
                pump = threading.Thread(
                    target=self._pump, args=(source, sink), daemon=True
                )
                self._threads.append(pump)
                pump.start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Drop the link: every relayed connection closes, new ones are refused."""
        with self._lock:
            self._cut = True
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def restore(self) -> None:
        """Let the bridge connect again."""
        with self._lock:
            self._cut = False

    def stop(self) -> None:
        """Close everything and wait for every thread of the relay to end."""
        self._stopped = True
        self.cut()
        # accept() does not return when another thread closes its socket: wake it.
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        self._server.close()
        for thread in self._threads:
            thread.join(5)


def make_certificates(folder: Path) -> dict[str, Path]:
    """A CA and the hub broker's certificate for 127.0.0.1, signed by it."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "FluxiLab test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hub broker")])
        )
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "ca": folder / "ca.crt",
        "cert": folder / "broker.crt",
        "key": folder / "broker.key",
    }
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def hub_broker(workdir: Path, files: Path, certs: dict[str, Path]) -> Mosquitto:
    """The hub's broker: Home Assistant's loopback listener, and one for sites.

    The sites' listener takes the files FluxiLab writes into ``files`` (empty until
    the first ``generate_broker_config``; a SIGHUP reloads them, as in a lab).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    broker = Mosquitto(workdir)
    while (sites_port := free_port()) == broker.port:
        pass
    broker.sites_port = sites_port  # type: ignore[attr-defined]
    files.mkdir(parents=True, exist_ok=True)
    for name in ("fluxilab.passwd", "fluxilab.acl"):
        (files / name).touch(mode=0o600)
    broker.config.write_text(
        "per_listener_settings true\n"
        + broker.config.read_text()
        + f"listener {sites_port} 127.0.0.1\n"
        "allow_anonymous false\n"
        f"password_file {files / 'fluxilab.passwd'}\n"
        f"acl_file {files / 'fluxilab.acl'}\n"
        "use_username_as_clientid true\n"
        f"cafile {certs['ca']}\n"
        f"certfile {certs['cert']}\n"
        f"keyfile {certs['key']}\n"
        "tls_version tlsv1.2\n"
    )
    return broker


def site_broker(workdir: Path, hub_port: int, bridge: dict[str, str]) -> Mosquitto:
    """The site's broker with the files FluxiLab generated for it."""
    files = Path(bridge["files"]["password_file"]).parent  # type: ignore[index]
    while (port := free_port()) == hub_port:
        pass
    broker = Mosquitto(workdir, port=port)
    broker.config.write_text(
        broker.config.read_text().replace("allow_anonymous true\n", "")
        + "allow_anonymous false\n"
        f"password_file {files / 'fluxilab.passwd'}\n"
        f"acl_file {files / 'fluxilab.acl'}\n"
        + (files / "fluxilab.conf").read_text()
        + (files / "fluxilab-bridge.conf").read_text()
    )
    return broker


def bridge_connections(log: Path) -> int:
    """How often the hub's broker logged the site's bridge connecting."""
    if not log.exists():
        return 0
    return log.read_text(errors="replace").count(f" as {BRIDGE_USER} ")


def add_by_id(admin: HassClient, device_id: str) -> None:
    """Add a device by its id before it announced (Add integration → FluxiLab)."""
    flow = admin.request(
        "POST", "/api/config/config_entries/flow", {"handler": "fluxilab"}
    )
    result = admin.request(
        "POST",
        f"/api/config/config_entries/flow/{flow['flow_id']}",
        {"device_id": device_id, "base_topic": "fluxilab"},
    )
    assert result["type"] == "create_entry", result


def confirm_pairing(admin: HassClient, agent: AgentProcess) -> None:
    """Confirm the announced key in Repairs after comparing fingerprints."""
    issue = wait_until(
        lambda: next(
            (
                i
                for i in admin.ws({"type": "repairs/list_issues"})[0]["result"][
                    "issues"
                ]
                if i["domain"] == "fluxilab"
                and i["translation_key"] in ("pairing_required", "key_changed")
            ),
            None,
        ),
        60,
        "the pairing issue (the announcement across the bridge)",
    )
    flow = admin.request(
        "POST",
        "/api/repairs/issues/fix",
        {"handler": "fluxilab", "issue_id": issue["issue_id"]},
    )
    shown = flow["description_placeholders"]["new_fingerprint"]
    assert shown == agent.status(DEVICE)["status"]["fingerprint"]
    result = admin.request("POST", f"/api/repairs/issues/fix/{flow['flow_id']}", {})
    assert result["type"] == "create_entry", result


@pytest.fixture
def bridged(tmp_path: Path, socket_enabled: None) -> Iterator[dict]:
    """Hub broker, Home Assistant on it, and a place for the site's parts."""
    certs = make_certificates(tmp_path / "certs")
    hass = HassProcess(tmp_path)
    hub = hub_broker(tmp_path / "hub", hass.config / "mosquitto", certs)
    parts: dict = {"hass": hass, "hub": hub, "certs": certs, "stop": []}
    try:
        hub.start()
        hass.setup(hub.port)
        yield parts
    finally:
        for stop in reversed(parts["stop"]):
            stop()
        hass.stop()
        hub.stop()
        _LOGGER.info("Lab folder: %s", tmp_path)
    assert not hass.deprecation_reports(), hass.deprecation_reports()


def test_device_behind_a_bridged_site_broker(bridged: dict, tmp_path: Path) -> None:
    hass: HassProcess = bridged["hass"]
    hub: Mosquitto = bridged["hub"]
    admin = hass.client
    add_by_id(admin, DEVICE)
    device = wait_until(lambda: ha_device(admin, DEVICE), 30, "the device")
    member = admin.call(
        "fluxilab",
        "add_member",
        {"name": "Hedy Lamarr", "cards": [CARD]},
        response=True,
    )
    admin.call(
        "fluxilab",
        "grant_authorization",
        {"member_id": member["member_id"], "device_id": device["id"]},
    )

    # The hub's and the site's files, from the action a lab admin calls.
    relay = LinkRelay(hub.sites_port)  # type: ignore[attr-defined]
    bridged["stop"].append(relay.stop)
    config = admin.call(
        "fluxilab",
        "generate_broker_config",
        {
            "folder": "mosquitto",
            "bridge_site": SITE,
            "bridge_devices": [device["id"]],
            "bridge_host": "127.0.0.1",
            "bridge_port": relay.port,
            "bridge_cafile": str(bridged["certs"]["ca"]),
        },
        response=True,
    )
    bridge = config["bridge"]
    assert bridge["username"] == BRIDGE_USER
    assert bridge["devices"] == [DEVICE]
    assert hub.process is not None
    hub.process.send_signal(signal.SIGHUP)  # reload the password file and ACL

    (tmp_path / "site").mkdir()
    site = site_broker(tmp_path / "site", hub.port, bridge)
    site.start()
    bridged["stop"].append(site.stop)
    wait_until(lambda: bridge_connections(hub.log), 30, "the bridge over TLS")

    login = next(u for u in config["users"] if u["device_id"] == DEVICE)
    logins = tmp_path / "logins.json"
    logins.write_text(json.dumps({DEVICE: login}))
    agent = AgentProcess(
        tmp_path / "sim", site.port, devices=1, period=PERIOD, logins=logins
    )
    bridged["stop"].append(agent.stop)
    agent.start()

    # Adopted across the bridge: the announcement reaches the hub, the admin
    # compares the fingerprint and confirms; the device pins the hub's key.
    confirm_pairing(admin, agent)
    wait_running(admin, agent, DEVICE)

    # Streaming: a value the device measured shows on its sensor.
    face_velocity = wait_until(
        lambda: entity_ids(admin, DEVICE).get(f"{DEVICE}_face_velocity"),
        30,
        "the face velocity sensor",
    )

    def measured_shown() -> bool:
        state = admin.states()[face_velocity]["state"]
        measured = {
            r["data"]["face_velocity"]
            for r in agent.records().get(DEVICE, [])
            if r["kind"] == "telemetry"
        }
        return state not in ("unknown", "unavailable") and float(state) in measured

    wait_until(measured_shown, 30, "a measured value through the bridge")

    # Granted: a card check answered by the hub through the bridge.
    wait_until(
        lambda: agent.status(DEVICE)["status"]["credentials"] == 1,
        30,
        "the credential set through the bridge",
    )
    asked = time.monotonic()
    decision = json.loads(agent.control("swipe", "--device", DEVICE, "--card", CARD))[
        "decision"
    ]
    online_check_s = time.monotonic() - asked
    assert decision["granted"], decision
    assert not decision["offline"], decision
    assert decision["member_id"] == member["member_id"]
    # The same member ends the session: the next check starts one again.
    json.loads(agent.control("swipe", "--device", DEVICE, "--card", CARD))

    # The link between the brokers is cut; both brokers, the agent and Home
    # Assistant stay up. The device keeps measuring; nothing is acked.
    connections = relay.connections
    relay.cut()
    cut_at = time.monotonic()
    during_cut = json.loads(agent.control("swipe", "--device", DEVICE, "--card", CARD))[
        "decision"
    ]
    assert during_cut["granted"], during_cut
    assert during_cut["offline"], during_cut  # no answer across the cut
    time.sleep(max(0.0, CUT_SECONDS - (time.monotonic() - cut_at)))
    backlog = agent.status(DEVICE)["status"]["buffered"]
    assert backlog >= CUT_SECONDS / PERIOD * 0.8, backlog

    relay.restore()
    restored = time.monotonic()
    wait_until(lambda: relay.connections > connections, 60, "the bridge to return")
    wait_until(
        lambda: agent.status(DEVICE)["status"]["buffered"] <= 3,
        90,
        "the backlog to drain across the bridge",
    )
    drained_s = time.monotonic() - restored
    rows = wait_until(
        lambda: [
            a for a in audit(admin, DEVICE) if a["kind"] == "decision" and a["buffered"]
        ],
        30,
        "the offline decision in the audit",
    )
    assert len(rows) == 1, rows
    assert rows[0]["member_id"] == member["member_id"]

    agent.stop()
    hass.stop()
    summary = check_delivery(hass, agent, [DEVICE], CHANNEL_OF)
    report = {
        "online_card_check_s": round(online_check_s, 3),
        "backlog_at_restore": backlog,
        "drain_s": round(drained_s, 1),
        "bridge_connections": relay.connections,
        "devices": summary,
    }
    print(json.dumps(report))
    _LOGGER.warning("bridged site: %s", json.dumps(report))
