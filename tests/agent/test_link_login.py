"""The link on a broker that needs a login: a wrong password is refused and said
so in the log (the device never counts as connected), the right one connects."""

from __future__ import annotations

from collections.abc import Iterator
import logging
from pathlib import Path
import subprocess
import time

import pytest

from fluxilab_agent.link import MqttLink
from fluxilab_protocol.topics import DeviceTopics
from tests.mosquitto import Mosquitto

TOPICS = DeviceTopics("fluxilab", "hood-1")


@pytest.fixture
def secured_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    passwd = tmp_path / "passwd"
    passwd.touch()
    subprocess.run(
        ["mosquitto_passwd", "-b", str(passwd), "hood-1", "right-secret"],
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
    broker.start()
    yield broker
    broker.stop()


def test_a_refused_login_is_logged_and_never_connected(
    secured_broker: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    link = MqttLink(
        TOPICS,
        {"v": 1, "id": "hood-1"},
        host=secured_broker.host,
        port=secured_broker.port,
        username="hood-1",
        password="wrong-secret",
    )
    with caplog.at_level(logging.WARNING, logger="fluxilab_agent"):
        link.start()
        try:
            deadline = time.monotonic() + 10
            while "Broker refused the connection" not in caplog.text:
                assert time.monotonic() < deadline, "no refusal logged"
                time.sleep(0.05)
            assert not link.connected.is_set()
            assert link.publish("fluxilab/hood-1/telemetry", "{}") is False
        finally:
            link.stop()


def test_the_right_login_connects(secured_broker: Mosquitto) -> None:
    link = MqttLink(
        TOPICS,
        {"v": 1, "id": "hood-1"},
        host=secured_broker.host,
        port=secured_broker.port,
        username="hood-1",
        password="right-secret",
    )
    link.start()
    try:
        assert link.connected.wait(10)
        assert link.publish("fluxilab/hood-1/telemetry", "{}") is True
    finally:
        link.stop()
