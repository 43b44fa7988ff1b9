"""``fluxilab-agent login/airflow/cut/status/check-config`` as an operator types
them: the request reaches the running agent, the reply is printed as JSON and the
exit code says whether it worked."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import json
from pathlib import Path
from typing import Any

import pytest

from fluxilab_agent.agent import Agent
from fluxilab_agent.cli import main
from fluxilab_agent.control import ControlServer
from tests.agent.conftest import eventually, paired
from tests.agent.stub_hub import StubHub
from tests.agent.test_agent import give_credentials


async def test_control_commands_reach_the_running_agent(
    make_agent: Callable[..., Agent],
    hub: StubHub,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    agent = make_agent()
    await paired(agent, hub)
    await give_credentials(agent, hub)
    socket = tmp_path / "elsewhere.sock"
    server = ControlServer(socket, {agent.device_id: agent})
    await server.start()

    async def cli(*args: str) -> tuple[int, dict[str, Any]]:
        capsys.readouterr()
        code = await asyncio.to_thread(
            main, [*args, "--control", str(socket), "--device", agent.device_id]
        )
        return code, json.loads(capsys.readouterr().out)

    try:
        code, reply = await cli("login", "--login", "Ada", "--secret", "246810")
        assert code == 0
        assert reply["decision"]["granted"] is True
        assert reply["decision"]["member_id"] == "m-1"
        code, reply = await cli("status")
        assert code == 0
        assert reply["status"]["user"] == "Ada"

        code, reply = await cli("airflow", "--value", "0.07", "--seconds", "30")
        assert (code, reply) == (0, {"ok": True})
        await eventually(
            lambda: agent.values.get("face_velocity") == 0.07, what="the override"
        )
        code, reply = await cli("airflow")  # no value: released
        assert (code, reply) == (0, {"ok": True})
        await eventually(
            lambda: agent.values.get("face_velocity") != 0.07, what="the release"
        )

        # Refused by the agent: the reply says why and the exit code is 1.
        code, reply = await cli("cut", "--seconds", "0")
        assert code == 1
        assert reply["ok"] is False
        assert "seconds must be" in reply["error"]
        code, reply = await cli("cut", "--seconds", "0.5")
        assert (code, reply) == (0, {"ok": True})
        assert not agent.connected
        await eventually(lambda: agent.connected, seconds=15, what="the reconnect")
    finally:
        await server.stop()


def test_check_config_prints_what_the_file_describes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "agent.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "state"}"\n'
        '[device]\nid = "hood-7"\nname = "Hood 7"\nkind = "fumehood"\n'
        '[broker]\nhost = "broker.lab"\nport = 8883\n'
    )
    assert main(["check-config", "--config", str(config)]) == 0
    assert capsys.readouterr().out == (
        "OK: device hood-7 (fumehood), broker broker.lab:8883, 0 channels, "
        f"0 actuators, data dir {tmp_path / 'state'}\n"
    )


def test_check_config_rejects_a_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "agent.toml"
    config.write_text('[device]\nid = "hood-7"\nkind = "toaster"\n')
    assert main(["check-config", "--config", str(config)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("fluxilab-agent: ")
    assert "kind" in captured.err
