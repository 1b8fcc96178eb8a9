"""The WSGI server (waitress) in a thread of its own, sized so open panels never delay a preset."""

from __future__ import annotations

import logging
import threading

from waitress.server import create_server

log = logging.getLogger(__name__)


class WebServer:
    def __init__(self, app, host: str, port: int, threads: int) -> None:
        self._server = create_server(app, host=host, port=port, threads=threads,
                                     channel_timeout=120, connection_limit=200, clear_untrusted_proxy_headers=True)
        self._thread: threading.Thread | None = None

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
        self._server.close()
        if self._thread:
            self._thread.join(5)
