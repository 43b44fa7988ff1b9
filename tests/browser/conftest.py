"""A live lab for the browser tests: Mosquitto, Home Assistant, simulated devices.

Everything runs on loopback in a temporary folder and stops after the module:

* a private Mosquitto (tests/mosquitto.py);
* Home Assistant (``python -m homeassistant``) with FluxiLab from this checkout,
  onboarded by scripts/dev_onboard.py as the dev lab is, and connected to the broker;
* ``fluxilab_agent simulate`` with two fumehoods whose gateways serve the built-in
  device UI, adopted through the discovery flow an admin confirms;
* a second, non-admin Home Assistant login for a plain lab member;
* on request (``running_lab(..., boards=...)``), emulated Fab-O-Matic boards
  (scripts/fabomatic_emulator.py, the firmware's exact JSON) adopted the same way.

The devices are adopted by scripts/dev_lab.py's ``adopt_devices``, as the dev lab's.

These tests need Debian's ``chromium`` and ``chromium-driver``; without them, or
without ``FLUXILAB_BROWSER_TESTS=1``, they are skipped, so the default test run never
depends on a browser. Home Assistant installs its frontend package on the first
start when it is missing, as it does for scripts/develop.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
import contextlib
from dataclasses import dataclass
import importlib.util
import json
import os
from pathlib import Path
import subprocess
import sys
import time
from typing import Any
import urllib.error

import aiohttp
import pytest

from tests.browser.webdriver import Browser, WebDriverError, find_chromium
from tests.e2e.lab import connect_mqtt
from tests.mosquitto import Mosquitto, free_consecutive_ports, free_port

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "browser"
SCREENSHOTS = REPO / "docs" / "screenshots"
ADMIN = ("admin", "admin-password-1")
MEMBER = ("ada", "ada-password-1")
DEVICES = ("sim-hood-1", "sim-hood-2")
START_TIMEOUT = 240.0


def _load_script(name: str) -> Any:
    """Import scripts/<name>.py (the dev lab's own scripts) as a module."""
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def browser_tests_enabled() -> str | None:
    """Return why the browser tests cannot run, or None when they can."""
    if os.environ.get("FLUXILAB_BROWSER_TESTS") != "1":
        return "set FLUXILAB_BROWSER_TESTS=1 to run the browser tests"
    if find_chromium() is None:
        return "Debian's chromium and chromium-driver are not installed"
    return None


CONFIGURATION = """
homeassistant:
  name: FluxiLab browser test
  unit_system: metric
  time_zone: Europe/Rome
  country: IT
  currency: EUR
  language: en
  internal_url: {url}
http:
  server_host: 127.0.0.1
  server_port: {port}
frontend:
config:
# The sparklines read the last hour from the recorder.
recorder:
  commit_interval: 1
history:
logger:
  default: warning
  logs:
    custom_components.fluxilab: info
"""


@dataclass
class Lab:
    """The running lab."""

    url: str
    admin: Any  # dev_onboard.HomeAssistant, logged in as the admin
    member_user_id: str
    gateway_ports: dict[str, int]
    workdir: Path
    agent: subprocess.Popen[bytes]
    """``fluxilab_agent simulate``: both devices, stopped and started by restart_agent."""
    agent_command: list[str]
    boards: subprocess.Popen[bytes] | None = None
    """scripts/fabomatic_emulator.py's boards, when the lab has any."""

    def dev_lab[T](self, steps: Callable[[Any, Any], Awaitable[T]]) -> T:
        """Run ``steps(dev_lab, api)`` with scripts/dev_lab.py and its admin session.

        ``dev_lab`` is the script's module, ``api`` its ``Lab`` logged in as the admin:
        the tests set the lab up with the dev lab's own steps.
        """
        return asyncio.run(_with_dev_lab(self.url, self.admin.token, steps))

    def restart_agent(self, change: Callable[[], None] = lambda: None) -> None:
        """Stop the simulated devices, run ``change`` on their files, start them again."""
        _stop(self.agent)
        change()
        self.agent = subprocess.Popen(
            self.agent_command,
            stdout=(self.workdir / "agent.out").open("ab"),
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )

    def agent_cli(self, *args: str, data_dir: Path | None = None) -> str:
        """Run a ``fluxilab_agent`` command on the simulated devices' data folder."""
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "fluxilab_agent",
                *args,
                "--data-dir",
                str(data_dir or self.workdir / "sim"),
            ],
            capture_output=True,
            check=False,
            cwd=REPO,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout.decode()

    def ws(self, *messages: dict[str, Any]) -> list[dict[str, Any]]:
        """Send websocket commands as the admin; return their result messages."""
        return asyncio.run(_ws(self.url, self.admin.token, list(messages)))


async def _with_dev_lab[T](
    url: str, token: str, steps: Callable[[Any, Any], Awaitable[T]]
) -> T:
    dev_lab = _load_script("dev_lab")
    async with aiohttp.ClientSession() as session:
        api = dev_lab.Lab(session, url, token)
        try:
            return await steps(dev_lab, api)
        finally:
            await api.close()


async def _ws(url: str, token: str, messages: list[dict[str, Any]]) -> list[Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{url}/api/websocket") as ws,
    ):
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": token})
        assert (await ws.receive_json())["type"] == "auth_ok"
        results = []
        for number, message in enumerate(messages, start=1):
            await ws.send_json({"id": number, **message})
            while (reply := await ws.receive_json(timeout=30))["id"] != number:
                pass
            results.append(reply)
        return results


def _wait(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(urllib.error.URLError, ConnectionError, KeyError):
            if result := check():
                return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture
def lab(tmp_path: Path, socket_enabled: None) -> Iterator[Lab]:
    """Start the whole lab (loopback only) for one test."""
    with running_lab(tmp_path / "lab") as running:
        yield running


@contextlib.contextmanager
def running_lab(workdir: Path, boards: Sequence[int] = ()) -> Iterator[Lab]:
    """Start the lab in ``workdir``, with Fab-O-Matic ``boards`` (machine ids) too."""
    if reason := browser_tests_enabled():
        pytest.skip(reason)
    onboarding = _load_script("dev_onboard")
    workdir.mkdir()
    (workdir / "broker").mkdir()
    broker = Mosquitto(workdir / "broker")
    broker.start()
    processes: list[subprocess.Popen[bytes]] = []
    lab: Lab | None = None
    try:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        config = workdir / "config"
        (config / "custom_components").mkdir(parents=True)
        (config / "custom_components" / "fluxilab").symlink_to(
            REPO / "custom_components" / "fluxilab"
        )
        (config / "configuration.yaml").write_text(
            CONFIGURATION.format(url=url, port=port)
        )
        log = (workdir / "hass.out").open("wb")
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "homeassistant", "--config", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO,
            )
        )
        admin = onboarding.HomeAssistant(url)
        # /api/onboarding answers from the start (/auth/providers refuses with 400
        # until onboarding is done).
        _wait(
            lambda: admin.request("GET", "/api/onboarding") is not None,
            START_TIMEOUT,
            "Home Assistant to start",
        )
        onboarding.onboard(
            admin,
            argparse.Namespace(name="Lab Admin", username=ADMIN[0], password=ADMIN[1]),
        )
        connect_mqtt(admin, broker.port)
        # Keep the HTTP settings of configuration.yaml without the trial dialog.
        asyncio.run(_ws(url, admin.token, [{"type": "http/config/promote"}]))

        base = free_consecutive_ports(len(DEVICES))
        gateway_ports = {DEVICES[0]: base, DEVICES[1]: base + 1}
        agent_command = [
            sys.executable,
            "-m",
            "fluxilab_agent",
            "simulate",
            "--devices",
            "2",
            "--base-port",
            str(base),
            "--data-dir",
            str(workdir / "sim"),
            "--broker",
            f"127.0.0.1:{broker.port}",
        ]
        agent = subprocess.Popen(
            agent_command,
            stdout=(workdir / "agent.out").open("wb"),
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        processes.append(agent)
        member_user_id = _create_login(url, admin.token)
        lab = Lab(
            url, admin, member_user_id, gateway_ports, workdir, agent, agent_command
        )
        _adopt(lab, len(DEVICES))
        try:
            _wait(lambda: _paired(lab), 90, "the devices to pair and come online")
        except AssertionError as err:
            raise AssertionError(f"{err}\n{_pairing_report(lab)}") from None
        if boards:
            # Once the agents are paired: the boards' queries are no rush for theirs.
            lab.boards = _start_boards(workdir, boards, broker.port)
            processes.append(lab.boards)
            _adopt(lab, len(DEVICES) + len(boards))
        onboarding.remove_onboarding_extras(admin)
        yield lab
    finally:
        if lab is not None:
            # restart_agent may have replaced the first agent process.
            processes.append(lab.agent)
        for process in reversed(processes):
            _stop(process)
        broker.stop()


def _adopt(lab: Lab, expected: int) -> None:
    """Adopt the discovered devices with dev_lab's steps until ``expected`` are."""
    lab.dev_lab(lambda dev_lab, api: dev_lab.adopt_devices(api, expected, 120))
    adopted = lab.admin.request(
        "GET", "/api/config/config_entries/entry?domain=fluxilab"
    )
    assert len(adopted) == expected, (
        f"{len(adopted)} of {expected} devices adopted\n{_pairing_report(lab)}"
    )


def _start_boards(
    workdir: Path, boards: Sequence[int], broker_port: int
) -> subprocess.Popen[bytes]:
    """Run scripts/fabomatic_emulator.py's boards against the lab's broker.

    They check the machine every 5 s (the firmware's default is 30), so that a board
    its entry reloaded (renamed, given a machine type) is online again soon; alive
    every 20 s re-offers a board whose first alive HA missed.
    """
    return subprocess.Popen(
        [
            sys.executable,
            str(REPO / "scripts" / "fabomatic_emulator.py"),
            "run",
            "--boards",
            ",".join(str(board) for board in boards),
            "--broker",
            f"127.0.0.1:{broker_port}",
            "--control",
            str(workdir / "fabomatic.sock"),
            "--alive",
            "20",
            "--check-machine",
            "5",
        ],
        stdout=(workdir / "boards.out").open("wb"),
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )


def _paired(lab: Lab) -> bool:
    (reply,) = lab.ws({"type": "fluxilab/panel/admin/state"})
    devices = {d["device_id"]: d for d in reply["result"]["devices"]}
    return all(
        d in devices and devices[d]["paired"] and devices[d]["online"] for d in DEVICES
    )


def _pairing_report(lab: Lab) -> str:
    """What the hub and the agent said, for a lab whose devices did not pair."""
    lines = []
    with contextlib.suppress(Exception):
        (reply,) = lab.ws({"type": "fluxilab/panel/admin/state"})
        for device in reply["result"]["devices"]:
            lines.append(
                f"hub: {device['device_id']} paired={device.get('paired')} "
                f"online={device.get('online')} link={device.get('link')}"
            )
    for name in ("agent.out", "boards.out", "hass.out"):
        log = lab.workdir / name
        if log.exists():
            tail = log.read_text(errors="replace").splitlines()[-40:]
            lines += [f"{name} (last 40 lines):", *tail]
    return "\n".join(lines)


def _create_login(url: str, token: str) -> str:
    """Create the plain member's Home Assistant login; return the user id."""
    (created,) = asyncio.run(
        _ws(
            url,
            token,
            [
                {
                    "type": "config/auth/create",
                    "name": "Ada Lovelace",
                    "group_ids": ["system-users"],
                }
            ],
        )
    )
    user_id: str = created["result"]["user"]["id"]
    (login,) = asyncio.run(
        _ws(
            url,
            token,
            [
                {
                    "type": "config/auth_provider/homeassistant/create",
                    "user_id": user_id,
                    "username": MEMBER[0],
                    "password": MEMBER[1],
                }
            ],
        )
    )
    assert login["success"], login
    return user_id


@pytest.fixture
def browser(lab: Lab, tmp_path: Path) -> Iterator[Browser]:
    """A fresh headless Chromium session."""
    tools = find_chromium()
    assert tools is not None
    (tmp_path / "browser").mkdir()
    session = Browser(*tools, tmp_path / "browser")
    try:
        yield session
    finally:
        session.close()


DEEP_QUERY = """
const deep = (root, selector) => {
  const found = root.querySelector(selector);
  if (found) return found;
  for (const el of root.querySelectorAll("*")) {
    if (el.shadowRoot) {
      const inner = deep(el.shadowRoot, selector);
      if (inner) return inner;
    }
  }
  return null;
};
"""


def deep_find(browser: Browser, selector: str) -> Any:
    """Find the first element matching ``selector`` through every shadow root."""
    return browser.script(
        f"{DEEP_QUERY} return deep(document, arguments[0]);", selector
    )


def panel_query(browser: Browser, selector: str) -> Any:
    """Find an element inside the FluxiLab panel."""
    return browser.script(
        f"""{DEEP_QUERY}
        const panel = deep(document, "fluxilab-panel");
        return panel && panel.shadowRoot ? panel.shadowRoot.querySelector(arguments[0]) : null;""",
        selector,
    )


def panel_text(browser: Browser) -> str:
    """The panel's visible text."""
    return str(
        browser.script(
            f"""{DEEP_QUERY}
            const panel = deep(document, "fluxilab-panel");
            return panel && panel.shadowRoot ? panel.shadowRoot.getElementById("content")?.innerText || "" : "";"""
        )
        or ""
    )


def login(
    browser: Browser,
    lab: Lab,
    credentials: tuple[str, str],
    path: str,
    ready: Callable[[], Any] | None = None,
    timeout: float = 60,
) -> None:
    """Open ``path`` and log in through Home Assistant's own login page.

    Then wait for ``ready`` (by default: the FluxiLab panel is on screen).
    """
    browser.get(f"{lab.url}{path}")
    username = browser.wait(
        lambda: deep_find(
            browser, "input[name='username'], input[autocomplete='username']"
        ),
        60,
        "the login form",
    )
    browser.type(username, credentials[0])
    password = deep_find(browser, "input[type='password']")
    browser.type(password, credentials[1] + "\ue007")
    browser.wait(
        ready or (lambda: panel_query(browser, "main")),
        timeout,
        f"{path} after the login",
    )


def save(browser: Browser, name: str, *, docs: bool = False) -> Path:
    """Save a screenshot under artifacts/browser/ (ignored by git).

    With ``docs`` it goes to docs/screenshots/ instead: the pictures the README and
    the docs show, taken afresh by every run.
    """
    path = (SCREENSHOTS if docs else ARTIFACTS) / f"{name}.png"
    # Home Assistant's launch screen fades out after the first render.
    browser.wait(
        lambda: browser.script("return !document.getElementById('ha-launch-screen')"),
        15,
        "the launch screen to go",
    )
    browser.screenshot(path)
    return path


def click(browser: Browser, selector: str) -> None:
    """Click an element of the panel with a real (WebDriver) click.

    Live updates re-render parts of the panel, so an element found a moment ago can
    be gone ("stale") when the click arrives: find it again and retry, as a person's
    click simply lands on the re-rendered button. WebDriver scrolls an element to the
    top of the view, where Home Assistant's sticky header covers it ("click
    intercepted"): then it is scrolled to the middle, as a person would, and clicked.
    """

    def found_and_clicked() -> bool:
        element = panel_query(browser, selector)
        if not element:
            return False
        try:
            browser.click(element)
        except WebDriverError as err:
            if "click intercepted" in str(err):
                browser.script(
                    "arguments[0].scrollIntoView({block: 'center'});", element
                )
                return False
            if "stale element" not in str(err) and "not interactable" not in str(err):
                raise
            return False
        return True

    browser.wait(found_and_clicked, 30, selector)


def confirm(browser: Browser, text: str = "") -> str:
    """Answer the panel's confirmation dialog with yes; return what it asked."""
    asked = str(
        browser.wait(
            lambda: browser.script(
                f"""{DEEP_QUERY}
                const dialog = deep(document, "fluxilab-panel").shadowRoot
                  .querySelector("dialog.confirm[open]");
                return dialog ? dialog.innerText : null;"""
            ),
            30,
            "the confirmation dialog",
        )
    )
    assert text in asked, asked
    click(browser, 'dialog.confirm[open] button[data-confirm="yes"]')
    browser.wait(
        lambda: panel_query(browser, "dialog.confirm[open]") is None,
        30,
        "the dialog to close",
    )
    return asked


def toast(browser: Browser) -> str:
    """The text of the panel's toast ("" while there is none)."""
    return str(
        browser.script(
            f"""{DEEP_QUERY}
            const el = deep(document, "fluxilab-panel").shadowRoot.querySelector(".toast .toast-text");
            return el ? el.textContent : "";"""
        )
        or ""
    )


def dump(value: Any) -> str:
    """Pretty JSON for assertion messages."""
    return json.dumps(value, indent=1, default=str)[:2000]
