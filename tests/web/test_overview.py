"""The clinic overview: two real rooms on one broker, the overview page in Chromium showing both, live —
a preset, a session, a room going down while the other carries on."""

from __future__ import annotations

import textwrap

import requests
from selenium.webdriver.common.by import By

from room_controller.cli import main
from room_controller.integrations.overview import ClinicConfig, Overview
from tests.web.conftest import AUTH, serve
from tests.web.panel import Panel


def card(driver, room_id: str) -> dict:
    node = driver.find_element(By.CSS_SELECTOR, f'[data-room="{room_id}"]')
    return {"status": node.get_attribute("data-status"), "text": node.text.splitlines()}


def test_two_rooms_on_one_broker_show_live_and_independently(tmp_path, own_broker, browser):
    rooms = {}
    for room_id in ("room-a", "room-b"):
        (tmp_path / room_id).mkdir()
        rooms[room_id] = serve(tmp_path / room_id, own_broker, room_id)
    overview = Overview(ClinicConfig.model_validate({
        "mqtt": {"host": own_broker.host, "port": own_broker.port, "base_topic": "therapy-room"},
        "web": {"port": 0}, "overview": {"data_dir": str(tmp_path / "overview")}})).start()
    try:
        page = Panel(browser, f"http://127.0.0.1:{overview.web.port}")
        page.open()
        page.wait(lambda: card(browser, "room-a")["text"] == ["Test room", "Online", "No session", "No preset"] and
                  card(browser, "room-b")["text"] == ["Test room", "Online", "No session", "No preset"],
                  what="both rooms, online and idle")
        page.wait_text("link", "Live")

        a, b = (rooms[r].base for r in ("room-a", "room-b"))
        assert requests.post(f"{a}/api/presets/calm", headers=AUTH).status_code == 200
        page.wait(lambda: card(browser, "room-a")["text"][-1] == "Preset: calm", what="room A calm, live")
        assert requests.post(f"{b}/api/session", headers=AUTH,
                             json={"profile": "ketamine-1h", "label": "K-9"}).status_code == 201
        page.wait(lambda: card(browser, "room-b")["text"][:4] == ["Test room", "Online", "Ketamine, about 1 hour · K-9",
                                                                  "Arrival"], what="room B's session, live")
        page.wait(lambda: card(browser, "room-b")["text"][4].startswith("Session 0:0"), what="its time")

        rooms["room-a"].stop()   # a room goes down: the overview says so, the other room carries on
        page.wait(lambda: card(browser, "room-a") == {
            "status": "offline", "text": ["Test room", "Offline", "No session", "Preset: calm",
                                          "The room controller is offline"]}, what="room A offline")
        page.wait(lambda: card(browser, "room-b")["status"] == "online", what="room B online")  # redrawn as it runs
        assert requests.post(f"{b}/api/presets/calm", headers=AUTH).status_code == 200
        page.wait(lambda: card(browser, "room-b")["text"][-1] == "Preset: calm", what="room B still followed")

        listed = requests.get(f"http://127.0.0.1:{overview.web.port}/api/rooms").json()
        assert (listed["broker"], [(r["id"], r["status"]) for r in listed["rooms"]]) == \
            ("connected", [("room-a", "offline"), ("room-b", "online")])
        assert requests.post(f"http://127.0.0.1:{overview.web.port}/api/rooms").status_code == 405  # it only reads
    finally:
        overview.stop()
        for room in rooms.values():
            room.stop()


def test_a_bad_clinic_config_names_its_line(tmp_path, capsys):
    path = tmp_path / "clinic.yaml"
    path.write_text(textwrap.dedent("""\
        mqtt: {host: 127.0.0.1, base_topic: therapy-room}
        web:
          prot: 8090
        """))
    assert main(["overview", "--config", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{path}:3: web.prot: unknown key 'prot'; did you mean 'port'?"]


def test_an_overview_beyond_this_computer_needs_a_pin(tmp_path, capsys):
    """Its acknowledgement is a change: served on the network, only with the front desk's PIN."""
    path = tmp_path / "clinic.yaml"
    path.write_text("mqtt: {host: 127.0.0.1}\nweb:\n  host: 0.0.0.0\n")
    assert main(["overview", "--config", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{path}:2: web: listening on 0.0.0.0 (beyond this computer) needs a pin: whoever reaches the page could "
        "acknowledge the rooms' alerts"]
