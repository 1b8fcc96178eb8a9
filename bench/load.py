"""Calm from a NEW connection while the HTTP server is under load (issue 13): p50/p99, and any 503.

    python bench/load.py [--quick] [--presses N] [--only none,slow,streams,chunk,nested]

The room is `room-controller serve` in its own process with 12 mixed lights (bench/run.py's), a separate
MQTT subscriber stands in for the devices, and each load runs in a process of its own, keeping up its
pressure (a connection the server closes is opened again at once):

- slow: 200 connections, each a partial request and one more header line every 5 s (slowloris);
- streams: 300 `/api/events` requests held open (with the api_token: one login), never read;
- chunk: 2 connections sending an endless chunk-size line;
- nested: 4 clients posting 60 KiB of `[` to `/api/login` in a loop.

Each press opens a new connection and sends `POST /api/presets/calm` (bearer token): timed until the
answer is read (the core has set calm by then: the HTTP server's part, the target) and until the last of
the 12 lights' commands arrives (the whole path, for comparison); then the preset is released.
Results: bench/results/load.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import selectors
import socket
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rig import AUTH, ROOT, Devices, Results, percentiles, serve_room, table, wait_for  # noqa: E402

from room_controller.infrastructure.broker import Broker  # noqa: E402

LOADS = ("none", "slow", "streams", "chunk", "nested")
TARGET_MS = 100.0
PRESS_TIMEOUT = 15.0   # a press that takes longer counts as timed out (the issue saw 15 s)


# -- the loads, each in a process of its own ---------------------------------------------------------------

def _connect(host: str, port: int, first: bytes) -> socket.socket | None:
    try:
        sock = socket.create_connection((host, port), timeout=2)
        sock.sendall(first)
        sock.setblocking(False)
        return sock
    except OSError:
        return None


def hold(host: str, port: int, count: int, first: bytes, more: bytes | None, every: float, stop) -> None:
    """`count` connections that send `first`, then `more` every `every` s (None: nothing more, ever); what
    the server sends is read and dropped, and a connection it closes is opened again at once."""
    selector = selectors.DefaultSelector()
    last_sent: dict[socket.socket, float] = {}

    def open_one() -> None:
        sock = _connect(host, port, first)
        if sock is not None:
            selector.register(sock, selectors.EVENT_READ)
            last_sent[sock] = time.monotonic()

    for _ in range(count):
        open_one()
    while not stop.is_set():
        for key, _ in selector.select(0.05):
            sock = key.fileobj
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                selector.unregister(sock)
                sock.close()
                del last_sent[sock]
                open_one()
        while len(last_sent) < count and not stop.is_set():
            open_one()
        now = time.monotonic()
        for sock, sent in list(last_sent.items()):
            if more is not None and now - sent >= every:
                try:
                    sock.send(more)
                except OSError:
                    pass
                last_sent[sock] = now


def chunk_line(host: str, port: int, count: int, stop) -> None:
    """`count` connections, each sending a chunk-size line that never ends, as fast as they can."""
    head = (f"POST /api/notes HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Transfer-Encoding: chunked\r\n\r\n").encode()
    socks: list[socket.socket | None] = [None] * count
    while not stop.is_set():
        for i, sock in enumerate(socks):
            if sock is None:
                socks[i] = sock = _connect(host, port, head)
                if sock is None:
                    continue
            try:
                sock.send(b"f" * 8192)
            except BlockingIOError:
                pass
            except OSError:
                sock.close()
                socks[i] = None
        time.sleep(0.0005)


def nested(base: str, stop) -> None:
    body = b"[" * 60_000
    session = requests.Session()
    while not stop.is_set():
        session.post(f"{base}/api/login", data=body, headers={"Content-Type": "application/json"}, timeout=30)


def start_load(name: str, base: str, stop) -> list[multiprocessing.Process]:
    host, port = base.removeprefix("http://").split(":")
    port = int(port)
    start = f"HTTP/1.1\r\nHost: {host}:{port}\r\n"   # the address it was reached by, as a browser sends it
    stream = f"GET /api/events {start}Authorization: {AUTH['Authorization']}\r\n\r\n".encode()
    targets = {
        "none": [],
        "slow": [(hold, (host, port, 200, f"GET /api/state {start}".encode(), b"X-Slow: 1\r\n", 5.0))],
        "streams": [(hold, (host, port, 300, stream, None, 0.0))],
        "chunk": [(chunk_line, (host, port, 2))],
        "nested": [(nested, (base,))] * 4,
    }[name]
    procs = [multiprocessing.Process(target=fn, args=(*args, stop), daemon=True) for fn, args in targets]
    for proc in procs:
        proc.start()
    return procs


# -- the presses ---------------------------------------------------------------------------------------------

def presses(base: str, devices: Devices, topics: list[str], count: int) -> dict:
    """`count` calm presses, each from a new connection; latency to the last light command."""
    answered, lit, statuses, timeouts, others_failed = [], [], {}, 0, 0
    for i in range(-1, count):   # press -1 warms up, and is not counted
        others_failed += not other(base, "PATCH", "/api/lights",
                                   {"brightness": 40 + i % 30, "kelvin": 3000, "transition": "1h"})
        time.sleep(0.03)
        devices.expect(topics)
        t0 = time.perf_counter()
        try:
            r = requests.post(f"{base}/api/presets/calm", headers={**AUTH, "Connection": "close"},
                              timeout=PRESS_TIMEOUT)
            done = time.perf_counter()
        except requests.RequestException:
            timeouts += i >= 0
            continue
        try:
            arrived = devices.arrived(PRESS_TIMEOUT) if r.status_code == 200 else None
        except SystemExit:
            arrived, timeouts = None, timeouts + (i >= 0)
        if i >= 0:
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            if arrived is not None:
                answered.append((done - t0) * 1000)
                lit.append((arrived - t0) * 1000)
        others_failed += not other(base, "DELETE", "/api/presets/active")
        time.sleep(0.03)
    return {"answered": percentiles(answered) if answered else {"n": 0},
            "lights": percentiles(lit) if lit else {"n": 0}, "statuses": statuses, "timeouts": timeouts,
            "other_client_failed": others_failed}


def other(base: str, method: str, path: str, body: dict | None = None) -> bool:
    """The room's other client, changing the room between presses, from another address (127.0.0.2): the
    loads share the presses' address, and the server holds all but calm and the login of an address
    over its connection limit. False when it got no answer or an error."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=PRESS_TIMEOUT, source_address=("127.0.0.2", 0))
    try:
        conn.request(method, path, body=json.dumps(body) if body else None,
                     headers={**AUTH, "Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status < 300
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def run(res: Results, tmp: Path, broker: Broker, loads: list[str], count: int) -> None:
    service, topics = serve_room(tmp, broker)
    devices = Devices(broker, topics, client_id="bench-load-devices")
    try:
        wait_for(lambda: service.state().get("mqtt") == "connected", 10)
        # every light at a known setting: one never told or heard from fades from "unknown", and each command
        # meanwhile counts as abrupt for the flash rule (the press's p99 of 0.9 s with no load at all)
        service.call("PATCH", "/api/lights", json={"brightness": 40, "kelvin": 3000, "transition": 0})
        time.sleep(1.5)
        for name in loads:
            stop = multiprocessing.Event()
            procs = start_load(name, service.base, stop)
            time.sleep(2 if procs else 0)   # the load is on before the first press
            try:
                got = presses(service.base, devices, topics, count)
            finally:
                stop.set()
                for proc in procs:
                    proc.join(5)
                    if proc.is_alive():
                        proc.kill()
            rss, peak, _ = service.usage()
            got["service_rss_mb"] = round(rss, 1)
            res.data[name] = got
            answer, lights = got["answered"], got["lights"]
            ok = answer["n"] == count and answer["p99_ms"] < TARGET_MS and not got["statuses"].get(503)
            res.add(f"calm from a new connection under load {name!r}: answered, p50 / p99 ({count} presses)",
                    f"{answer.get('p50_ms', '-')} / {answer.get('p99_ms', '-')} ms; 503: "
                    f"{got['statuses'].get(503, 0)}, timed out: {got['timeouts']}, other: "
                    f"{sum(v for k, v in got['statuses'].items() if k not in (200, 503))}",
                    f"p99 < {TARGET_MS:g} ms, no 503", ok)
            res.add("... and the last of the 12 lights' commands, p50 / p99",
                    f"{lights.get('p50_ms', '-')} / {lights.get('p99_ms', '-')} ms")
            time.sleep(1)   # the server closes what the load left
    finally:
        devices.close()
        service.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 presses per load: check that the bench runs")
    parser.add_argument("--presses", type=int, default=200, help="calm presses per load")
    parser.add_argument("--only", default=",".join(LOADS), help=f"comma-separated: {', '.join(LOADS)}")
    args = parser.parse_args()
    loads = [name for name in LOADS if name in args.only.split(",")]
    res = Results()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        broker = Broker().start()
        try:
            run(res, Path(tmp), broker, loads, 20 if args.quick else args.presses)
        finally:
            broker.close()
    print()
    print(table(res.rows))
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / ("load-quick.json" if args.quick else "load.json")).write_text(json.dumps(res.data, indent=2) + "\n")
    if any(row.ok is False for row in res.rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
