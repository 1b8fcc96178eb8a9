"""Where a tablet can reach the demo: this computer's own IPv4 addresses, found without a network call.

The address of the route a packet would take (a UDP socket's `connect` picks it and sends nothing) comes
first, as the one a tablet on the same Wi-Fi most likely shares; then every other interface's address
(Linux's SIOCGIFADDR). Loopback and link-local addresses are left out: a tablet cannot open them.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct

_SIOCGIFADDR = 0x8915          # Linux: an interface's IPv4 address
_SOMEWHERE = ("10.255.255.254", 9)   # any routed address: connect() on UDP only chooses the route


def unspecified(host: str) -> bool:
    """Is `host` every address of this computer (0.0.0.0, ::)?"""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def addresses() -> list[str]:
    """This computer's IPv4 addresses a tablet could open, the routed one first; [] when it has none."""
    found = [*_routed(), *_interfaces()]
    return [a for i, a in enumerate(found) if a not in found[:i] and _reachable(a)]


def _reachable(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not (ip.is_loopback or ip.is_link_local or ip.is_unspecified)


def _routed() -> list[str]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(_SOMEWHERE)
            return [s.getsockname()[0]]
        except OSError:   # no route at all: not on any network
            return []


def _interfaces() -> list[str]:
    try:
        import fcntl
    except ImportError:   # not a Unix
        return []
    out = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _, name in socket.if_nameindex():
            with contextlib.suppress(OSError):   # an interface without an IPv4 address, or not Linux
                answer = fcntl.ioctl(s.fileno(), _SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
                out.append(socket.inet_ntoa(answer[20:24]))
    return out
