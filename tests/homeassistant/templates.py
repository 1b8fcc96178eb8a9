"""Home Assistant's templates rendered the way its MQTT entities render them, with Jinja2 (the engine Home
Assistant's templates are built on, homeassistant/helpers/template.py): `value_json` is the payload parsed as
JSON, `value` the raw payload (or, in a command template, the value sent); `tojson` is compact like Home
Assistant's (orjson) and `round(0, "ceil")` is Jinja2's own round, which Home Assistant's keeps."""

from __future__ import annotations

import json

from jinja2.sandbox import ImmutableSandboxedEnvironment

_ENV = ImmutableSandboxedEnvironment()
_ENV.filters["tojson"] = lambda value: json.dumps(value, separators=(",", ":"))


def value(template: str, payload: str) -> str:
    """What a state or attributes template makes of a message on its topic."""
    return _ENV.from_string(template).render(value=payload, value_json=json.loads(payload)).strip()


def command(template: str, **variables) -> str:
    """What a command template publishes for `value` (select, number) or the light's variables."""
    return _ENV.from_string(template).render(**variables)
