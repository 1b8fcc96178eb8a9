#!/usr/bin/env bash
# Sets up a Raspberry Pi OS (bookworm) or Debian 12 computer as a room computer. Run as root from a
# checkout of this repository:  sudo deploy/install.sh
# It installs the system packages, copies the code to /opt/room-controller with its own virtual
# environment, creates the `room-controller` user (in the `audio` group), puts an example configuration
# in /etc/room-controller (never overwriting one that is there), configures mosquitto with a password
# file, and enables the service. Run it again to update.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "run as root: sudo $0" >&2; exit 1; }
src="$(cd "$(dirname "$0")/.." && pwd)"
dest=/opt/room-controller

apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  mosquitto mosquitto-clients libvlc5 libvlc-bin vlc-plugin-base sox python3-venv alsa-utils rsync sqlite3 >/dev/null

id room-controller >/dev/null 2>&1 || useradd --system --home-dir /var/lib/room-controller \
  --shell /usr/sbin/nologin --groups audio room-controller

rsync -a --delete --exclude .git --exclude .venv --exclude data "$src/" "$dest/"
[ -x "$dest/.venv/bin/python" ] || python3 -m venv "$dest/.venv"
"$dest/.venv/bin/python" -m pip install -q --upgrade pip
"$dest/.venv/bin/python" -m pip install -q -e "$dest"
"$dest/.venv/bin/python" "$dest/playlists/make_demo.py" >/dev/null

install -d -m 0770 -o root -g room-controller /etc/room-controller   # the preset editor replaces room.yaml here
install -d -m 0770 -o root -g room-controller /etc/room-controller/profiles   # the profile editor saves here
install -d -m 0750 -o room-controller -g room-controller /var/lib/room-controller /var/lib/room-controller/playlists
if [ ! -f /etc/room-controller/room.yaml ]; then
  token="$(head -c 24 /dev/urandom | base64 | tr -d '/+=' )"
  pin="$(shuf -i 1000-9999 -n 1)"
  sed -e "s/change-me-to-a-long-random-string/$token/" -e "s/\"2468\"/\"$pin\"/" \
    -e "s|playlists_dir: .*|playlists_dir: $dest/playlists|" \
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
systemctl restart mosquitto

install -m 0644 "$src/deploy/room-controller.service" /etc/systemd/system/room-controller.service
systemctl daemon-reload
systemctl enable --now room-controller
echo "room controller running: journalctl -u room-controller -f"
