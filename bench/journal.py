"""The journal and the core under floods (issue 13's figures): calm from a new HTTP connection while MQTT
floods the room, the journal rows a flood adds, what journaling an event costs the core, recovery after a
450,000-event session, and the peak memory of three large reports at once.

    python bench/journal.py [--quick]

The floods and the reports run against `room-controller serve` as its own process (as the systemd unit
starts it, audio to VLC's dummy output), so neither the client's time nor its memory is the service's; a
private mosquitto carries the floods, from `mosquitto_pub` processes: 5,000 messages a second from each of
three sources for 10 s (the issue's load), then as fast as the broker takes them. Recovery starts the
service's own `App` in-process on a journal filled with SQL. Results: bench/results/journal.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rig import Service, usage  # noqa: E402

from room_controller.app import App  # noqa: E402
from room_controller.config import load_room  # noqa: E402
from room_controller.infrastructure.broker import Broker, free_port  # noqa: E402
from room_controller.infrastructure.clock import ManualClock  # noqa: E402

TOKEN = "bench-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LIGHTS = [{"id": "ceiling", "profile": "zigbee2mqtt", "device": "Ceiling lamp"},
          {"id": "floor", "profile": "tasmota", "device": "floorlamp"}]
BUTTON = "zigbee2mqtt/Bedside remote"
NOISE = ("device_online", "device_offline", "track_started", "mqtt_flood", "note", "phase_entered")
RELEVANT = ("manual_change", "preset_on", "preset_off")
CHATTER = ("device_online", "mqtt_flood", "devices_learned")   # in the raw record, not the summary's lists
SESSION_S = 8 * 3600.0   # the recovery bench's session: its events spread over 8 hours


def room_file(tmp: Path, broker: Broker, port: int = 0) -> Path:
    data = {"room": {"id": "bench", "name": "Bench room"},
            "mqtt": {"host": broker.host, "port": broker.port, "base_topic": "therapy-room"},
            "web": {"host": "127.0.0.1", "port": port, "api_token": TOKEN, "pin": "246813"},
            "audio": {"vlc_args": ["--aout=dummy"]}, "lights": LIGHTS,
            "buttons": [{"topic": BUTTON, "match": {"action": "on"}, "do": {"preset": "emergency"}}],
            "profiles_dir": str(ROOT / "deploy" / "profiles"), "playlists_dir": str(ROOT / "playlists"),
            "data_dir": str(tmp / "data")}
    path = tmp / "room.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def start(path: Path, clock: ManualClock | None = None) -> App:
    app = App(*load_room(path), audio=False, clock=clock).start()
    deadline = time.monotonic() + 10
    while not app.room.mqtt_connected and time.monotonic() < deadline:
        time.sleep(0.01)
    return app


@contextlib.contextmanager
def private_broker():
    broker = Broker().start()
    try:
        yield broker
    finally:
        broker.close()


def rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*) FROM events").fetchone()[0]


def flood(broker: Broker, topic: str, payloads: list[str], count: int, rate: int | None) -> subprocess.Popen:
    """`count` messages on `topic` from a `mosquitto_pub` process: `rate` a second (fed in 5 ms slices), or,
    with no rate, as fast as the broker takes them."""
    proc = subprocess.Popen(["mosquitto_pub", "-h", broker.host, "-p", str(broker.port), "-t", topic, "-l"],
                            stdin=subprocess.PIPE, text=True)
    assert proc.stdin is not None

    def feed() -> None:
        t0, sent = time.monotonic(), 0
        while sent < count:
            due = count if rate is None else min(count, int((time.monotonic() - t0) * rate) + 1)
            proc.stdin.write("".join(payloads[i % len(payloads)] + "\n" for i in range(sent, due)))
            proc.stdin.flush()
            sent = due
            time.sleep(0.005)
        proc.stdin.close()

    threading.Thread(target=feed, daemon=True).start()
    return proc


def pct(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1)}


FLOODS = ((BUTTON, ['{"action":"on"}']), ("therapy-room/bench/command", ['{"extend": "1m"}']),
          ("zigbee2mqtt/Ceiling lamp/availability", ['{"state":"offline"}', '{"state":"online"}']))


def calm_during_floods(out: dict, name: str, seconds: float, rate: int | None, presses: int) -> None:
    """The service (`room-controller serve`, its own process) while three sources flood it for `seconds`
    (a stuck button, a command loop, a flapping lamp): calm pressed `presses` times from a new connection,
    spread over the flood, each followed by a release."""
    count = int(seconds * (rate or 20_000))
    with tempfile.TemporaryDirectory() as tmp, private_broker() as broker:
        port = free_port()
        service = Service(room_file(Path(tmp), broker, port=port), port)
        service.start()
        journal = Path(tmp) / "data" / "journal.db"
        try:
            service.call("POST", "/api/session", json={"profile": "ketamine-1h"})
            time.sleep(1)
            before = rows(journal)
            procs = [flood(broker, topic, payloads, count, rate) for topic, payloads in FLOODS]
            t0, times, statuses = time.monotonic(), [], []
            for i in range(presses):   # each press a new connection, as a panel that just woke up
                time.sleep(max(0.0, t0 + i * seconds / presses - time.monotonic()))
                t = time.perf_counter()
                r = requests.post(f"{service.base}/api/presets/calm", headers={**AUTH, "Connection": "close"})
                times.append(time.perf_counter() - t)
                refused = r.status_code == 409 and r.json().get("error", {}).get("code") == "emergency_on"
                statuses.append("emergency_on" if refused else r.status_code)
                requests.delete(f"{service.base}/api/presets/active", headers={**AUTH, "Connection": "close"})
            during = all(proc.poll() is None for proc in procs)
            for proc in procs:
                proc.wait(120)
            flood_s = time.monotonic() - t0
            time.sleep(1)
            out[name] = {**pct(times), "max_ms": round(max(times) * 1000, 1), "presses": presses,
                         "non_200": sum(s not in (200, "emergency_on") for s in statuses),
                         "emergency_on": statuses.count("emergency_on"), "flood_messages_sent": 3 * count,
                         "flood_s": round(flood_s, 1), "presses_all_during_flood": during,
                         "journal_rows_added": rows(journal) - before - 2 * presses}
        finally:
            service.stop()


def journal_cost(out: dict, events: int) -> None:
    """What journaling an event costs the core: `Room.emit` timed on the core loop, the room on a test clock
    with a session running; ordinary events (a device back online, a light adjusted), and notes, whose
    answer waits until the note is on disk."""
    with tempfile.TemporaryDirectory() as tmp, private_broker() as broker:
        app = start(room_file(Path(tmp), broker), ManualClock())
        try:
            app.loop.call(app.room.session.start, "psilocybin-8h")

            def timed(kinds: list[tuple[str, dict]], count: int) -> list[float]:
                times = []
                for i in range(count):
                    kind, data = kinds[i % len(kinds)]
                    t0 = time.perf_counter()
                    app.room.emit(kind, **data)
                    times.append(time.perf_counter() - t0)
                return times

            ordinary = [("device_online", {"light": "ceiling"}),
                        ("manual_change", {"lights": ["ceiling"], "change": {"brightness": 30}, "during_preset": None})]
            for name, kinds, count in (("ordinary", ordinary, events), ("note", [("note", {"text": "resting"})],
                                                                        max(100, events // 20))):
                times = sorted(app.loop.call(timed, kinds, count, timeout=600))
                out.setdefault("journal_cost_us", {})[name] = {
                    "events": count, "p50_us": round(statistics.median(times) * 1e6, 1),
                    "p99_us": round(times[int(len(times) * 0.99)] * 1e6, 1)}
        finally:
            app.stop()


def session_rows(sid: int, kinds: tuple[str, ...], events: int) -> list[tuple]:
    """`events` rows of one session, spread evenly over its 8 hours, in the room's own shapes."""
    data = {"device_online": {"light": "ceiling"}, "device_offline": {"light": "ceiling"},
            "track_started": {"title": "x"}, "mqtt_flood": {"topic": BUTTON}, "note": {"text": "x"},
            "phase_entered": {"index": 0, "name": "Arrival"}, "preset_on": {"preset": "calm"},
            "preset_off": {"preset": "calm"},
            "manual_change": {"lights": ["ceiling"], "change": {"brightness": 30}, "during_preset": None}}
    step = SESSION_S / events
    return [(sid, time.time(), 1.0 + i * step, i * step, kinds[i % len(kinds)], data[kinds[i % len(kinds)]])
            for i in range(events)]


def insert(journal: Path, rows: list[tuple]) -> None:
    """The rows in one transaction, then the write-ahead log folded back into the file, where SQLite's own
    checkpoints would have kept it while the room wrote them in batches (one transaction of 450,000 rows
    leaves a WAL of some 50 MB, which the next open would read)."""
    with sqlite3.connect(journal) as db:
        db.executemany("INSERT INTO events(session_id, wall, mono, session_s, kind, data) VALUES (?,?,?,?,?,?)",
                       ((*row[:5], json.dumps(row[5])) for row in rows))
    with sqlite3.connect(journal) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def checkpoint_as_the_room_would(journal: Path, sid: int, rows: list[tuple]) -> None:
    """The recovery record the room wrote last before it stopped: its own fold (session.recovery) over the
    session's events up to the last CHECKPOINT_EVERY mark, written by the journal's own method after those
    rows and before the rest. (The rows are inserted with SQL for speed, so the room's runner did not write
    it; this is what it writes, where it writes it.)"""
    from room_controller.core.session import CHECKPOINT_EVERY
    from room_controller.journal.store import Journal
    from room_controller.session.recovery import RECOVERY_KINDS, Record

    last = rows[-1][3] // CHECKPOINT_EVERY * CHECKPOINT_EVERY
    head = [row for row in rows if row[3] < last]
    record = Record()
    for row in head:
        if row[4] in RECOVERY_KINDS:
            record.add(row[4], row[5])
    insert(journal, head)
    store = Journal(journal.parent)
    try:
        store.save_recovery(sid, record.to_json())
    finally:
        store.close()
    insert(journal, rows[len(head):])


def recovery(out: dict, events: int) -> None:
    """Start-up after a session of `events` rows: device chatter, or half of it presets and adjustments, with
    the recovery record the room writes every few seconds; and the latter without one (a journal from before
    checkpoints, replayed whole)."""
    for mix, kinds, checkpoint in (("noise", NOISE, True), ("half_relevant", NOISE[:3] + RELEVANT, True),
                                   ("half_relevant_no_checkpoint", NOISE[:3] + RELEVANT, False)):
        with tempfile.TemporaryDirectory() as tmp, private_broker() as broker:
            path = room_file(Path(tmp), broker)
            app = start(path)
            app.loop.call(app.room.session.start, "psilocybin-8h")
            app.stop()
            journal = Path(tmp) / "data" / "journal.db"
            with sqlite3.connect(journal) as db:
                sid = db.execute("SELECT id FROM sessions").fetchone()[0]
            rows = session_rows(sid, kinds, events)
            if checkpoint:
                checkpoint_as_the_room_would(journal, sid, rows)
            else:
                insert(journal, rows)
            t0 = time.perf_counter()
            app = start(path)
            out.setdefault("recovery_s", {})[mix] = round(time.perf_counter() - t0, 2)
            app.stop()


def reports(out: dict, events: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, private_broker() as broker:
        path = room_file(Path(tmp), broker, port=0)
        app = start(path)
        sid = app.loop.call(app.room.session.start, "psilocybin-8h")["session"]
        app.stop()
        with sqlite3.connect(Path(tmp) / "data" / "journal.db") as db:
            db.executemany("INSERT INTO events(session_id, wall, mono, session_s, kind, data) VALUES (?,?,?,?,?,?)",
                           ((sid, time.time(), 1.0, float(i), CHATTER[i % len(CHATTER)],
                             json.dumps({"light": "ceiling"})) for i in range(events)))
        doc = yaml.safe_load(path.read_text())
        doc["web"]["port"] = port = free_port()
        path.write_text(yaml.safe_dump(doc))
        service = Service(path, port)   # as the systemd unit starts it (bench/run.py)
        service.start()
        try:
            got: dict = {}

            def fetch(fmt: str) -> None:
                r = requests.get(f"{service.base}/api/sessions/{sid}/report", params={"format": fmt},
                                 headers=AUTH, timeout=300)
                got[fmt] = {"status": r.status_code, "mb": round(len(r.content) / 1e6, 1)}

            threads = [threading.Thread(target=fetch, args=(fmt,)) for fmt in ("html", "json", "csv")]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert service.proc is not None
            out["three_reports_peak_rss_mb"] = {"events": events, "peak_rss_mb": round(usage(service.proc.pid)[1], 1),
                                                "reports": got}
        finally:
            service.stop()


def measure(quick: bool) -> dict:
    out: dict = {}
    calm_during_floods(out, "calm_during_mqtt_floods", 3 if quick else 10, 5_000, 10 if quick else 100)
    calm_during_floods(out, "calm_during_unpaced_mqtt_floods", 3 if quick else 10, None, 10 if quick else 100)
    journal_cost(out, 2_000 if quick else 20_000)
    recovery(out, 20_000 if quick else 450_000)
    reports(out, 20_000 if quick else 450_000)
    return out


def run(res, quick: bool) -> None:
    """The figures as rows of bench/run.py's table (its `journal` section)."""
    out = measure(quick)
    flood, rec, rss = out["calm_during_mqtt_floods"], out["recovery_s"], out["three_reports_peak_rss_mb"]
    for key, what in (("calm_during_mqtt_floods", "3 MQTT floods at 5,000 msg/s each"),
                      ("calm_during_unpaced_mqtt_floods", "3 MQTT floods as fast as the broker takes them")):
        got = out[key]
        res.add(f"serve: calm from a new connection during {what} ({got['flood_messages_sent']:,} messages in "
                f"{got['flood_s']} s), p50 / p99 / max", f"{got['p50_ms']} / {got['p99_ms']} / {got['max_ms']} ms; "
                f"not 200: {got['non_200']}; refused while the stuck button's emergency held: {got['emergency_on']}",
                "p99 < 100 ms", got["p99_ms"] < 100 and got["non_200"] == 0)
    res.add("serve: journal rows the paced floods added", str(flood["journal_rows_added"]), "< 100",
            flood["journal_rows_added"] < 100)
    for name, what in (("ordinary", "an ordinary event"), ("note", "a note (waits for its commit)")):
        cost = out["journal_cost_us"][name]
        res.add(f"in-process, test clock: the core's time to journal {what}, p50 / p99 ({cost['events']:,} events)",
                f"{cost['p50_us']} / {cost['p99_us']} µs")
    res.add(f"in-process: recovery after a {rss['events']:,}-event session with its last checkpoint: chatter / half "
            "presets and adjustments", f"{rec['noise']} / {rec['half_relevant']} s", "< 2 s",
            max(rec["noise"], rec["half_relevant"]) < 2)
    res.add("in-process: the same half, from a journal from before checkpoints (every event replayed)",
            f"{rec['half_relevant_no_checkpoint']} s")
    res.add(f"serve: three reports of a {rss['events']:,}-event session at once, peak RSS",
            f"{rss['peak_rss_mb']} MB", "< 150 MB", rss["peak_rss_mb"] < 150)
    res.data["journal"] = out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts: check that the bench runs")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    out = measure(args.quick)
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "journal.json").write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
