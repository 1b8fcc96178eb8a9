"""Refusals a request can meet anywhere in the room (core, files, journal, session, vitals, audio): a leaf
below them all, as fields and units are; the web layer maps them to 4xx."""


class Refused(Exception):
    status = 400
    code = "bad_request"


class NotFound(Refused):
    status = 404
    code = "not_found"


class Conflict(Refused):
    status = 409
    code = "conflict"


class Invalid(Refused):
    status = 422
    code = "invalid"

    def __init__(self, message: str, fields: list[dict] | None = None) -> None:
        super().__init__(message)
        self.fields = fields   # [{"path": "phases[0].duration", "message": ...}]: shown next to each field


class Busy(Refused):
    """Too much ordinary work is waiting: the caller is told at once rather than left to wait without end."""

    status = 503
    code = "busy"
