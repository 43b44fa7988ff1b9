"""The ``fluxilab-agent`` command line.

``run``           run one device from its TOML config (the systemd service)
``check-config``  validate a config file and print what it describes
``pair --reset``  forget the pinned hub key and the credential mirror
``install-service``  write the systemd unit (and, asked, enable it)
``simulate``      run N simulated devices in one process (demos, load tests)
``swipe``/``login``/``airflow``/``cut``/``status``  act on a running agent or
                  simulation through its control socket
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import dataclasses
import json
import logging
import os
from pathlib import Path
import signal
import sys
from typing import Any

from fluxilab_protocol import DEFAULT_BASE_TOPIC
from fluxilab_protocol.schemas import ActuatorKind, DeviceKind, ValueType

from . import __version__
from .agent import Agent
from .config import (
    DEFAULT_DATA_DIR,
    AccessConfig,
    AccessMode,
    ActuatorConfig,
    AgentConfig,
    BrokerConfig,
    ChannelConfig,
    ConfigError,
    DeviceConfig,
    GatewayConfig,
    ReaderConfig,
    load_config,
)
from .control import ControlServer, send_request
from .service import (
    DEFAULT_CONFIG,
    DEFAULT_UNIT_DIR,
    DEFAULT_USER,
    ServiceSettings,
    install_unit,
)
from .state import reset_pairing

_LOGGER = logging.getLogger("fluxilab_agent")

CONTROL_SOCKET = "control.sock"

FUMEHOOD_CHANNELS = (
    ("face_velocity", "Face velocity", ValueType.FLOAT, "m/s", "speed", True),
    ("sash_height", "Sash height", ValueType.FLOAT, "%", None, False),
    ("temperature", "Temperature", ValueType.FLOAT, "°C", "temperature", False),
    ("voc", "VOC", ValueType.FLOAT, "ppm", None, False),
    ("fan_running", "Fan running", ValueType.BOOL, None, "running", False),
)
MACHINE_CHANNELS = (
    ("spindle_current", "Spindle current", ValueType.FLOAT, "A", "current", False),
    ("running", "Running", ValueType.BOOL, None, "running", False),
)


def _setup_logging(verbose: bool) -> None:
    # journald adds its own timestamps; keep lines short and greppable.
    stream = logging.StreamHandler(sys.stdout)
    if os.environ.get("INVOCATION_ID") or os.environ.get("JOURNAL_STREAM"):
        stream.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    else:
        stream.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, handlers=[stream]
    )


def simulated_config(
    index: int,
    *,
    data_dir: Path,
    host: str,
    port: int,
    base_topic: str = DEFAULT_BASE_TOPIC,
    gateway_port: int | None = None,
    period: float = 1.0,
    machines_every: int = 3,
) -> AgentConfig:
    """Build the configuration of simulated device number ``index`` (from 1)."""
    machine = machines_every > 0 and index % machines_every == 0
    kind = DeviceKind.MACHINE if machine else DeviceKind.FUMEHOOD
    prefix = "machine" if machine else "hood"
    device_id = f"sim-{prefix}-{index}"
    channels = tuple(
        ChannelConfig(
            key=key,
            name=name,
            type=value_type,
            source={"type": "simulated", "signal": key},
            unit=unit,
            device_class=device_class,
            state_class="measurement" if value_type is not ValueType.BOOL else None,
            period=period,
            safety=safety,
        )
        for key, name, value_type, unit, device_class, safety in (
            MACHINE_CHANNELS if machine else FUMEHOOD_CHANNELS
        )
    )
    return AgentConfig(
        device=DeviceConfig(
            id=device_id,
            name=f"Simulated {'machine' if machine else 'fumehood'} {index}",
            kind=kind,
            model="FluxiLab simulator",
            serial=f"SIM-{index:04d}",
            ui_url=(
                f"http://127.0.0.1:{gateway_port}/"
                if gateway_port is not None
                else None
            ),
        ),
        broker=BrokerConfig(host=host, port=port),
        data_dir=data_dir / device_id,
        base_topic=base_topic,
        channels=channels,
        actuators=(
            ActuatorConfig(
                key="interlock", kind=ActuatorKind.INTERLOCK, name="Interlock"
            ),
        ),
        rfid=ReaderConfig(type="simulated"),
        gateway=(
            # Loopback only: the simulated lab speaks plain HTTP by explicit choice.
            GatewayConfig(host="127.0.0.1", port=gateway_port, tls=False)
            if gateway_port is not None
            else None
        ),
    )


def simulated_door_config(
    index: int,
    *,
    data_dir: Path,
    host: str,
    port: int,
    base_topic: str = DEFAULT_BASE_TOPIC,
    gateway_port: int | None = None,
    period: float = 1.0,
) -> AgentConfig:
    """Build the configuration of simulated door number ``index`` (from 1).

    ``sim-door-<index>``, "Lab entrance": a card reader and a door lock in door mode
    (every swipe is a ``check``; granted, the lock opens for 5 s) plus a temperature
    channel, so that it reports like any device.
    """
    return AgentConfig(
        device=DeviceConfig(
            id=f"sim-door-{index}",
            name="Lab entrance" if index == 1 else f"Lab entrance {index}",
            kind=DeviceKind.SENSOR_STATION,
            model="FluxiLab simulator",
            serial=f"SIM-DOOR-{index:04d}",
            ui_url=(
                f"http://127.0.0.1:{gateway_port}/"
                if gateway_port is not None
                else None
            ),
        ),
        broker=BrokerConfig(host=host, port=port),
        data_dir=data_dir / f"sim-door-{index}",
        base_topic=base_topic,
        channels=(
            ChannelConfig(
                key="temperature",
                name="Temperature",
                type=ValueType.FLOAT,
                source={"type": "simulated", "signal": "temperature"},
                unit="°C",
                device_class="temperature",
                state_class="measurement",
                period=period,
            ),
        ),
        actuators=(
            ActuatorConfig(key="lock", kind=ActuatorKind.RELAY, name="Door lock"),
        ),
        rfid=ReaderConfig(type="simulated"),
        gateway=(
            GatewayConfig(host="127.0.0.1", port=gateway_port, tls=False)
            if gateway_port is not None
            else None
        ),
        access=AccessConfig(mode=AccessMode.DOOR),
    )


async def _serve(agents: list[Agent], control: Path | None) -> int:
    """Run agents until SIGTERM/SIGINT, then shut every one down cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    started: list[Agent] = []
    server = (
        ControlServer(control, {a.device_id: a for a in agents}) if control else None
    )
    try:
        for agent in agents:
            await agent.start()
            started.append(agent)
        if server is not None:
            await server.start()
        _LOGGER.info("%d device(s) running; SIGTERM stops", len(agents))
        await stop.wait()
        _LOGGER.info("Stopping")
    finally:
        if server is not None:
            await server.stop()
        await asyncio.gather(*(agent.stop() for agent in started))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    agent = Agent(config)
    control = args.control or config.data_dir / CONTROL_SOCKET
    return asyncio.run(_serve([agent], control))


def _cmd_check_config(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    print(
        f"OK: device {config.device.id} ({config.device.kind.value}), broker "
        f"{config.broker.host}:{config.broker.port}, {len(config.channels)} channels, "
        f"{len(config.actuators)} actuators, data dir {config.data_dir}"
    )
    return 0


def _cmd_pair(args: argparse.Namespace) -> int:
    if not args.reset:
        print("nothing to do: use 'pair --reset' to forget the pinned hub key")
        return 2
    data_dir = load_config(args.config).data_dir if args.config else args.data_dir
    pinned = reset_pairing(data_dir)
    print(
        "Forgot the pinned hub key and credentials; the next hub key seen is pinned"
        if pinned
        else "No hub key was pinned"
    )
    return 0


def _cmd_install_service(args: argparse.Namespace) -> int:
    data_dir = args.data_dir
    if data_dir is None:
        # The config's own data dir when it is there already (it must be writable).
        data_dir = (
            load_config(args.config).data_dir
            if args.config.exists()
            else DEFAULT_DATA_DIR
        )
    path = install_unit(
        ServiceSettings(
            config=args.config,
            data_dir=data_dir.absolute(),
            user=args.user,
            executable=args.executable,
        ),
        target_dir=args.target_dir,
        enable=args.enable or args.now,
        now=args.now,
        systemctl=(args.systemctl,),
    )
    print(f"Wrote {path}")
    if args.enable or args.now:
        print(f"Enabled{' and started' if args.now else ''} {path.name}")
    else:
        print(
            f"Next: systemctl daemon-reload && systemctl enable --now {path.name} "
            "(or run this with --enable --now)"
        )
    return 0


def _parse_broker(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError([f"--broker: {text!r} is not host:port"])
    return host, int(port)


def _load_logins(path: Path | None) -> dict[str, tuple[str, str]]:
    """Read ``{device_id: {"username": ..., "password": ...}}`` broker logins."""
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
        return {
            str(device_id): (str(login["username"]), str(login["password"]))
            for device_id, login in data.items()
        }
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as err:
        raise ConfigError(
            [
                f"--logins: {path} is not a JSON object of {{device id: "
                f'{{"username", "password"}}}} ({err})'
            ]
        ) from err


def _positive(text: str) -> int:
    """Read a whole number of at least 1 (an argparse type)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: at least 1")
    return value


def _cmd_simulate(args: argparse.Namespace) -> int:
    if args.devices < 0 or args.doors < 0 or args.devices + args.doors < 1:
        raise ConfigError(["--devices, --doors: at least one device"])
    host, port = _parse_broker(args.broker)
    logins = _load_logins(args.logins)
    agents = []
    for number in range(1, args.devices + args.doors + 1):
        door = number > args.devices
        config = (simulated_door_config if door else simulated_config)(
            number - args.devices if door else number,
            data_dir=args.data_dir,
            host=host,
            port=port,
            base_topic=args.base_topic,
            gateway_port=(
                args.base_port + number - 1 if args.base_port is not None else None
            ),
            period=args.period,
        )
        if args.replay_batch is not None or args.replay_in_flight is not None:
            # A device tuned for a slow link: smaller batches, fewer in flight.
            config = dataclasses.replace(
                config,
                buffer=dataclasses.replace(
                    config.buffer,
                    batch_size=args.replay_batch or config.buffer.batch_size,
                    max_in_flight=args.replay_in_flight or config.buffer.max_in_flight,
                ),
            )
        if (login := logins.get(config.device.id)) is not None:
            username, password = login
            config = dataclasses.replace(
                config,
                broker=dataclasses.replace(
                    config.broker, username=username, password=password
                ),
            )
        agents.append(Agent(config))
    args.data_dir.mkdir(parents=True, exist_ok=True)
    return asyncio.run(_serve(agents, args.data_dir / CONTROL_SOCKET))


def _control_path(args: argparse.Namespace) -> Path:
    if args.control is not None:
        return Path(args.control)
    return Path(args.data_dir) / CONTROL_SOCKET


def _cmd_control(args: argparse.Namespace, request: dict[str, Any]) -> int:
    path = _control_path(args)
    try:
        reply = send_request(path, request)
    except OSError as err:
        print(f"cannot reach the agent at {path}: {err}", file=sys.stderr)
        return 1
    print(json.dumps(reply, indent=2, default=str))
    return 0 if reply.get("ok") else 1


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="fluxilab-agent", description="FluxiLab edge agent"
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run one device from its config file")
    run.add_argument("--config", type=Path, required=True)
    run.add_argument("--control", type=Path, help="control socket path")

    check = sub.add_parser("check-config", help="validate a config file")
    check.add_argument("--config", type=Path, required=True)

    pair = sub.add_parser("pair", help="pairing with the hub")
    pair.add_argument("--reset", action="store_true", help="forget the hub key")
    pair.add_argument("--config", type=Path)
    pair.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)

    service = sub.add_parser(
        "install-service", help="install the systemd unit shipped with the agent"
    )
    service.add_argument(
        "--target-dir",
        type=Path,
        default=DEFAULT_UNIT_DIR,
        help=f"folder for the unit (default {DEFAULT_UNIT_DIR})",
    )
    service.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    service.add_argument("--data-dir", type=Path, help="default: the config's data_dir")
    service.add_argument("--user", default=DEFAULT_USER, help="the service's user")
    service.add_argument(
        "--executable", help="the fluxilab-agent command (default: this one)"
    )
    service.add_argument(
        "--enable", action="store_true", help="systemctl daemon-reload and enable"
    )
    service.add_argument("--now", action="store_true", help="enable and start now")
    service.add_argument("--systemctl", default="systemctl", help=argparse.SUPPRESS)

    sim = sub.add_parser("simulate", help="run N simulated devices")
    sim.add_argument("--devices", type=int, default=1)
    sim.add_argument(
        "--doors",
        type=int,
        default=0,
        help="also simulate N lab entrance doors (sim-door-N, door mode)",
    )
    sim.add_argument("--base-port", type=int, help="first gateway port")
    sim.add_argument("--data-dir", type=Path, default=Path("fluxilab-sim"))
    sim.add_argument("--broker", default="127.0.0.1:1883", help="host:port")
    sim.add_argument("--base-topic", default=DEFAULT_BASE_TOPIC)
    sim.add_argument("--period", type=float, default=1.0, help="telemetry period (s)")
    sim.add_argument(
        "--replay-batch",
        type=_positive,
        help="records per backlog batch (the [buffer] batch_size of a device)",
    )
    sim.add_argument(
        "--replay-in-flight",
        type=_positive,
        help="backlog batches awaiting the hub's ack at once ([buffer] max_in_flight)",
    )
    sim.add_argument(
        "--logins",
        type=Path,
        help="JSON file of per-device broker logins: "
        '{"<device id>": {"username": "...", "password": "..."}}',
    )

    def control(name: str, help_text: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text)
        command.add_argument("--device", help="device id (optional with one device)")
        command.add_argument("--control", type=Path, help="control socket path")
        command.add_argument(
            "--data-dir",
            type=Path,
            default=Path("fluxilab-sim"),
            help="data dir of the running agent (holds control.sock)",
        )
        return command

    swipe = control("swipe", "present a card at a device")
    swipe.add_argument("--card", required=True)
    swipe.add_argument("--maintenance", action="store_true")
    login = control("login", "log in at a device with a member id/name and PIN")
    login.add_argument("--login", required=True)
    login.add_argument("--secret", required=True)
    airflow = control("airflow", "force a fumehood's face velocity")
    airflow.add_argument("--value", type=float, help="m/s; omit to release")
    airflow.add_argument("--seconds", type=float)
    cut = control("cut", "cut a device off the broker")
    cut.add_argument("--seconds", type=float, required=True)
    control("status", "show live status")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``fluxilab-agent``."""
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    try:
        if args.command == "run":
            return _cmd_run(args)
        if args.command == "check-config":
            return _cmd_check_config(args)
        if args.command == "pair":
            return _cmd_pair(args)
        if args.command == "simulate":
            return _cmd_simulate(args)
        if args.command == "install-service":
            return _cmd_install_service(args)
        device = {"device": args.device} if args.device else {}
        if args.command == "swipe":
            op = "maintenance" if args.maintenance else "swipe"
            return _cmd_control(args, {"op": op, "card": args.card, **device})
        if args.command == "login":
            return _cmd_control(
                args,
                {"op": "login", "login": args.login, "secret": args.secret, **device},
            )
        if args.command == "airflow":
            if args.value is None:
                request = {"op": "clear", "signal": "face_velocity", **device}
            else:
                request = {
                    "op": "override",
                    "signal": "face_velocity",
                    "value": args.value,
                    "seconds": args.seconds,
                    **device,
                }
            return _cmd_control(args, request)
        if args.command == "cut":
            return _cmd_control(args, {"op": "cut", "seconds": args.seconds, **device})
        return _cmd_control(args, {"op": "status", **device})
    except ConfigError as err:
        print(f"fluxilab-agent: {err}", file=sys.stderr)
        return 2
    except (RuntimeError, OSError) as err:
        # Unusable key file, data dir not writable, gateway port taken, ...
        print(f"fluxilab-agent: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
