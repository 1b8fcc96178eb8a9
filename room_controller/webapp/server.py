"""The WSGI server (waitress) in a thread of its own, with a front that holds and a lane of its own for calm.

waitress reads every connection on one I/O thread and runs requests on a thread pool. Out of the box a
crowd of slow or idle connections stops it accepting (at `connection_limit`) and a long chunk-size line is
re-copied on every read, so this module (the only one that imports waitress) changes four things:

- **Calm's lane**: calm, emergency and release (the app's `route_lane`) run on threads of their own,
  dispatched as soon as the request is read: a pool busy with streams, reports or a backlog cannot hold it.
- **Accept always**: the listener never pauses. A connection accepted while its client holds more than
  `max_connections_per_client` is on probation: it may press calm or log in, anything else is held
  unanswered until its deadline. Over `max_connections` in all, the connection that has waited longest
  without a whole request (else the longest idle) is closed, never one with a request queued or running.
- **A deadline per request**: its line, headers and body must arrive within `request_timeout`, however
  slowly they trickle (a slowloris resets an idle timer, never this one).
- **Bounded input**: headers, bodies, chunk-size lines and trailers have a size limit; past it, a 400/413.

docs/calm-lane.md says why calm gets through and where each limit comes from.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, wait
from dataclasses import dataclass
from typing import TypeVar

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.receiver import ChunkedReceiver
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher
from waitress.utilities import BadRequest

from room_controller.config import WebSettings

log = logging.getLogger(__name__)
C = TypeVar("C")   # a connection, whatever victim() is handed

MAX_HEADER = 16 * 1024      # request line and headers: a panel's cookie and CSRF header fit many times over
MAX_CHUNK_LINE = 1024       # a chunk-size line (hex size and extensions); waitress's own comment says 1024
IDLE_TIMEOUT = 60           # a keep-alive connection with nothing asked (waitress's channel_timeout)
CHECK_EVERY = 1             # how often deadlines are looked at (waitress's cleanup_interval), in seconds
ACCEPTS_PER_WAKE = 16       # connections taken from the listen queue each time it is ready
EARLY_WAIT = 1.0            # seconds calm's thread waits for work started early before running Flask anyway

Lanes = Callable[[str, str], "str | None"]   # (method, path) -> "calm", "login" or None (webapp.http._route_lane)


class Parser(HTTPRequestParser):
    """waitress's parser with a bound on a chunk-size line and on the trailer, which it re-copies on
    every read until its line ends (waitress/receiver.py, ChunkedReceiver.received)."""

    completed: bool   # waitress's (untyped) parser sets it

    def received(self, data: bytes) -> int:
        consumed = super().received(data)
        body = self.body_rcv
        if not self.completed and isinstance(body, ChunkedReceiver) and (
                len(body.control_line) > MAX_CHUNK_LINE or len(body.trailer) > MAX_HEADER):
            self.error = BadRequest(f"a chunk-size line is longer than {MAX_CHUNK_LINE} bytes or a trailer "
                                    f"longer than {MAX_HEADER}")
            self.completed = True
        return consumed


class Channel(HTTPChannel):
    """One client connection: when its current request began (for the deadline), whether it has spoken,
    and whether it is on probation (its client over its limit)."""

    parser_class = Parser
    started = 0.0   # monotonic time the request being read began
    spoke = False   # has anything been read from it yet
    probation = False   # accepted while its client was at its limit: it may only ask for calm or log in
    held = False        # on probation, it asked for something else: left unanswered until its deadline
    early: Future | None = None   # calm's work started for the request just read (Server._start_early)
    lane: str | None = None       # the server's lane of the request just read (Server.add_task)

    def __init__(self, server: Server, sock, addr, adj, map=None) -> None:
        super().__init__(server, sock, addr, adj, map=map)
        self.client = str(addr[0]) if isinstance(addr, tuple) else str(addr)
        server.clients.setdefault(self.client, set()).add(self)
        server.newest = self

    def read_now(self) -> None:
        """Read what came with the connection (usually the whole request: a client sends it at once), so
        that calm is dispatched on accept, before the connection could be chosen to make room."""
        try:
            data = self.socket.recv(self.adj.recv_bytes)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.handle_close()
            return
        self.last_activity = time.time()
        self.received(data)

    def received(self, data: bytes) -> bool:
        self.spoke = True
        before = self.request
        result = super().received(data)
        if self.request is not None and self.request is not before:   # a new request began in this data
            self.started = time.monotonic()
        return result

    def readable(self) -> bool:
        return not self.held and super().readable()

    def service(self) -> None:
        """Calm first. On a thread of calm's lane, Flask runs only once calm's work started early is done: the
        view answers from that work anyway, and running Flask meanwhile would hold the interpreter the core
        needs to publish (a thread that wants it back waits up to the switch interval, 5 ms: bench/peer.py).
        Any request but calm's starts only once no urgent work waits or runs (`Server.calm_first`)."""
        early, self.early = self.early, None
        if early is not None:
            wait([early], EARLY_WAIT)
        elif self.lane != "calm":   # and any other request waits while calm's work is under way
            self.server.calm_first()
        super().service()

    def del_channel(self, map=None) -> None:
        super().del_channel(map)
        mine = self.server.clients.get(getattr(self, "client", None))
        if mine is not None:
            mine.discard(self)
            if not mine:
                del self.server.clients[self.client]


@dataclass(frozen=True)
class Conn:
    """What the choice of a connection to close looks at (pure data, so the rule is tested on its own)."""

    busy: bool              # a request of it is queued or running: never closed for a newcomer
    partial_since: float | None   # reading a request since then (monotonic)
    idle_since: float       # last activity (wall clock, as waitress keeps it; only compared with its kind)
    spoke: bool = True      # False: accepted, nothing read yet


def victim(conns: Iterable[tuple[C, Conn]]) -> C | None:
    """The connection to close to make room: the one reading a request the longest, else the longest idle
    after a request, else the oldest that has sent nothing yet (its request may be on its way: calm); never
    a busy one. None when all are busy."""
    def rank(item):
        conn = item[1]
        if conn.partial_since is not None:
            return 0, conn.partial_since
        return (1 if conn.spoke else 2), conn.idle_since
    free = [item for item in conns if not item[1].busy]
    return min(free, key=rank)[0] if free else None


class Server(TcpWSGIServer):
    """waitress's TCP server with calm's own thread pool, limits that close the least useful connection
    instead of pausing the listener, and the request deadline."""

    next_channel_cleanup: float   # waitress's (untyped) server sets it
    channel_class = Channel

    def __init__(self, app, *, settings: WebSettings, lanes: Lanes, calm: ThreadedTaskDispatcher, early=None,
                 calm_first: Callable[[], None] = lambda: None, **kw) -> None:
        """`early`: calm's work started as a request is read (http.EarlyCalm); `calm_first`: returns once no
        urgent work waits or runs on the room's core (Loop.yield_to_urgent), called before other work."""
        self.clients: dict[str, set[Channel]] = {}
        self.settings = settings
        self.lanes = lanes
        self.calm = calm
        self.early = early
        self.calm_first = calm_first
        self.closed_for_room = 0    # connections closed to make room since the last warning
        self.held = 0               # requests of connections on probation left unanswered, since then
        self.newest: Channel | None = None
        super().__init__(app, **kw)

    # -- calm's lane -------------------------------------------------------------------------------------------

    def add_task(self, channel: Channel) -> None:
        """Called (by waitress, with the channel's requests lock held) when a request is fully read. A
        connection on probation that asks for anything but calm or the login is held: not read further,
        not answered, closed at its request deadline. That costs nothing meanwhile, where closing it at
        once would only have it reconnect at once, round and round through the listen queue calm waits in."""
        request = channel.requests[0]
        lane = channel.lane = self.lanes(request.command, request.path) if request.error is None else None
        if lane == "calm":
            if self.early is not None:
                self._start_early(channel, request)
            self.calm.add_task(channel)
        elif channel.probation and lane != "login":
            channel.requests.clear()
            channel.held, channel.started = True, time.monotonic()
            self.held += 1
        else:
            self.task_dispatcher.add_task(channel)

    def _start_early(self, channel: Channel, request) -> None:
        """Calm's work begins now, on this thread, if the app says the request may have it (http.EarlyCalm)."""
        try:
            addr, port = channel.addr[:2] if isinstance(channel.addr, tuple) else (channel.addr, None)
            # the peer as waitress gives it to the app (environ REMOTE_ADDR, REMOTE_PORT), to find it again
            channel.early = self.early.start((str(addr), str(port)), request.command, request.path,
                                             request.headers)
        except Exception:   # never the I/O thread's end: the view does the work the usual way
            log.exception("calm's early start failed; the request goes the usual way")

    # -- accepting -------------------------------------------------------------------------------------------

    def readable(self) -> bool:
        """Unlike waitress, never stop accepting: room is made in `handle_accept`. Asked once every turn of
        the I/O thread, which first lets calm's work under way finish (`calm_first`): the request that
        started it was read already, and reading others meanwhile would share the interpreter with it."""
        self.calm_first()
        now = time.time()
        if now >= self.next_channel_cleanup:
            self.next_channel_cleanup = now + self.adj.cleanup_interval
            self.maintenance(now)
        return self.accepting

    def handle_accept(self) -> None:
        for _ in range(ACCEPTS_PER_WAKE):
            self.newest = None
            super().handle_accept()
            if self.newest is None:   # nothing was waiting (or accept failed)
                return
            self._make_room(self.newest)
            if self.newest.connected:
                self.newest.read_now()

    def _make_room(self, new: Channel) -> None:
        """After an accept: over its client's limit, the new connection is on probation (not the room's TLS
        proxy's: every client comes through it, and it keeps limits per client of its own); over the overall
        limit, another one is closed."""
        if new.client != self.settings.trusted_proxy and \
                len(self.clients.get(new.client, ())) > self.settings.max_connections_per_client:
            new.probation = True
        if len(self.active_channels) > self.settings.max_connections:
            self._close_one(max(self.clients.values(), key=len), new)

    def _close_one(self, channels: set[Channel], new: Channel) -> None:
        """From `channels`, or if all of them are busy from all, never the one just accepted (it has not
        been read: it may be calm). When every other connection is busy (requests queued or running: they
        end soon) none is closed, and the limit is restored at a later accept."""
        chosen = _victim(ch for ch in channels if ch is not new) or \
            _victim(ch for ch in self.active_channels.values() if ch is not new)
        if chosen is not None:
            self.closed_for_room += 1
            chosen.handle_close()

    def handle_error(self) -> None:
        """A bug in a handler of the listener is logged; the listener stays open (wasyncore would close it)."""
        log.exception("error in the web server's listener; it carries on")

    # -- deadlines -------------------------------------------------------------------------------------------

    def maintenance(self, now: float) -> None:
        """Idle keep-alive connections (waitress) and requests past their deadline are closed."""
        super().maintenance(now)
        cutoff = time.monotonic() - self.settings.request_timeout
        late = 0
        for channel in list(self.active_channels.values()):
            if (channel.request is not None or channel.held) and not channel.requests and channel.started < cutoff:
                channel.will_close = True
                late += 1
        if late or self.closed_for_room or self.held:
            log.warning("closed %d connection(s) past the %g s request deadline and %d over the connection "
                        "limit; held %d request(s) of clients over their limit that asked for neither calm nor "
                        "the login", late, self.settings.request_timeout, self.closed_for_room, self.held)
            self.closed_for_room = self.held = 0


def _victim(channels: Iterable[Channel]) -> Channel | None:
    return victim((ch, Conn(bool(ch.requests), ch.started if ch.request is not None else None, ch.last_activity,
                            ch.spoke)) for ch in channels)


class CalmLane(ThreadedTaskDispatcher):
    """The threads that run only urgent requests (named so in a thread dump)."""

    def start_new_thread(self, target, thread_no) -> None:
        threading.Thread(target=target, name=f"web-calm-{thread_no}", args=(thread_no,), daemon=True).start()


class WebServer:
    """`app.extensions` may carry `web_settings` (the limits) and `route_lane` (calm's lane)."""

    def __init__(self, app, host: str, port: int, threads: int) -> None:
        self._map: dict = {}   # the server's sockets and connections, all closed on stop
        extensions = getattr(app, "extensions", {})
        settings: WebSettings = extensions.get("web_settings") or WebSettings()
        max_body = getattr(app, "config", {}).get("MAX_CONTENT_LENGTH") or 1024 * 1024
        adj = Adjustments(host=host, port=port, threads=threads, channel_timeout=IDLE_TIMEOUT,
                          cleanup_interval=CHECK_EVERY, max_request_header_size=MAX_HEADER,
                          max_request_body_size=max_body + 1, asyncore_use_poll=True,
                          clear_untrusted_proxy_headers=True, **_proxy(settings))
        pool, calm = ThreadedTaskDispatcher(), CalmLane()
        pool.set_thread_count(threads)
        calm.set_thread_count(settings.calm_threads)
        lanes = extensions.get("route_lane") or _no_lane
        # one listener per address the host name gives (as waitress's create_server), sharing map and pools
        servers = [Server(app, settings=settings, lanes=lanes, calm=calm, early=extensions.get("calm_early"),
                          calm_first=extensions.get("calm_first") or (lambda: None), map=self._map, dispatcher=pool,
                          adj=adj, sockinfo=sockinfo) for sockinfo in adj.listen]
        self._server = servers[0]
        self._thread: threading.Thread | None = None
        self._streams = extensions.get("event_streams")  # open panels' streams end before the server stops

    @property
    def port(self) -> int:
        return self._server.effective_port

    @property
    def host(self) -> str:
        return self._server.effective_host

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.run, name="web", daemon=True)
        self._thread.start()
        log.info("panel and API on http://%s:%s/", self.host, self.port)

    def stop(self) -> None:
        if self._streams is not None:
            self._streams.close()
        self._server.task_dispatcher.shutdown(timeout=3)  # requests (and streams) finish before the sockets close
        self._server.calm.shutdown(timeout=1)
        if self._thread and self._thread.is_alive():
            # on the server's own thread: every socket, idle keep-alive connections of open panels too
            self._server.trigger.pull_trigger(lambda: wasyncore.close_all(self._map))
            self._thread.join(5)
        else:
            self._server.close()


def _no_lane(method: str, path: str) -> None:
    return None


def _proxy(settings: WebSettings) -> dict:
    """Behind the room's TLS terminator (deploy/Caddyfile): its X-Forwarded-Proto makes the request HTTPS to
    Flask (a Secure cookie, the Origin check on https://) and X-Forwarded-For names the tablet. From any other
    address waitress drops these headers (`clear_untrusted_proxy_headers`)."""
    if settings.trusted_proxy is None:
        return {}
    return {"trusted_proxy": settings.trusted_proxy, "trusted_proxy_count": 1,
            "trusted_proxy_headers": {"x-forwarded-proto", "x-forwarded-for"}}
