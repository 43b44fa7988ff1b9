"""Config validation: every invalid value named with its key, never half-started."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fluxilab_agent.cli import main
from fluxilab_agent.config import ConfigError, load_config, parse_config
from fluxilab_protocol.schemas import ActuatorKind, DeviceKind, ValueType
from fluxilab_protocol.security import KeyPair

VALID = """
data_dir = "/tmp/fluxilab-test"
base_topic = "lab/fluxilab"

[device]
id = "hood-1"
name = "Fumehood 1"
kind = "fumehood"
model = "Pi 4 + SDP810"
serial = "ABC"
area = "Chemistry"

[broker]
host = "broker.lab"
port = 8883
tls = true
ca = "/etc/ssl/lab-ca.pem"
username = "hood-1"
password = "secret"

[[channels]]
key = "face_velocity"
name = "Face velocity"
type = "float"
unit = "m/s"
device_class = "speed"
state_class = "measurement"
period = 0.5
safety = true

[[channels]]
key = "cpu_temp"
name = "CPU temperature"
type = "float"
unit = "°C"
source = { type = "hwmon", path = "/sys/class/thermal/thermal_zone0/temp", scale = 0.001 }

[[channels]]
key = "voc_raw"
name = "VOC"
type = "int"
source = { type = "command", command = ["/usr/local/bin/voc"], timeout = 2 }

[[actuators]]
key = "interlock"
kind = "interlock"
output = "gpio"
pin = 17

[rfid]
type = "device"
path = "/dev/ttyUSB0"

[ui]
upstream = "http://127.0.0.1:8000"

[gateway]
port = 8080

[access]
timeout = 2.5

[hooks]
reboot = ["sudo", "systemctl", "reboot"]
"""


def _with(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "agent.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    return err.value.problems


def test_valid_config(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(VALID, encoding="utf-8")
    config = load_config(path)
    assert config.device.kind is DeviceKind.FUMEHOOD
    assert config.broker.port == 8883
    assert config.broker.tls
    assert config.broker.ca == Path("/etc/ssl/lab-ca.pem")
    assert "secret" not in repr(config.broker)
    assert [c.type for c in config.channels] == [
        ValueType.FLOAT,
        ValueType.FLOAT,
        ValueType.INT,
    ]
    assert config.channels[0].source == {"type": "simulated"}
    assert config.channels[1].source["scale"] == 0.001
    assert config.channels[2].source["command"] == ("/usr/local/bin/voc",)
    assert config.actuators[0].kind is ActuatorKind.INTERLOCK
    assert config.rfid is not None
    assert config.rfid.path == Path("/dev/ttyUSB0")
    assert config.ui_upstream == "http://127.0.0.1:8000"
    assert config.gateway is not None
    assert config.gateway.port == 8080
    assert config.access.timeout == 2.5
    assert config.hooks.reboot == ("sudo", "systemctl", "reboot")
    assert config.channels[0].announce()["safety"] is True


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('id = "hood-1"', 'id = "Hood 1!"', "device.id: 'Hood 1!' is not a device id"),
        (
            'kind = "fumehood"',
            'kind = "toaster"',
            "device.kind: 'toaster' is not one of",
        ),
        ("port = 8883", "port = 70000", "broker.port: must be a TCP port"),
        ("port = 8883", 'port = "x"', "broker.port: must be a TCP port"),
        ("period = 0.5", "period = -1", "channels[0].period: must be a positive"),
        ('type = "float"', 'type = "str"', "channels[0].type: 'str' is not one of"),
        ('key = "cpu_temp"', 'key = "CPU"', "channels[1].key"),
        ('type = "hwmon", ', 'type = "magic", ', "channels[1].source: type 'magic'"),
        ("pin = 17", "", 'actuators[0].pin: is required when output = "gpio"'),
        ('path = "/dev/ttyUSB0"', "", 'rfid.path: is required when type = "device"'),
        ('upstream = "http://127.0.0.1:8000"', 'upstream = "ftp://x"', "ui.upstream"),
        ("timeout = 2.5", "timeout = 0", "access.timeout: must be a positive"),
        ('base_topic = "lab/fluxilab"', 'base_topic = "lab/#"', "base_topic:"),
        ('area = "Chemistry"', 'colour = "red"', "device.colour: unknown key"),
        ("tls = true", "tls = false", "broker.tls: must be true when ca/cert/key"),
        ('username = "hood-1"', "", "broker.password: needs broker.username"),
        ('key = "voc_raw"', 'key = "cpu_temp"', "channels: key 'cpu_temp' is used"),
        ('name = "Fumehood 1"', "", "device.name: is required"),
    ],
)
def test_invalid_values_are_named(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    problems = _problems(tmp_path, _with(VALID, old, new))
    assert any(expected in problem for problem in problems), problems


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    text = _with(_with(VALID, "port = 8883", "port = 0"), "pin = 17", "pin = -3")
    problems = _problems(tmp_path, text)
    assert len(problems) == 2


def test_unreadable_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")
    assert "not valid TOML" in _problems(tmp_path, "[device\nid=")[0]


def test_hub_key_and_simulated_signal() -> None:
    base: dict[str, Any] = {
        "device": {"id": "d", "name": "D", "kind": "machine"},
        "broker": {"host": "h"},
        "data_dir": "/tmp/x",
    }
    key = KeyPair.generate().public_b64
    assert parse_config({**base, "hub_key": key}).hub_key == key
    with pytest.raises(ConfigError, match="hub_key: not a base64 X25519"):
        parse_config({**base, "hub_key": "abc"})
    channel = {"key": "odd", "name": "Odd", "type": "int"}
    with pytest.raises(ConfigError, match=r"channels\[0\].source.signal"):
        parse_config({**base, "channels": [channel]})


def test_check_config_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(VALID, encoding="utf-8")
    assert main(["check-config", "--config", str(path)]) == 0
    assert "OK: device hood-1" in capsys.readouterr().out
    path.write_text(_with(VALID, "port = 8883", "port = 0"), encoding="utf-8")
    assert main(["check-config", "--config", str(path)]) == 2
    assert "broker.port" in capsys.readouterr().err


def test_gateway_speaks_https_unless_told_not_to(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(VALID, encoding="utf-8")
    gateway = load_config(path).gateway
    assert gateway is not None
    assert gateway.tls
    assert gateway.secure_cookies
    assert (gateway.cert, gateway.key) == (None, None)
    path.write_text(
        _with(
            VALID,
            "port = 8080",
            'cert = "/etc/ssl/hood.pem"\nkey = "/etc/ssl/hood.key"',
        ),
        encoding="utf-8",
    )
    gateway = load_config(path).gateway
    assert gateway is not None
    assert (gateway.cert, gateway.key) == (
        Path("/etc/ssl/hood.pem"),
        Path("/etc/ssl/hood.key"),
    )
    # Plain HTTP only by explicit choice (loopback, development); cookies follow.
    path.write_text(_with(VALID, "port = 8080", "tls = false"), encoding="utf-8")
    gateway = load_config(path).gateway
    assert gateway is not None
    assert not gateway.tls
    assert not gateway.secure_cookies
    # Behind an operator's TLS-terminating proxy, cookies may still be Secure.
    path.write_text(
        _with(VALID, "port = 8080", "tls = false\ncookie_secure = true"),
        encoding="utf-8",
    )
    gateway = load_config(path).gateway
    assert gateway is not None
    assert gateway.secure_cookies


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        ('cert = "/etc/ssl/hood.pem"', "gateway: cert and key go together"),
        (
            'tls = false\ncert = "/c.pem"\nkey = "/k.pem"',
            "gateway.tls: must be true when cert/key are set",
        ),
        ("cookie_secure = false", "gateway.cookie_secure: cannot be false"),
        ("tls = 1", "gateway.tls: must be bool"),
    ],
)
def test_invalid_gateway_tls_settings_are_named(
    tmp_path: Path, new: str, expected: str
) -> None:
    problems = _problems(tmp_path, _with(VALID, "port = 8080", new))
    assert any(expected in problem for problem in problems), problems


def test_http_ui_url_needs_plain_http_gateway(tmp_path: Path) -> None:
    text = _with(VALID, 'area = "Chemistry"', 'ui_url = "http://hood-1.lab:8080/"')
    (problem,) = _problems(tmp_path, text)
    assert problem.startswith("device.ui_url: must be https://")
    path = tmp_path / "plain.toml"
    path.write_text(_with(text, "port = 8080", "tls = false"), encoding="utf-8")
    assert load_config(path).device.ui_url == "http://hood-1.lab:8080/"
