"""``fluxilab-agent install-service``: the unit shipped in the wheel, installed."""

from __future__ import annotations

from pathlib import Path
import stat
import sys

import pytest

from fluxilab_agent.cli import main
from fluxilab_agent.service import (
    UNIT_NAME,
    ServiceError,
    ServiceSettings,
    render_unit,
    unit_template,
)


@pytest.fixture
def systemctl(tmp_path: Path) -> tuple[Path, Path]:
    """A fake systemctl that logs its arguments, one call a line."""
    log = tmp_path / "systemctl.log"
    script = tmp_path / "systemctl"
    script.write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    script.chmod(0o755)
    return script, log


def test_unit_ships_with_the_package() -> None:
    template = unit_template()
    assert "ExecStart=${exec_start} run --config ${config}" in template
    assert "[Install]" in template


def test_install_writes_the_unit_and_leaves_systemd_alone(
    tmp_path: Path, systemctl: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    script, log = systemctl
    target = tmp_path / "units"
    target.mkdir()
    code = main(
        [
            "install-service",
            "--target-dir",
            str(target),
            "--config",
            str(tmp_path / "agent.toml"),  # not written yet: the default data dir
            "--systemctl",
            str(script),
        ]
    )
    assert code == 0
    unit = (target / UNIT_NAME).read_text()
    assert f"ExecStart={Path(sys.executable).parent}" in unit or (
        f"ExecStart={sys.executable} -m fluxilab_agent run" in unit
    )
    assert f"run --config {tmp_path / 'agent.toml'}\n" in unit
    assert "User=fluxilab\n" in unit
    assert "ReadWritePaths=/var/lib/fluxilab-agent\n" in unit
    assert "${" not in unit
    assert stat.S_IMODE((target / UNIT_NAME).stat().st_mode) == 0o644
    assert not log.exists()
    assert "systemctl daemon-reload" in capsys.readouterr().out


def test_install_enable_now_runs_systemctl(
    tmp_path: Path, systemctl: tuple[Path, Path]
) -> None:
    script, log = systemctl
    config = tmp_path / "agent.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "state"}"\n'
        '[device]\nid = "hood-1"\nname = "Hood"\nkind = "fumehood"\n'
        '[broker]\nhost = "127.0.0.1"\n'
    )
    code = main(
        [
            "install-service",
            "--target-dir",
            str(tmp_path),
            "--config",
            str(config),
            "--user",
            "lab-agent",
            "--executable",
            "/opt/fluxilab-agent/bin/fluxilab-agent",
            "--now",
            "--systemctl",
            str(script),
        ]
    )
    assert code == 0
    unit = (tmp_path / UNIT_NAME).read_text()
    assert (
        f"ExecStart=/opt/fluxilab-agent/bin/fluxilab-agent run --config {config}\n"
        in unit
    )
    assert f"ReadWritePaths={tmp_path / 'state'}\n" in unit
    assert "User=lab-agent\nGroup=lab-agent\n" in unit
    assert log.read_text().splitlines() == [
        "daemon-reload",
        f"enable --now {UNIT_NAME}",
    ]


def test_failing_systemctl_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "systemctl"
    script.write_text("#!/bin/sh\necho 'Access denied' >&2\nexit 1\n")
    script.chmod(0o755)
    code = main(
        [
            "install-service",
            "--target-dir",
            str(tmp_path),
            "--enable",
            "--systemctl",
            str(script),
        ]
    )
    assert code == 1
    assert "daemon-reload exited with 1: Access denied" in capsys.readouterr().err


def test_bad_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ServiceError, match="absolute path"):
        render_unit(ServiceSettings(config=Path("agent.toml")))
    with pytest.raises(ServiceError, match="not a user name"):
        render_unit(ServiceSettings(user="root\nExecStartPre=/bin/evil"))
    assert main(["install-service", "--target-dir", str(tmp_path / "none")]) == 1
