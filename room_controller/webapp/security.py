"""What every answer says to the browser about itself, and where the login's news goes.

The headers keep the panel to its own files: scripts, styles and connections from this room only (the
room has no internet, the panel loads nothing from elsewhere), no framing by another site (clickjacking a
calm or emergency button; the panel itself frames a report beside its Calm), and no guessing a JSON answer to
be HTML. The printable session report's inline `<style>`s (the page's and its vitals') are allowed by their
hashes rather than by 'unsafe-inline': a style left out is blocked, and a reading beyond a limit would look like
the others.
"""

from __future__ import annotations

import base64
import hashlib
import logging

from room_controller.errors import Refused
from room_controller.reporting import html, vitals_report

log = logging.getLogger(__name__)

REPORT_STYLES = (html.CSS, vitals_report.CSS)   # every <style> the report writes
_HASHES = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()}'"
                   for css in REPORT_STYLES)
CSP = ("default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
       f"style-src 'self' {_HASHES}; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'self'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",    # frame-ancestors for browsers that predate it
    "Referrer-Policy": "no-referrer",
}


def security_journal(room):
    """A callback that journals a login's news (a wrong PIN, a lockout, a logout) on the room's core loop,
    without waiting: the login answer never waits on the core."""
    def journal(kind: str, data: dict) -> None:
        try:
            room.loop.submit(lambda: room.emit(kind, **data))
        except Refused as exc:   # the core's queue is full (a flood): the log line stands for the row
            log.warning("%s not journaled (%s): %s", kind, exc, data)
    return journal
