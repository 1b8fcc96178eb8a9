"""Who may change the room: a bearer token for programs (and the panel's login cookie, issue 5).

Secrets are compared in constant time. With neither a PIN nor a token configured the API is open, which
the configuration allows only on a loopback address.
"""

from __future__ import annotations

import hmac

from room_controller.config import WebSettings


class Auth:
    def __init__(self, settings: WebSettings) -> None:
        self._token = settings.api_token.get_secret_value().encode() if settings.api_token else None
        self._pin = settings.pin.get_secret_value().encode() if settings.pin else None

    @property
    def open(self) -> bool:
        return self._token is None and self._pin is None

    def bearer_ok(self, header: str | None) -> bool:
        if self._token is None or not header or not header.startswith("Bearer "):
            return False
        return hmac.compare_digest(header[len("Bearer "):].strip().encode(), self._token)
