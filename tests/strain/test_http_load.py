"""Calm through the HTTP server under load (issue 13): 200 slow connections, 300 held event streams, an
unterminated chunk-size line, deeply nested JSON. During each, a new client logs in with the PIN as the
panel does (cookie and CSRF header) and presses calm, and the lights get calm on the broker. None of the
loads needs a PIN or a token except the streams, which are held with one login (the worst case: a login
of the room's own). Outcomes only; bench/load.py measures how fast calm gets through."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from contextlib import contextmanager

import pytest
import requests
from flask import request_started
from hypothesis import given
from hypothesis import strategies as st

from room_controller.app import App
from room_controller.config import WebSettings
from room_controller.core.loop import YIELD_LIMIT
from room_controller.webapp.http import MAX_JSON_DEPTH, TooDeep, parse_json
from room_controller.webapp.server import Conn, victim
from tests.broker import Capture
from tests.rooms import load
from tests.strain.conftest import AUTH, LIGHTS, PIN, PLACES

DEFAULTS = WebSettings()
CALM = '"color_temp":455'   # the calm preset's 2200 K on the Zigbee light


@pytest.fixture
def lamp(served, broker):
    cap = Capture(broker, "zigbee2mqtt/Ceiling lamp/set")
    yield cap
    cap.close()


def address(base: str) -> tuple[str, int]:
    host, port = base.removeprefix("http://").split(":")
    return host, int(port)


def request(base: str, head: str) -> bytes:
    """The start of a request as a browser sends it (Host is the address it was reached by)."""
    host, port = address(base)
    return f"{head}\r\nHost: {host}:{port}\r\n".encode()


def calm_from_a_new_client(base: str, lamp: Capture) -> None:
    """Log in with the PIN on a new connection, press calm with the CSRF token, see the lamp get calm; then
    release, so that the next press is a change again."""
    with requests.Session() as client:
        r = client.post(f"{base}/api/login", json={"pin": PIN}, timeout=30)
        assert r.status_code == 200, r.text
        csrf = {"X-CSRF-Token": r.json()["csrf"]}
        r = client.post(f"{base}/api/presets/calm", headers=csrf, timeout=30)
        assert (r.status_code, r.json()) == (200, {"preset": "calm"})
        assert json.loads(lamp.wait_for(lambda m: CALM in m.payload, 10).payload)["brightness"] == 38
        assert client.delete(f"{base}/api/presets/active", headers=csrf, timeout=30).status_code == 200


def closed_by_server(sock: socket.socket) -> bool:
    """Has the server closed this connection (after whatever it answered)?"""
    sock.setblocking(False)
    try:
        while sock.recv(65536):
            pass
        return True
    except BlockingIOError:
        return False
    except OSError:   # reset
        return True


@contextmanager
def connections(base: str, count: int, first: bytes):
    socks = []
    try:
        for _ in range(count):
            sock = socket.create_connection(address(base), timeout=10)
            socks.append(sock)
            try:
                sock.sendall(first)
            except OSError:
                pass   # closed already to make room
        yield socks
    finally:
        for sock in socks:
            sock.close()


def serve(tmp_path, broker, room_id, **web):
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS[:1], **PLACES,
                             web={"host": "127.0.0.1", "port": 0, "pin": PIN, **web})
    return App(config, catalogue, audio=False).start()


def test_calm_started_early_runs_flask_only_once_the_core_has_done_it(served, lamp):
    """Calm's work starts on the server's I/O thread as the request is read (http.EarlyCalm); Flask runs the
    view on calm's thread only once that work is done, so that it does not hold the interpreter while the core
    publishes (webapp.server Channel.service). Here the core is kept busy for a moment: the view starts after
    it is free again and the lamp has calm, and the answer is calm's."""
    busy, view_started = threading.Event(), []
    request_started.connect(lambda sender, **extra: view_started.append(time.monotonic()), served.app.flask,
                            weak=False)
    served.app.loop.submit(busy.wait, 10)   # ordinary work: the urgent calm runs right after it
    answer: list[requests.Response] = []
    press = threading.Thread(target=lambda: answer.append(
        requests.post(f"{served.base}/api/presets/calm", headers=AUTH, timeout=30)))
    press.start()
    time.sleep(0.3)
    freed = time.monotonic()
    busy.set()
    press.join(30)
    assert answer[0].status_code == 200 and answer[0].json() == {"preset": "calm"}
    assert view_started and view_started[0] > freed
    assert json.loads(lamp.wait_for(lambda m: CALM in m.payload, 10).payload)["brightness"] == 38


def test_other_requests_wait_for_calms_work_but_not_for_a_stuck_core(served):
    """While urgent work waits or runs on the core, the server reads and runs no other request
    (Loop.yield_to_urgent), so calm has the interpreter to itself; each wait ends after YIELD_LIMIT, so a core
    stuck in urgent work slows the server and stops nothing."""
    hold = threading.Event()
    served.app.loop.submit(lambda: hold.wait(10), urgent=True)
    try:
        started = time.monotonic()
        r = requests.get(f"{served.base}/api/openapi.json", timeout=10)
        took = time.monotonic() - started
        assert r.status_code == 200 and not hold.is_set()   # answered with the core still held
        assert took >= YIELD_LIMIT
    finally:
        hold.set()


@pytest.fixture
def quick_deadline(tmp_path, broker, room_id):
    """A room whose requests must arrive whole within 1 s (web.request_timeout)."""
    app = serve(tmp_path, broker, room_id, request_timeout="1s")
    yield f"http://127.0.0.1:{app.web.port}"
    app.stop()


@pytest.mark.slow
def test_calm_gets_through_200_slow_connections_and_each_is_closed_at_its_deadline(quick_deadline, lamp,
                                                                                   caplog):
    """A partial request each, a header line now and then (slowloris): the server keeps accepting, calm
    from a new client gets through every time, and every slow connection is closed unanswered."""
    base = quick_deadline
    with connections(base, 200, request(base, "GET /api/state HTTP/1.1")) as slow:
        for round_ in range(3):
            calm_from_a_new_client(base, lamp)
            for sock in slow:
                try:
                    sock.sendall(f"X-Slow-{round_}: 1\r\n".encode())
                except OSError:
                    pass
        assert [status(sock) for sock in slow] == [None] * 200   # waits for each to be closed (10 s at most)
    assert not errors(caplog)


@pytest.mark.slow
def test_over_the_overall_limit_the_longest_waiting_connection_is_closed(tmp_path, broker, room_id, lamp):
    app = serve(tmp_path, broker, room_id, max_connections=16)
    base = f"http://127.0.0.1:{app.web.port}"
    try:
        with connections(base, 40, request(base, "GET /api/state HTTP/1.1")) as slow:
            calm_from_a_new_client(base, lamp)
            open_ = [sock for sock in slow if not closed_by_server(sock)]
            # within the limit, the newest kept (connections accepted in one read of the listener may have
            # waited equally long, so which of the older ones went first is not asserted)
            assert len(open_) < 16 and slow[-1] in open_
    finally:
        app.stop()


def errors(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_the_rooms_tls_proxy_is_not_held_to_one_clients_limit(tmp_path, broker, room_id):
    """Every tablet comes through the proxy (web.trusted_proxy), from its one address."""
    app = serve(tmp_path, broker, room_id, trusted_proxy="127.0.0.1")
    base = f"http://127.0.0.1:{app.web.port}"
    try:
        count = DEFAULTS.max_connections_per_client + 8
        with connections(base, count, request(base, "GET /api/health HTTP/1.1") + b"\r\n") as proxied:
            assert [status(sock) for sock in proxied] == [200] * count
    finally:
        app.stop()


@pytest.mark.slow
def test_a_request_that_trickles_in_is_closed_at_its_deadline(quick_deadline):
    """However often a header line comes, the request must be whole within web.request_timeout."""
    with connections(quick_deadline, 1, request(quick_deadline, "GET /api/state HTTP/1.1")) as (sock,):
        for n in range(100):   # a header line every 0.1 s keeps the connection active, for 10 s at most
            try:
                sock.sendall(f"X-Slow-{n}: 1\r\n".encode())
            except OSError:
                break
            if closed_by_server(sock):
                break
            time.sleep(0.1)
        assert closed_by_server(sock)
    assert requests.get(f"{quick_deadline}/api/health", timeout=10).status_code == 200


@pytest.mark.slow
def test_calm_gets_through_300_held_event_streams(served, lamp, caplog):
    """300 streams asked for with one login from one address: that login gets its share of streams, the
    rest of its first connections a 503, the connections past the address's limit no answer at all; calm
    from a new client at the same address gets through, and another device can still follow live."""
    login = requests.post(f"{served.base}/api/login", json={"pin": PIN}, timeout=10)
    cookie = login.cookies["room_panel"]
    ask = request(served.base, "GET /api/events HTTP/1.1") + f"Cookie: room_panel={cookie}\r\n\r\n".encode()
    streams = served.app.flask.extensions["event_streams"]
    with connections(served.base, 300, ask) as held:
        calm_from_a_new_client(served.base, lamp)
        assert streams.count <= DEFAULTS.max_event_streams_per_login
        with socket.create_connection(address(served.base), 10, ("127.0.0.2", 0)) as other:   # another device
            other.sendall(request(served.base, "GET /api/events HTTP/1.1")
                          + f"Authorization: {AUTH['Authorization']}\r\n\r\n".encode())
            assert status(other) == 200
        calm_from_a_new_client(served.base, lamp)
        answers = [status(sock) for sock in held]
    assert answers.count(200) <= DEFAULTS.max_event_streams_per_login
    assert set(answers) <= {200, 503, None}
    assert not errors(caplog)


def status(sock: socket.socket) -> int | None:
    """The status the server answered on this connection (None when it closed it unanswered)."""
    sock.settimeout(10)
    data = b""
    try:
        while b"\r\n" not in data:
            more = sock.recv(4096)
            if not more:
                break
            data += more
    except OSError:
        pass
    return int(data.split(b" ", 2)[1]) if b"\r\n" in data else None


@pytest.mark.slow
def test_an_unterminated_chunk_size_line_is_refused_and_calm_gets_through(served, lamp, caplog):
    head = request(served.base, "POST /api/notes HTTP/1.1") + (b"Content-Type: application/json\r\n"
                                                                b"Transfer-Encoding: chunked\r\n\r\n")
    with connections(served.base, 2, head) as pair:
        for _ in range(64):   # 64 KiB of chunk size, in 1 KiB pieces, and never a line end
            for sock in pair:
                try:
                    sock.sendall(b"f" * 1024)
                except OSError:
                    pass
        calm_from_a_new_client(served.base, lamp)
        assert [status(sock) for sock in pair] == [400, 400]
        assert all(closed_by_server(sock) for sock in pair)
    assert not errors(caplog)


def nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


BODY_ROUTES_PROBE = {"name": "calm", "light_id": "ceiling", "session_id": "1", "event_id": "1",
                     "reminder_id": "1", "profile_id": "psilocybin-8h"}


def body_routes(base: str) -> list[tuple[str, str]]:
    spec = requests.get(f"{base}/api/openapi.json", timeout=10).json()
    routes = [(method, re.sub(r"\{(\w+)\}", lambda m: BODY_ROUTES_PROBE.get(m.group(1), "1"), path))
              for path, operations in spec["paths"].items() for method, operation in operations.items()
              if "requestBody" in operation]
    assert ("post", "/api/login") in routes and len(routes) >= 10
    return routes


@pytest.mark.slow
@pytest.mark.parametrize("body", [b"[" * 60_000, nested(MAX_JSON_DEPTH + 1), b'{"pin": ' + b"[" * 5000])
def test_deeply_nested_json_is_a_clear_400_on_every_route_with_a_body(served, lamp, caplog, body):
    """Also on the login, which needs no credentials; the room is untouched and nothing is logged as an
    error (before: a 500 and a RecursionError's traceback)."""
    before = served.fingerprint()
    for method, path in body_routes(served.base):
        r = requests.request(method, f"{served.base}{path}", data=body, timeout=10,
                             headers={**AUTH, "Content-Type": "application/json"})
        assert r.status_code == 400, (method, path, r.text)
        assert r.json()["error"] == {"code": "too_deep", "message": f"the JSON body nests deeper than "
                                     f"{MAX_JSON_DEPTH} levels of arrays and objects"}
    assert served.fingerprint() == before
    assert not errors(caplog)
    calm_from_a_new_client(served.base, lamp)


@pytest.mark.slow
def test_json_as_deep_as_allowed_still_reaches_validation(served):
    r = requests.post(f"{served.base}/api/login", data=nested(MAX_JSON_DEPTH - 1), timeout=10,
                      headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid")


# -- the pure rules ------------------------------------------------------------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                    max_leaves=30)


def depth_of(value) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    return 0


@pytest.mark.slow
@given(JSON, st.integers(0, 40), st.booleans())
def test_too_deep_is_the_depth_of_arrays_and_objects(value, limit, ascii_only):
    """Brackets and escaped quotes inside strings do not count; what is not too deep is the document."""
    raw = json.dumps(value, ensure_ascii=ascii_only).encode()
    if depth_of(value) > limit:
        with pytest.raises(TooDeep):
            parse_json(raw, limit)
    else:
        assert parse_json(raw, limit) == value


@pytest.mark.slow
@given(st.lists(st.sampled_from([b"[", b"]", b"{", b"}", b'"', b"\\", b",", b":", b"1", b'"a"']), max_size=300),
       st.integers(0, 40))
def test_any_body_is_too_deep_not_json_or_within_the_limit(parts, limit):
    """Broken JSON too: never a RecursionError or any other error."""
    raw = b"".join(parts)
    try:
        value = parse_json(raw, limit)
    except (TooDeep, ValueError):
        return
    assert depth_of(value) <= limit


@pytest.mark.slow
@pytest.mark.parametrize("body", ["{\"pin\": \"1\"}".encode("utf-16"), b'{"pin": NaN}', b'{"pin": Infinity}',
                                  b'{"pin": "\xff"}', b'{"pin": "' + b'\\"' * 30_000])
def test_a_body_that_is_not_json_in_utf_8_is_a_400_at_once(served, body):
    """The last: an unterminated string of escaped quotes, which a scan that tried each quote as a string's
    start read in quadratic time (11.7 s for these 60 KiB)."""
    r = requests.post(f"{served.base}/api/login", data=body, timeout=10, headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "bad_json")


CONNS = st.builds(Conn, st.booleans(), st.none() | st.floats(0, 1e6), st.floats(0, 1e6), st.booleans())


@pytest.mark.slow
@given(st.lists(CONNS, max_size=20))
def test_the_connection_closed_to_make_room_is_never_busy_and_has_waited_longest(conns):
    chosen = victim(enumerate(conns))
    free = [c for c in conns if not c.busy]
    if not free:
        assert chosen is None
        return
    pick = conns[chosen]
    assert not pick.busy
    partial = [c.partial_since for c in free if c.partial_since is not None]
    idle = [c.idle_since for c in free if c.partial_since is None and c.spoke]
    if partial:
        assert pick.partial_since == min(partial)
    elif idle:   # idle after a request before one that has not been read yet
        assert pick.spoke and pick.idle_since == min(idle)
    else:
        assert pick.idle_since == min(c.idle_since for c in free)
