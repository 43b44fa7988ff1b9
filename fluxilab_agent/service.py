"""The systemd unit shipped in the wheel, and ``fluxilab-agent install-service``.

The unit (``fluxilab_agent/data/fluxilab-agent.service``) is a template: the command
fills in the agent's own executable (the venv it runs from), the user, the config file
and the data dir, writes it to the target folder, and runs ``systemctl daemon-reload``
and ``systemctl enable`` only when asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import os
from pathlib import Path
import string
import subprocess
import sys

# importlib.resources and shlex are imported by the functions that use them: every
# agent imports this module (its defaults are the CLI's), few run install-service,
# and a Raspberry Pi agent counts its memory (docs/AGENT.md).

UNIT_NAME = "fluxilab-agent.service"
DEFAULT_UNIT_DIR = Path("/etc/systemd/system")
DEFAULT_CONFIG = Path("/etc/fluxilab/agent.toml")
DEFAULT_USER = "fluxilab"
SYSTEMCTL_TIMEOUT = 60.0


class ServiceError(RuntimeError):
    """The unit could not be installed or enabled."""


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """What the installed unit runs."""

    config: Path = DEFAULT_CONFIG
    data_dir: Path = Path("/var/lib/fluxilab-agent")
    user: str = DEFAULT_USER
    executable: str | None = None
    """The ``fluxilab-agent`` command; None: the one beside this interpreter."""


def unit_template() -> str:
    """Return the unit shipped in the package."""
    from importlib import resources  # noqa: PLC0415  # see the imports above

    return (
        resources.files("fluxilab_agent")
        .joinpath("data", UNIT_NAME)
        .read_text(encoding="utf-8")
    )


def agent_command() -> str:
    """Return the command that starts this installation of the agent."""
    import shlex  # noqa: PLC0415  # see the imports above

    script = Path(sys.executable).parent / "fluxilab-agent"
    if script.is_file() and os.access(script, os.X_OK):
        return str(script)
    return f"{shlex.quote(sys.executable)} -m fluxilab_agent"


def render_unit(settings: ServiceSettings) -> str:
    """Fill the template in."""
    for name, value in (
        ("config", str(settings.config)),
        ("data_dir", str(settings.data_dir)),
    ):
        if not Path(value).is_absolute() or any(c.isspace() for c in value):
            raise ServiceError(
                f"--{name.replace('_', '-')}: {value!r} must be an "
                "absolute path without spaces"
            )
    if (
        not settings.user
        or not settings.user.replace("-", "").replace("_", "").isalnum()
    ):
        raise ServiceError(f"--user: {settings.user!r} is not a user name")
    return string.Template(unit_template()).substitute(
        exec_start=settings.executable or agent_command(),
        user=settings.user,
        config=settings.config,
        data_dir=settings.data_dir,
    )


def install_unit(
    settings: ServiceSettings,
    *,
    target_dir: Path = DEFAULT_UNIT_DIR,
    enable: bool = False,
    now: bool = False,
    systemctl: Sequence[str] = ("systemctl",),
) -> Path:
    """Write the unit into ``target_dir``; with ``enable``, reload and enable it."""
    text = render_unit(settings)
    if not target_dir.is_dir():
        raise ServiceError(f"--target-dir: {target_dir} is not a folder")
    path = target_dir / UNIT_NAME
    tmp = path.with_name(f".{UNIT_NAME}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o644)
        os.replace(tmp, path)
    except OSError as err:
        raise ServiceError(f"cannot write {path}: {err}") from err
    if enable:
        _systemctl(systemctl, "daemon-reload")
        _systemctl(systemctl, "enable", *(["--now"] if now else []), UNIT_NAME)
    return path


def _systemctl(systemctl: Sequence[str], *args: str) -> None:
    import shlex  # noqa: PLC0415  # see the imports above

    command = [*systemctl, *args]
    try:
        result = subprocess.run(  # noqa: S603  # the admin's own systemctl
            command,
            capture_output=True,
            text=True,
            timeout=SYSTEMCTL_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as err:
        raise ServiceError(f"{shlex.join(command)} failed: {err}") from err
    if result.returncode != 0:
        raise ServiceError(
            f"{shlex.join(command)} exited with {result.returncode}: "
            f"{result.stderr.strip()[:500]}"
        )
