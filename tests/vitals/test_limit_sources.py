"""Limits say where they come from: every set of limits names its source (the clinic's protocol and its
version, or `example`), each crossing carries the source of the limit it crossed, example limits say they are
examples, and a reading taken with no limits says it was not checked — in the rules, the shipped profiles,
the room's answers and the report."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
import requests
from pydantic import ValidationError

from room_controller import checks
from room_controller.app import App
from room_controller.files import yamlfile
from room_controller.files.yamlfile import ConfigError
from room_controller.infrastructure.clock import ManualClock
from room_controller.session.profiles import SessionProfile, load_profile
from room_controller.vitals.limits import crossed, in_force
from room_controller.vitals.model import Limits
from tests.rooms import load

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ROOT / "deploy" / "profiles"
TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LIGHTS = [{"id": "ceiling", "profile": "zigbee2mqtt", "device": "Ceiling lamp"}]
CLINIC = "Clinic vitals protocol v2 (2025)"


def test_limits_without_a_source_are_refused_with_what_to_write():
    with pytest.raises(ValidationError, match="say where these limits come from.*source: example"):
        Limits.model_validate({"pulse": {"above": 110}})
    with pytest.raises(ValidationError, match="name the clinic's protocol"):
        Limits.model_validate({"source": "  ", "pulse": {"above": 110}})


@pytest.mark.parametrize("source", ["Example numbers", "example limits until we set ours", "placeholder",
                                    "MDMA protocol v3 (examples)"])
def test_a_source_that_half_says_example_is_ambiguous_and_refused(source):
    with pytest.raises(ValidationError, match="write `example` alone"):
        Limits.model_validate({"source": source, "pulse": {"above": 110}})
    with pytest.raises(ValidationError, match="write `example` alone"):
        Limits.model_validate({"source": CLINIC, "pulse": {"above": 110, "source": source}})


def test_example_is_one_word_in_any_case_and_a_source_is_kept_as_written():
    assert Limits.model_validate({"source": " Example ", "pulse": {"above": 110}}).source == "example"
    assert Limits.model_validate({"source": f"  {CLINIC} "}).source == CLINIC


def test_a_crossing_quotes_the_source_of_the_limit_it_crossed():
    limits = Limits.model_validate({"source": CLINIC, "instruction": "Tell the physician", "pulse": {"above": 110},
                                    "temperature": {"above": 38.0, "source": "Vizeli & Liechti 2017"}})
    found = crossed(limits, {"pulse": 165, "temperature": 38.4})
    assert [(c.value_name, c.source, c.example) for c in found] == [("pulse", CLINIC, False),
                                                                   ("temperature", "Vizeli & Liechti 2017", False)]
    assert found[0].as_dict()["source"] == CLINIC   # what the journal keeps
    example = crossed(Limits.model_validate({"source": "example", "pulse": {"above": 110}}), {"pulse": 165})
    assert [(c.source, c.example) for c in example] == [("example", True)]


def test_merged_limits_keep_each_limits_own_source_and_instruction():
    room = Limits.model_validate({"source": CLINIC, "instruction": "Call the room's physician",
                                  "pulse": {"above": 130}, "temperature": {"above": 38.5}})
    profile = Limits.model_validate({"source": "example", "instruction": "Example words", "pulse": {"above": 110}})
    merged = profile.over(room)
    found = {c.value_name: c for c in crossed(merged, {"pulse": 120, "temperature": 39.0})}
    assert (found["pulse"].source, found["pulse"].example, found["pulse"].instruction) == \
        ("example", True, "Example words")
    assert (found["temperature"].source, found["temperature"].example, found["temperature"].instruction) == \
        (CLINIC, False, "Call the room's physician")   # the room's limit, in the room's words
    assert in_force(merged) == {"sources": ["example", CLINIC], "example": True}
    assert in_force(room) == {"sources": [CLINIC], "example": False}
    assert in_force(None) is None


def test_every_shipped_profile_with_limits_marks_them_as_examples():
    profiles = {path.stem: load_profile(path)[0] for path in sorted(PROFILES.glob("*.yaml"))}
    with_limits = {name for name, p in profiles.items() if p.vitals_limits is not None}
    assert with_limits == {"mdma-8h", "ketamine-1h", "psilocybin-8h"}   # the demo's dosing sessions show a notice
    assert all(profiles[name].vitals_limits.source == "example" for name in with_limits)


def test_a_profile_without_a_source_is_a_file_line_problem(tmp_path):
    text = (PROFILES / "mdma-8h.yaml").read_text().replace("  source: example", "")
    path = tmp_path / "mdma.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        yamlfile.validate(SessionProfile, yamlfile.load(path))
    [problem] = caught.value.problems
    line = text.splitlines().index("vitals_limits:") + 1
    assert (problem.path, problem.line) == ("vitals_limits", line)
    assert "say where these limits come from" in problem.message


def test_a_missing_source_is_said_in_the_rooms_language(tmp_path):
    path = tmp_path / "mdma.yaml"
    path.write_text((PROFILES / "mdma-8h.yaml").read_text().replace("  source: example", ""))
    with pytest.raises(ConfigError) as caught:
        yamlfile.validate(SessionProfile, yamlfile.load(path))
    assert caught.value.problems[0].in_language("de").message.startswith("sagen Sie, woher diese Grenzwerte stammen")


def test_check_warns_of_example_limits_in_the_rooms_language(tmp_path, caplog):
    room = tmp_path / "room.yaml"
    room.write_text((ROOT / "deploy" / "room.example.yaml").read_text()
                    .replace("/etc/room-controller/profiles", str(PROFILES))
                    .replace("/var/lib/room-controller/playlists", str(ROOT / "playlists"))
                    .replace('room: {id: room-1, name: "Room 1"}', 'room: {id: room-1, name: "Raum 1", language: de}', 1))
    caplog.set_level(logging.WARNING, logger="room_controller.checks")
    assert checks.check_paths([room]) == []   # advice, not a problem: the panel marks example limits itself
    warned = [r.getMessage() for r in caplog.records if "vitals_limits" in r.getMessage()]
    assert [w.split(": ")[1] for w in warned] == ["profile ketamine-1h", "profile mdma-8h", "profile psilocybin-8h"]
    assert all("Beispiel-Grenzwerte (`source: example`)" in w for w in warned)


@pytest.fixture
def room(tmp_path, broker, room_id):
    """A room with its own limits (pulse and temperature, from the clinic's protocol) and the shipped profiles."""
    clock = ManualClock()
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS, profiles_dir=str(PROFILES),
                             playlists_dir=str(ROOT / "playlists"),
                             web={"host": "127.0.0.1", "port": 0, "api_token": TOKEN},
                             vitals={"limits": {"source": CLINIC, "instruction": "Call the room's physician",
                                                "pulse": {"above": 130}, "temperature": {"above": 38.5}}})
    app = App(config, catalogue, clock=clock, audio=False).start()
    deadline = time.monotonic() + 5
    while not app.room.mqtt_connected and time.monotonic() < deadline:
        time.sleep(0.01)
    yield app, f"http://127.0.0.1:{app.web.port}"
    app.stop()


@pytest.mark.slow
def test_the_state_and_the_report_name_each_limits_source(room):
    app, base = room
    session = requests.post(f"{base}/api/session", headers=AUTH, json={"profile": "ketamine-1h"}).json()["session"]
    state = requests.get(f"{base}/api/state", headers=AUTH).json()["vitals"]
    assert state["limits"] == {"sources": ["example", CLINIC], "example": True}   # the profile's over the room's
    r = requests.post(f"{base}/api/vitals", headers=AUTH, json={"pulse": 165, "temperature": 38.7})
    assert [(c["value_name"], c["source"], c["example"]) for c in r.json()["crossed"]] == \
        [("pulse", "example", True), ("temperature", CLINIC, False)]
    requests.post(f"{base}/api/session/stop", headers=AUTH).raise_for_status()
    page = requests.get(f"{base}/api/sessions/{session}/report?format=html", headers=AUTH).text
    table = page[page.index("<table class=vitals>"):]
    table = table[:table.index("</table>")]
    assert ("beyond an example limit (not set by this clinic): Pulse 165 is above 110. Tell the physician now, "
            "and follow the protocol&#x27;s steps for raised vital signs.; " in table)
    assert f"beyond the limit of {CLINIC}: Temperature 38.7 is above 38.5. Call the room&#x27;s physician" in table
    assert f"pulse 165, 38.7 °C — beyond an example limit (not set by this clinic) — beyond the limit of {CLINIC}" \
        in page   # the strip's words for the reading


@pytest.mark.slow
def test_a_reading_with_no_limits_says_so_in_the_state_and_the_report(tmp_path, broker, room_id):
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS, profiles_dir=str(PROFILES),
                             playlists_dir=str(ROOT / "playlists"),
                             web={"host": "127.0.0.1", "port": 0, "api_token": TOKEN})
    app = App(config, catalogue, clock=ManualClock(), audio=False).start()
    try:
        base = f"http://127.0.0.1:{app.web.port}"
        session = requests.post(f"{base}/api/session", headers=AUTH,
                                json={"profile": "preparation-90m"}).json()["session"]
        assert requests.get(f"{base}/api/state", headers=AUTH).json()["vitals"]["limits"] is None
        r = requests.post(f"{base}/api/vitals", headers=AUTH, json={"pulse": 165})
        assert (r.status_code, r.json()["crossed"]) == (201, [])
        requests.post(f"{base}/api/session/stop", headers=AUTH).raise_for_status()
        page = requests.get(f"{base}/api/sessions/{session}/report?format=html", headers=AUTH).text
        row = page[page.index("<table class=vitals>"):page.index("</table>", page.index("<table class=vitals>"))]
        assert "<td class=\"n\">165</td>" in row and "not checked: no limits were set" in row
    finally:
        app.stop()
