"""The command line: simulate N devices, act on them through the control socket,
reset the pairing, shut down cleanly on SIGTERM."""

from __future__ import annotations

from collections.abc import Iterator
import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import urllib.request

import pytest

from fluxilab_agent.cli import main
from fluxilab_agent.state import STATE_FILE, AgentState
from fluxilab_protocol.security import KeyPair
from tests.agent.stub_hub import StubHub, wait_until
from tests.mosquitto import Mosquitto, free_port

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fluxilab_agent", *args],
        cwd=REPO,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.fixture
def hub(mosquitto: Mosquitto) -> Iterator[StubHub]:
    stub = StubHub(mosquitto.host, mosquitto.port)
    yield stub
    stub.close()


def test_simulate_swipe_airflow_status_and_sigterm(
    mosquitto: Mosquitto, hub: StubHub, tmp_path: Path
) -> None:
    data = tmp_path / "sim"
    base_port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fluxilab_agent",
            "simulate",
            "--devices",
            "3",
            "--data-dir",
            str(data),
            "--broker",
            f"{mosquitto.host}:{mosquitto.port}",
            "--period",
            "0.2",
            "--base-port",
            str(base_port),
        ],
        cwd=REPO,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(lambda: len(hub.device_keys) == 3, 20, "three devices")
        assert set(hub.device_keys) == {"sim-hood-1", "sim-hood-2", "sim-machine-3"}
        wait_until(lambda: (data / "control.sock").exists(), 20, "the control socket")
        swipe = cli(
            "swipe",
            "--device",
            "sim-hood-2",
            "--card",
            "CARD-7",
            "--data-dir",
            str(data),
        )
        assert swipe.returncode == 0, swipe.stdout + swipe.stderr
        decision = json.loads(swipe.stdout)["decision"]
        assert decision["granted"] is True
        assert decision["offline"] is False
        assert hub.requests[-1]["card"] == "CARD-7"

        low = cli(
            "airflow",
            "--device",
            "sim-hood-1",
            "--value",
            "0.1",
            "--data-dir",
            str(data),
        )
        assert low.returncode == 0
        wait_until(
            lambda: any(
                record.get("values", {}).get("face_velocity") == 0.1
                for record in list(hub.seen.values())[-20:]
            ),
            10,
            "the forced airflow",
        )
        status = json.loads(cli("status", "--data-dir", str(data)).stdout)
        devices = status["devices"]
        assert devices["sim-hood-2"]["user"] == "Ada"
        assert devices["sim-hood-2"]["relay"] is True
        assert devices["sim-machine-3"]["paired"] is True
        bad = cli("swipe", "--device", "nope", "--card", "X", "--data-dir", str(data))
        assert bad.returncode == 1
        assert "no device 'nope'" in bad.stdout

        # Each device's gateway is up on its own port.
        with urllib.request.urlopen(  # loopback test URL
            f"http://127.0.0.1:{base_port}/_fluxilab/login", timeout=5
        ) as response:
            assert response.status == 200
    except BaseException:
        # The simulator's own log in the failure report (pytest shows stdout).
        process.kill()
        print(process.communicate(timeout=30)[0])
        raise
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    wait_until(lambda: hub.statuses.count("offline") >= 3, 10, "offline statuses")
    assert "Stopped;" in output


def test_pair_reset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = AgentState(tmp_path)
    state.hub_key = KeyPair.generate().public_b64
    state.blocked = True
    state.save()
    (tmp_path / "credentials.json").write_text("{}")
    assert main(["pair", "--reset", "--data-dir", str(tmp_path)]) == 0
    assert "Forgot the pinned hub key" in capsys.readouterr().out
    reloaded = json.loads((tmp_path / STATE_FILE).read_text())
    assert reloaded["hub_key"] is None
    assert reloaded["blocked"] is True
    assert not (tmp_path / "credentials.json").exists()
    assert main(["pair", "--reset", "--data-dir", str(tmp_path)]) == 0
    assert "No hub key was pinned" in capsys.readouterr().out
    assert main(["pair", "--data-dir", str(tmp_path)]) == 2


def test_control_without_agent(tmp_path: Path) -> None:
    result = cli("swipe", "--card", "X", "--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert "cannot reach the agent" in result.stderr


def test_simulate_rejects_bad_arguments() -> None:
    result = cli("simulate", "--devices", "0")
    assert result.returncode == 2
    assert "--devices" in result.stderr
    result = cli("simulate", "--broker", "nohost")
    assert result.returncode == 2
    assert "host:port" in result.stderr
    result = cli("simulate", "--replay-batch", "0")
    assert result.returncode == 2
    assert "--replay-batch" in result.stderr
    assert "at least 1" in result.stderr


def test_run_reports_an_unusable_key_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "device.key").write_text("not a key")
    config = tmp_path / "agent.toml"
    config.write_text(
        f'data_dir = "{data}"\n[device]\nid = "d1"\nname = "D"\nkind = "machine"\n'
        '[broker]\nhost = "127.0.0.1"\n'
    )
    result = cli("run", "--config", str(config))
    assert result.returncode == 1
    assert "device.key is damaged" in result.stderr


def test_simulate_logs_in_with_per_device_broker_logins(tmp_path: Path) -> None:
    """Each simulated device connects with its own user on a broker that needs one."""
    passwd = tmp_path / "passwd"
    passwd.touch()
    for user in ("sim-hood-1", "sim-hood-2", "hub"):
        subprocess.run(
            ["mosquitto_passwd", "-b", str(passwd), user, f"{user}-secret"],
            check=True,
            timeout=30,
        )
    broker = Mosquitto(tmp_path)
    broker.config.write_text(
        broker.config.read_text().replace(
            "allow_anonymous true\n",
            f"allow_anonymous false\npassword_file {passwd}\n",
        )
    )
    logins = tmp_path / "logins.json"
    logins.write_text(
        json.dumps(
            {
                device: {"username": device, "password": f"{device}-secret"}
                for device in ("sim-hood-1", "sim-hood-2")
            }
        )
    )
    broker.start()
    hub = StubHub(broker.host, broker.port, username="hub", password="hub-secret")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fluxilab_agent",
            "simulate",
            "--devices",
            "2",
            "--data-dir",
            str(tmp_path / "sim"),
            "--broker",
            f"{broker.host}:{broker.port}",
            "--logins",
            str(logins),
        ],
        cwd=REPO,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(
            lambda: {"sim-hood-1", "sim-hood-2"} <= set(hub.device_keys),
            timeout=20,
            what="both devices to announce through their own logins",
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
        hub.close()
        broker.stop()


def test_simulate_rejects_an_unreadable_logins_file(tmp_path: Path) -> None:
    logins = tmp_path / "logins.json"
    logins.write_text('["not", "an", "object"]')
    result = cli("simulate", "--logins", str(logins))
    assert result.returncode == 2
    assert "--logins" in result.stderr
