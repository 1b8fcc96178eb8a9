"""What deploy/install.sh puts on a room computer, checked without root and without running it: the broker's
room.conf under Debian's own mosquitto.conf (they once both set persistence_location, and mosquitto refused
to start), and the commands it prints where systemd is not running, against the units they stand in for."""

from __future__ import annotations

import getpass
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.broker import free_port
from tests.deploy.serving import start, stop, wait_until

ROOT = Path(__file__).resolve().parents[2]
INSTALL = (ROOT / "deploy" / "install.sh").read_text()
DEBIAN_MOSQUITTO_CONF = Path("/etc/mosquitto/mosquitto.conf")   # the mosquitto package's, which includes conf.d
DEBIAN_CADDY_UNIT = Path("/lib/systemd/system/caddy.service")


def _unit(text: str) -> dict[str, str]:
    """A unit file's settings (the last of each name)."""
    return dict(line.split("=", 1) for line in text.splitlines() if re.match(r"^[A-Za-z]+=", line))


def _by_hand() -> list[str]:
    """The commands install.sh prints where systemd is not running, with its own variables filled in."""
    message = INSTALL.split("cat <<EOF\n", 1)[1].split("\nEOF\n", 1)[0]
    dest = re.search(r"^dest=(\S+)$", INSTALL, re.M).group(1)
    return [line.strip().replace("$dest", dest) for line in message.splitlines() if line.startswith("  ")]


@pytest.mark.slow
@pytest.mark.skipif(not DEBIAN_MOSQUITTO_CONF.is_file() or shutil.which("mosquitto_pub") is None,
                    reason="mosquitto and mosquitto-clients are not installed (deploy/setup.sh)")
def test_debians_mosquitto_conf_with_the_room_conf_starts_and_admits_only_the_rooms_users(tmp_path):
    """Debian's mosquitto.conf as the package installs it, its files moved into tmp_path; conf.d/room.conf
    as install.sh installs it, on a free loopback port, with a password file made as install.sh makes it."""
    port = free_port()
    moved = {"pid_file": tmp_path / "mosquitto.pid", "persistence_location": f"{tmp_path}/",
             "log_dest": f"file {tmp_path / 'mosquitto.log'}", "include_dir": tmp_path / "conf.d"}
    main = [f"{line.split()[0]} {moved[line.split()[0]]}" if line.split()[:1] and line.split()[0] in moved else line
            for line in DEBIAN_MOSQUITTO_CONF.read_text().splitlines()]
    (tmp_path / "mosquitto.conf").write_text("\n".join(main) + f"\nuser {getpass.getuser()}\n")
    (tmp_path / "conf.d").mkdir()
    room = (ROOT / "deploy" / "mosquitto-room.conf").read_text()
    assert "listener 1883\n" in room and "set_tcp_nodelay true\n" in room and "allow_anonymous false\n" in room
    (tmp_path / "conf.d" / "room.conf").write_text(
        room.replace("listener 1883\n", f"listener {port} 127.0.0.1\n")
        .replace("/etc/mosquitto/room.passwd", str(tmp_path / "room.passwd"))
        .replace("/etc/mosquitto/room.acl", str(ROOT / "deploy" / "mosquitto-room.acl")))
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(tmp_path / "room.passwd"), "room-controller", "pw-0123"],
                   check=True)
    log = tmp_path / "mosquitto.out"
    broker = start(["mosquitto", "-c", str(tmp_path / "mosquitto.conf")], tmp_path, log)
    publish = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", "therapy-room/room-1/state", "-m", "{}"]
    try:
        wait_until(lambda: subprocess.run([*publish, "-u", "room-controller", "-P", "pw-0123"],
                                          capture_output=True, timeout=10).returncode == 0,
                   "a publish by the room's user", broker, log)
        anonymous = subprocess.run(publish, capture_output=True, text=True, timeout=10)
        assert anonymous.returncode != 0 and "not authori" in anonymous.stderr.lower(), anonymous.stderr
    finally:
        assert stop(broker) == 0, log.read_text()


def test_without_systemd_the_room_controller_is_started_as_its_unit_starts_it():
    unit = _unit((ROOT / "deploy" / "room-controller.service").read_text())
    mosquitto, serve, caddy = _by_hand()
    assert "mosquitto -c /etc/mosquitto/mosquitto.conf" in mosquitto
    inner = shlex.split(serve)[-1]          # the sh -c script: the unit's ExecStart under its umask
    assert inner == f"umask {unit['UMask']} && exec {unit['ExecStart']}"
    assert f"--reuid={unit['User']} --regid={unit['Group']} --init-groups" in serve   # and so the audio group
    assert f"HOME=/var/lib/{unit['StateDirectory']}" in serve
    assert "runuser" not in serve           # it stays the parent and kills serve 2 s after a SIGTERM


def test_without_systemd_caddy_is_started_with_its_units_user_rights_and_the_rooms_variables():
    caddy = _by_hand()[2]
    # the variables the Caddyfile needs (those without a default) are the ones systemd's drop-in gets
    needed = set(re.findall(r"\{\$(\w+)\}", (ROOT / "deploy" / "Caddyfile").read_text()))
    assert needed == {"ROOM_SITES"}
    assert "$caddy_env caddy run --config /etc/caddy/Caddyfile" in caddy
    caddy_env = re.search(r'^caddy_env="(.*)"$', INSTALL, re.M).group(1)
    assert re.findall(r'\\"(\w+)=', caddy_env) == ["ROOM_SITES", "ROOM_CA_DIR", "ROOM_UPSTREAM"]
    assert "Environment=%s" in INSTALL and '"$caddy_env" > /etc/systemd/system/caddy.service.d/' in INSTALL
    if DEBIAN_CADDY_UNIT.is_file():
        unit = _unit(DEBIAN_CADDY_UNIT.read_text())
        assert unit["ExecStart"].replace(" --environ", "") == "/usr/bin/caddy run --config /etc/caddy/Caddyfile"
        assert f"--reuid={unit['User']} --regid={unit['Group']}" in caddy
        assert unit["AmbientCapabilities"] == "CAP_NET_BIND_SERVICE"
        assert "--inh-caps=+net_bind_service --ambient-caps=+net_bind_service" in caddy
