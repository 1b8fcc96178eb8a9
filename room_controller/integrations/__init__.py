"""The room as a citizen of other systems the clinic runs (Home Assistant)."""
