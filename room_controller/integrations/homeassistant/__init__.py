"""Home Assistant: the room as one device, found by MQTT discovery (discovery.py, entities.py, state.py)."""

from room_controller.integrations.homeassistant.discovery import Discovery, reminder_event
from room_controller.integrations.homeassistant.state import state_extras

__all__ = ["Discovery", "reminder_event", "state_extras"]
