"""Vital signs beside the setting: readings entered on the panel, schedules and limits from the profile,
a live pulse over MQTT. Health data: kept only in the room's journal, shown only behind the PIN or the
api_token, never on the MQTT state topic or in Home Assistant, and never acted on by the room itself."""
