#!/usr/bin/env bash
# Makes the room's own certificate authority, once: the tablets trust it, so an existing one is never
# replaced (delete DIR's files to start again; every tablet must then trust the new one).
#   deploy/tls/make-ca.sh DIR "CA NAME" NAME-OR-ADDRESS...
# DIR gets room-ca.key (0640, readable by the group of DIR: Caddy's) and room-ca.crt (public, 0644).
# Caddy (deploy/Caddyfile) signs its short-lived certificates with it. The CA may only vouch for the names
# and IPv4 addresses given (the room computer's), names under .local, loopback and the private IPv4 ranges:
# a tablet that trusts it trusts nothing else it might sign (name constraints, RFC 5280 section 4.2.1.10).
# It prints the certificate's SHA-256 fingerprint, to compare on the tablet before trusting it.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 DIR 'CA NAME' HOSTNAME..." >&2; exit 2; }
dir=$1 ca_name=$2
shift 2
if [ ! -f "$dir/room-ca.crt" ]; then
  permitted="permitted;DNS:local"
  for name in "$@"; do
    if [[ $name =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]]; then permitted+=",permitted;IP:$name/255.255.255.255"
    else permitted+=",permitted;DNS:$name"; fi
  done
  for net in 127.0.0.0/255.0.0.0 10.0.0.0/255.0.0.0 172.16.0.0/255.240.0.0 192.168.0.0/255.255.0.0; do
    permitted+=",permitted;IP:$net"
  done
  mkdir -p "$dir"
  (umask 027 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 3650 \
    -subj "/CN=$ca_name" -keyout "$dir/room-ca.key" -out "$dir/room-ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:1" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "nameConstraints=critical,$permitted" 2>/dev/null)
  chmod 0640 "$dir/room-ca.key" && chmod 0644 "$dir/room-ca.crt"
fi
openssl x509 -in "$dir/room-ca.crt" -noout -fingerprint -sha256
