"""OpenAPI 3 description generated from the route table and its pydantic body models."""

from __future__ import annotations

import re

from room_controller import __version__
from room_controller.webapp.routes import Route

ROW_ID_MAX = 2**63 - 1   # SQLite's largest integer: path ids are journal rows

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}


def openapi(routes: list[Route]) -> dict:
    paths: dict[str, dict] = {}
    schemas: dict[str, dict] = {"Error": ERROR}
    for route in routes:
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.path)
        operation: dict = {
            "summary": route.summary,
            "operationId": f"{route.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', path.lower()).strip('_')}",
            "responses": {str(route.status): {"description": "done", "content": {
                "application/json": {"schema": {"type": "object"}}}}},
        }
        ints = set(re.findall(r"<int:(\w+)>", route.path))
        row_id = {"type": "integer", "minimum": 0, "maximum": ROW_ID_MAX}
        params = [{"name": p, "in": "path", "required": True, "schema": row_id if p in ints else {"type": "string"}}
                  for p in re.findall(r"\{(\w+)\}", path)]
        params += [{"name": q, "in": "query", "required": False, "schema": {"type": "string"}} for q in route.query]
        if params:
            operation["parameters"] = params
        if route.body is not None:
            name = route.body.__name__
            schema = route.body.model_json_schema(ref_template="#/components/schemas/{model}")
            for sub, definition in schema.pop("$defs", {}).items():
                schemas[sub] = definition
            schemas[name] = schema
            operation["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{name}"}}}}
        for status, text in (("400", "bad request"), ("401", "not logged in"), ("404", "not found"),
                             ("409", "conflict"), ("422", "invalid")):
            if status == "401" and not route.auth:
                continue
            operation["responses"][status] = {"description": text, "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        if route.auth:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",   # the body schemas are pydantic's JSON Schema 2020-12, as OpenAPI 3.1 uses
        "info": {"title": "Therapy room controller", "version": __version__},
        "paths": paths,
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
