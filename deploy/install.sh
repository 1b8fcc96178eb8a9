#!/usr/bin/env bash
# Sets up a Raspberry Pi OS (bookworm) or Debian 12 computer as a room computer. Run as root from a
# checkout of this repository:  sudo deploy/install.sh
# It installs the system packages, builds the package's wheel and installs it (at the versions in
# constraints.txt) into a virtual environment of its own in /opt/room-controller/.venv, creates the
# `room-controller` user (in the `audio` group), puts an example configuration in /etc/room-controller
# (never overwriting one that is there), configures mosquitto with a password file, makes the room's own
# certificate authority and puts Caddy in front for HTTPS, and enables the services. Run it again to update.
# ROOM_SITES="room-1.local, 192.168.1.20" sets the names the tablets use (default: this computer's host
# name, HOST.local and its IPv4 addresses).
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "run as root: sudo $0" >&2; exit 1; }
src="$(cd "$(dirname "$0")/.." && pwd)"
dest=/opt/room-controller
# systemd starts the services. On a computer booted without it (a container, a chroot) everything is put in
# place, nothing is started, and the end says how to start the three services by hand (sd_booted(3)'s test).
systemd=""
[ -d /run/systemd/system ] && systemd=yes

apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  mosquitto mosquitto-clients libvlc5 libvlc-bin vlc-plugin-base sox python3-venv alsa-utils rsync sqlite3 \
  libebur128-1 caddy openssl >/dev/null

id room-controller >/dev/null 2>&1 || useradd --system --home-dir /var/lib/room-controller \
  --shell /usr/sbin/nologin --groups audio room-controller

# The wheel, built from a copy of this checkout (a build leaves nothing in it), installed into its own venv
# at the tested versions; then the same wheel once more, so a rebuilt 0.1.0 replaces the installed one.
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
rsync -a --exclude .git --exclude ".venv*" --exclude data --exclude build --exclude node_modules "$src/" "$build/src/"
# Debian's Python (python3-venv above), not whichever python3 is first on root's PATH (a pyenv under /root):
# the service's user must reach the interpreter the venv links to. A venv on another one is made anew.
python=/usr/bin/python3
grep -qx "home = /usr/bin" "$dest/.venv/pyvenv.cfg" 2>/dev/null && "$dest/.venv/bin/python" -c "" ||
  { rm -rf "$dest/.venv" && "$python" -m venv "$dest/.venv"; }
"$dest/.venv/bin/python" -m pip install -q --upgrade pip
"$dest/.venv/bin/python" -m pip wheel -q --no-deps -w "$build/dist" "$build/src"
"$dest/.venv/bin/python" -m pip install -q -c "$src/constraints.txt" "$build"/dist/room_controller-*.whl
"$dest/.venv/bin/python" -m pip install -q --no-deps --force-reinstall "$build"/dist/room_controller-*.whl
install -m 0644 "$src/deploy/OPERATIONS.md" "$dest/OPERATIONS.md"   # the unit's Documentation=

install -d -m 0770 -o root -g room-controller /etc/room-controller   # the preset editor replaces room.yaml here
install -d -m 0770 -o root -g room-controller /etc/room-controller/profiles   # the profile editor saves here
install -d -m 0750 -o room-controller -g room-controller /var/lib/room-controller /var/lib/room-controller/playlists
if [ -z "$(ls -A /var/lib/room-controller/playlists)" ]; then   # the demo playlists and their generated tracks
  "$python" "$build/src/playlists/make_demo.py" >/dev/null
  cp -r "$build/src/playlists/." /var/lib/room-controller/playlists/
  rm /var/lib/room-controller/playlists/make_demo.py
  chown -R room-controller:room-controller /var/lib/room-controller/playlists
fi
if [ ! -f /etc/room-controller/room.yaml ]; then
  token="$(head -c 24 /dev/urandom | base64 | tr -d '/+=' )"
  pin="$(shuf -i 100000-999999 -n 1)"
  # the panel is on loopback behind Caddy (HTTPS); Caddy's X-Forwarded-Proto and -For are believed
  sed -e "s/change-me-to-a-long-random-string/$token/" -e "s/\"2468\"/\"$pin\"/" \
    -e "s|^  host: 0.0.0.0 .*|  host: 127.0.0.1            # the tablets reach it over HTTPS, through Caddy\n  trusted_proxy: 127.0.0.1|" \
    -e "/^  # trusted_proxy: /d" \
    "$src/deploy/room.example.yaml" > /etc/room-controller/room.yaml
  chgrp room-controller /etc/room-controller/room.yaml && chmod 0640 /etc/room-controller/room.yaml
  cp -n "$src"/deploy/profiles/*.yaml /etc/room-controller/profiles/
  chgrp room-controller /etc/room-controller/profiles/*.yaml && chmod 0660 /etc/room-controller/profiles/*.yaml
  echo "new configuration in /etc/room-controller/room.yaml: panel PIN $pin (change it there)"
fi

install -m 0644 "$src/deploy/mosquitto-room.conf" /etc/mosquitto/conf.d/room.conf
[ -f /etc/mosquitto/room.acl ] || install -m 0644 "$src/deploy/mosquitto-room.acl" /etc/mosquitto/room.acl
if [ ! -f /etc/mosquitto/room.passwd ]; then
  password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
  mosquitto_passwd -c -b /etc/mosquitto/room.passwd room-controller "$password"
  chown mosquitto: /etc/mosquitto/room.passwd && chmod 0600 /etc/mosquitto/room.passwd
  sed -i "s/^mqtt: .*/mqtt: {host: 127.0.0.1, port: 1883, username: room-controller, password: \"$password\", base_topic: therapy-room}/" \
    /etc/room-controller/room.yaml
  echo "mosquitto user room-controller created; add device users with: mosquitto_passwd /etc/mosquitto/room.passwd NAME"
fi
[ -z "$systemd" ] || systemctl restart mosquitto

install -m 0644 "$src/deploy/room-controller.service" /etc/systemd/system/room-controller.service

# HTTPS for the tablets: the room's own CA (made once, kept on updates), Caddy signing with it, in front of
# the panel on 127.0.0.1:8080 (deploy/Caddyfile; deploy/OPERATIONS.md says how a tablet trusts the CA).
host="$(hostname)"
addresses="$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -v ':' | grep . | paste -sd, - | sed 's/,/, /g')"
sites="${ROOM_SITES:-$host.local, $host${addresses:+, $addresses}}"
names="$(echo "$sites" | tr ',' '\n' | tr -d ' ' | grep .)"
install -d -m 0750 -o root -g caddy /etc/caddy/room-ca
# shellcheck disable=SC2086   # one argument per name or address
"$src/deploy/tls/make-ca.sh" /etc/caddy/room-ca "Therapy room $host" $names > "$build/fingerprint"
chgrp caddy /etc/caddy/room-ca/room-ca.key
[ ! -f /etc/caddy/Caddyfile ] || [ -f /etc/caddy/Caddyfile.before-room-controller ] ||
  cp /etc/caddy/Caddyfile /etc/caddy/Caddyfile.before-room-controller   # Debian's example, kept once
install -m 0644 "$src/deploy/Caddyfile" /etc/caddy/Caddyfile
install -d /etc/systemd/system/caddy.service.d
# Caddy's variables, quoted as both systemd's Environment= and a shell command line read them
caddy_env="\"ROOM_SITES=$sites\" \"ROOM_CA_DIR=/etc/caddy/room-ca\" \"ROOM_UPSTREAM=127.0.0.1:8080\""
printf '[Service]\nEnvironment=%s\n' "$caddy_env" > /etc/systemd/system/caddy.service.d/room-controller.conf

grep -q '^ *trusted_proxy: 127.0.0.1' /etc/room-controller/room.yaml || echo "note: /etc/room-controller/room.yaml" \
  "predates HTTPS: set web.host and web.trusted_proxy to 127.0.0.1 (deploy/OPERATIONS.md, HTTPS for the tablets)"
if [ -n "$systemd" ]; then
  systemctl daemon-reload
  systemctl enable caddy room-controller
  systemctl restart caddy room-controller
  echo "room controller running: journalctl -u room-controller -f"
else
  # what mosquitto.service, room-controller.service and caddy.service run, as their users, with their rights;
  # setpriv execs (runuser would stay the parent and SIGKILL the service 2 s after a SIGTERM: too soon)
  cat <<EOF
systemd is not running here (PID 1 is $(cat /proc/1/comm)). Everything is installed, but NO service was
started, restarted or enabled, and nothing will start at boot. Start the three by hand, in this order, each
in a terminal of its own (logs: there, and /var/log/mosquitto); after an update, stop the old ones first:
  install -d -m 0740 -o mosquitto /run/mosquitto /var/log/mosquitto && mosquitto -c /etc/mosquitto/mosquitto.conf
  cd / && setpriv --reuid=room-controller --regid=room-controller --init-groups env HOME=/var/lib/room-controller sh -c 'umask 0027 && exec $dest/.venv/bin/room-controller serve --config /etc/room-controller/room.yaml'
  cd / && setpriv --reuid=caddy --regid=caddy --init-groups --inh-caps=+net_bind_service --ambient-caps=+net_bind_service env HOME=/var/lib/caddy $caddy_env caddy run --config /etc/caddy/Caddyfile
EOF
fi
echo "tablets: trust the room's CA from http://$host.local/room-ca.crt ($(cat "$build/fingerprint")),"
echo "then open https://$host.local/ (names served: $sites)"
