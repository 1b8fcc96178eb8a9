"""Every figure of "How it holds up", with one command: a table beside the targets, and bench/results/run.json.

    python bench/run.py [--quick] [--only nodered,calm,polling,fades,footprint,growth,scale,soak,recovery,outage,load,clinic]
                        [--broker-nodelay both|on|off]

Everything runs on loopback: a private mosquitto, `room-controller serve` as its own process (as on a room
computer), a separate MQTT subscriber standing in for the devices, and client processes for the panels.
`--quick` makes every count small (a smoke test of the bench itself, not figures to publish).
The nodered and calm sections run against mosquitto as the room ships it (`set_tcp_nodelay true`) and as
mosquitto comes (Nagle's algorithm on, as Home Assistant's add-on and many clinic brokers run), both in one
run unless `--broker-nodelay` picks one; the other sections use the room's setting.
`--pi` runs the Pi-class section alone (bench/pi.py: the service on one Raspberry Pi 4 core's CPU time).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import clinic
import journal
import load as http_load
import peer
import pi
import scale
from rig import (
    RESTART_SEC,
    ROOT,
    TEMPLATE,
    Devices,
    Results,
    lights,
    presses,
    serve_room,
    table,
    wait_for,
    write_room,
)

from room_controller.infrastructure.broker import Broker


def fades(res: Results, tmp: Path, broker: Broker, count: int, minutes: float) -> None:
    """50 lights fading for 10 minutes at once, in-process on the test clock: every step still goes through
    the real broker to the separate subscriber; CPU is the room's own threads' (core loop, MQTT)."""
    from room_controller.app import App
    from room_controller.config import load_room
    from room_controller.infrastructure.clock import ManualClock
    from room_controller.lighting.state import LightChange

    configs, topics = lights(count)
    path = write_room(tmp, broker, 0, configs)
    config, catalogue = load_room(path)
    clock = ManualClock()
    app = App(config, catalogue, clock=clock, audio=False, web=False, profiles={}).start()
    templates = [c["device"] for c in configs if c["profile"] == TEMPLATE[0]]
    all_topics = sorted({*topics, *(f"{d}/{p}" for d in templates for p in ("color_temp/set", "switch"))})
    devices = Devices(broker, all_topics, "bench-fade-devices")
    try:
        wait_for(lambda: app.room.mqtt_connected, 10)
        app.loop.call(app.room.layers.adjust_lights, None, LightChange(brightness=90, kelvin=4000), 0.0)
        clock.advance(5)
        time.sleep(0.5)
        with devices.lock:
            before = sum(len(p) for p in devices.payloads.values())
            marks = {d: len(devices.payloads[f"{d}/brightness/set"]) - 1 for d in templates}  # the fade's start
        threads = {t.name: t.native_id for t in threading.enumerate()}
        ids = [tid for name, tid in threads.items() if name == "room-core" or name.startswith("paho")]
        cpu0 = sum(thread_cpu(tid) for tid in ids)
        app.loop.call(app.room.layers.adjust_lights, None, LightChange(brightness=10, kelvin=2200), minutes * 60)
        for _ in range(int(minutes * 60 * 4)):
            clock.advance(0.25)
        time.sleep(1.0)   # the last steps on their way through the broker
        cpu = sum(thread_cpu(tid) for tid in ids) - cpu0
        with devices.lock:
            sent = sum(len(p) for p in devices.payloads.values()) - before
            steps = {d: [int(v) for v in devices.payloads[f"{d}/brightness/set"][marks[d]:]] for d in templates}
    finally:
        devices.close()
        app.stop()
    largest = 0.0
    for series in steps.values():   # the template family's brightness scale is 0-255, perceptual
        largest = max(largest, max(abs(a - b) for a, b in zip(series, series[1:])) / 255 * 100)
    seconds = minutes * 60
    res.data["fades"] = {"lights": count, "minutes": minutes, "messages": sent, "per_s": round(sent / seconds, 1),
                         "largest_step_pct": round(largest, 2), "cpu_s": round(cpu, 2),
                         "cpu_pct": round(100 * cpu / seconds, 2)}
    res.add(f"{count} lights fading {minutes:g} min: light commands", f"{sent} ({sent / seconds:.1f}/s)")
    res.add("largest step of a software-stepped light", f"{largest:.2f} % of full brightness", "<= 1 % (unseen)",
            largest <= 1.0)
    res.add("CPU of the core loop and MQTT thread for the fade", f"{cpu:.2f} s = {100 * cpu / seconds:.2f} % of a core")


def thread_cpu(tid: int) -> float:
    fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def footprint(res: Results, tmp: Path, broker: Broker, seconds: float) -> None:
    """RSS and CPU of `serve`: idle, then with a session playing music."""
    service, _ = serve_room(tmp, broker)
    try:
        time.sleep(5)   # start-up done
        _, _, cpu0 = service.usage()
        time.sleep(seconds)
        rss, peak, cpu1 = service.usage()
        idle = 100 * (cpu1 - cpu0) / seconds
        res.data["idle"] = {"rss_mb": round(rss, 1), "cpu_pct": round(idle, 2), "seconds": seconds}
        res.add(f"serve idle, 12 lights: CPU over {seconds:g} s", f"{idle:.2f} % of a core", "< 1 %", idle < 1)
        res.add("serve idle: RSS", f"{rss:.1f} MB", "< 80 MB", rss < 80)
        service.call("POST", "/api/session", json={"profile": "bench"})
        wait_for(lambda: service.state()["audio"]["playing"], 10)
        time.sleep(5)
        _, _, cpu0 = service.usage()
        time.sleep(seconds)
        rss, peak, cpu1 = service.usage()
        busy = 100 * (cpu1 - cpu0) / seconds
        res.data["session"] = {"rss_mb": round(rss, 1), "peak_rss_mb": round(peak, 1), "cpu_pct": round(busy, 2)}
        res.add("serve in a session, music playing (VLC, dummy output): CPU", f"{busy:.2f} % of a core")
        res.add("serve in a session, music playing: RSS (peak)", f"{rss:.1f} MB ({peak:.1f} MB)", "< 80 MB",
                peak < 80)
    finally:
        service.stop()


def growth(res: Results, tmp: Path, broker: Broker, hours: float) -> None:
    """An 8-hour session on the test clock, with presses, notes and adjustments all along: memory growth."""
    from room_controller.app import App
    from room_controller.config import load_room
    from room_controller.infrastructure.clock import ManualClock
    from room_controller.lighting.state import LightChange

    configs, _ = lights(12)
    config, catalogue = load_room(write_room(tmp, broker, 0, configs, shipped=True))
    clock = ManualClock()
    app = App(config, catalogue, clock=clock, audio=False, web=False).start()
    try:
        wait_for(lambda: app.room.mqtt_connected, 10)
        app.loop.call(app.room.session.start, "psilocybin-8h", "bench")
        rss = {}
        for minute in range(int(hours * 60)):
            clock.advance(60)
            if minute % 15 == 0:
                app.loop.call(app.room.presets.activate, "calm")
                clock.advance(10)
                app.loop.call(app.room.presets.release)
                app.loop.call(app.room.add_note, f"note at minute {minute}")
                app.loop.call(app.room.layers.adjust_lights, None, LightChange(brightness=20 + minute % 40), 30.0)
            for reminder in (app.room.snapshot()["session"] or {}).get("reminders", []):
                app.loop.call(app.room.session.acknowledge, reminder["id"])
            app.room.snapshot_json()
            if minute in (59, int(hours * 60) - 1):
                rss[minute] = own_rss()
        with app.journal.reader() as reader:
            rows = len(reader.events(reader.sessions()[0]["id"]))
    finally:
        app.stop()
    first, last = rss[59], rss[int(hours * 60) - 1]
    res.data["growth"] = {"hours": hours, "rss_after_1h_mb": round(first, 1), "rss_at_end_mb": round(last, 1),
                          "journal_rows": rows}
    res.add(f"{hours:g}-hour session on the test clock ({rows} journal rows): RSS growth after the first hour",
            f"{last - first:+.1f} MB ({first:.1f} -> {last:.1f} MB)", "no steady growth", last - first < 2)


def own_rss() -> float:
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) / 1024


def recovery(res: Results, tmp: Path, broker: Broker, kills: int) -> None:
    """SIGKILL during a session with music and calm on; started again as systemd does: RestartSec, then
    `serve` (which checks the room file itself: the unit has no ExecStartPre). The music is heard again when
    VLC's afile output, which writes what the room plays as it plays it, has sound in it once more."""
    sound = tmp / "sound.wav"
    service, topics = serve_room(tmp, broker, vlc_args=["--aout=afile", f"--audiofile-file={sound}", "--audiofile-wav"])
    devices = Devices(broker, topics, "bench-recovery-devices")
    to_lights, to_music, to_sound, to_up = [], [], [], []
    try:
        service.call("POST", "/api/session", json={"profile": "bench"})
        service.call("POST", "/api/presets/calm")
        wait_for(lambda: service.state()["audio"]["playing"], 10)
        for _ in range(kills):
            time.sleep(2)
            devices.expect(topics)
            killed = time.monotonic()
            k0 = time.perf_counter()
            service.kill()
            sound.unlink()   # the new VLC writes a new file
            time.sleep(RESTART_SEC)
            service.spawn()   # ExecStart, as deploy/room-controller.service does
            service.wait_up()
            to_up.append(time.monotonic() - killed)
            to_lights.append(devices.arrived(10) - k0)
            state = service.state()
            assert state["preset"] == "calm" and state["session"] is not None
            to_music.append(wait_for(lambda: service.state()["audio"]["playing"], 10) - killed)
            to_sound.append(wait_for(lambda: audible(sound), 10) - killed)
    finally:
        devices.close()
        service.stop()
    worst = max(max(to_lights), max(to_music))
    res.data["recovery"] = {"kills": kills, "restart_sec": RESTART_SEC,
                            "api_up_s": [round(x, 2) for x in to_up],
                            "lights_s": [round(x, 2) for x in to_lights],
                            "music_s": [round(x, 2) for x in to_music], "sound_s": [round(x, 2) for x in to_sound]}
    res.add(f"SIGKILL -> 12 lights re-asserted, calm held (RestartSec=1, then serve with its checks), worst of {kills}",
            f"{max(to_lights):.2f} s (median {statistics.median(to_lights):.2f})", "< 3 s", max(to_lights) < 3)
    res.add("SIGKILL -> music playing again, as the service says", f"{max(to_music):.2f} s "
            f"(median {statistics.median(to_music):.2f})", "< 3 s", worst < 3)
    res.add("SIGKILL -> music heard again (VLC's afile output: sound above -50 dBFS written)",
            f"{max(to_sound):.2f} s (median {statistics.median(to_sound):.2f})", "< 3 s", max(to_sound) < 3)


def audible(wav: Path) -> bool:
    """Whether the last 4 KiB written to a 16-bit WAV file hold sound above -50 dBFS (silence is 0)."""
    try:
        data = wav.read_bytes()[-4096:]
    except FileNotFoundError:
        return False
    if wav.stat().st_size < 44 + len(data) or len(data) < 4096:
        return False
    samples = memoryview(data).cast("h")
    return max(abs(x) for x in samples) > 32768 * 10 ** (-50 / 20)


def outage(res: Results, tmp: Path, broker: Broker, down: float) -> None:
    """The broker stopped for `down` seconds during a 10-minute fade, then back: until every light is told."""
    service, topics = serve_room(tmp, broker)
    try:
        wait_for(lambda: service.state().get("mqtt") == "connected", 10)
        service.call("PATCH", "/api/lights", json={"brightness": 80, "kelvin": 4000, "transition": 0})
        time.sleep(1.5)
        service.call("PATCH", "/api/lights", json={"brightness": 10, "kelvin": 2200, "transition": "10m"})
        time.sleep(2)
        broker.stop()
        time.sleep(down)
        broker.start()
        back = time.perf_counter()
        devices = Devices(broker, topics, "bench-outage-devices")
        devices.expect(topics)
        devices.since = back
        right = devices.arrived(10) - back
        devices.close()
        state = service.state()
        assert all(light["fading"] for light in state["lights"]), "the fade did not carry on"
    finally:
        service.stop()
    res.data["outage"] = {"down_s": down, "every_light_told_s": round(right, 2)}
    res.add(f"broker down {down:g} s mid-fade, back -> every light told again", f"{right:.2f} s", "< 2 s", right < 2)


BROKER_TAGS = {True: "set_tcp_nodelay broker", False: "default broker (Nagle on)"}
SECTIONS = ("nodered", "calm", "polling", "fades", "footprint", "growth", "scale", "soak", "recovery", "outage", "load",
            "journal", "clinic")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts: check that the bench runs")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated: {', '.join(SECTIONS)}")
    parser.add_argument("--event-streams", type=int, default=8, help="open event streams (panels) during the presses")
    parser.add_argument("--state-readers", type=int, default=0,
                        help="client processes polling /api/state during the calm section's presses")
    parser.add_argument("--soak-minutes", type=float, default=12, help="real minutes of the RSS soak")
    parser.add_argument("--presses", type=int, help="presses per broker in the nodered and calm sections "
                        "(default 300 and 500; --quick 30)")
    parser.add_argument("--broker-nodelay", choices=("both", "on", "off"), default="both",
                        help="the broker's set_tcp_nodelay for the nodered and calm sections (both: one run each)")
    parser.add_argument("--pi", action="store_true", help="the Pi-class section alone (also: --only ...,pi)")
    parser.add_argument("--pi-quota", type=float, help="the Pi-class share of one CPU instead of the calibrated one")
    args = parser.parse_args()
    only = {"pi"} if args.pi else set(args.only.split(","))
    q = args.quick
    res = Results()
    started = time.monotonic()
    load = os.getloadavg()
    nodelays = {"both": (True, False), "on": (True,), "off": (False,)}[args.broker_nodelay]
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        brokers = {nodelay: Broker(nodelay=nodelay).start() for nodelay in {True, *nodelays}}
        broker = brokers[True]
        per_broker = [(brokers[nodelay], BROKER_TAGS[nodelay]) for nodelay in nodelays]
        try:
            for name, run in (
                    ("nodered", lambda d: [peer.side_by_side(res, d / tag.split()[0], b, args.presses or (30 if q else 300),
                                                             args.event_streams, tag) for b, tag in per_broker]),
                    ("calm", lambda d: [presses(res, d / tag.split()[0], b, args.presses or (30 if q else 500), args.event_streams,
                                                args.state_readers, tag) for b, tag in per_broker]),
                    ("polling", lambda d: presses(res, d, broker, 30 if q else 500, 0, 4, "4 clients polling")),
                    ("fades", lambda d: fades(res, d, broker, 50, 1 if q else 10)),
                    ("footprint", lambda d: footprint(res, d, broker, 5 if q else 60)),
                    ("growth", lambda d: growth(res, d, broker, 1.5 if q else 8)),
                    ("scale", lambda d: scale.scale(res, d, broker, 10 if q else 100, 3 if q else 20)),
                    ("soak", lambda d: scale.soak(res, d, broker, 1 if q else args.soak_minutes)),
                    ("recovery", lambda d: recovery(res, d, broker, 2 if q else 5)),
                    ("outage", lambda d: outage(res, d, broker, 3 if q else 30)),
                    ("load", lambda d: http_load.run(res, d, broker, list(http_load.LOADS), 20 if q else 200)),
                    ("journal", lambda d: journal.run(res, q)),
                    ("clinic", lambda d: clinic.run(res, d, q)),
                    ("pi", lambda d: pi.run(res, d, broker, q, args.pi_quota))):
                if name in only:
                    print(f"{name}:", flush=True)
                    folder = Path(tmp) / name
                    folder.mkdir()
                    run(folder)
        finally:
            for b in brokers.values():
                b.close()
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, {_cpu_model()}, Python {platform.python_version()}; "
               f"load average {load[0]:.2f} at the start, {os.getloadavg()[0]:.2f} at the end")
    res.data["machine"] = machine
    res.data["quick"] = q
    res.data["seconds"] = round(time.monotonic() - started)
    print()
    print(table(res.rows))
    print(f"\n{machine}; {res.data['seconds']} s")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / ("quick.json" if q else "run.json")).write_text(json.dumps(res.data, indent=2) + "\n")
    if any(row.ok is False for row in res.rows):
        sys.exit(1)


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


if __name__ == "__main__":
    main()
