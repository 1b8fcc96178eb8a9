"""The room's own files: YAML read with line numbers and bounded, saved atomically with their mode kept,
and the room file rewritten with its comments kept."""
