"""Headless Chromium (Debian's package, /usr/bin/chromium) driven over the
DevTools protocol with the websockets client already in the lock: open a
page with the network off, collect console errors, exceptions and every
request that leaves the file system, evaluate JavaScript, emulate a screen
(a phone's, a tablet's) and take a full-page screenshot. `make test`
installs the package (make setup-browser)."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from websockets.sync.client import connect

# Local schemes a self-contained page may load; anything else is the network.
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome-error:")
# Chromium's own services stay off on a machine with no network (and in CI).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--remote-debugging-port=0",
    "--window-size=1400,1000",
]


def chromium_executable() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise RuntimeError(
            "chromium is not installed: `make setup-browser` installs Debian's package"
        )
    return found


@dataclass
class PageReport:
    console_errors: list[str] = field(default_factory=list)
    network_requests: list[str] = field(default_factory=list)


class Chromium:
    """One headless browser and one page (a tab) driven over a websocket."""

    def __init__(self, timeout: float = 60.0):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        self.process = subprocess.Popen(
            [
                chromium_executable(),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        port = self._devtools_port()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            pages = [target for target in json.load(answer) if target["type"] == "page"]
        self.exit_stack = ExitStack()
        self.socket = self.exit_stack.enter_context(
            connect(pages[0]["webSocketDebuggerUrl"], max_size=None)
        )
        self.next_id = 0
        self.events: list[dict] = []
        self.report = PageReport()
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def _devtools_port(self) -> int:
        deadline = time.monotonic() + self.timeout
        assert self.process.stderr is not None
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None:
                break
            found = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            if found:
                return int(found.group(1))
        raise RuntimeError(f"chromium did not start (exit code {self.process.poll()})")

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        message_id = self.next_id
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=self.timeout))
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._record(message)

    def _record(self, event: dict) -> None:
        self.events.append(event)
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            texts = [str(arg.get("value", arg.get("description"))) for arg in params["args"]]
            self.report.console_errors.append("console: " + " ".join(texts))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            self.report.console_errors.append(f"exception: {text}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.report.console_errors.append(f"log: {params['entry']['text']}")
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if not url.startswith(LOCAL_SCHEMES):
                self.report.network_requests.append(url)

    def wait_for_event(self, method: str) -> dict:
        deadline = time.monotonic() + self.timeout
        seen = len(self.events)
        while time.monotonic() < deadline:
            for event in self.events[seen:]:
                if event.get("method") == method:
                    return event
            seen = len(self.events)
            self._record(json.loads(self.socket.recv(timeout=self.timeout)))
        raise TimeoutError(method)

    def open_offline(self, page: Path) -> PageReport:
        """Loads the file with the network emulated offline and waits for its
        load event; the report holds what the page did from then on."""
        self.report = PageReport()
        self.call(
            "Network.emulateNetworkConditions",
            offline=True,
            latency=0,
            downloadThroughput=-1,
            uploadThroughput=-1,
        )
        self.call("Page.navigate", url=page.resolve().as_uri())
        self.wait_for_event("Page.loadEventFired")
        return self.report

    def evaluate(self, expression: str):
        """The value of a JavaScript expression (awaited when it is a promise)."""
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def set_viewport(
        self, width: int, height: int, device_scale_factor: float = 1, mobile: bool = False
    ) -> None:
        """Emulates a screen of width x height CSS pixels. mobile: a phone's or
        a tablet's, where the page's viewport meta tag decides the width it
        lays out at (980 px without one) and scrollbars take no room."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=device_scale_factor,
            mobile=mobile,
        )

    def screenshot(self, path: Path, width: int | None = 1400) -> None:
        """The whole page, top to bottom, as a PNG: on a desktop screen width
        px wide, or (width None) on the screen set_viewport emulates. The
        viewport keeps its size: the capture reaches beyond it, clipped to
        the page's content."""
        if width is not None:
            self.set_viewport(width, 1000)
        content = self.call("Page.getLayoutMetrics")["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": content["width"], "height": content["height"]}
        shot = self.call(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={**clip, "scale": 1},
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        try:
            self.exit_stack.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            shutil.rmtree(self.profile, ignore_errors=True)
