"""The app and Debian's prometheus-alertmanager as real processes on free loopback ports.

Tests that need Alertmanager skip when /usr/bin/prometheus-alertmanager is missing, unless
ITSM_TEST_REQUIRE_ALERTMANAGER=1 (CI), which makes that a failure.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
REQUIRE = os.environ.get("ITSM_TEST_REQUIRE_ALERTMANAGER") == "1"
PROJECT = Path(__file__).resolve().parents[2]


def require_alertmanager() -> None:
    if not Path(ALERTMANAGER).exists():
        if REQUIRE:
            pytest.fail(f"{ALERTMANAGER} is required (ITSM_TEST_REQUIRE_ALERTMANAGER=1)")
        pytest.skip(f"{ALERTMANAGER} not installed (apt-get install prometheus-alertmanager)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, *, timeout: float, what: str, every: float = 0.2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


_SERVE = """
import sys
from werkzeug.serving import make_server
from app import create_app
app = create_app()
server = make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True)
print("serving", flush=True)
server.serve_forever()
"""


class AppProcess:
    """The ITSM app served by werkzeug in a child process (so a test can kill and restart it)."""

    def __init__(self, port: int, env: dict, log: Path):
        self.port, self.env, self.log, self.proc = port, env, log, None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "AppProcess":
        out = open(self.log, "ab")
        self.proc = subprocess.Popen([sys.executable, "-c", _SERVE, str(self.port)], cwd=PROJECT,
                                     env={**os.environ, **self.env}, stdout=out, stderr=subprocess.STDOUT)
        wait_until(self._healthy, timeout=30, what="the app to answer /healthz")
        return self

    def _healthy(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"the app exited: {self.log.read_text()[-2000:]}")
        try:
            return requests.get(self.url + "/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


class Alertmanager:
    """prometheus-alertmanager with one webhook receiver pointing at the app, clustering off, short intervals."""

    def __init__(self, tmp: Path, webhook_url: str, secret: str):
        self.port = free_port()
        self.tmp = tmp
        config = {
            "route": {"receiver": "itsm", "group_by": ["alertname"], "group_wait": "1s", "group_interval": "2s",
                      "repeat_interval": "4s"},
            "receivers": [{"name": "itsm", "webhook_configs": [{
                "url": webhook_url, "send_resolved": True, "max_alerts": 0,
                "http_config": {"authorization": {"type": "Bearer", "credentials": secret}}}]}],
        }
        (tmp / "alertmanager.yml").write_text(json.dumps(config))   # JSON is YAML
        (tmp / "am-data").mkdir(exist_ok=True)
        self.log = tmp / "alertmanager.log"
        self.proc = subprocess.Popen(
            [ALERTMANAGER, f"--config.file={tmp / 'alertmanager.yml'}", f"--storage.path={tmp / 'am-data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address=", "--log.level=debug"],
            stdout=open(self.log, "wb"), stderr=subprocess.STDOUT)
        wait_until(self._ready, timeout=30, what="Alertmanager to be ready")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"alertmanager exited: {self.log.read_text()[-2000:]}")
        try:
            return requests.get(self.url + "/-/ready", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def push(self, alerts: list[dict]) -> None:
        """POST alerts to Alertmanager's API v2 (as Prometheus does)."""
        response = requests.post(self.url + "/api/v2/alerts", json=alerts, timeout=5)
        assert response.status_code == 200, response.text

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def prom_alert(name: str, instance: str, *, ends_at: str | None = None) -> dict:
    alert = {"labels": {"alertname": name, "instance": instance, "severity": "critical", "team": "infra"},
             "annotations": {"summary": f"{name} on {instance}"},
             "generatorURL": f"http://prometheus.local/graph?g0.expr={name}"}
    if ends_at:
        alert["endsAt"] = ends_at
    return alert
