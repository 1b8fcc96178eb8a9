"""The Flask application: the only module that imports Flask.

`create_app(room, settings)` turns the route table into views with one behaviour for all of them:
authentication, a JSON body validated by the route's model, the core's refusals as 4xx, and every error
as `{"error": {"code", "message"}}`. A request never reaches the room's state except through the core.
"""

from __future__ import annotations

import logging
from concurrent.futures import TimeoutError as FutureTimeout

from flask import Flask, Response, jsonify, request
from pydantic import ValidationError

from room_controller.config import WebSettings
from room_controller.core.errors import Refused
from room_controller.core.room import Room
from room_controller.webapp.auth import Auth
from room_controller.webapp.openapi import openapi
from room_controller.webapp.routes import ROUTES, Route

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024


def error(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify({"error": {"code": code, "message": message}}), status


def create_app(room: Room, settings: WebSettings) -> Flask:
    app = Flask("room_controller", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    auth = Auth(settings)
    if auth.open:
        log.warning("no pin and no api_token set: the API is open to anyone on this computer")

    for route in ROUTES:
        app.add_url_rule(route.path, f"{route.method} {route.path}", _view(room, auth, route),
                         methods=[route.method])

    @app.get("/api/openapi.json")
    def openapi_json():
        return jsonify(openapi(ROUTES))

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
    def no_cache(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        return response

    return app


def _view(room: Room, auth: Auth, route: Route):
    def view(**params):
        if route.auth and not auth.open and not auth.bearer_ok(request.headers.get("Authorization")):
            return error(401, "unauthorized", "log in with the PIN or send Authorization: Bearer <api_token>")
        args = dict(params)
        if route.body is not None:
            if not request.is_json:
                return error(415, "unsupported_media_type", "send a JSON body with Content-Type: application/json")
            data = request.get_json(silent=True)
            if not isinstance(data, dict):
                return error(400, "bad_json", "the body must be a JSON object")
            try:
                args["body"] = route.body.model_validate(data)
            except ValidationError as exc:
                return error(422, "invalid", _describe(exc))
        try:
            result = route.handler(room, **args)
        except Refused as exc:
            return error(exc.status, exc.code, str(exc))
        except FutureTimeout:
            log.error("the room core did not answer %s %s in time", request.method, request.path)
            return error(503, "busy", "the room did not answer in time; try again")
        if isinstance(result, bytes):  # already JSON (the state snapshot, serialised once per change)
            return Response(result, route.status, mimetype="application/json")
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
