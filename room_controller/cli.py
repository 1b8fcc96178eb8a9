"""`room-controller serve|demo|check|overview`: the command line of docs/interface.md."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from room_controller import __version__
from room_controller.files.yamlfile import ConfigError

EXIT_INVALID = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="room-controller", description="Sets a therapy room's light and music.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="default: INFO for serve (every event, for the journal), WARNING for the demo")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the room service until SIGTERM/SIGINT")
    serve.add_argument("--config", required=True, type=Path, help="the room's YAML configuration")
    demo = commands.add_parser("demo", help="a whole demo room on this computer: broker, lights, music, panel")
    demo.add_argument("--port", type=int, default=None, help="the panel's port (default 8080, or a free one)")
    demo.add_argument("--host", default="127.0.0.1", help="the panel's address: 0.0.0.0 serves it on the network "
                      "for a tablet (plain HTTP: a trial on the clinic's own Wi-Fi only); default 127.0.0.1")
    overview = commands.add_parser("overview", help="every room on the clinic broker on one read-only page, live")
    overview.add_argument("--config", required=True, type=Path, help="the clinic's YAML: mqtt (broker, base_topic), "
                                                                      "web (host, port)")
    check = commands.add_parser("check", help="validate room configs, session and device profiles, playlists")
    check.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args(argv)
    level = args.log_level or ("WARNING" if args.command == "demo" else "INFO")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "check":
        from room_controller.checks import all_clear, check_paths
        problems = check_paths(args.paths)
        for problem in problems:
            print(problem)
        if problems:
            return EXIT_INVALID
        print(all_clear(args.paths))
        return 0
    if args.command == "demo":
        from room_controller.demo.room import run
        return run(args.port, args.host)
    if args.command == "overview":
        return _overview(args.config)
    return _serve(args.config)


def _serve(path: Path) -> int:
    """The room, after the same checks as `check` (every problem said at once, and no start with any): the
    unit needs no check of its own before it, so a restart after a crash costs one interpreter start."""
    from room_controller.app import App
    from room_controller.checks import check_paths
    from room_controller.config import load_room
    from room_controller.infrastructure.systemd import Watchdog, notify
    from room_controller.session.profiles import load_profiles
    problems = check_paths([path])
    if problems:
        return _invalid(ConfigError(problems))
    try:
        config, catalogue = load_room(path)
        profiles = load_profiles(config)
    except ConfigError as exc:
        return _invalid(exc)
    stop = _stop_on_signal()
    app = App(config, catalogue, profiles=profiles, config_file=path)
    try:
        app.start()
    except OSError as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        app.stop()
        return 1
    watchdog = Watchdog(app.loop.alive)
    watchdog.start()
    notify("READY=1")
    try:
        stop.wait()
    finally:
        notify("STOPPING=1")
        watchdog.stop()
        app.stop()
    return 0


def _overview(path: Path) -> int:
    from room_controller.integrations.overview import Overview, load_clinic
    try:
        config = load_clinic(path)
    except ConfigError as exc:
        return _invalid(exc)
    stop = _stop_on_signal()
    try:
        service = Overview(config).start()
    except OSError as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 1
    print(f"clinic overview on http://{service.web.host}:{service.web.port}/", flush=True)
    try:
        stop.wait()
    finally:
        service.stop()
    return 0


def _invalid(exc: ConfigError) -> int:
    for problem in exc.problems:
        print(problem, file=sys.stderr)
    return EXIT_INVALID


def _stop_on_signal() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop
