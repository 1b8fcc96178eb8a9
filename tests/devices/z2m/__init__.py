"""The real zigbee-herdsman-converters (npm, the version pinned in package.json) as a test oracle.

`Converters` keeps one `node harness.js` running and sends it JSON lines: what Zigbee2MQTT would publish in
`bridge/devices` for a bulb, and the ZCL commands it would send the bulb for a `<name>/set` payload.
`deploy/setup.sh --test` installs it (npm ci here); without it the tests skip and say so (in CI they fail).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.optional import require

HERE = Path(__file__).resolve().parent
MISSING = ("the real Zigbee2MQTT converters are not installed: run `deploy/setup.sh --test` "
           "(or `npm ci` in tests/devices/z2m)")


@dataclass(frozen=True)
class RealBulb:
    """A bulb as it introduces itself at its Zigbee interview (the converters find its definition from this)."""

    name: str
    model_id: str
    manufacturer_name: str
    manufacturer_id: int
    unfreeze: bool = True   # Zigbee2MQTT's unfreeze_support option (on by default; older versions lack it)

    def spec(self) -> dict:
        return {"name": self.name, "model_id": self.model_id, "manufacturer_name": self.manufacturer_name,
                "manufacturer_id": self.manufacturer_id, "options": {"unfreeze_support": self.unfreeze}}


class Converters:
    def __init__(self) -> None:
        node = shutil.which("node")
        require(node is not None and (HERE / "node_modules" / "zigbee-herdsman-converters").is_dir(), MISSING)
        self._proc = subprocess.Popen([node, str(HERE / "harness.js")], cwd=HERE, stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True)

    def _ask(self, request: dict) -> dict:
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the converters' harness stopped (exit {self._proc.poll()})")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer

    def describe(self, bulb: RealBulb) -> dict:
        """The `definition` Zigbee2MQTT publishes for the bulb in bridge/devices."""
        return self._ask({"op": "describe", "bulb": bulb.spec()})["definition"]

    def bridge_devices(self, *bulbs: RealBulb) -> bytes:
        """A retained bridge/devices payload for these bulbs (the parts of it the room reads, and a few more)."""
        return json.dumps([{"friendly_name": b.name, "ieee_address": f"0x00158d000000{i:04x}", "type": "Router",
                            "supported": True, "interview_state": "SUCCESSFUL", "definition": self.describe(b)}
                           for i, b in enumerate(bulbs)]).encode()

    def set(self, bulb: RealBulb, at: float, payload: dict) -> dict:
        """{"zcl": [{cluster, command, payload}], "state": Zigbee2MQTT's state after it, "errors": [...]}."""
        return self._ask({"op": "set", "bulb": bulb.spec(), "at": at, "payload": payload})

    def close(self) -> None:
        self._proc.stdin.close()
        self._proc.wait(timeout=10)
