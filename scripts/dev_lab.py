"""Seed the development lab once Home Assistant and the simulated devices are up.

Run by scripts/develop after dev_onboard.py, on the agent's Python (it needs aiohttp).
Everything goes through Home Assistant's public APIs, the way an admin would do it in
the UI: the discovered devices are adopted through FluxiLab's own config flow, members
and authorizations through FluxiLab's services, machine types through its websocket
commands. Idempotent: what exists already is left alone. Finally it asks FluxiLab
for the broker's password file and ACL (fluxilab.generate_broker_config) and keeps
the devices' logins for scripts/develop.

    dev_lab.py seed --state DIR --devices 8 --broker-folder mosquitto
    dev_lab.py wait --state DIR [--kind agent|board]

The logins file it keeps is what ``fluxilab-agent simulate --logins`` reads. ``wait``
returns once every adopted device (of that kind) is online in Home Assistant, so
that scripts/develop's banner means the lab is usable.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
import json
import os
from pathlib import Path
import sys
import time
from typing import Any

import aiohttp

ACCOUNTS = (
    # username, display name, HA admin, lab role
    ("admin", "Lab Admin", True, "admin"),
    ("staff", "Sam Staff", False, "staff"),
    ("user", "Uma User", False, "user"),
)
# Members without a Home Assistant account, as most lab members are.
MEMBERS = (
    # The second card of each is how a Fab-O-Matic board reads it (lowercase hex).
    ("Leo Student", "user", ["04A1B2C3D4", "a1b2c3d4"], "246810"),
    ("Mia Researcher", "user", ["04E5F60718", "e5f60718"], "135790"),
)
ACCOUNT_CARDS = {
    "admin": ["04AD000001", "ad000001"],
    "staff": ["04ST000002", "5a000002"],
    "user": ["04US000003", "05000003"],
}
ACCOUNT_PINS = {"admin": "111111", "staff": "222222", "user": "333333"}
MACHINE_TYPES = (
    {
        "name": "Fumehood",
        "session_timeout": 3600,
        "grace_period": 120,
        "requires_authorization": True,
        "safety_limits": [{"channel": "face_velocity", "min": 0.4}],
        "maintenance_interval": 500,
        "maintenance_description": "Check the airflow sensor and the sash seal",
    },
    {
        "name": "Machine",
        "session_timeout": 1800,
        "grace_period": 60,
        "requires_authorization": True,
        "maintenance_interval": 50,
        "maintenance_description": "Clean and lubricate",
        "maintenance_message": "Maintenance due",
    },
    # The lab entrance (a door-mode agent): every active member may come in.
    {"name": "Door", "requires_authorization": False},
)
# Who may use what.
AUTHORIZATIONS = {
    "Uma User": ("Fumehood",),
    "Leo Student": ("Fumehood", "Machine"),
    "Mia Researcher": ("Fumehood",),
}


class Lab:
    """A logged-in admin session against Home Assistant's REST and websocket APIs."""

    def __init__(self, session: aiohttp.ClientSession, url: str, token: str) -> None:
        self.session = session
        self.url = url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"}
        self.token = token
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._next_id = 1

    async def rest(self, method: str, path: str, body: Any = None) -> Any:
        async with self.session.request(
            method, f"{self.url}{path}", json=body, headers=self.headers
        ) as resp:
            text = await resp.text()
            if resp.status >= 400:
                raise RuntimeError(f"{method} {path}: {resp.status} {text[:300]}")
            return json.loads(text) if text else None

    async def ws(self, message: dict[str, Any]) -> Any:
        if self._ws is None:
            self._ws = await self.session.ws_connect(f"{self.url}/api/websocket")
            await self._ws.receive_json()  # auth_required
            await self._ws.send_json({"type": "auth", "access_token": self.token})
            if (await self._ws.receive_json())["type"] != "auth_ok":
                raise RuntimeError("websocket authentication failed")
        message = {"id": self._next_id, **message}
        self._next_id += 1
        await self._ws.send_json(message)
        while True:
            reply = await self._ws.receive_json()
            if reply.get("id") == message["id"] and reply["type"] == "result":
                if not reply["success"]:
                    raise RuntimeError(f"{message['type']}: {reply['error']}")
                return reply["result"]

    async def service(
        self, service: str, data: dict[str, Any], *, response: bool = True
    ) -> Any:
        query = "?return_response" if response else ""
        result = await self.rest(
            "POST", f"/api/services/fluxilab/{service}{query}", data
        )
        return result.get("service_response") if isinstance(result, dict) else None

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()


async def login(
    session: aiohttp.ClientSession, url: str, username: str, password: str
) -> str:
    client_id = f"{url}/"
    async with session.post(
        f"{url}/auth/login_flow",
        json={
            "client_id": client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": client_id,
        },
    ) as resp:
        flow = await resp.json()
    async with session.post(
        f"{url}/auth/login_flow/{flow['flow_id']}",
        json={"client_id": client_id, "username": username, "password": password},
    ) as resp:
        result = await resp.json()
    if result.get("type") != "create_entry":
        sys.exit(f"could not log in as {username}")
    async with session.post(
        f"{url}/auth/token",
        data={
            "grant_type": "authorization_code",
            "code": result["result"],
            "client_id": client_id,
        },
    ) as resp:
        return str((await resp.json())["access_token"])


async def ensure_accounts(lab: Lab, passwords: dict[str, str]) -> dict[str, str]:
    """Create the staff and user accounts; return HA user ids by username."""
    users = await lab.ws({"type": "config/auth/list"})
    by_username = {u["username"]: u["id"] for u in users if u.get("username")}
    names = {name for _username, name, _admin, _role in ACCOUNTS}
    for user in users:
        # A run stopped between creating a user and its login leaves the user behind.
        if (
            user["name"] in names
            and not user.get("username")
            and not user["system_generated"]
        ):
            await lab.ws({"type": "config/auth/delete", "user_id": user["id"]})
    for username, name, is_admin, _role in ACCOUNTS:
        if username in by_username:
            continue
        group = "system-admin" if is_admin else "system-users"
        created = await lab.ws(
            {"type": "config/auth/create", "name": name, "group_ids": [group]}
        )
        user_id = created["user"]["id"]
        await lab.ws(
            {
                "type": "config/auth_provider/homeassistant/create",
                "user_id": user_id,
                "username": username,
                "password": passwords[username],
            }
        )
        by_username[username] = user_id
    return by_username


async def ensure_members(lab: Lab, user_ids: dict[str, str]) -> dict[str, str]:
    """Create the lab members; return member ids by name."""
    members = {
        m["name"]: m["id"] for m in await lab.ws({"type": "fluxilab/member/list"})
    }
    wanted: list[dict[str, Any]] = [
        {
            "name": name,
            "role": role,
            "user_id": user_ids[username],
            "cards": ACCOUNT_CARDS[username],
            "pin": ACCOUNT_PINS[username],
        }
        for username, name, _admin, role in ACCOUNTS
    ]
    wanted += [
        {"name": name, "role": role, "cards": cards, "pin": pin}
        for name, role, cards, pin in MEMBERS
    ]
    cards = {
        m["name"]: set(m.get("cards", []))
        for m in await lab.ws({"type": "fluxilab/member/list"})
    }
    for data in wanted:
        if data["name"] not in members:
            response = await lab.service("add_member", data)
            members[data["name"]] = response["member_id"]
            continue
        # Labs seeded before the boards existed lack the boards' card numbers.
        for card in data["cards"]:
            if card not in cards.get(data["name"], set()):
                await lab.service(
                    "add_card",
                    {"member_id": members[data["name"]], "card": card},
                    response=False,
                )
    return members


async def ensure_machine_types(lab: Lab) -> dict[str, str]:
    types = {
        t["name"]: t["id"] for t in await lab.ws({"type": "fluxilab/machine_type/list"})
    }
    for data in MACHINE_TYPES:
        if data["name"] not in types:
            created = await lab.ws({"type": "fluxilab/machine_type/create", **data})
            types[data["name"]] = created["id"]
    return types


async def adopt_devices(lab: Lab, expected: int, wait: float) -> None:
    """Confirm every FluxiLab discovery flow, as an admin clicking Adopt would."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        entries = await lab.rest(
            "GET", "/api/config/config_entries/entry?domain=fluxilab"
        )
        if len(entries) >= expected:
            return
        for flow in await lab.ws({"type": "config_entries/flow/progress"}):
            if flow["handler"] == "fluxilab":
                await lab.rest(
                    "POST", f"/api/config/config_entries/flow/{flow['flow_id']}", {}
                )
        await asyncio.sleep(2)
    print(f"warning: fewer than {expected} devices were adopted", file=sys.stderr)


def machine_type_for(title: str) -> str:
    """Machine type of a simulated device, from its title ("Simulated machine 3")."""
    words = title.lower()
    if "entrance" in words:
        return "Door"
    return "Machine" if "machine" in words or "fab-o-matic" in words else "Fumehood"


async def configure_devices(
    lab: Lab,
    types: dict[str, str],
    type_for: Callable[[str], str] = machine_type_for,
) -> None:
    """Give every adopted device without one the machine type of its kind.

    ``type_for`` names the machine type of a device from its title. The device whose
    type is "Door" (the simulated "Lab entrance") also becomes the lab entrance
    (device option ``entrance``): its swipes check members in and out (live
    occupancy).
    """
    for entry in await lab.rest(
        "GET", "/api/config/config_entries/entry?domain=fluxilab"
    ):
        flow = await lab.rest(
            "POST",
            "/api/config/config_entries/options/flow",
            {"handler": entry["entry_id"]},
        )
        defaults = {
            field["name"]: field["default"]
            for field in flow.get("data_schema", [])
            if field.get("default") is not None
        }
        if defaults.get("machine_type"):
            await lab.rest(
                "DELETE", f"/api/config/config_entries/options/flow/{flow['flow_id']}"
            )
            continue
        type_name = type_for(entry["title"])
        options = {**defaults, "machine_type": types[type_name]}
        if type_name == "Door":
            options["entrance"] = True
        await lab.rest(
            "POST",
            f"/api/config/config_entries/options/flow/{flow['flow_id']}",
            options,
        )


async def rename_boards(
    lab: Lab, entries: list[dict[str, Any]], name_for: Callable[[str], str | None]
) -> int:
    """Name boards after their machine ("Laser 3") by the reconfigure flow.

    ``name_for`` gives a board's new name from its title ("Fab-O-Matic 3"), or None
    to leave it. Only boards still named as they were adopted are renamed (a name an
    admin gave stays). Returns how many were renamed.
    """
    renamed = 0
    for entry in entries:
        title = entry["title"]
        if not title.startswith("Fab-O-Matic ") or (name := name_for(title)) is None:
            continue
        flow = await lab.rest(
            "POST",
            "/api/config/config_entries/flow",
            {"handler": "fluxilab", "entry_id": entry["entry_id"]},
        )
        current = {
            field["name"]: (field.get("description") or {}).get("suggested_value")
            for field in flow.get("data_schema", [])
        }
        await lab.rest(
            "POST",
            f"/api/config/config_entries/flow/{flow['flow_id']}",
            {"name": name, "base_topic": current["base_topic"]},
        )
        renamed += 1
    return renamed


async def ensure_authorizations(
    lab: Lab, members: dict[str, str], types: dict[str, str]
) -> None:
    existing = {
        (a["member_id"], a.get("machine_type_id"))
        for a in await lab.ws({"type": "fluxilab/authorization/list"})
    }
    for name, type_names in AUTHORIZATIONS.items():
        for type_name in type_names:
            key = (members[name], types[type_name])
            if key not in existing:
                await lab.service(
                    "grant_authorization",
                    {"member_id": key[0], "machine_type_id": key[1]},
                )


async def write_broker_config(lab: Lab, folder: str, logins: Path) -> None:
    """Have FluxiLab write the broker files; keep every device's login for develop."""
    response = await lab.service("generate_broker_config", {"folder": folder})
    by_device = {
        user["device_id"]: {"username": user["username"], "password": user["password"]}
        for user in response["users"]
    }
    text = json.dumps(by_device, indent=2, sort_keys=True) + "\n"
    if not logins.exists() or logins.read_text() != text:
        fd = os.open(logins, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(text)
    print(f"broker files: {', '.join(response.get('files', {}).values())}")


async def seed(args: argparse.Namespace) -> None:
    passwords = {
        username: (args.state / f"{username}-password").read_text().strip()
        for username, *_ in ACCOUNTS
    }
    async with aiohttp.ClientSession() as session:
        token = await login(session, args.url, "admin", passwords["admin"])
        lab = Lab(session, args.url, token)
        try:
            user_ids = await ensure_accounts(lab, passwords)
            # FluxiLab's services exist once the first device is adopted.
            await adopt_devices(lab, args.devices, args.timeout)
            members = await ensure_members(lab, user_ids)
            types = await ensure_machine_types(lab)
            await configure_devices(lab, types)
            await ensure_authorizations(lab, members, types)
            if args.broker_folder:
                await write_broker_config(
                    lab, args.broker_folder, args.state / "broker-logins.json"
                )
        finally:
            await lab.close()


BOARD_PREFIX = "fabomatic-"


async def wait_online(args: argparse.Namespace) -> None:
    """Wait until every adopted device's connectivity sensor is on."""
    password = (args.state / "admin-password").read_text().strip()
    async with aiohttp.ClientSession() as session:
        token = await login(session, args.url, "admin", password)
        lab = Lab(session, args.url, token)
        try:
            registry = await lab.ws({"type": "config/entity_registry/list"})
            sensors = {
                entity["entity_id"]: entity["unique_id"].removesuffix("_connectivity")
                for entity in registry
                if entity["platform"] == "fluxilab"
                and entity["unique_id"].endswith("_connectivity")
                and (
                    args.kind is None
                    or (args.kind == "board")
                    == entity["unique_id"].startswith(BOARD_PREFIX)
                )
            }
            deadline = time.monotonic() + args.timeout
            offline = sorted(sensors.values())
            while time.monotonic() < deadline:
                states = {
                    s["entity_id"]: s["state"]
                    for s in await lab.rest("GET", "/api/states")
                }
                offline = sorted(
                    device
                    for entity_id, device in sensors.items()
                    if states.get(entity_id) != "on"
                )
                if not offline:
                    return
                await asyncio.sleep(1)
        finally:
            await lab.close()
    sys.exit(f"still offline after {args.timeout:.0f} s: {', '.join(offline)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    seeding = sub.add_parser("seed", help="adopt, seed, write the broker files")
    seeding.add_argument("--url", default="http://127.0.0.1:8123")
    seeding.add_argument("--state", type=Path, required=True)
    seeding.add_argument("--devices", type=int, default=0, help="devices to adopt")
    seeding.add_argument("--timeout", type=float, default=120)
    seeding.add_argument(
        "--broker-folder", help="folder of the HA config dir for the broker files"
    )
    waiting = sub.add_parser("wait", help="wait until the adopted devices are online")
    waiting.add_argument("--url", default="http://127.0.0.1:8123")
    waiting.add_argument("--state", type=Path, required=True)
    waiting.add_argument("--kind", choices=("agent", "board"))
    waiting.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    asyncio.run(seed(args) if args.command == "seed" else wait_online(args))


if __name__ == "__main__":
    main()
