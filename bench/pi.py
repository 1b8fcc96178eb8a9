"""Pi-class mode (issue 25): the service on the CPU time of one Raspberry Pi 4 core, and the room's targets there.

    python bench/run.py --pi [--quick] [--pi-quota FRACTION]

The room is sold for a Raspberry Pi class computer; the other sections run on whatever machine runs the bench.
Here every `room-controller serve` the section starts goes into a cgroup whose CPU quota is what one Pi 4
core does of this machine's work (cgroup v2 `cpu.max`, or v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`; root
is needed to write them). The broker, the devices' subscriber and the clients run outside it, at full speed.

Calibration: the single-core Python benchmark of github.com/alexdedyura/cpu-benchmark (the loop below, as it
stood when its table got its Raspberry Pi 4 row: 79.216 s for 10,000 iterations, Ubuntu 22.04.3) runs here
for a tenth of that; the thread's CPU time (not wall time: other processes on a shared machine do not count)
over the Pi's figure is the share of one CPU that does the Pi's work. docs/benchmarks.md says what a quota
models and what it does not.

Then, under the quota: calm and the bedside button to 12 lights (as bench/run.py's calm section), calm to 12
and 50 lights with open panels (bench/scale.py's rooms), calm from a new connection under each HTTP load
(bench/load.py), and calm during three MQTT floods at 5,000 msg/s (bench/journal.py), against the Pi-class
targets of issue 25.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from pathlib import Path

from rig import (
    CGROUP_ENV,
    Results,
    calm_and_button_samples,
    percentiles,
)

from room_controller.infrastructure.broker import Broker

PI4_SECONDS = 79.216    # cpu-benchmark's README, "Raspberry Pi 4 | ARM | Ubuntu 22.04.3 LTS": one attempt
PI4_ITERATIONS = 10_000
CALIBRATION = """
for i in range(0, {n}):
  for x in range(1, 1000):
    3.141592 * 2**x
  for x in range(1, 10000):
    float(x) / 3.141592
  for x in range(1, 10000):
    float(3.141592) / x
"""   # cpu-benchmark.py at commit dc312ef (2024-01-12), module level as it ran there
MIN_QUOTA_US = 1000     # the kernel's smallest quota (and period)
NAME = "room-controller-bench-pi"
TARGETS = {"calm12": 50.0, "calm50": 100.0, "loaded": 250.0}   # p99 in ms
SCALE = ((12, 1), (12, 8), (50, 1), (50, 8))   # lights, open panels


def calibrate(iterations: int = 1000, runs: int = 2) -> dict:
    """The share of one CPU here that does one Pi 4 core's work: the benchmark's CPU time per 10,000
    iterations here (the fastest of `runs`) over the Pi's."""
    code = compile(CALIBRATION.format(n=iterations), "cpu-benchmark", "exec")
    best = math.inf
    for _ in range(runs):
        t0 = time.thread_time()
        exec(code, {})   # a namespace of its own: names resolve as at a module's top level
        best = min(best, time.thread_time() - t0)
    here = best * PI4_ITERATIONS / iterations
    return {"here_s": round(here, 3), "pi4_s": PI4_SECONDS, "fraction": round(here / PI4_SECONDS, 4),
            "iterations": iterations}


class CpuQuota:
    """A cgroup with `fraction` of one CPU. The period is as short as the kernel's 1 ms least quota allows,
    so the service waits at most a few ms for its next share, as a slow core would keep it waiting. Its weight
    is ten times the default, so that on a busy machine it still gets its quota (and never more)."""

    def __init__(self, fraction: float) -> None:
        self.version, parent = controller()
        self.path = parent / NAME
        self.quota_us = MIN_QUOTA_US
        self.period_us = max(MIN_QUOTA_US, round(MIN_QUOTA_US / fraction))
        if fraction >= 1:
            self.quota_us, self.period_us = round(10_000 * fraction), 10_000

    def __enter__(self) -> CpuQuota:
        self.path.mkdir(exist_ok=True)
        if self.version == 2:
            (self.path / "cpu.max").write_text(f"{self.quota_us} {self.period_us}")
            (self.path / "cpu.weight").write_text("1000")
        else:
            (self.path / "cpu.cfs_period_us").write_text(str(self.period_us))
            (self.path / "cpu.cfs_quota_us").write_text(str(self.quota_us))
            (self.path / "cpu.shares").write_text("10240")
        os.environ[CGROUP_ENV] = str(self.path)   # bench/run.py's Service puts each `serve` it starts here
        return self

    def stat(self) -> dict:
        """Periods so far and how many of them throttled the group (cpu.stat)."""
        fields = dict(line.split() for line in (self.path / "cpu.stat").read_text().splitlines())
        return {"periods": int(fields["nr_periods"]), "throttled": int(fields["nr_throttled"])}

    def __exit__(self, *exc) -> None:
        os.environ.pop(CGROUP_ENV, None)
        for pid in (self.path / "cgroup.procs").read_text().split():   # a straggler goes back to the parent
            try:
                (self.path.parent / "cgroup.procs").write_text(pid)
            except OSError:
                pass
        self.path.rmdir()


def controller() -> tuple[int, Path]:
    """Where a CPU quota can be written: cgroup v2's root with the cpu controller, else v1's cpu hierarchy.
    Neither: SystemExit saying why."""
    mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    reasons = []
    for _, where, kind, *_ in mounts:
        root = Path(where)
        if kind == "cgroup2":
            if "cpu" not in (root / "cgroup.controllers").read_text().split():
                reasons.append(f"cgroup v2 at {root}: the cpu controller is not in it (cgroup v1 holds it)")
                continue
            try:
                (root / "cgroup.subtree_control").write_text("+cpu")
                return 2, root
            except OSError as e:
                reasons.append(f"cgroup v2 at {root}: cgroup.subtree_control not writable ({e.strerror})")
        elif kind == "cgroup" and (root / "cpu.cfs_quota_us").exists():
            if os.access(root, os.W_OK):
                return 1, root
            reasons.append(f"cgroup v1 at {root}: not writable (run as root)")
    raise SystemExit("Pi-class mode needs a CPU quota and none can be written here: "
                     + ("; ".join(reasons) or "no cgroup hierarchy with a cpu controller is mounted"))


def spin_check(group: CpuQuota, seconds: float) -> float:
    """A busy loop in the cgroup for `seconds`: the share of one CPU it got (the quota, unless the machine
    itself is too loaded to give even that)."""
    proc = subprocess.Popen([sys.executable, "-c", f"import time\nend = time.monotonic() + {seconds}\n"
                             "while time.monotonic() < end: pass\nimport os\nt = os.times()\n"
                             "print(t.user + t.system)"], stdout=subprocess.PIPE, text=True)
    (group.path / "cgroup.procs").write_text(str(proc.pid))
    out, _ = proc.communicate(seconds + 30)
    return float(out) / seconds


def calm_and_button(tmp: Path, broker: Broker, count: int, streams: int = 8) -> dict:
    """bench/run.py's calm presses and bedside-button presses (12 lights, `streams` panels following, a
    1-hour fade running): p50 / p99 of each."""
    tmp.mkdir()
    return {kind: percentiles(got) for kind, got in calm_and_button_samples(tmp, broker, count, streams).items()}


def run(res: Results, tmp: Path, broker: Broker, quick: bool, fraction: float | None) -> None:
    import journal
    import load as http_load
    import scale

    calibration = calibrate(200 if quick else 1000)
    if fraction is not None:
        calibration["fraction_used"] = fraction
    share = fraction or calibration["fraction"]
    load = os.getloadavg()
    res.add("Pi-class: one Pi 4 core's share of a CPU here (cpu-benchmark, single core: "
            f"{calibration['here_s']:.2f} s here, {PI4_SECONDS} s on a Pi 4)",
            f"{100 * calibration['fraction']:.1f} %" + (f"; {100 * share:.1f} % used (--pi-quota)" if fraction else ""))
    scratch = Quiet()
    with CpuQuota(share) as group:
        spun = spin_check(group, 2.0)
        res.add(f"Pi-class: cgroup v{group.version}, quota {group.quota_us} µs every {group.period_us} µs; "
                "a busy loop in it for 2 s got (less: the machine is too loaded to give a Pi core's share)",
                f"{100 * spun:.1f} % of a CPU", f"{100 * share:.1f} % +- 10 %", abs(spun / share - 1) <= 0.1)
        count = 20 if quick else 200
        scratch.data.update(calm_and_button(tmp / "calm", broker, count))
        cells = {}
        for lit, panels in SCALE:
            folder = tmp / f"scale-{lit}-{panels}"
            folder.mkdir()
            room = scale.Room(folder, broker, lit, panels, f"bench-pi-{lit}-{panels}")
            try:
                cells[(lit, panels)] = room.presses(10 if quick else 100)
            finally:
                room.close()
        (tmp / "load").mkdir()
        http_load.run(scratch, tmp / "load", broker, list(http_load.LOADS), count)
        floods: dict = {}
        journal.calm_during_floods(floods, "floods", 3 if quick else 10, 5_000, 10 if quick else 100)
        throttling = group.stat()
    report(res, scratch.data, cells, floods["floods"])
    res.add("Pi-class: periods in which the quota held the service back",
            f"{throttling['throttled']:,} of {throttling['periods']:,}")
    res.data["pi"] = {"calibration": calibration, "share": share, "quota_us": group.quota_us,
                      "period_us": group.period_us, "cgroup": group.version, "spin_share": round(spun, 3),
                      "throttling": throttling, "load_average_at_start": round(load[0], 2), "sections": scratch.data,
                      "scale": {f"{lit} lights, {panels} panels": p for (lit, panels), p in cells.items()},
                      "floods": floods["floods"]}


def report(res: Results, data: dict, cells: dict, floods: dict) -> None:
    """The Pi-class rows beside their targets."""
    limit = TARGETS["calm12"]
    for key, what in (("calm", "calm press (API)"), ("button", "bedside button (MQTT command)")):
        p = data[key]
        res.add(f"Pi-class: {what} -> last of 12 light commands, 8 panels open, a fade running: p50 / p99 / max "
                f"({p['n']})", f"{p['p50_ms']} / {p['p99_ms']} / {p['max_ms']} ms", f"p99 < {limit:g} ms",
                p["p99_ms"] < limit)
    for (count, panels), p in cells.items():
        limit = TARGETS["calm12" if count <= 12 else "calm50"]
        res.add(f"Pi-class: {count} lights, {panels} panel(s) open: calm -> last light command p50 / p99 "
                f"({p['n']})", f"{p['p50_ms']} / {p['p99_ms']} ms", f"p99 < {limit:g} ms", p["p99_ms"] < limit)
    limit = TARGETS["loaded"]
    for name in ("none", "slow", "streams", "chunk", "nested"):
        got = data[name]
        answer, lit, refused = got["answered"], got["lights"], got["statuses"].get(503, 0)
        ok = answer.get("p99_ms", math.inf) < limit and not refused and not got["timeouts"]
        res.add(f"Pi-class: calm from a new connection under load {name!r}: answered p50 / p99; last of 12 lights "
                f"p50 / p99 ({answer['n']})", f"{answer.get('p50_ms', '-')} / {answer.get('p99_ms', '-')} ms; "
                f"{lit.get('p50_ms', '-')} / {lit.get('p99_ms', '-')} ms; 503: {refused}, timed out: "
                f"{got['timeouts']}", f"p99 < {limit:g} ms, no 503", ok)
    res.add(f"Pi-class: calm from a new connection during 3 MQTT floods at 5,000 msg/s each "
            f"({floods['flood_messages_sent']:,} messages in {floods['flood_s']} s): answered p50 / p99 / max "
            f"({floods['presses']})", f"{floods['p50_ms']} / {floods['p99_ms']} / {floods['max_ms']} ms; "
            f"not 200: {floods['non_200']}; refused while the stuck button's emergency held: {floods['emergency_on']}",
            f"p99 < {limit:g} ms, every press answered (200, or the emergency light's refusal)",
            floods["p99_ms"] < limit and floods["non_200"] == 0)


class Quiet(Results):
    """Results of the borrowed sections: their data, without their rows (judged against other targets)."""

    def add(self, figure: str, measured: str, target: str = "-", ok: bool | None = None) -> None:
        pass

