"""The agent's distribution: a wheel that carries the agent and the protocol."""

from __future__ import annotations

import os
from pathlib import Path
import subprocess
import sys
import zipfile

REPO = Path(__file__).resolve().parents[2]
CONFIG = """
data_dir = "{data_dir}"

[device]
id = "hood-1"
name = "Fumehood 1"
kind = "fumehood"

[broker]
host = "127.0.0.1"

[[channels]]
key = "face_velocity"
name = "Face velocity"
type = "float"
unit = "m/s"
source = {{ type = "simulated", signal = "face_velocity" }}
"""


def test_wheel_installs_and_runs_without_the_repository(tmp_path: Path) -> None:
    """What a Pi gets from `pip install`: both packages, the same protocol files."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp_path, REPO],
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("fluxilab_agent-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    protocol_dir = REPO / "custom_components" / "fluxilab" / "protocol"
    for source in protocol_dir.glob("*.py"):
        assert f"fluxilab_protocol/{source.name}" in names
        assert zipfile.ZipFile(wheel).read(f"fluxilab_protocol/{source.name}") == (
            source.read_bytes()
        )
    assert "fluxilab_agent/agent.py" in names
    assert "fluxilab_agent/data/fluxilab-agent.service" in names
    web = REPO / "fluxilab_agent" / "web"
    for page in web.iterdir():
        assert f"fluxilab_agent/web/{page.name}" in names
    assert any(name.endswith("entry_points.txt") for name in names)

    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            target,
            wheel,
        ],
        check=True,
        timeout=300,
    )
    config = tmp_path / "agent.toml"
    config.write_text(CONFIG.format(data_dir=tmp_path / "data"))
    # Run from outside the repository so nothing but the installed copy is found.
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-m", "fluxilab_agent", "check-config", "--config", config],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "hood-1" in result.stdout
    units = tmp_path / "units"
    units.mkdir()
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "fluxilab_agent",
            "install-service",
            "--target-dir",
            units,
            "--config",
            config,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    assert f"--config {config}" in (units / "fluxilab-agent.service").read_text()
    located = subprocess.run(
        [
            sys.executable,
            "-c",
            "import fluxilab_protocol; print(fluxilab_protocol.__file__)",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert located.stdout.startswith(str(target))
