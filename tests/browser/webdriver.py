"""A minimal W3C WebDriver client for Debian's chromium-driver (stdlib only).

The browser tests need a handful of commands: open a session on the system's
headless Chromium, navigate, find elements (also inside shadow roots, through
script), click, type, run script and take screenshots. Speaking the protocol
directly keeps the test free of a browser-automation package and of any
downloaded browser.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
import contextlib
import json
from pathlib import Path
import shutil
import subprocess
import time
from typing import Any
import urllib.error
import urllib.request

from tests.mosquitto import free_port

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser")
DRIVER_CANDIDATES = ("chromedriver",)


def find_chromium() -> tuple[str, str] | None:
    """Return (chromium, chromedriver) paths, or None when either is missing."""
    browser = next(filter(None, map(shutil.which, CHROMIUM_CANDIDATES)), None)
    driver = next(filter(None, map(shutil.which, DRIVER_CANDIDATES)), None)
    return (browser, driver) if browser and driver else None


class WebDriverError(Exception):
    """The driver answered with an error."""


class Browser:
    """One headless Chromium session driven through chromedriver."""

    def __init__(self, chromium: str, chromedriver: str, workdir: Path) -> None:
        """Start chromedriver on a free loopback port and open a session."""
        self.port = free_port()
        self._log = (workdir / "chromedriver.log").open("wb")
        self._driver = subprocess.Popen(
            [chromedriver, f"--port={self.port}", "--allowed-ips=127.0.0.1"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self.session: str | None = None
        deadline = time.monotonic() + 20
        while True:
            try:
                self._call("GET", "/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    self.close()
                    raise
                time.sleep(0.1)
        result = self._call(
            "POST",
            "/session",
            {
                "capabilities": {
                    "alwaysMatch": {
                        "browserName": "chrome",
                        "goog:chromeOptions": {
                            "binary": chromium,
                            "args": [
                                "--headless=new",
                                "--no-sandbox",
                                "--disable-gpu",
                                "--disable-dev-shm-usage",
                                "--no-first-run",
                                "--disable-background-networking",
                                "--disable-component-update",
                                "--disable-sync",
                                "--window-size=1280,900",
                                f"--user-data-dir={workdir / 'profile'}",
                            ],
                        },
                    }
                }
            },
        )
        self.session = result["sessionId"]

    # Protocol --------------------------------------------------------------------

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310  # loopback http only
            f"{self.base}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return json.loads(response.read() or b"null").get("value")
        except urllib.error.HTTPError as err:
            detail = err.read().decode(errors="replace")
            raise WebDriverError(
                f"{method} {path}: {err.code} {detail[:500]}"
            ) from None

    def cmd(self, method: str, path: str, body: Any = None) -> Any:
        """Run a session command."""
        return self._call(method, f"/session/{self.session}{path}", body)

    # Helpers ---------------------------------------------------------------------

    def get(self, url: str) -> None:
        """Navigate to ``url``."""
        self.cmd("POST", "/url", {"url": url})

    @property
    def windows(self) -> list[str]:
        """The handles of the open windows and tabs, the first one first."""
        return list(self.cmd("GET", "/window/handles"))

    def switch_to(self, handle: str) -> None:
        """Make the window or tab ``handle`` the one commands act on."""
        self.cmd("POST", "/window", {"handle": handle})

    @property
    def url(self) -> str:
        """The current address."""
        return str(self.cmd("GET", "/url"))

    def script(self, source: str, *args: Any) -> Any:
        """Run synchronous JavaScript (``return`` gives the result)."""
        return self.cmd("POST", "/execute/sync", {"script": source, "args": list(args)})

    def async_script(self, source: str, *args: Any) -> Any:
        """Run JavaScript that calls ``arguments[arguments.length - 1](result)``."""
        return self.cmd(
            "POST", "/execute/async", {"script": source, "args": list(args)}
        )

    def find(self, css: str) -> dict[str, str]:
        """Find one element in the document (not inside shadow roots)."""
        result: dict[str, str] = self.cmd(
            "POST", "/element", {"using": "css selector", "value": css}
        )
        return result

    def click(self, element: dict[str, str]) -> None:
        """Click an element."""
        self.cmd("POST", f"/element/{element[ELEMENT]}/click", {})

    def type(self, element: dict[str, str], text: str) -> None:
        """Type into an element."""
        self.cmd("POST", f"/element/{element[ELEMENT]}/value", {"text": text})

    def wait(
        self, check: Callable[[], Any], timeout: float = 30.0, what: str = ""
    ) -> Any:
        """Poll ``check`` until it returns something truthy; fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            with contextlib.suppress(WebDriverError):
                if last := check():
                    return last
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what or check}: {last!r}")

    def screenshot(self, path: Path) -> None:
        """Save a PNG of the viewport."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self.cmd("GET", "/screenshot")))

    def close(self) -> None:
        """End the session and stop chromedriver."""
        if self.session is not None:
            with contextlib.suppress(Exception):
                self.cmd("DELETE", "")
            self.session = None
        self._driver.terminate()
        try:
            self._driver.wait(10)
        except subprocess.TimeoutExpired:
            self._driver.kill()
            self._driver.wait(10)
        self._log.close()
