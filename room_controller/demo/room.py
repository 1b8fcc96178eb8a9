"""`room-controller demo`: a whole room with no set-up, on this computer alone.

A private mosquitto on a free loopback port, simulated lights of three families, the generated calm music
(silent when the computer has no sound card), the example session profiles, a clinic's day with one booking
twenty minutes ahead (the room prepares for it after five), and the panel, which also shows a picture of the
room. Everything it starts it stops again, the broker by its PID.

With `--host 0.0.0.0` only the panel is served on the network, so a newcomer can try it on a tablet: the
demo prints this computer's addresses a tablet can open, with the PIN. It is plain HTTP (the PIN crosses
the network in clear, the login cookie is not Secure): a trial on the clinic's own Wi-Fi, never a room's
set-up. The broker stays on loopback, so no device on the network can command the demo's lights.
"""

from __future__ import annotations

import errno
import ipaddress
import secrets
import signal
import socket
import sys
import tempfile
import threading
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from room_controller.demo import examples, network
from room_controller.demo.devices import DeviceHub, EspHomeLight, TasmotaLamp, WledStrip, ZigbeeBulb
from room_controller.files.yamlfile import ConfigError
from room_controller.infrastructure.broker import INSTALL_HINT, Broker, free_port
from room_controller.infrastructure.mqtt import MqttLink
from room_controller.webapp.routes import Route

LIGHTS = [
    {"id": "ceiling", "name": "Ceiling", "profile": "zigbee2mqtt", "device": "Ceiling", "capabilities": {"color": False},
     "groups": ["overhead"]},
    {"id": "bedside", "name": "Bedside", "profile": "zigbee2mqtt", "device": "Bedside colour"},
    {"id": "floor", "name": "Floor lamp", "profile": "tasmota", "device": "floorlamp"},
    {"id": "strip", "name": "Shelf strip", "profile": "wled", "device": "shelf", "capabilities": {"segments": 2}},
    {"id": "reading", "name": "Reading lamp", "profile": "esphome", "device": "reading/light/lamp",
     "capabilities": {"color_modes": ["rgbww"]}},
    {"id": "window", "name": "Window strip", "profile": "tasmota-rgb", "device": "windowstrip"},
]


LOOPBACK = "127.0.0.1"


def has_sound_card() -> bool:
    try:
        cards = Path("/proc/asound/cards").read_text()
    except OSError:
        return False
    return bool(cards.strip()) and "no soundcards" not in cards


def six_digits(other_than: str = "") -> str:
    """A PIN as a new room should have one (check warns below 6 digits); `other_than`: the admin PIN must
    differ from the therapist's."""
    while (pin := f"{secrets.randbelow(900000) + 100000}") == other_than:
        pass
    return pin


def bind_error(port: int, host: str = LOOPBACK) -> OSError | None:
    """Why the panel could not listen on `host`:`port` (None: it can)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        try:
            s.bind((host, port))
            return None
        except OSError as exc:
            return exc


def run(port: int | None, host: str = LOOPBACK, say=print) -> int:
    """Run the demo until Ctrl-C or SIGTERM. `port` None: 8080 if free, else any free port; `host` the
    panel's address (0.0.0.0: every address of this computer)."""
    from room_controller.app import App
    from room_controller.config import load_room

    refused = bind_error(port or 0, host)
    if refused is not None and refused.errno != errno.EADDRINUSE:
        say(f"cannot serve the panel on {host}: {refused.strerror or refused}; give --host one of this computer's "
            "addresses, or 0.0.0.0 for all of them")
        return 1
    if port is not None and port and refused is not None:
        say(f"port {port} is in use (another demo or service?); choose another with --port, or leave --port "
            "out and the demo picks a free one")
        return 1
    if port is None:
        port = 8080 if bind_error(8080, host) is None else free_port()
        if port != 8080:
            say(f"port 8080 is in use: the panel is on port {port} instead")
    try:
        broker = Broker()
    except RuntimeError:
        say(INSTALL_HINT)
        return 1
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with tempfile.TemporaryDirectory(prefix="room-demo-") as tmp:
        playlists_dir, profiles_dir = _examples(Path(tmp), say)
        hub = DeviceHub([ZigbeeBulb("ceiling", "Ceiling", colour=False), ZigbeeBulb("bedside", "Bedside colour", colour=True),
                         TasmotaLamp("floor", "floorlamp"), WledStrip("strip", "shelf"),
                         EspHomeLight("reading", "reading/light/lamp"), TasmotaLamp("window", "windowstrip", 3)],
                        publish=lambda m: link.publish(m))
        link = MqttLink(broker.host, broker.port, "demo-devices", on_connect=hub.connected, on_message=hub.message)
        pin, token = six_digits(), secrets.token_urlsafe(24)
        admin_pin = six_digits(other_than=pin)   # the clinic tools: profiles and presets
        sound = has_sound_card()
        config = Path(tmp) / "room.yaml"
        booked = _clinic(Path(tmp) / "clinic.yaml")
        config.write_text(yaml.safe_dump({
            "room": {"id": "demo", "name": "Demo room"},
            "mqtt": {"host": broker.host, "port": broker.port},
            "web": {"host": host, "port": port, "pin": pin, "admin_pin": admin_pin, "api_token": token},
            "audio": {"vlc_args": ["--aout=alsa"] if sound else ["--aout=dummy"], "max_volume": 60},
            "lights": LIGHTS,
            "profiles_dir": str(profiles_dir),
            "playlists_dir": str(playlists_dir),
            "data_dir": str(Path(tmp) / "data"),
            "clinic": "clinic.yaml",
        }, sort_keys=False))
        picture = Route("GET", "/api/demo/room", lambda room: hub.picture(), "The demo room's lights as they glow now")
        try:
            room_config, catalogue = load_room(config)
            app = App(room_config, catalogue, routes=(picture,), config_file=config)
        except ConfigError as exc:   # the example profiles as edited in a checkout, say
            say("the demo cannot start: its files have problems")
            for problem in exc.problems:
                say(f"  {problem}")
            broker.close()
            return 1
        broker.start()
        link.subscribe(hub.topics())
        link.start()
        try:
            app.start()
            assert app.web is not None and broker.proc is not None   # both run once started
            here = ("::1" if ":" in host else LOOPBACK) if network.unspecified(host) else host
            say(f"demo room: {_url(here, app.web.port)}   PIN {pin}   clinic tools: admin PIN {admin_pin}")
            _say_network(host, app.web.port, pin, say)
            say(f"API token: {token}")
            say(f"broker: mosquitto on {broker.host}:{broker.port} (pid {broker.proc.pid})")
            say(f"the clinic's day: {BOOKED[1]} booked at {booked:%H:%M}; the room prepares for it "
                f"{PREPARE_AHEAD} ahead (the panel's card), and starts it when you tap Start")
            if not sound:
                say("no sound card here: the music plays silently")
            say("stop with Ctrl-C")
            sys.stdout.flush()
            stop.wait()
        finally:
            app.stop()
            link.stop()
            broker.close()
    return 0


BOOKED = ("psilocybin-8h", "Psilocybin, 8 hours")   # an example profile
BOOKING_IN = 20   # minutes: the room prepares five minutes after the demo starts
PREPARE_AHEAD = "15m"


def _clinic(path: Path) -> datetime:
    """A clinic file with one booking a little ahead (docs/day.md), so the demo shows a day plan at work."""
    start = (datetime.now() + timedelta(minutes=BOOKING_IN)).replace(second=0, microsecond=0)
    path.write_text(yaml.safe_dump({"day": {"prepare_ahead": PREPARE_AHEAD, "bookings": [
        {"room": "demo", "profile": BOOKED[0], "start": f"{start:%Y-%m-%d %H:%M}"}]}}, sort_keys=False))
    return start


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def _say_network(host: str, port: int, pin: str, say) -> None:
    """Where a tablet opens the panel, and what plain HTTP means there; nothing when on loopback only."""
    if _loopback(host):
        return
    if network.unspecified(host):
        found = network.addresses()
        if not found:
            say("this computer has no network address besides loopback, so no tablet can reach the demo: "
                "connect it to the Wi-Fi (or a cable) and start the demo again")
            return
        say(f"on a tablet on this network: {'  or  '.join(_url(a, port) for a in found)}   PIN {pin}")
    say("plain HTTP: the PIN and everything the panel shows cross the network unencrypted; "
        "try the demo only on the clinic's own Wi-Fi")


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _examples(tmp: Path, say) -> tuple[Path, Path]:
    """The demo's playlists and session profiles folders; without its music (no sox, say) it runs on without
    either, and says why: the profiles name the music's playlists."""
    try:
        playlists_dir = examples.playlists(say)
    except examples.Missing as exc:
        say(f"{exc}\nthe demo runs without music and without session profiles (they play its music)")
        return tmp / "playlists", tmp / "profiles"
    try:
        return playlists_dir, examples.profiles(tmp / "profiles")
    except examples.Missing as exc:
        say(f"{exc}\nthe demo runs without session profiles")
        return playlists_dir, tmp / "profiles"
