"""The kinds of alert a room raises, part of the public interface (docs/interface.md, "Alerts").

At the bottom of the house: the room raises them (core/alerts.py), Home Assistant's event entity lists them
and the clinic overview sorts them, and none of those needs the others to know the names.
"""

KINDS = ("emergency_on", "vitals_beyond_limit", "reading_missed", "calm_pressed", "problem", "emergency_off")
URGENT = frozenset({"emergency_on", "vitals_beyond_limit"})   # the floor's sound until someone has seen them
