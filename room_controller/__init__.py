"""Sets a psychedelic-therapy room's light and music for every phase of a session."""

__version__ = "0.1.0"
