"""Finish Home Assistant's onboarding for the dev lab and connect MQTT with a login.

Run by scripts/develop once Home Assistant answers. Idempotent: steps that are done
are skipped. Stdlib only, so it runs on the machine's own Python.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request


class HomeAssistant:
    """A tiny REST client for the onboarding and config-flow endpoints."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.client_id = f"{self.url}/"
        self.token: str | None = None

    def request(
        self, method: str, path: str, body: Any = None, *, form: bool = False
    ) -> Any:
        data = None
        headers = {}
        if body is not None and form:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(
            f"{self.url}{path}", data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                text = resp.read().decode()
        except urllib.error.HTTPError as err:
            detail = err.read().decode(errors="replace")[:500]
            raise urllib.error.HTTPError(
                err.url, err.code, f"{err.reason}: {detail}", err.headers, None
            ) from None
        return json.loads(text) if text else None

    def wait_until_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.request("GET", "/auth/providers")
                return
            except urllib.error.HTTPError:
                # Any HTTP answer means it is up (before onboarding this one is 400).
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(1)
        sys.exit(f"Home Assistant did not answer on {self.url} within {timeout:.0f} s")

    def login(self, username: str, password: str) -> None:
        flow = self.request(
            "POST",
            "/auth/login_flow",
            {
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": self.client_id,
            },
        )
        result = self.request(
            "POST",
            f"/auth/login_flow/{flow['flow_id']}",
            {"client_id": self.client_id, "username": username, "password": password},
        )
        if result.get("type") != "create_entry":
            sys.exit(f"could not log in as {username}: {result.get('errors')}")
        self.exchange(result["result"])

    def exchange(self, code: str) -> None:
        tokens = self.request(
            "POST",
            "/auth/token",
            {
                "grant_type": "authorization_code",
                "code": code,
                "client_id": self.client_id,
            },
            form=True,
        )
        self.token = tokens["access_token"]


def onboard(ha: HomeAssistant, args: argparse.Namespace) -> None:
    try:
        steps = ha.request("GET", "/api/onboarding")
    except urllib.error.HTTPError as err:
        if err.code != 404:
            raise
        # Home Assistant removes the onboarding API once everything is done.
        steps = []
    done = {step["step"] for step in steps if step["done"]}
    if not steps:
        ha.login(args.username, args.password)
        return
    if "user" not in done:
        result = ha.request(
            "POST",
            "/api/onboarding/users",
            {
                "client_id": ha.client_id,
                "name": args.name,
                "username": args.username,
                "password": args.password,
                "language": "en",
            },
        )
        ha.exchange(result["auth_code"])
    else:
        ha.login(args.username, args.password)
    if "core_config" not in done:
        ha.request("POST", "/api/onboarding/core_config")
    if "analytics" not in done:
        ha.request("POST", "/api/onboarding/analytics")
    if "integration" not in done:
        ha.request(
            "POST",
            "/api/onboarding/integration",
            {"client_id": ha.client_id, "redirect_uri": ha.client_id},
        )


def connect_mqtt(ha: HomeAssistant, port: int, username: str, password: str) -> None:
    """Add the MQTT integration with the hub's broker login (or fix an old entry).

    An entry from a dev lab that predates broker logins is reconfigured: the broker
    refuses anonymous clients once FluxiLab's password file is in place.
    """
    entries = ha.request("GET", "/api/config/config_entries/entry?domain=mqtt")
    start: dict[str, Any] = {"handler": "mqtt", "show_advanced_options": True}
    if entries:
        entry = entries[0]
        if not _needs_login(ha, entry["entry_id"], username, port):
            return
        start["entry_id"] = entry["entry_id"]
    flow = ha.request("POST", "/api/config/config_entries/flow", start)
    # The MQTT flow asks for the broker first; later steps (if any) keep defaults.
    result = ha.request(
        "POST",
        f"/api/config/config_entries/flow/{flow['flow_id']}",
        {
            "broker": "127.0.0.1",
            "port": port,
            "username": username,
            "password": password,
            "protocol": "5",
            "other_settings": {"set_client_cert": False, "set_ca_cert": "off"},
        },
    )
    while result.get("type") == "form":
        if result.get("errors"):
            sys.exit(f"could not set up MQTT: {result['errors']}")
        result = ha.request(
            "POST", f"/api/config/config_entries/flow/{result['flow_id']}", {}
        )
    if result.get("type") not in ("create_entry", "abort"):
        sys.exit(f"could not set up MQTT: {result}")
    if (
        result.get("type") == "abort"
        and result.get("reason") != "reconfigure_successful"
    ):
        sys.exit(f"could not reconfigure MQTT: {result.get('reason')}")


def _needs_login(ha: HomeAssistant, entry_id: str, username: str, port: int) -> bool:
    """Return True if the MQTT entry does not log in as ``username`` on ``port``."""
    flow = ha.request(
        "POST",
        "/api/config/config_entries/flow",
        {"handler": "mqtt", "entry_id": entry_id, "show_advanced_options": True},
    )
    try:
        # The reconfigure form suggests the entry's current settings.
        current = {
            field["name"]: (field.get("description") or {}).get("suggested_value")
            for field in flow.get("data_schema", [])
        }
    finally:
        ha.request("DELETE", f"/api/config/config_entries/flow/{flow['flow_id']}")
    return current.get("username") != username or current.get("port") != port


# Integrations that onboarding's core_config step adds on its own. The lab has no
# internet access and needs none of them, so they are removed again.
ONBOARDING_EXTRAS = ("google_translate", "met", "radio_browser", "shopping_list")


def remove_onboarding_extras(ha: HomeAssistant) -> None:
    for domain in ONBOARDING_EXTRAS:
        for entry in ha.request(
            "GET", f"/api/config/config_entries/entry?domain={domain}"
        ):
            ha.request(
                "DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8123")
    parser.add_argument("--name", default="Lab Admin")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", required=True)
    parser.add_argument("--mqtt-port", type=int, default=1883)
    parser.add_argument("--mqtt-username", default="homeassistant")
    parser.add_argument("--mqtt-password", required=True)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    ha = HomeAssistant(args.url)
    ha.wait_until_up(args.timeout)
    onboard(ha, args)
    connect_mqtt(ha, args.mqtt_port, args.mqtt_username, args.mqtt_password)
    # core_config starts those flows as background tasks: give them a moment.
    time.sleep(3)
    remove_onboarding_extras(ha)


if __name__ == "__main__":
    main()
