"""Every number bounded: a 401-digit duration, 1e308 s or Infinity is refused where it is read (a file, an
HTTP body, an MQTT command), never met later as an OverflowError or as `Infinity` in the panel's JSON; a
billion-laughs YAML is refused before it expands."""

from __future__ import annotations

import json
import logging
import math
import time

import pytest
import requests
import yaml
from hypothesis import given
from hypothesis import strategies as st

from room_controller import units
from room_controller.checks import check_paths
from room_controller.files import yamlfile
from tests.broker import Capture
from tests.hardening.conftest import AUTH, serve

HUGE = int("9" * 401)


@given(st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True)))
def test_a_duration_is_finite_and_at_most_a_week_or_refused_with_a_valueerror(value):
    try:
        seconds = units.parse_duration(value)
    except ValueError:
        assert not (0 <= value <= units.MAX_DURATION)   # NaN compares False: refused too
        return
    assert math.isfinite(seconds) and 0 <= seconds <= units.MAX_DURATION and seconds == float(value)


@given(st.text(max_size=60))
def test_any_text_is_a_bounded_duration_or_a_valueerror(text):
    try:
        seconds = units.parse_duration(text)
    except ValueError:
        return
    assert 0 <= seconds <= units.MAX_DURATION


@pytest.mark.parametrize("text,where", [
    ("phases: [{name: a, duration: %d}]" % HUGE, "phases[0].duration"),
    ("phases: [{name: a, duration: .inf}]", "phases[0].duration"),
    ("phases: [{name: a, duration: 1.0e+308}]", "phases[0].duration"),
    ("phases: [{name: a, duration: 5m, lights: {brightness: %d}}]" % HUGE, "phases[0].lights.brightness"),
])
def test_check_names_each_unbounded_number_with_its_line(tmp_path, text, where):
    (tmp_path / "p.yaml").write_text("id: p\nname: P\n" + text + "\n")
    problems = check_paths([tmp_path / "p.yaml"])
    assert [(p.line, p.path) for p in problems] == [(3, where)]
    assert len(str(problems[0]).removeprefix(str(tmp_path))) < 160   # the 401 digits are not echoed whole


def billion_laughs(levels: int = 9) -> str:
    text = 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for i in range(1, levels + 1):
        text += f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n"
    return text


def thin_laughs(levels: int = 20) -> str:
    """Few aliases, each used twice: under the alias budget, 2**20 values once expanded."""
    text = "a0: &a0 [lol]\n"
    for i in range(1, levels + 1):
        text += f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n"
    return text


@pytest.mark.parametrize("text,message", [(billion_laughs(), "aliases"), (thin_laughs(), "expands to more than")])
def test_a_billion_laughs_profile_is_refused_by_check(tmp_path, text, message):
    (tmp_path / "laughs.yaml").write_text("id: x\nname: X\nphases: []\n" + text)
    (problem,) = check_paths([tmp_path / "laughs.yaml"])
    assert message in problem.message


def test_a_file_beyond_the_size_limit_is_refused_unread(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("id: x\n" + "# padding\n" * (yamlfile.MAX_FILE_BYTES // 10 + 1))
    (problem,) = check_paths([path])
    assert "larger than" in problem.message


def test_a_control_character_is_a_problem_with_the_file_not_a_crash(tmp_path):
    path = tmp_path / "room.yaml"
    path.write_text("room: {id: r1, name: \"Room\x08 1\"}\n")
    (problem,) = check_paths([path])
    assert (problem.file, problem.line) == (str(path), 1) and "special characters" in problem.message


@pytest.mark.slow
@pytest.mark.parametrize(("body", "refusal"), [('{"duration": %d}' % HUGE, (422, "invalid")),
                                               ('{"duration": 1e999}', (422, "invalid")),
                                               ('{"duration": "99999999h"}', (422, "invalid")),
                                               ('{"duration": Infinity}', (400, "bad_json"))])   # not JSON at all
def test_an_unbounded_duration_over_http_is_refused_and_changes_nothing(served, body, refusal):
    assert requests.post(f"{served.base}/api/session", headers=AUTH, json={"profile": "psilocybin-8h"}).ok
    before = served.fingerprint()
    r = requests.post(f"{served.base}/api/session/extend", data=body,
                      headers={**AUTH, "Content-Type": "application/json"})
    assert (r.status_code, r.json()["error"]["code"]) == refusal
    assert served.fingerprint() == before
    json.loads(requests.get(f"{served.base}/api/state", headers=AUTH).text)   # strict JSON: no Infinity


@pytest.mark.slow
def test_an_unbounded_number_in_a_preset_from_the_editor_is_refused(tmp_path, broker, room_id):
    room = serve(tmp_path, broker, room_id, admin_pin="864200")
    try:
        admin = requests.Session()
        assert admin.post(f"{room.base}/api/admin/login", json={"pin": "864200"}).ok
        csrf = admin.get(f"{room.base}/api/admin/login").json()["csrf"]
        r = admin.put(f"{room.base}/api/admin/presets/calm",
                      data='{"preset": {"lights": {"brightness": 10, "transition": 1e308}}}',
                      headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"})
        assert r.status_code == 422 and "transition" in r.json()["error"]["message"]
    finally:
        room.app.stop()


def test_an_unbounded_extend_on_the_mqtt_command_topic_is_ignored_without_a_traceback(served, broker, room_id,
                                                                                     caplog):
    caplog.set_level(logging.WARNING)
    assert requests.post(f"{served.base}/api/session", headers=AUTH, json={"profile": "psilocybin-8h"}).ok
    served.app.loop.settle()   # the answer comes before the batch's snapshot is published
    before = served.app.room.snapshot()["session"]["phases"]
    sender = Capture(broker, "nothing/#")
    try:
        for payload in ('{"extend": %d}' % HUGE, '{"extend": 1e999}', '{"extend": "9999999h"}',
                        '{"extend": "10m"}'):
            sender.publish(f"therapy-room/{room_id}/command", payload)
        deadline = time.monotonic() + 5
        while served.app.room.snapshot()["session"]["phases"] == before:
            assert time.monotonic() < deadline, "the good extend never arrived"
            served.app.loop.settle()
    finally:
        sender.close()
    assert not [r for r in caplog.records if r.exc_info]
    durations = [p["duration_s"] for p in served.app.room.snapshot()["session"]["phases"]]
    assert all(d is None or d < units.MAX_DURATION for d in durations)


def test_a_room_file_with_an_infinite_fade_does_not_start(tmp_path):
    path = tmp_path / "room.yaml"
    path.write_text(yaml.safe_dump({"room": {"id": "r"}, "idle": {"brightness": 10, "transition": HUGE}}))
    problems = check_paths([path])
    assert [p.path for p in problems] == ["idle.transition"]
