"""Each journal event in words a therapist uses: "Phase Onset began (planned 1 h)", "Calm on", "Track: Warm
drone". Durations rounded for people, file names without their folders, no `key=value`. The raw event stays
in the JSON and CSV exports; this is only how the HTML report says it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import PurePath

from room_controller.i18n import Translator
from room_controller.journal.store import Row

Describe = Callable[[Translator, dict], str]


def preset_name(t: Translator, name: str) -> str:
    """The shipped presets in the room's language; a clinic's own preset by the name it gave it."""
    key = f"preset.{name}"
    return t(key) if t.has(key) else name


def file_name(path: str | None) -> str:
    return PurePath(path or "").stem or "?"


def _phase(t: Translator, d: dict) -> str:
    name = d.get("name", "?")
    if d.get("returned"):
        return t("event.phase_entered_returned", name=name)
    if d.get("recovered"):
        return t("event.phase_entered_recovered", name=name)
    if d.get("planned_s") is None:
        return t("event.phase_entered_open", name=name)
    return t("event.phase_entered", name=name, planned=t.duration(d["planned_s"]))


def _light(t: Translator, d: dict) -> str:
    change = d.get("change") or {}
    parts = []
    if change.get("brightness") is not None:
        parts.append(t("event.part_brightness", percent=t.number(change["brightness"])))
    if change.get("kelvin") is not None:
        parts.append(t("event.part_kelvin", kelvin=t.number(change["kelvin"])))
    if change.get("color") is not None:
        parts.append(t("event.part_colour", colour=change["color"]))
    return t("event.manual_change", what=", ".join(parts) or "—", lights=", ".join(d.get("lights") or []))


def _music(t: Translator, d: dict) -> str:
    if "volume" in d:
        played = d.get("played", d["volume"])   # older records did not say what the room played
        if played < d["volume"]:
            return t("event.volume_held", percent=t.number(played), asked=t.number(d["volume"]))
        return t("event.volume_set", percent=t.number(played))
    if d.get("follow_phase"):
        return t("event.volume_follows")
    if d.get("next"):
        return t("event.next_track")
    return t("event.music_on") if d.get("playing") else t("event.music_paused")


def _moved(t: Translator, d: dict) -> str:
    return t("event.phase_back") if d.get("reason") == "previous" else t("event.phase_next")


def source_name(t: Translator, d: dict) -> str:
    """Where a preset command came from (core/sources.py): the panel, the command topic, or a button's topic."""
    via = d.get("via")
    if via == "button":
        return t("source.button", topic=d.get("source", "?"))
    return t("source.command") if via == "command" else t("source.panel")


def _first_upper(text: str) -> str:
    """A sentence that begins with a source's name ("the command topic ...")."""
    return text[:1].upper() + text[1:]


def _refused(t: Translator, d: dict) -> str:
    if d.get("reason") == "emergency":
        return t("event.preset_refused_emergency", preset=preset_name(t, d.get("preset") or ""))
    if d.get("preset") is None:
        return t("event.release_refused_panel", source=source_name(t, d))
    return t("event.preset_refused_panel", preset=preset_name(t, d["preset"]), source=source_name(t, d))


def phase_clock(seconds: float) -> str:
    """A time within a phase as the panel shows it: 2:48, 1:02:48."""
    s = int(max(0.0, seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _undone(t: Translator, d: dict) -> str:
    """A move taken back: where it had gone, how soon, and where the session went on."""
    key = "event.clock_undone" if d.get("undid") == "clock" else "event.phase_undone"
    return t(key, moved=d.get("moved_to", "?"), after=t.duration(d.get("after_s", 0)), phase=d.get("back_to", "?"),
             time=phase_clock(d.get("phase_elapsed_s", 0)))


def _measures(t: Translator, measures: list[str]) -> str:
    return ", ".join(t(f"vitals.{m}_m") if t.has(f"vitals.{m}_m") else m for m in measures)


def _missed(t: Translator, d: dict) -> str:
    measures = _measures(t, list(d.get("missing") or d.get("measure") or ()))
    if d.get("name"):
        return t("event.vitals_missed_named", name=d["name"], measures=measures)
    return t("event.vitals_missed", measures=measures)


def alert_what(t: Translator, d: dict) -> str:
    """What an alert said, in the report's language, from its kind and detail (its English `what` for a kind
    this report does not know)."""
    kind, detail = d.get("kind", ""), d.get("detail") or {}
    if kind == "vitals_beyond_limit":
        measure = t("alert.live_pulse") if detail.get("live") else _measures(t, [detail.get("measure", "?")])
        side = "below" if detail.get("side") == "below" else "above"
        if detail.get("example"):
            return t(f"alert.example_{side}", measure=measure)
        return t(f"alert.limit_{side}", measure=measure, source=detail.get("limit_source") or "?")
    if kind == "reading_missed":
        return t("alert.reading_missed", measures=_measures(t, list(detail.get("missing") or ())))
    if kind == "problem":
        key = f"alert.{detail.get('problem', '')}"
        return t(key, light=detail.get("label") or detail.get("light", "?")) if t.has(key) else d.get("what", "")
    return t(f"alert.{kind}") if t.has(f"alert.{kind}") else d.get("what", "")


def _alert(t: Translator, d: dict) -> str:
    if d.get("session_s") is None:
        return t("event.alert_raised_now", what=alert_what(t, d))
    return t("event.alert_raised", what=alert_what(t, d), time=t.duration(d["session_s"]))


def _seen(t: Translator, d: dict) -> str:
    """Who saw an alert and when, and what it was: the row names only its kind, so a kind that needs its detail
    is said only beside the alert it acknowledges (`describe`'s `alerts`)."""
    by, time = d.get("by", "?"), seen_at(t, d)
    if "detail" not in d and d.get("kind") in ("vitals_beyond_limit", "reading_missed", "problem"):
        return t("event.alert_seen_bare", by=by, time=time)
    return t("event.alert_seen", by=by, time=time, what=alert_what(t, d))


def seen_at(t: Translator, seen: dict) -> str:
    """When someone at the clinic floor said they saw an alert (the time they gave), as a time of day."""
    try:
        return t.time(datetime.fromisoformat(seen.get("at", "")).timestamp())
    except ValueError:
        return "?"


EVENTS: dict[str, Describe] = {
    "session_started": lambda t, d: t("event.session_started", profile=d.get("name") or d.get("profile", "")),
    "session_stopped": lambda t, d: t("event.session_stopped", length=t.duration(d.get("elapsed_s", 0))),
    "session_paused": lambda t, d: t("event.session_paused"),
    "session_resumed": lambda t, d: t("event.session_resumed"),
    "session_recovered": lambda t, d: t("event.session_recovered", gap=t.duration(d.get("gap_s", 0))),
    "phase_entered": _phase,
    "phase_moved": _moved,
    "phase_undone": _undone,
    "phase_extended": lambda t, d: t("event.phase_extended", length=t.duration(d.get("by_s", 0))),
    "preset_on": lambda t, d: t("event.preset_on", preset=preset_name(t, d.get("preset", ""))),
    "preset_off": lambda t, d: t("event.preset_off", preset=preset_name(t, d.get("preset", ""))),
    "preset_reapplied": lambda t, d: t("event.preset_on", preset=preset_name(t, d.get("preset", ""))),
    "track_started": lambda t, d: t("event.track", title=d.get("title") or file_name(d.get("file"))),
    "track_skipped": lambda t, d: t("event.track_skipped", title=file_name(d.get("file"))),
    "silence": lambda t, d: t("event.silence"),
    "preset_refused": _refused,
    "lights_refused": lambda t, d: t("event.lights_refused_emergency", source=source_name(t, d)),
    "source_held": lambda t, d: _first_upper(t("event.source_held", source=source_name(t, d), changes=d.get(
        "changes", "?"), window=t.duration(d.get("window_s", 0)))),
    "source_cleared": lambda t, d: _first_upper(t("event.source_cleared", source=source_name(t, d))),
    "music_changed": _music,
    "manual_change": _light,
    "follow_phase": lambda t, d: t("event.light_follows"),
    "note": lambda t, d: t("event.note", text=d.get("text", "")),
    "note_edited": lambda t, d: t("event.note_edited", text=d.get("text", "")),
    "label_changed": lambda t, d: t("event.label_changed", label=d.get("label", "")),
    "reminder_shown": lambda t, d: t("event.reminder_shown", text=d.get("text", "")),
    "reminder_acknowledged": lambda t, d: t("event.reminder_done", text=d.get("text", "")),
    "dose_step": lambda t, d: t("event.dose_step", percent=t.number(d.get("dose", 0))),
    "dose_warning": lambda t, d: t("event.dose_warning", percent=t.number(d.get("percent", 0))),
    "device_offline": lambda t, d: t("event.device_offline", light=d.get("light", "")),
    "device_online": lambda t, d: t("event.device_online", light=d.get("light", "")),
    "audio_error": lambda t, d: t("event.audio_error"),
    "mqtt_disconnected": lambda t, d: t("event.link_lost"),
    "mqtt_connected": lambda t, d: t("event.link_back"),
    "vitals_missed": _missed,
    "alert_raised": _alert,
    "alert_seen": _seen,
}


def describe(t: Translator, row: Row, alerts: dict[str, dict] | None = None) -> str:
    """The event in words; a kind without words of its own (rare, technical) by its name in plain letters.
    With the session's `alerts` (report.build's, by id), an alert raised says who saw it and when, and one seen
    says what it was."""
    alert = (alerts or {}).get(row.data.get("id", "")) if row.kind in ("alert_raised", "alert_seen") else None
    if alert is not None and row.kind == "alert_seen":
        return EVENTS["alert_seen"](t, {**alert, **row.data})
    words = EVENTS.get(row.kind)
    said = words(t, row.data) if words else row.kind.replace("_", " ").capitalize()
    if alert is not None and alert.get("seen"):
        return f"{said} — {t('event.alert_seen_by', by=alert['seen'].get('by', '?'), time=seen_at(t, alert['seen']))}"
    return said
