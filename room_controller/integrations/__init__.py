"""The room as a citizen of other systems the clinic runs: Home Assistant, bedside buttons and remotes, and
the clinic's overview of its rooms."""
