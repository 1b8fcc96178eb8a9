"""A reboot without network time: the session resumes at its last checkpoint, the panel says the time the
room was off is unknown, and one request sets the session time. A synchronised clock is believed."""

from __future__ import annotations

import pytest
import requests

from room_controller.infrastructure.clock import ManualClock, kernel_synchronised
from tests.hardening.conftest import AUTH, serve


def start_and_reboot(tmp_path, broker, room_id, synchronised: bool | None):
    clock = ManualClock()
    room = serve(tmp_path, broker, room_id, clock)
    assert requests.post(f"{room.base}/api/session", headers=AUTH, json={"profile": "psilocybin-8h"}).ok
    clock.advance(2 * 3600)
    room.app.stop()
    # another boot: monotonic time starts again; the wall clock 30 min on (believed only when synchronised)
    after = ManualClock(start=50.0, wall_start=clock.wall() + 1800, boot="boot-2", synchronised=synchronised)
    return serve(tmp_path, broker, room_id, after)


@pytest.mark.slow
def test_an_unsynchronised_reboot_resumes_at_the_checkpoint_and_says_so(tmp_path, broker, room_id):
    room = start_and_reboot(tmp_path, broker, room_id, synchronised=False)
    try:
        state = requests.get(f"{room.base}/api/state", headers=AUTH).json()
        assert state["session"]["elapsed_s"] == 2 * 3600
        (problem,) = [p for p in state["problems"] if "not synchronised" in p]
        assert "resumed at 2h" in problem and "Set the session time" in problem
        r = requests.post(f"{room.base}/api/session/clock", headers=AUTH, json={"elapsed": "2h40m"})
        assert r.status_code == 200 and r.json()["session"]["elapsed_s"] == 2 * 3600 + 40 * 60
        room.app.loop.call(room.app.room.after_batch)
        state = requests.get(f"{room.base}/api/state", headers=AUTH).json()
        assert not [p for p in state["problems"] if "not synchronised" in p]
        with room.app.journal.reader() as reader:
            rows = reader.events(state["session"]["id"])
        recovered = [r.data for r in rows if r.kind == "session_recovered"]
        assert recovered[-1]["gap_s"] is None and "not synchronised" in recovered[-1]["clock"]
        assert [r.data for r in rows if r.kind == "session_clock_set"] == [{"from_s": 7200.0, "to_s": 9600.0}]
    finally:
        room.app.stop()


@pytest.mark.slow
def test_a_synchronised_reboot_counts_the_time_the_room_was_off(tmp_path, broker, room_id):
    room = start_and_reboot(tmp_path, broker, room_id, synchronised=True)
    try:
        state = requests.get(f"{room.base}/api/state", headers=AUTH).json()
        assert state["session"]["elapsed_s"] == 2 * 3600 + 1800
        assert not [p for p in state["problems"] if "synchronised" in p]
    finally:
        room.app.stop()


@pytest.mark.slow
def test_the_session_time_is_set_only_for_a_running_session_and_bounded(served):
    r = requests.post(f"{served.base}/api/session/clock", headers=AUTH, json={"elapsed": "1h"})
    assert r.status_code == 409
    assert requests.post(f"{served.base}/api/session", headers=AUTH, json={"profile": "psilocybin-8h"}).ok
    for bad in ('"-1h"', '"9999999h"', "1e999"):
        r = requests.post(f"{served.base}/api/session/clock", headers={**AUTH, "Content-Type": "application/json"},
                          data=f'{{"elapsed": {bad}}}')
        assert r.status_code == 422


def test_the_kernels_clock_status_can_be_read_here():
    assert kernel_synchronised() in (True, False)   # adjtimex(2) answers on Linux
