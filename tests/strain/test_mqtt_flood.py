"""MQTT floods cannot delay calm or flood the journal: a bedside button stuck at thousands of presses a
second, a clinic system repeating a command, a bulb's availability flapping, all on a real broker, while
the panel's calm and a button's calm still reach the lights. Bounded: a few seconds, loopback only.
Asserts the outcome (calm on the wire, the journal's growth, the core's queue), not timings; the figures are
bench/journal.py's."""

from __future__ import annotations

import json
import subprocess
import threading
import time

import pytest

from room_controller.core.intake import Intake
from room_controller.core.loop import Loop
from room_controller.infrastructure.clock import ManualClock
from tests.broker import Capture
from tests.conftest import ROOT
from tests.rooms import load
from tests.strain.test_faults import start, wait_until

BUTTON = "zigbee2mqtt/Bedside remote"
PLACES = {"profiles_dir": str(ROOT / "deploy" / "profiles"), "playlists_dir": str(ROOT / "playlists")}
LIGHTS = [{"id": "ceiling", "profile": "zigbee2mqtt", "device": "Ceiling lamp"}]
FLOOD = 50_000   # messages from each source: 10 s of a 5,000-a-second flood, sent as fast as the broker takes them


def flood(broker, topic: str, payloads: list[str], count: int) -> subprocess.Popen:
    """`count` messages on `topic`, `payloads` round and round, as fast as mosquitto_pub sends them: a
    process of its own, so the flood competes with the room as a misbehaving device would."""
    lines = "".join(payloads[i % len(payloads)] + "\n" for i in range(count))
    proc = subprocess.Popen(["mosquitto_pub", "-h", broker.host, "-p", str(broker.port), "-t", topic, "-l"],
                            stdin=subprocess.PIPE, text=True)
    threading.Thread(target=proc.communicate, args=(lines,), daemon=True).start()
    return proc


def presets_turned_on(app) -> set[str]:
    with app.journal.reader() as reader:
        return {json.loads(r[0])["preset"] for r in reader._db.execute(   # noqa: SLF001
            "SELECT data FROM events WHERE kind='preset_on'")}


def rows(app) -> int:
    with app.journal.reader() as reader:
        return reader._db.execute("SELECT COUNT(*) FROM events").fetchone()[0]   # noqa: SLF001


@pytest.mark.slow
def test_floods_of_presses_commands_and_flaps_cost_the_journal_a_summary_and_calm_gets_through(
        tmp_path, own_broker, room_id):
    buttons = [{"topic": BUTTON, "match": {"action": "on"}, "do": {"preset": "check-in"}},   # emergency would hold
               {"topic": BUTTON, "match": {"action": "off"}, "do": {"preset": None}}]
    app = start(*load(tmp_path, own_broker, room_id, LIGHTS, buttons=buttons, **PLACES))
    app.loop.call(app.room.session.start, "ketamine-1h")
    cap = Capture(own_broker, "zigbee2mqtt/Ceiling lamp/set")
    try:
        before = rows(app)
        command = f"therapy-room/{room_id}/command"
        floods = [flood(own_broker, BUTTON, ['{"action":"on"}'], FLOOD),                   # a stuck remote
                  flood(own_broker, command, ['{"extend": "1m"}'], FLOOD),                 # an automation loop
                  flood(own_broker, "zigbee2mqtt/Ceiling lamp/availability",
                        ['{"state":"offline"}', '{"state":"online"}'], FLOOD)]            # a flapping bulb
        wait_until(lambda: "check-in" in presets_turned_on(app))   # the stuck remote's first press acted
        assert app.loop.backlog() < 50                        # the core's queue stays as short as its sources
        app.room.intake.note(("http",))                       # the panel's calm, as the HTTP API sends it
        app.loop.call(app.room.presets.activate, "calm", urgent=True, timeout=5)
        calm = cap.wait_for(lambda m: json.loads(m.payload).get("color_temp") == 455, timeout=5)
        assert json.loads(calm.payload)["brightness"] == 38
        for proc in floods:
            assert proc.wait(60) == 0
        time.sleep(0.5)
        assert app.room.snapshot()["preset"] == "calm"         # the floods' repeats never overrode the panel's calm
        added = rows(app) - before
        assert added < 100, added                             # was one row per message: tens of thousands
        app.loop.call(app.room.inbox._summarise)              # noqa: SLF001 - the 10 s summary, now
        with app.journal.reader() as reader:
            kinds = [r[0] for r in reader._db.execute("SELECT kind FROM events")]   # noqa: SLF001
        assert kinds.count("phase_extended") == 1              # a repeated extension extends once
        assert kinds.count("device_offline") + kinds.count("device_online") <= 3   # then a summary
        with app.journal.reader() as reader:
            floods = [json.loads(r[0]) for r in reader._db.execute(   # noqa: SLF001
                "SELECT data FROM events WHERE kind='mqtt_flood'")]
        assert len(floods) == 2 and all(f["received"] > 100 and f["acted_on"] <= 2 for f in floods), floods
    finally:
        cap.close()
        app.stop()


def test_intake_delivers_the_latest_at_its_pace_and_a_newer_request_elsewhere_wins():
    clock = ManualClock()
    loop = Loop(clock)
    loop.start()
    intake, got = Intake(loop), []
    try:
        for n in range(5):
            intake.offer("button", n, got.append, interval=0.25, source="button")
            loop.settle()
        assert got == [0]                                      # the first at once, the rest wait for the pace
        clock.advance(0.25)
        assert got == [0, 4]                                   # then only the latest
        intake.offer("button", 5, got.append, interval=0.25, source="button")
        intake.note("http")                                    # the panel asked for something meanwhile
        clock.advance(0.25)
        assert got == [0, 4]                                   # the press that waited is dropped
        for report in ({"a": 1}, {"b": 2}, {"a": 3}):
            intake.offer("report", report, got.append, interval=0.1, fold=lambda a, b: {**a, **b})
            loop.settle()
        clock.advance(0.1)
        assert got[-2:] == [{"a": 1}, {"b": 2, "a": 3}]        # reports that waited are folded into one
        summary = {key: (received, acted) for key, received, acted in intake.summaries()}
        assert summary["button"] == (6, 2)
    finally:
        loop.stop()
