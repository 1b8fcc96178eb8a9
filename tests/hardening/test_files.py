"""Files that hold secrets or the room's record keep to their owner, and the preset that holds the room
outlives a SIGKILL on a full disk."""

from __future__ import annotations

import os
import stat

import pytest
import requests
import yaml

from room_controller.config import load_room
from room_controller.journal.standing import SLOT, Standing
from room_controller.webapp import roomfile
from tests.broker import free_port
from tests.hardening.conftest import AUTH
from tests.rooms import write_room
from tests.strain.test_faults import fill, small_disk  # noqa: F401 - the 256 KiB tmpfs fixture
from tests.test_recovery import ROOT, Service


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_journal_and_its_wal_are_owner_only(served):
    requests.post(f"{served.base}/api/notes", headers=AUTH, json={"text": "private"})
    served.app.loop.settle()
    journal = served.app.journal.path
    assert {p.name: mode(p) for p in journal.parent.iterdir() if p.name.startswith("journal.db")} == {
        "journal.db": 0o600, "journal.db-wal": 0o600, "journal.db-shm": 0o600}
    assert mode(journal.parent / "standing") == 0o600


def test_a_preset_save_keeps_the_room_files_mode(tmp_path, broker, room_id):
    path = write_room(tmp_path, broker, room_id, [{"id": "ceiling", "profile": "zigbee2mqtt", "device": "C"}])
    os.chmod(path, 0o600)
    config, _ = load_room(path)
    preset = roomfile.validate("reading", {"lights": {"brightness": 60, "kelvin": 3000}}, config)
    with roomfile.LOCK:
        roomfile.RoomFile(path).save("reading", preset)
    assert mode(path) == 0o600 and "reading" in yaml.safe_load(path.read_text())["presets"]
    (backup,) = (path.parent / "backups").iterdir()
    assert mode(backup) == 0o600


def test_standing_takes_the_newest_whole_slot(tmp_path):
    standing = Standing(tmp_path)
    standing.write({"preset": "calm"})        # slot 0
    standing.write({"preset": "emergency"})   # slot 1, the newer
    standing.close()
    assert Standing(tmp_path).state == {"preset": "emergency"}
    with open(tmp_path / "standing", "r+b") as f:   # the newer slot torn half-way, as a power cut might
        f.seek(SLOT + 10)
        f.write(b"\0" * 20)
    assert Standing(tmp_path).state == {"preset": "calm"}
    assert os.path.getsize(tmp_path / "standing") == 2 * SLOT


@pytest.mark.slow
def test_calm_on_when_killed_on_a_full_disk_is_on_after_the_restart(tmp_path, broker, room_id, small_disk):
    port = free_port()
    config = write_room(tmp_path, broker, room_id, [{"id": "ceiling", "profile": "zigbee2mqtt", "device": "C"}],
                        data_dir=str(small_disk), profiles_dir=str(ROOT / "deploy" / "profiles"),
                        playlists_dir=str(ROOT / "playlists"))
    data = yaml.safe_load(config.read_text())
    data["web"]["port"] = port
    config.write_text(yaml.safe_dump(data))
    service = Service(config, port)
    service.start()
    try:
        filler = fill(small_disk)
        for _ in range(40):   # until SQLite's own free pages are used up too
            if service.call("POST", "/api/notes", json={"text": "x" * 500}).status_code == 503:
                break
        assert service.call("POST", "/api/presets/calm").json() == {"preset": "calm"}
        problems = service.call("GET", "/api/state").json()["problems"]
        assert any(p.startswith("the journal cannot be written") for p in problems)   # calm's row is lost
        service.kill()
        filler.unlink()
        service.start()
        assert service.call("GET", "/api/state").json()["preset"] == "calm"
        assert service.call("DELETE", "/api/presets/active").ok
        service.kill()
        service.start()
        assert service.call("GET", "/api/state").json()["preset"] is None
    finally:
        if service.proc.poll() is None:
            service.kill()
