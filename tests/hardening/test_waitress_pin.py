"""webapp/server.py extends waitress's internal classes, which waitress may change in any release: the
installed waitress is the one pyproject.toml pins (an upper bound, so an upgrade is a decision) and
constraints.txt names, and every internal name the server relies on is there and does what it expects, so
an upgrade fails here, loudly, and not in a session."""

from __future__ import annotations

import inspect
import socket
import threading
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
import requests
from packaging.requirements import Requirement
from packaging.version import Version
from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.receiver import ChunkedReceiver
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher
from waitress.utilities import BadRequest

from room_controller.webapp.server import Channel, Parser, WebServer

ROOT = Path(__file__).resolve().parents[2]


def requirement() -> Requirement:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (pinned,) = [Requirement(d) for d in dependencies if Requirement(d).name == "waitress"]
    return pinned


def test_the_installed_waitress_is_the_pinned_and_tested_one():
    pinned = requirement()
    assert any(spec.operator == "<" for spec in pinned.specifier), "waitress needs an upper bound in pyproject.toml"
    assert Version(version("waitress")) in pinned.specifier
    tested = [line.split("==")[1] for line in (ROOT / "constraints.txt").read_text().splitlines()
              if line.startswith("waitress==")]
    assert tested == [version("waitress")]


@pytest.mark.parametrize(("cls", "names"), [
    (HTTPRequestParser, ["received"]),
    (HTTPChannel, ["parser_class", "received", "readable", "del_channel", "handle_close"]),
    (TcpWSGIServer, ["channel_class", "add_task", "readable", "handle_accept", "maintenance", "handle_error",
                     "run", "close"]),
    (ThreadedTaskDispatcher, ["set_thread_count", "add_task", "shutdown", "start_new_thread"]),
])
def test_the_methods_the_server_overrides_or_calls_exist(cls, names):
    assert [name for name in names if not hasattr(cls, name)] == []


def test_their_signatures_are_the_ones_the_server_uses():
    params = {fn: list(inspect.signature(fn).parameters) for fn in (
        HTTPChannel.__init__, TcpWSGIServer.maintenance, ThreadedTaskDispatcher.start_new_thread,
        ThreadedTaskDispatcher.shutdown, TcpWSGIServer.add_task, wasyncore.close_all)}
    assert params == {HTTPChannel.__init__: ["self", "server", "sock", "addr", "adj", "map"],
                      TcpWSGIServer.maintenance: ["self", "now"],
                      ThreadedTaskDispatcher.start_new_thread: ["self", "target", "thread_no"],
                      ThreadedTaskDispatcher.shutdown: ["self", "cancel_pending", "timeout"],
                      TcpWSGIServer.add_task: ["self", "task"],
                      wasyncore.close_all: ["map", "ignore_all"]}


def test_a_chunked_body_is_read_into_the_fields_the_parser_bounds():
    """Parser.received reads the ChunkedReceiver's unfinished chunk-size line and trailer."""
    parser = Parser(Adjustments())
    data = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + b"f" * 2000
    while data and not parser.completed:   # as waitress's channel feeds it: the head, then the body
        data = data[parser.received(data):]
    assert isinstance(parser.body_rcv, ChunkedReceiver)
    assert (parser.completed, type(parser.error), parser.error.code, parser.error.body) == (
        True, BadRequest, 400, "a chunk-size line is longer than 1024 bytes or a trailer longer than 16384")
    assert parser.body_rcv.trailer == b""


def test_a_request_goes_through_the_servers_own_lanes_and_bookkeeping():
    """waitress hands each read request to Server.add_task, accepts through handle_accept into Channel, and
    runs calm's lane in CalmLane's named threads: a request for the calm lane is answered by one of them."""
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [threading.current_thread().name.encode()]
    app.extensions = {"route_lane": lambda method, path: "calm" if path == "/calm" else None}
    web = WebServer(app, "127.0.0.1", 0, 4)
    web.start()
    try:
        base = f"http://127.0.0.1:{web.port}"
        assert requests.get(f"{base}/calm", timeout=5).text.startswith("web-calm-")
        assert not requests.get(f"{base}/other", timeout=5).text.startswith("web-calm-")
        with socket.create_connection(("127.0.0.1", web.port), timeout=5) as held:
            held.sendall(b"GET /other HTTP/1.1\r\nHost: x\r\n")   # a request begun, not finished
            server = web._server
            for _ in range(100):   # read on the server's I/O thread
                channels = [ch for ch in list(server.active_channels.values()) if isinstance(ch, Channel)]
                if any(ch.request is not None and ch.spoke for ch in channels):
                    break
                threading.Event().wait(0.05)
            (channel,) = [ch for ch in channels if ch.request is not None]
            assert (channel.client, channel.requests, channel.will_close) == ("127.0.0.1", [], False)
            assert channel.started > 0 and channel.last_activity > 0
            assert server.clients["127.0.0.1"] == {channel} and server.next_channel_cleanup > 0
    finally:
        web.stop()
