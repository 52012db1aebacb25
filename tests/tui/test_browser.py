"""`savi-tui serve` in a real headless browser (Debian's chromium): the list appears, a run started
from the page trains and the page shows it live, and closing the tab hands the run over."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from savi_tui.core.experiments import Experiment

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="no headless browser here: apt-get install chromium chromium-driver (.ci/run does)",
)


def wait_for_epochs(experiment: Experiment, epochs: int, timeout: float = 120.0) -> None:
    from savi_tui.core.progress import read_progress

    deadline = time.monotonic() + timeout
    while (read_progress(experiment.progress_path) or Progress0).epochs_done < epochs:
        assert time.monotonic() < deadline, f"the run did not reach epoch {epochs}"
        time.sleep(0.2)


class Progress0:
    epochs_done = 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Page:
    """A headless chromium on the served app; ``seen`` is all the terminal output it received."""

    def __init__(self, url: str) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        self.driver = webdriver.Chrome(service=Service(DRIVER), options=options)
        self.seen = b""
        self.driver.get(url)

    def read(self) -> bytes:
        """The websocket frames that arrived since the last read: what the page's terminal drew."""
        import json

        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.webSocketFrameReceived":
                frame = message["params"]["response"]
                data = frame["payloadData"]
                self.seen += base64.b64decode(data) if frame.get("opcode") == 2 else data.encode()
        return self.seen

    def wait_for(self, *texts: bytes, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while not all(text in self.read() for text in texts):
            assert time.monotonic() < deadline, f"the page never showed {texts}: ...{self.text()[-1500:]}"
            time.sleep(0.2)

    def text(self) -> str:
        """What the page received, without the terminal's control sequences (for a reader)."""
        import re

        return re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b" ", self.seen).decode(errors="replace")

    def type(self, *keys: str) -> None:
        from selenium.webdriver.common.by import By

        box = self.driver.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea")
        for key in keys:
            box.send_keys(key)
            time.sleep(0.3)


def test_the_served_app_lists_trains_shows_it_live_and_hands_over_when_the_tab_closes(tmp_path):
    from selenium.webdriver.common.keys import Keys

    from savi_tui.core.data import import_idx
    from tests.conftest import write_tiny_idx

    # enough images for the default 10 epochs of ModelConvNet to last while the page is watched
    tiny_mnist_root = tmp_path / "datasets"
    import_idx(write_tiny_idx(tmp_path / "idx", train=6144, test=256), "mnist", tiny_mnist_root)
    root, port = tmp_path / "e", free_port()
    env = {**os.environ, "SE_OFFLINE": "true"}  # never let selenium look for a browser of its own
    argv = [sys.executable, "-m", "savi_tui", "serve", "--port", str(port), "-ep", str(root)]
    server = subprocess.Popen(
        [*argv, "--datasets-root", str(tiny_mnist_root)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
    )
    page = background = None
    try:
        line = server.stdout.readline().decode()
        assert line.startswith(f"savi-tui in your browser: http://localhost:{port}"), line
        hint = server.stdout.readline().decode() + server.stdout.readline().decode()
        assert f"ssh -L {port}:localhost:{port} " in hint
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
                time.sleep(0.2)
        page = Page(f"http://localhost:{port}")
        page.wait_for(b"No experiments yet")
        page.type("n")
        page.wait_for(b"ModelFullyConnected")
        page.type(Keys.ARROW_DOWN, Keys.CONTROL + "s")  # ModelConvNet with the form's defaults: Start
        deadline = time.monotonic() + 90
        while not (root.exists() and any(Experiment(f).is_running() for f in root.iterdir())):
            assert time.monotonic() < deadline, f"no training started: ...{page.text()[-800:]}"
            time.sleep(0.2)
        folders = list(root.iterdir())
        experiment = Experiment(folders[0])
        assert len(folders) == 1
        page.wait_for(b"img/s")  # the page shows the training screen (its text comes in pieces otherwise)
        assert json.loads((experiment.path / "config.json").read_text())["model"] == "ModelConvNet"
        for epochs in (2, 3):  # the page keeps receiving the run's screen while it trains
            wait_for_epochs(experiment, epochs)
            received = len(page.read())
            page.wait_for(b"img/s", timeout=30)
            deadline = time.monotonic() + 30
            while len(page.read()) == received:
                assert time.monotonic() < deadline, "the page stopped moving"
                time.sleep(0.2)
        app_pid = experiment.lock().holder_info().pid
        page.driver.quit()  # the tab closes under its training
        page = None
        deadline = time.monotonic() + 90
        while True:
            holder = experiment.lock().holder_info()
            if holder is not None and holder.pid != app_pid and experiment.is_running():
                break
            assert time.monotonic() < deadline, "the run was not handed over"
            time.sleep(0.2)
        background = holder.pid
        assert b"--resume" in Path(f"/proc/{background}/cmdline").read_bytes()
    finally:
        if page is not None:
            page.driver.quit()
        server.send_signal(signal.SIGINT)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        if background is not None:
            os.kill(background, signal.SIGKILL)
