#!/usr/bin/env bash
# Installs what the room controller needs on Debian 12 / Raspberry Pi OS (bookworm) or newer:
#   - system packages, with apt (needs root; asks through sudo when run as a user):
#       mosquitto (the MQTT broker), libvlc with its plugins (music), sox (demo tracks), python3-venv,
#       libebur128 (a track's loudness, EBU R128)
#   - a virtual environment in .venv with the package and its test tools (nothing outside this folder)
#   - with --test, what the test suite needs besides: Chromium and its driver for the panel's browser tests,
#     WebKitGTK's driver and Xvfb (the engine of iPads, on a virtual screen),
#     JACK and ALSA's jack plugin to capture the music the tests play,
#     npm and axe-core (in tests/web/node_modules) for the accessibility check
#     and the real Zigbee2MQTT converters (zigbee-herdsman-converters, in tests/devices/z2m/node_modules),
#     Caddy for the HTTPS test (tests/deploy: it runs as this user on high loopback ports, never as a service)
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(mosquitto mosquitto-clients libvlc5 libvlc-bin vlc-plugin-base sox python3-venv libebur128-1)
if [ "${1:-}" = "--test" ]; then
  packages+=(chromium chromium-driver webkit2gtk-driver xvfb jackd2 libasound2-plugins caddy openssl)
  command -v npm >/dev/null || packages+=(npm)   # a Node.js from elsewhere brings its own npm
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing system packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [[ " ${missing[*]} " == *" caddy "* ]]; then   # Debian starts it on port 80; the tests run their own
    $sudo systemctl disable --now caddy >/dev/null 2>&1 || true
  fi
fi
# libvlc loads ~400 plugins at every start without its plugin cache: keep the cache built.
for gen in /usr/lib/*/vlc/vlc-cache-gen; do
  [ -x "$gen" ] && { [ "$(id -u)" -eq 0 ] && "$gen" "$(dirname "$gen")/plugins" >/dev/null 2>&1 || true; }
done

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -c constraints.txt -e ".[test]"   # the tested versions
.venv/bin/python playlists/make_demo.py   # calm demo tracks (sox), not kept in the repository
if [ "${1:-}" = "--test" ] && [ ! -f tests/web/node_modules/axe-core/axe.min.js ]; then
  npm install --prefix tests/web --no-save --no-audit --no-fund --silent axe-core@4 >/dev/null
fi
if [ "${1:-}" = "--test" ]; then   # the real Zigbee2MQTT converters, at the version tests/devices/z2m pins
  npm ci --prefix tests/devices/z2m --no-audit --no-fund --silent >/dev/null
fi
if [[ " $* " == *" --homeassistant "* ]] && [ ! -x .venv-ha/bin/hass ]; then
  # Home Assistant Core for tests/homeassistant, in a venv of its own: it needs Python 3.13 or newer.
  # 2025.4.4 is the newest release that installs on Python 3.13.0; its frontend and MQTT client as it pins them.
  ha_python=""
  for candidate in python3.13 python3.14 "$(pyenv root 2>/dev/null || echo ~/.pyenv)"/versions/3.1[3-9]*/bin/python; do
    "$candidate" -c 'import sys; assert sys.version_info >= (3, 13)' 2>/dev/null && ha_python=$candidate
  done
  if [ -z "$ha_python" ]; then
    echo "--homeassistant: no Python 3.13 or newer found (python3.13 or pyenv): tests/homeassistant will skip (and fail in CI)" >&2
  else
    "$ha_python" -m venv .venv-ha   # the venv writes its own .gitignore
    .venv-ha/bin/python -m pip install -q homeassistant==2025.4.4 home-assistant-frontend==20250411.0 paho-mqtt==2.1.0
  fi
fi
echo "ready: .venv/bin/room-controller"
