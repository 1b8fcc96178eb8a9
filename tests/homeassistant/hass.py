"""A real Home Assistant Core for tests: started headless in a folder of its own, onboarded and given the MQTT
integration through its REST API, as a clinic's administrator would through its web pages.

It runs from `.venv-ha` (built by `deploy/setup.sh --test --homeassistant`), a Python of its own: Home
Assistant needs a newer Python than the room controller's. `--skip-pip` keeps it from installing anything at
start; the integrations it would fetch (cloud, camera helpers) are not needed here.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import requests

from tests.broker import free_port

ROOT = Path(__file__).resolve().parents[2]
HASS = ROOT / ".venv-ha" / "bin" / "hass"
CONFIGURATION = """\
homeassistant:
  name: Clinic
  latitude: 0
  longitude: 0
  elevation: 0
  unit_system: metric
  time_zone: UTC
  country: GB
  currency: EUR
http:
  server_host: 127.0.0.1
  server_port: {port}
logger:
  default: warning
"""


class HomeAssistant:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "configuration.yaml").write_text(CONFIGURATION.format(port=self.port))
        self.log = (folder / "hass.log").open("w")
        self.process = subprocess.Popen([str(HASS), "-c", str(folder), "--skip-pip"], stdout=self.log,
                                        stderr=subprocess.STDOUT)
        self.token = ""
        self.refused = ""   # what the last refused GET said

    def start(self, broker_host: str, broker_port: int) -> HomeAssistant:
        self._wait(lambda: self._get("/api/onboarding") is not None, "Home Assistant did not start")
        client = f"{self.base}/"
        user = requests.post(f"{self.base}/api/onboarding/users", json={
            "client_id": client, "name": "Staff", "username": "staff", "password": "staff-password-1",
            "language": "en"}, timeout=30).json()
        self.token = requests.post(f"{self.base}/auth/token", data={
            "grant_type": "authorization_code", "code": user["auth_code"], "client_id": client},
            timeout=30).json()["access_token"]
        flow = self.post("/api/config/config_entries/flow", {"handler": "mqtt"}).json()
        done = self.post(f"/api/config/config_entries/flow/{flow['flow_id']}",
                         {"broker": broker_host, "port": broker_port}).json()
        assert done["type"] == "create_entry", done
        return self

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()

    # -- REST ----------------------------------------------------------------------------------------------

    def post(self, path: str, body: dict) -> requests.Response:
        return requests.post(f"{self.base}{path}", json=body, headers={"Authorization": f"Bearer {self.token}"},
                             timeout=30)

    def call(self, domain: str, service: str, **data) -> requests.Response:
        return self.post(f"/api/services/{domain}/{service}", data)

    def states(self) -> list[dict]:
        return self._get("/api/states") or []

    def state(self, entity_id: str) -> dict | None:
        return self._get(f"/api/states/{entity_id}")

    def wait_state(self, entity_id: str, predicate, what: str = "") -> dict:
        """The entity's state once `predicate(state)` holds (Home Assistant works asynchronously)."""
        found: list[dict] = []

        def check() -> bool:
            state = self.state(entity_id)
            found[:] = [state] if state else []
            return state is not None and predicate(state)

        self._wait(check, lambda: f"{entity_id} {what}: last {found[:1] or self.refused}")
        return found[0]

    def _get(self, path: str):
        try:
            r = requests.get(f"{self.base}{path}", headers={"Authorization": f"Bearer {self.token}"}, timeout=30)
        except requests.ConnectionError as exc:
            self.refused = f"GET {path}: {exc}"
            return None
        if r.status_code != 200:
            self.refused = f"GET {path}: {r.status_code} {r.text[:200]}"
            return None
        return r.json()

    def _wait(self, check, message, timeout: float = 90.0) -> None:
        """Until `check()`; else fail with `message` (or what `message()` says then)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"Home Assistant exited: see {self.folder / 'hass.log'}")
            if check():
                return
            time.sleep(0.1)
        raise AssertionError(message() if callable(message) else message)
