"""Who may change the room, route by route: every mutating route of the OpenAPI description refuses a
request with no credentials, with a wrong token, and from a logged-in panel without its CSRF token, and
the room stays exactly as it was. The PIN limit holds against parallel guesses. No secret reaches a log,
the state, the journal or the broker."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from room_controller.webapp.auth import TRIES
from tests.broker import Capture
from tests.strain.conftest import AUTH, PIN, TOKEN

SAFE = {"get", "head", "options"}
OPEN_BY_DESIGN = {("post", "/api/login"), ("post", "/api/admin/login")}   # how a panel logs in
REAL = {"name": "calm", "light_id": "ceiling", "session_id": "1", "event_id": "1", "reminder_id": "1",
        "profile_id": "psilocybin-8h"}
BODY = {"brightness": 20, "text": "x", "profile": "psilocybin-8h", "duration": "5m", "volume": 10, "label": "x"}


def mutating_routes(base: str) -> list[tuple[str, str]]:
    spec = requests.get(f"{base}/api/openapi.json").json()
    routes = [(method, re.sub(r"\{(\w+)\}", lambda m: REAL[m.group(1)], path))
              for path, operations in spec["paths"].items() for method in operations
              if method not in SAFE and (method, path) not in OPEN_BY_DESIGN]
    assert len(routes) >= 20
    return routes


def panel_login(base: str) -> requests.Session:
    panel = requests.Session()
    assert panel.post(f"{base}/api/login", json={"pin": PIN}).status_code == 200
    return panel


@pytest.mark.slow
@pytest.mark.parametrize("who", ["nobody", "wrong token", "token of another room", "panel without csrf",
                                 "panel with a wrong csrf"])
def test_every_mutating_route_refuses_without_valid_credentials(served, who):
    panel = panel_login(served.base)
    client, headers = {
        "nobody": (requests.Session(), {}),
        "wrong token": (requests.Session(), {"Authorization": "Bearer " + "w" * len(TOKEN)}),
        "token of another room": (requests.Session(), {"Authorization": f"Bearer {TOKEN[:-1]}X"}),
        "panel without csrf": (panel, {}),
        "panel with a wrong csrf": (panel, {"X-CSRF-Token": "A" * 43}),
    }[who]
    before = served.fingerprint()
    for method, path in mutating_routes(served.base):
        r = client.request(method, f"{served.base}{path}", headers=headers, json=BODY)
        expected = (403, "csrf") if who.startswith("panel") and not path.startswith("/api/admin") else None
        got = (r.status_code, r.json()["error"]["code"])
        if expected:
            assert got == expected, (method, path, r.text)
        else:
            assert got[0] in (401, 403), (method, path, r.text)
    assert served.fingerprint() == before


@pytest.mark.slow
def test_the_pin_limit_holds_against_parallel_guesses(served):
    def guess(pin: str) -> int:
        return requests.post(f"{served.base}/api/login", json={"pin": pin}, timeout=10).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(guess, [f"{n:04d}" for n in range(1000, 1032)]))
    assert statuses.count(401) <= TRIES, statuses   # at most TRIES wrong PINs are even compared
    assert set(statuses) <= {401, 429}
    assert guess(PIN) == 429                          # the right one waits its turn too


@pytest.mark.slow
def test_secrets_reach_no_log_state_journal_or_broker(served, broker, room_id, caplog):
    caplog.set_level(logging.DEBUG)
    state_topic = Capture(broker, f"therapy-room/{room_id}/#")
    wrong = requests.Session()
    for pin in ("0000", "1111"):
        wrong.post(f"{served.base}/api/login", json={"pin": pin})
    requests.post(f"{served.base}/api/presets/calm", headers={"Authorization": f"Bearer {TOKEN}x"})
    panel = panel_login(served.base)
    csrf = panel.get(f"{served.base}/api/login").json()["csrf"]
    assert panel.post(f"{served.base}/api/presets/calm", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert requests.post(f"{served.base}/api/notes", headers=AUTH, json={"text": "a note"}).status_code == 200
    served.app.loop.settle()
    with (served.app.config.data_dir / "web-secret").open() as f:
        signing_key = f.read().strip()
    secrets = [TOKEN, PIN, signing_key, panel.cookies.get("room_panel")]
    seen = {
        "logs": caplog.text,
        "state": requests.get(f"{served.base}/api/state", headers=AUTH).text,
        "health": requests.get(f"{served.base}/api/health").text,
        "openapi": requests.get(f"{served.base}/api/openapi.json").text,
        "broker": json.dumps([m.payload for m in state_topic.drain(0.5)] + [m.payload for m in state_topic.all]),
    }
    served.app.journal.flush()   # read behind the journal's back: what the room queued, committed first
    with sqlite3.connect(served.app.journal.path) as db:
        seen["journal"] = json.dumps(db.execute("SELECT * FROM events").fetchall())
    state_topic.close()
    for name, text in seen.items():
        for secret in secrets:
            assert secret not in text, f"a secret in the {name}"
    assert "calm" in seen["journal"] and "a note" in seen["journal"]   # they were looked at, not empty
