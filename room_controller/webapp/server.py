"""The WSGI server (waitress) in a thread of its own, sized so open panels never delay a preset."""

from __future__ import annotations

import logging
import threading

from waitress import wasyncore
from waitress.server import create_server

log = logging.getLogger(__name__)


class WebServer:
    def __init__(self, app, host: str, port: int, threads: int) -> None:
        self._map: dict = {}   # the server's sockets and connections, all closed on stop
        self._server = create_server(app, map=self._map, host=host, port=port, threads=threads,
                                     channel_timeout=120, connection_limit=200, clear_untrusted_proxy_headers=True)
        self._thread: threading.Thread | None = None
        self._streams = app.extensions.get("event_streams")  # open panels' streams end before the server stops

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
        if self._thread and self._thread.is_alive():
            # on the server's own thread: every socket, idle keep-alive connections of open panels too
            self._server.trigger.pull_trigger(lambda: wasyncore.close_all(self._map))
            self._thread.join(5)
        else:
            self._server.close()
