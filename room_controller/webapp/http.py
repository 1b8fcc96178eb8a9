"""The Flask application: the only module that imports Flask.

`create_app(room, settings)` turns the route table into views with one behaviour for all of them:
authentication, a JSON body validated by the route's model, the core's refusals as 4xx, and every error
as `{"error": {"code", "message"}}`. A request never reaches the room's state except through the core.
It also serves the therapist's panel: the page and its assets from `web/`, the PIN login that sets the
panel's cookie, and the live event stream. A change sent from another site (a foreign `Origin`) is refused.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from importlib import resources
from pathlib import Path

from flask import Flask, Response, jsonify, request, send_from_directory
from pydantic import Field, ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_cookie
from werkzeug.routing import IntegerConverter, RoutingException
from werkzeug.sansio.utils import get_host

from room_controller.config import WebSettings
from room_controller.core.room import Room
from room_controller.errors import Refused
from room_controller.files.yamlfile import Model
from room_controller.webapp.auth import CSRF_HEADER, SAFE_METHODS, Auth, Denied, PanelLogin, host_allowed
from room_controller.webapp.devices import DEVICE_LIFETIME
from room_controller.webapp.events import EventStreams
from room_controller.webapp.openapi import ROW_ID_MAX, openapi
from room_controller.webapp.reply import Reply
from room_controller.webapp.routes import ROUTES, Body, Route
from room_controller.webapp.security import SECURITY_HEADERS, security_journal

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024
ANSWER_WITHIN = 10.0    # seconds the view waits for calm's work started early (as loop.call waits)
MAX_JSON_DEPTH = 32      # the deepest document the API takes (a preset or a profile) nests about 6 levels
WEB = Path(str(resources.files("room_controller") / "web"))   # package data; in the repository a symlink to web/
mimetypes.add_type("application/manifest+json", ".webmanifest")


class Login(Body):
    pin: str = Field(min_length=1, max_length=64)
    tablet: bool = Field(False, description="this is the room's own tablet: its login never ends for being unused")


def error(status: int, code: str, message: str, fields: list[dict] | None = None) -> tuple[Response, int]:
    """`fields`: per-field problems (`{"path", "message"}`), for a form to show each next to its field."""
    body = {"code": code, "message": message, **({"fields": fields} if fields else {})}
    return jsonify({"error": body}), status


class RowId(IntegerConverter):
    """`<int:...>` in a path is a journal row id: SQLite stops at 2**63 - 1, so a larger one is a 404, not
    an OverflowError (found by the API fuzzing)."""

    def __init__(self, map, *args, **kwargs) -> None:
        super().__init__(map, max=ROW_ID_MAX)


def create_app(room: Room, settings: WebSettings, extra: tuple[Route, ...] = ()) -> Flask:
    """`extra`: routes a mode of the service adds (the demo room's picture)."""
    app = Flask("room_controller", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.url_map.converters["int"] = RowId
    journal = security_journal(room)

    def in_session() -> bool:   # a read of the core's state: an open panel's login holds while a session runs
        return room.session.session is not None

    auth = Auth(settings, room.config.data_dir, journal=journal, clock=room.clock, in_session=in_session)
    admin = Auth(settings, room.config.data_dir, admin=True, journal=journal, clock=room.clock)
    if auth.open:
        log.warning("no pin and no api_token set: the API is open to anyone on this computer")
    streams = EventStreams(room, settings.max_event_streams, settings.threads, settings.max_event_streams_per_login)
    app.extensions["event_streams"] = streams  # closed by the server before it stops (webapp.server)
    app.extensions["web_settings"] = settings  # the server's limits (webapp.server)

    routes = [*ROUTES, *extra]
    for route in routes:
        who = admin if route.admin else auth
        app.add_url_rule(route.path, f"{route.method} {route.path}", _view(room, who, route, lambda: early),
                         methods=[route.method])
    panel = _panel_routes(auth, streams) + _login_routes(admin, "/api/admin", "the clinic tools", "admin PIN",
                                                         admin=True)
    for route in panel:
        who = admin if route.admin else auth
        app.add_url_rule(route.path, f"{route.method} {route.path}", _guarded(who, route), methods=[route.method])
    app.add_url_rule("/", "panel", lambda: send_from_directory(WEB, "index.html"))
    app.add_url_rule("/static/<path:name>", "asset", lambda name: send_from_directory(WEB / "static", name))

    app.extensions["route_lane"] = _route_lane(app, routes + panel)
    early = app.extensions["calm_early"] = EarlyCalm(app, room, auth, settings, routes)
    app.extensions["calm_first"] = room.loop.yield_to_urgent   # the server's other work waits for calm's

    @app.get("/api/openapi.json")
    def openapi_json():
        return jsonify(openapi(routes + panel))

    _guard(app, lambda host: host_allowed(host, settings))
    _same_origin(app)

    @app.errorhandler(404)
    def not_found(exc):
        return error(404, "not_found", f"no such route: {request.method} {request.path}")

    @app.errorhandler(405)
    def not_allowed(exc):
        return error(405, "method_not_allowed", f"{request.method} is not allowed on {request.path}")

    @app.errorhandler(413)
    def too_large(exc):
        return error(413, "too_large", f"request bodies are at most {MAX_BODY} bytes")

    @app.after_request
    def renew(response: Response) -> Response:
        for who in (auth, admin):
            renewed = who.renewal(request.cookies.get(who.cookie_name))
            if renewed and who.cookie_name not in response.headers.get("Set-Cookie", ""):
                _set_cookie(response, who, renewed)
        return response

    return app


class Acknowledge(Body):
    id: str = Field(min_length=1, max_length=200, description="the alert's id, as the room gave it")


def create_overview_app(rooms, max_streams: int, threads: int, host_ok: Callable[[str | None], bool], auth: Auth,
                        acknowledge: Callable[[str], dict | None]) -> Flask:
    """The clinic overview's page (integrations/overview.py): it shows what the rooms publish; its one change is
    an alert's acknowledgement (`acknowledge(id)`: what was sent, or None for no such live alert), behind the
    overview's PIN login and its CSRF token. `host_ok`: the names it answers to, as the panel's
    (auth.host_allowed)."""
    app = Flask("room_overview", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    _guard(app, host_ok)
    _same_origin(app)
    streams = EventStreams(rooms, max_streams, threads)
    app.extensions["event_streams"] = streams
    app.add_url_rule("/", "overview", lambda: send_from_directory(WEB, "overview.html"))
    app.add_url_rule("/static/<path:name>", "asset", lambda name: send_from_directory(WEB / "static", name))
    app.add_url_rule("/api/rooms", "rooms", lambda: Response(rooms.snapshot_json(), mimetype="application/json"))
    app.add_url_rule("/api/events", "events", lambda: _stream(streams, request.remote_addr or ""))

    def ack():
        body = _denied(auth) or _body(Acknowledge)
        if not isinstance(body, Acknowledge):
            return body
        sent = acknowledge(body.id)
        if sent is None:
            return error(404, "unknown_alert", f"no live alert has the id {body.id!r}: acknowledged already, or "
                                               "the overview has not heard of it")
        return jsonify(sent), 202
    app.add_url_rule("/api/alerts/ack", "ack", ack, methods=["POST"])
    for route in _login_routes(auth, "/api", "the overview", "PIN", admin=False):
        app.add_url_rule(route.path, f"{route.method} {route.path}", _guarded(auth, route), methods=[route.method])

    @app.after_request
    def renew(response: Response) -> Response:
        renewed = auth.renewal(request.cookies.get(auth.cookie_name))
        if renewed and auth.cookie_name not in response.headers.get("Set-Cookie", ""):
            _set_cookie(response, auth, renewed)
        return response
    return app


def _same_origin(app: Flask) -> None:
    """A change sent from another site's page (a foreign Origin) is refused."""

    @app.before_request
    def same_origin():
        origin = request.headers.get("Origin")
        if request.method not in SAFE_METHODS and origin and origin != request.host_url.rstrip("/"):
            return error(403, "cross_origin", "changes are accepted only from the panel's own page")


def _guard(app: Flask, host_ok: Callable[[str | None], bool]) -> None:
    """What every page of ours has, the panel's and the clinic overview's: it answers only to its own names
    (a page elsewhere whose name now points here, DNS rebinding, reads nothing), sends the security headers,
    and says every error as `{"error": ...}`: a request it cannot take is a 4xx, a bug a logged 500, never
    Flask's HTML page."""

    @app.before_request
    def own_host():
        if not host_ok(request.host):
            return error(421, "unknown_host", f"this room does not answer to {request.host[:100]!r}; add the name "
                                              "to web.allowed_hosts if the panel is reached by it")

    @app.errorhandler(HTTPException)
    def refused(exc: HTTPException):   # werkzeug's (Flask hands a redirect back before asking here)
        return error(exc.code or 500, exc.name.lower().replace(" ", "_"), exc.description or exc.name)

    @app.errorhandler(Exception)
    def failed(exc: Exception):
        log.error("%s %s failed", request.method, request.path[:200], exc_info=exc)
        return error(500, "internal_error", "the room could not answer this request; its log says why")

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("Cache-Control", "no-store")  # assets say no-cache: revalidate by ETag
        response.headers.update(SECURITY_HEADERS)
        return response


def _route_lane(app: Flask, routes: list[Route]):
    """(method, path) -> "calm" (a route with early work), "login" or None (Route.lane): the server's lanes
    (webapp.server), calm's own threads and what a client at its connection limit may still ask. Asked by the
    server's I/O thread (only there: a MapAdapter is not shared between threads) as soon as a request is read."""
    lanes = {f"{r.method} {r.path}": "calm" if r.early else r.lane for r in routes if r.early or r.lane}
    adapter = app.url_map.bind("localhost")

    def lane(method: str, path: str) -> str | None:
        try:
            endpoint, _ = adapter.match(path, method)
        except (HTTPException, RoutingException):
            return None
        return lanes.get(endpoint)
    return lane


class EarlyCalm:
    """Calm's work (calm, emergency, a release) started on the server's I/O thread the moment the request is
    read, before a thread of calm's lane picks it up to run Flask: the core hears of it one handover sooner,
    which under load is one wait for a processor fewer (bench/peer.py). Only a request that passes the
    very checks Flask makes for it (the Host, the Origin, the token or the cookie and its CSRF header) is
    started early, and only without a TLS proxy in front (its forwarded headers are Flask's to read); the
    view then answers from the work under way instead of starting it. Anything else goes the usual way."""

    STALE = 30.0   # seconds: work started for a request whose view never ran (its client went away)

    def __init__(self, app: Flask, room: Room, auth: Auth, settings: WebSettings, routes: list[Route]) -> None:
        self._adapter = app.url_map.bind("localhost")   # used only on the I/O thread, like _route_lane's
        self._work = {f"{r.method} {r.path}": r.early for r in routes if r.early}
        self._room, self._auth, self._settings = room, auth, settings
        self._lock = threading.Lock()
        self._started: dict[tuple, list[tuple[float, Future]]] = {}

    def start(self, peer: tuple, method: str, path: str, headers: dict[str, str]) -> Future | None:
        """On the server's I/O thread (webapp.server): `headers` as waitress keeps them (HOST, COOKIE...).
        The work started, or None."""
        host, origin = headers.get("HOST"), headers.get("ORIGIN")
        if self._settings.trusted_proxy is not None or not host_allowed(host, self._settings) or \
                (origin and origin != f"http://{get_host('http', host, None)}"):   # as werkzeug's host_url
            return None
        cookie = parse_cookie(headers.get("COOKIE", "")).get(self._auth.cookie_name)
        if self._auth.check(method, headers.get("AUTHORIZATION"), cookie, headers.get("X_CSRF_TOKEN")) is not None:
            return None
        try:
            endpoint, args = self._adapter.match(path, method)
        except (HTTPException, RoutingException):
            return None
        work = self._work.get(endpoint)
        if work is None:
            return None
        future = work(self._room, **args)
        now = time.monotonic()
        with self._lock:
            for key in [k for k, started in self._started.items() if started[0][0] < now - self.STALE]:
                del self._started[key]
            self._started.setdefault((*peer, method, path), []).append((now, future))
        return future

    def take(self, environ: dict) -> Future | None:
        """In the view: the work started for this request, if it was."""
        key = (environ.get("REMOTE_ADDR"), environ.get("REMOTE_PORT"), environ.get("REQUEST_METHOD"),
               environ.get("PATH_INFO"))
        with self._lock:
            started = self._started.get(key)
            if not started:
                return None
            _, future = started.pop(0)
            if not started:
                del self._started[key]
        return future


_CONTAINERS = (list, dict)   # exactly what json.loads makes of arrays and objects


class TooDeep(Exception):
    """A JSON body whose arrays and objects nest deeper than MAX_JSON_DEPTH."""


def _not_json(word: str) -> None:
    raise ValueError(f"{word} is not a JSON number")


def parse_json(raw: bytes, limit: int):
    """The JSON document in `raw` (UTF-8 only, no NaN or Infinity), or ValueError; TooDeep when its arrays and
    objects nest deeper than `limit`. Python's parser (in C) recurses once per level and gives up at the
    interpreter's recursion limit with RecursionError, as fast as it got there; below it the parsed value's depth
    is walked, only for a body with more brackets than `limit` (counted in C). That costs less than the scan of
    the bytes that ran before every parse did (bench/json_depth.py; the figures in docs/hardening.md)."""
    try:   # UTF-8 only (RFC 8259 8.1): json.loads would also guess UTF-16 or -32 from bytes
        value = json.loads(raw.decode("utf-8"), parse_constant=_not_json)
    except RecursionError:
        raise TooDeep from None
    if raw.count(b"[") + raw.count(b"{") > limit and _deeper(value, limit):
        raise TooDeep
    return value


def _deeper(value, limit: int) -> bool:
    """Do arrays and objects nest deeper than `limit` in this parsed value? Level by level, no recursion: `level`
    holds the values inside that many arrays and objects."""
    level = [value]
    for _ in range(limit):
        level = [child for node in level if type(node) in _CONTAINERS and node
                 for child in (node.values() if type(node) is dict else node)]
        if not level:
            return False
    return any(type(node) in _CONTAINERS for node in level)


def _stream(streams: EventStreams, login: str, follow: Callable[[Iterable[bytes]], Iterable[bytes]] = lambda s: s):
    """`follow`: what the stream is wrapped in (an open panel keeps its login on during a session: Auth.follow)."""
    stream = streams.open(login)
    if stream is None:
        return error(503, "busy", f"at most {streams.limit} pages can follow live at once, "
                                  f"{streams.per_login} of them with one login")
    return Response(follow(stream), mimetype="text/event-stream", headers={"X-Accel-Buffering": "no"})


def _denied(auth: Auth):
    denied = auth.check(request.method, request.headers.get("Authorization"), request.cookies.get(auth.cookie_name),
                        request.headers.get(CSRF_HEADER))
    return None if denied is None else _refusal(denied)


def _refusal(denied: Denied):
    response, status = error(denied.status, denied.code, denied.message)
    if denied.retry_after:
        response.headers["Retry-After"] = str(denied.retry_after)
    return response, status


def _body(model: type[Model]):
    """The request's JSON body validated by `model`, or the error response."""
    if not request.is_json:
        return error(415, "unsupported_media_type", "send a JSON body with Content-Type: application/json")
    try:
        data = parse_json(request.get_data(cache=True), MAX_JSON_DEPTH)
    except TooDeep:
        return error(400, "too_deep", f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels of arrays and "
                                      "objects")
    except ValueError:   # UnicodeDecodeError and JSONDecodeError are ValueErrors
        data = None
    if not isinstance(data, dict):
        return error(400, "bad_json", "the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        return error(422, "invalid", _describe(exc))


def _view(room: Room, auth: Auth, route: Route, early: Callable[[], EarlyCalm]):
    def view(**params):
        denied = route.auth and _denied(auth)
        if denied:
            return denied
        args = dict(params)
        args.update({name: request.args[name] for name in route.query if name in request.args})
        if route.body is not None:
            body = _body(route.body)
            if not isinstance(body, route.body):
                return body
            args["body"] = body
        started = early().take(request.environ) if route.early else None
        if started is None and request.method != "GET" and route.path.startswith(("/api/presets/", "/api/lights")):
            room.intake.note(("http",))   # newer than any preset press still waiting for its source's pace
        try:
            result = started.result(ANSWER_WITHIN) if started is not None else route.handler(room, **args)
        except Refused as exc:
            return error(exc.status, exc.code, str(exc), getattr(exc, "fields", None))
        except FutureTimeout:
            log.error("the room core did not answer %s %s in time", request.method, request.path)
            return error(503, "busy", "the room did not answer in time; try again")
        if isinstance(result, Reply):
            return Response(result.body, route.status, mimetype=result.mimetype)
        return jsonify(result), route.status
    view.__name__ = f"{route.method}_{route.path}"
    return view


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "unknown_key":
            where = ".".join(str(p) for p in err["loc"] + (err["ctx"]["key"],))
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def _guarded(auth: Auth, route: Route):
    def view(**params):
        return (route.auth and _denied(auth)) or route.handler(**params)
    view.__name__ = f"{route.method}_{route.path}"
    return view


def _set_cookie(response: Response, auth: Auth, login: PanelLogin) -> None:
    response.set_cookie(auth.cookie_name, auth.cookie(login), max_age=int(auth.lifetime), path="/", httponly=True,
                        samesite="Strict", secure=request.is_secure)


def _set_device_cookie(response: Response, auth: Auth, value: str) -> None:
    """This browser has logged in (webapp.devices): sent back only to the login, for a year."""
    response.set_cookie(auth.device_cookie, value, max_age=int(DEVICE_LIFETIME), path=auth.device_path,
                        httponly=True, samesite="Strict", secure=request.is_secure)


def _panel_routes(auth: Auth, streams: EventStreams) -> list[Route]:
    """The panel's own routes: they need cookies and streaming, so their views are Flask's."""

    def events():
        login = auth.panel_login(request.cookies.get(auth.cookie_name))
        who = login.nonce if login else "api_token" if auth.bearer_ok(request.headers.get("Authorization")) \
            else request.remote_addr or ""
        return _stream(streams, who, lambda stream: auth.follow(login, stream))

    return [*_login_routes(auth, "/api", "the panel", "PIN", admin=False),
            Route("GET", "/api/events", events, "Server-Sent Events: a `state` event on every change")]


def _login_routes(auth: Auth, base: str, what: str, pin: str, *, admin: bool) -> list[Route]:
    """Log in with a PIN (a cookie, and a CSRF token for changes), see whether logged in, log out."""

    def state(login: PanelLogin | None) -> dict:
        # idle_s: how long the login may go unused before it ends (None: never, the room's tablet)
        return {"authenticated": auth.open or login is not None, "pin": auth.has_pin,
                "csrf": auth.csrf(login) if login else None,
                **({"idle_s": None if login.tablet else auth.idle} if login else {})}

    def login_state():
        login = auth.panel_login(request.cookies.get(auth.cookie_name))
        response = jsonify(state(login))
        device = auth.device_renewal(request.cookies.get(auth.device_cookie)) if login else None
        if device:
            _set_device_cookie(response, auth, device)
        return response

    def login():
        body = _body(Login)
        if not isinstance(body, Login):
            return body
        result = auth.login(body.pin, request.remote_addr or "unknown", body.tablet,
                            request.cookies.get(auth.device_cookie))
        if isinstance(result, Denied):
            return _refusal(result)
        response = jsonify(state(result))
        _set_cookie(response, auth, result)
        _set_device_cookie(response, auth, result.device)
        return response

    def logout():
        auth.logout(request.cookies.get(auth.cookie_name))
        response = jsonify(state(None))
        response.delete_cookie(auth.cookie_name, path="/", httponly=True, samesite="Strict")
        return response

    return [
        Route("GET", f"{base}/login", login_state, f"Whether this browser is logged in to {what}, and its CSRF token",
              auth=False),
        Route("POST", f"{base}/login", login, f"Log in to {what} with the {pin}: sets the login cookie", body=Login,
              auth=False, lane=None if admin else "login"),
        Route("POST", f"{base}/logout", logout, f"Log out of {what}: clears the login cookie", admin=admin),
    ]
