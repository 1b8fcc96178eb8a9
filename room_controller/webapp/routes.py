"""The HTTP API as data: each route's method, path, body model and handler.

Handlers are plain functions of the room and the validated request; they know nothing of Flask, so the
same table drives the Flask app (webapp.http) and the OpenAPI description (webapp.openapi). Every change
goes through `room.loop.call`, i.e. it runs on the core thread that owns the state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Literal, get_args

from pydantic import Field, model_validator

from room_controller import i18n
from room_controller.config import BUILTIN_PRESETS, LightScene, LightSetting, RoomConfig
from room_controller.core import records
from room_controller.core.room import Room
from room_controller.core.sources import PROBLEM as HELD
from room_controller.errors import Conflict, Invalid, NotFound
from room_controller.fields import Duration, Identifier, Percent
from room_controller.files.yamlfile import Model
from room_controller.reporting import html, report
from room_controller.session import editor
from room_controller.session.profiles import SessionProfile
from room_controller.vitals.model import Entry as VitalsEntry
from room_controller.vitals.model import Values as VitalsValues
from room_controller.webapp import calibration_routes as calibration
from room_controller.webapp import roomfile
from room_controller.webapp import vitals_routes as vitals
from room_controller.webapp.reply import Reply


class Body(Model):
    """Request bodies: like the config models, an unknown key is refused with a suggestion."""


class LightsPatch(LightSetting):
    """A slider or a program: the fields of a scene's light setting, and how long to fade."""

    transition: Duration | None = Field(None, le=7200, description="fade length, e.g. 5s or 10m (at most 2h)")
    follow_phase: Literal[True] | None = Field(None, description="true: drop the therapist's adjustments, follow "
                                                                 "the phase's scene again (alone, without a setting)")

    @model_validator(mode="after")
    def _something(self) -> LightsPatch:
        if self.follow_phase and not (self.change().empty and self.transition is None):
            raise ValueError("follow_phase goes alone: it drops adjustments, it does not make one")
        if not self.follow_phase and self.change().empty:
            raise ValueError("give at least one of on, brightness, kelvin, color (or follow_phase: true)")
        return self


class SessionStart(Body):
    profile: str = Field(min_length=1, max_length=64)
    label: str = Field("", max_length=80, description="the clinic's own label; nothing that identifies the client")


class DayStart(Body):
    booking: str = Field(min_length=1, max_length=64, description="a booking's id from the day plan (GET /api/day)")


class Extend(Body):
    duration: Duration = Field(gt=0, le=4 * 3600, description="e.g. 5m or 15m")


class SessionTime(Body):
    elapsed: Duration = Field(description="the session time it is now, e.g. 2h15m (after a reboot without "
                                          "network time, the room cannot know it)")


class Note(Body):
    text: str = Field(min_length=1, max_length=2000)


class SourceClear(Body):
    source: str = Field(min_length=1, max_length=256, description="a held command source's topic, as "
                                                                  "/api/health's held_sources names it")


class SessionPatch(Body):
    label: str = Field(max_length=80, description="the clinic's own label; nothing that identifies the client")


class AudioPatch(Body):
    volume: Percent | None = Field(None, description="the therapist's choice: ramped to, capped by the room's "
                                   "max_volume, and kept across phase changes until follow_phase")
    playing: bool | None = None
    follow_phase: Literal[True] | None = Field(None, description="give up the therapist's volume: back to "
                                               "the phase's (after the preset, while one holds)")

    @model_validator(mode="after")
    def _something(self) -> AudioPatch:
        if self.volume is None and self.playing is None and self.follow_phase is None:
            raise ValueError("give volume, playing and/or follow_phase")
        if self.volume is not None and self.follow_phase:
            raise ValueError("give volume or follow_phase, not both: a volume is the therapist's choice, "
                             "follow_phase gives that choice up")
        return self


class ProfileDocument(Body):
    profile: dict[str, Any] = Field(description="a session profile, as in its YAML file")


class ProfileCopy(Body):
    id: Identifier
    name: str = Field(min_length=1, max_length=80)


class PresetDocument(Body):
    preset: dict[str, Any] = Field(description="a preset, as under `presets:` in the room file")


class Preview(Body):
    lights: LightScene


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Callable[..., Any]
    summary: str
    body: type[Model] | None = None   # Body's models, or a model of its own kind (vitals, calibration)
    auth: bool = True
    admin: bool = False     # the clinic tools: the admin login (or the api_token), not the therapist's
    status: int = 200
    query: tuple[str, ...] = ()
    early: Callable[..., Future] | None = None   # calm's lane: its work, started as the request is read (http.EarlyCalm)
    lane: str | None = None   # the server's lane of a route with no early work (webapp.server): "login"


def health(room: Room) -> dict:
    snap = room.snapshot()
    audio = snap.get("audio", {}).get("health", "ok")
    mqtt = "connected" if room.mqtt_connected else "disconnected"
    problems = snap.get("problems", [])
    ok = mqtt == "connected" and audio == "ok" and not problems
    housekeeping = getattr(room, "housekeeping", None)   # set by app.App
    return {"status": "ok" if ok else "degraded", "mqtt": mqtt, "audio": audio, "problems": problems,
            "mqtt_error": None if room.mqtt_connected else room.problems.get("mqtt"),
            "clock_synchronised": room.clock.synchronised(),
            "held_sources": [key.split(":", 2)[2] for key in snap.get("problem_keys", []) if key.startswith(HELD)],
            "jobs": housekeeping.jobs() if housekeeping else []}


def state(room: Room) -> Reply:
    return Reply(room.snapshot_json())


def activate_preset(room: Room, name: str) -> dict:
    return room.loop.call(room.presets.activate, name, urgent=True)


def release_preset(room: Room) -> dict:
    return room.loop.call(room.presets.release, urgent=True)


def activate_early(room: Room, name: str) -> Future:
    """activate_preset's work, started on the server's I/O thread as soon as the request is read."""
    room.intake.note(("http",))
    return room.loop.submit(room.presets.activate, name, urgent=True, fresh=True)


def release_early(room: Room) -> Future:
    room.intake.note(("http",))
    return room.loop.submit(room.presets.release, urgent=True, fresh=True)


def clear_source(room: Room, body: SourceClear) -> dict:
    return room.loop.call(room.presets.sources.clear, body.source)


def patch_lights(room: Room, body: LightsPatch) -> dict:
    if body.follow_phase:
        return room.loop.call(room.layers.follow_phase)
    return room.loop.call(room.layers.adjust_lights, None, body.change(), body.transition)


def patch_light(room: Room, body: LightsPatch, light_id: str) -> dict:
    if body.follow_phase:
        return room.loop.call(room.layers.follow_phase, [light_id])
    return room.loop.call(room.layers.adjust_lights, [light_id], body.change(), body.transition)


def profiles(room: Room) -> list[dict]:
    return [p.summary() for p in room.session.profiles.values()]


def start_session(room: Room, body: SessionStart) -> dict:
    return room.loop.call(room.session.start, body.profile, body.label)


def day_plan(room: Room) -> Any:
    return room.snapshot().get("day")


def start_booking(room: Room, body: DayStart) -> dict:
    if room.day is None:
        raise NotFound("this room has no day plan")
    return room.loop.call(room.day.begin, body.booking)


def session_control(name: str) -> Callable[[Room], dict]:
    def control(room: Room) -> dict:
        return room.loop.call(getattr(room.session, name))
    control.__name__ = f"session_{name}"
    return control


def extend_session(room: Room, body: Extend) -> dict:
    return room.loop.call(room.session.extend, body.duration)


def set_session_time(room: Room, body: SessionTime) -> dict:
    return room.loop.call(room.session.set_elapsed, body.elapsed)


def acknowledge(room: Room, reminder_id: int) -> dict:
    return room.loop.call(room.session.acknowledge, reminder_id)


def add_note(room: Room, body: Note) -> dict:
    return room.loop.call(room.add_note, body.text)


def patch_audio(room: Room, body: AudioPatch) -> dict:
    return room.loop.call(room.adjust_music, body.volume, body.playing, False, bool(body.follow_phase))


def next_track(room: Room) -> dict:
    return room.loop.call(room.adjust_music, None, None, True)


def sessions(room: Room) -> list[dict]:
    with room.journal.reader() as reader:
        return reader.sessions()


def session_report(room: Room, session_id: int, format: str = "json", lang: str | None = None) -> Any:
    if format not in ("json", "csv", "html"):
        raise Invalid("format is json, csv or html")
    try:
        language = i18n.check_tag(lang) if lang else room.config.room.language
    except ValueError as exc:
        raise Invalid(f"lang: {exc}") from None
    reader = room.journal.reader()   # closed when the answer has been written: it is read as it is sent
    try:
        session = reader.session(session_id)
        if session is None:
            raise NotFound(f"there is no session {session_id}")
        if format == "csv":
            return Reply(_sent(reader, report.csv_chunks(reader.each_event(session_id))), "text/csv")
        built = report.build(session, reader.each_event(session_id), events=False)
        if format == "html":
            page = html.chunks(built, reader.each_event(session_id), reader.count(session_id),
                               room.config.room.name, language)
            return Reply(_sent(reader, page), "text/html")
        return Reply(_sent(reader, report.json_chunks(built, reader.each_event(session_id))))
    except BaseException:
        reader.close()
        raise


def _sent(reader: Any, text: Iterator[str]) -> Iterator[bytes]:
    """`text` as it is written to the client, then the journal connection it reads from closed. The first
    part is made now, so a report that cannot be made is an error answer, not a broken stream."""
    first = next(text, "")

    def rest() -> Iterator[bytes]:
        try:
            yield first.encode()
            for part in text:
                yield part.encode()
        finally:
            reader.close()
    return rest()


def patch_session_record(room: Room, body: SessionPatch, session_id: int) -> dict:
    return room.loop.call(records.relabel, room.session, session_id, body.label)


def edit_note(room: Room, body: Note, session_id: int, event_id: int) -> dict:
    return room.loop.call(records.edit_note, room.session, session_id, event_id, body.text)


# -- the clinic tools: the profile editor (admin login) ---------------------------------------------------------

def admin_profile(room: Room, profile_id: str) -> dict:
    profile = room.session.profiles.get(profile_id)
    if profile is None:
        raise NotFound(f"there is no session profile {profile_id!r}")
    return {"profile": editor.as_data(profile), "in_use": _in_use(room, profile_id)}


def create_profile(room: Room, body: ProfileDocument) -> dict:
    return _save(room, editor.validate(body.profile, room.config), new=True)


def update_profile(room: Room, body: ProfileDocument, profile_id: str) -> dict:
    profile = editor.validate(body.profile, room.config)
    if profile.id != profile_id:
        raise Invalid("a profile keeps its id; copy it to make one with another id",
                      [{"path": "id", "message": f"must stay {profile_id!r}"}])
    return _save(room, profile, new=False)


def copy_profile(room: Room, body: ProfileCopy, profile_id: str) -> dict:
    original = room.session.profiles.get(profile_id)
    if original is None:
        raise NotFound(f"there is no session profile {profile_id!r}")
    return _save(room, original.model_copy(update={"id": body.id, "name": body.name}), new=True)


def delete_profile(room: Room, profile_id: str) -> dict:
    with editor.LOCK:
        backup = editor.ProfileFiles(room.config.profiles_dir).delete(profile_id)
        room.loop.call(_install, room, profile_id, None)
    return {"deleted": profile_id, "backup": backup.name, "in_use": _in_use(room, profile_id)}


def _save(room: Room, profile, *, new: bool) -> dict:
    """Write the file, then give the room the new version; a running session keeps the one it started with."""
    with editor.LOCK:
        path = editor.ProfileFiles(room.config.profiles_dir).save(profile, new=new)
        room.loop.call(_install, room, profile.id, profile)
    return {"profile": profile.id, "file": path.name, "in_use": _in_use(room, profile.id)}


def _install(room: Room, profile_id: str, profile) -> None:
    """On the core loop: a new dict, so readers on other threads never see one change under them."""
    profiles = dict(room.session.profiles)
    if profile is None:
        profiles.pop(profile_id, None)
    else:
        profiles[profile_id] = profile
    room.session.profiles = profiles
    room.emit("profile_deleted" if profile is None else "profile_saved", profile=profile_id)


def _in_use(room: Room, profile_id: str) -> bool:
    running = room.session.session
    return running is not None and running.profile.id == profile_id


# -- the clinic tools: the room's presets (admin login) -----------------------------------------------------------

def room_facts(room: Room) -> dict:
    """What the editors offer to choose from."""
    lights = [{"id": lc.id, "name": lc.label, "groups": lc.groups} for lc in room.config.lights]
    return {"lights": lights, "groups": sorted(room.config.groups),
            "kinds": list(get_args(SessionProfile.model_fields["kind"].annotation))}


def admin_presets(room: Room) -> list[dict]:
    return [{"name": name, "label": preset.label or name, "builtin": name in BUILTIN_PRESETS,
             "active": _active(room, name)} for name, preset in room.config.presets.items()]


def admin_preset(room: Room, name: str) -> dict:
    preset = room.config.presets.get(name)
    if preset is None:
        raise NotFound(f"there is no preset {name!r}")
    return {"preset": roomfile.preset_data(preset), "builtin": name in BUILTIN_PRESETS, "active": _active(room, name)}


def save_preset(room: Room, body: PresetDocument, name: str) -> dict:
    preset = roomfile.validate(name, body.preset, room.config)
    return _change_presets(room, name, lambda file: file.save(name, preset))


def delete_preset(room: Room, name: str) -> dict:
    return _change_presets(room, name, lambda file: file.delete(name), deleted=True)


def _change_presets(room: Room, name: str, change: Callable[[roomfile.RoomFile], RoomConfig],
                    deleted: bool = False) -> dict:
    """Write the room file, then give the room its new presets; an active preset holds on until released."""
    if room.config_file is None:
        raise Conflict("this room was started without a room file, so its presets cannot be saved")
    with roomfile.LOCK:
        config = change(roomfile.RoomFile(room.config_file))
        room.loop.call(room.presets.replace, config.presets, name, deleted)
    return {"preset": name, "deleted": deleted, "file": room.config_file.name, "active": _active(room, name)}


def _active(room: Room, name: str) -> bool:
    return room.layers.preset is not None and room.layers.preset.name == name


def preview(room: Room, body: Preview) -> dict:
    return room.loop.call(room.layers.preview_scene, body.lights)


def end_preview(room: Room) -> dict:
    return room.loop.call(room.layers.end_preview)


ROUTES: list[Route] = [
    Route("GET", "/api/health", health, "Is the room working: MQTT and audio", auth=False),
    Route("GET", "/api/state", state, "The whole room: session, preset, lights, audio"),
    Route("POST", "/api/presets/<name>", activate_preset, "Activate a preset at once (calm, emergency, ...)",
          early=activate_early),
    Route("DELETE", "/api/presets/active", release_preset, "Release the preset: back to the phase's setting",
          early=release_early),
    Route("POST", "/api/sources/clear", clear_source, "Let a command source held off for flipping presets act "
          "again", body=SourceClear),
    Route("PATCH", "/api/lights", patch_lights, "Adjust every light", body=LightsPatch),
    Route("PATCH", "/api/lights/<light_id>", patch_light, "Adjust one light", body=LightsPatch),
    Route("GET", "/api/profiles", profiles, "The session profiles that can be started"),
    Route("POST", "/api/session", start_session, "Start a session", body=SessionStart, status=201),
    *[Route("POST", f"/api/session/{name}", session_control(name), summary) for name, summary in (
        ("pause", "Pause the session: its clock stops, the room holds its setting"),
        ("resume", "Resume a paused session"),
        ("next", "Move on to the next phase now"),
        ("previous", "Go back to the start of the previous phase"),
        ("undo", "Undo the last phase move (within 15 s): back to the phase it left, its time counted on"),
        ("stop", "End the session: the lights stay as they are, the music fades out"))],
    Route("GET", "/api/day", day_plan, "The room's plan for today and tomorrow: its bookings, the next, the problems "
          "(null with no clinic file)"),
    Route("POST", "/api/day/start", start_booking, "Start a booking's session, as POST /api/session starts one",
          body=DayStart, status=201),
    Route("POST", "/api/session/extend", extend_session, "Lengthen the current phase", body=Extend),
    Route("POST", "/api/session/clock", set_session_time, "Set the session time (after a reboot without network "
          "time): the room moves to that time's phase", body=SessionTime),
    Route("POST", "/api/reminders/<int:reminder_id>/ack", acknowledge, "Acknowledge a reminder"),
    Route("POST", "/api/notes", add_note, "A timestamped note in the session journal", body=Note),
    Route("PATCH", "/api/audio", patch_audio, "Volume (ramped, capped) and play/pause", body=AudioPatch),
    Route("POST", "/api/audio/next", next_track, "Crossfade to the next track"),
    Route("GET", "/api/sessions", sessions, "Past and running sessions"),
    Route("GET", "/api/sessions/<int:session_id>/report", session_report,
          "What happened when: json, csv, or a printable html page with a timeline (in `lang`, else the "
          "room's language)", query=("format", "lang")),
    Route("PATCH", "/api/sessions/<int:session_id>", patch_session_record, "Change a session's label",
          body=SessionPatch),
    Route("PATCH", "/api/sessions/<int:session_id>/notes/<int:event_id>", edit_note,
          "Correct a note (journaled; the original is kept)", body=Note),
    Route("GET", "/api/admin/profiles", profiles, "The session profiles, for the editor", admin=True),
    Route("GET", "/api/admin/profiles/<profile_id>", admin_profile, "A profile as its file says it", admin=True),
    Route("POST", "/api/admin/profiles", create_profile, "A new profile (validated; errors per field)",
          body=ProfileDocument, admin=True, status=201),
    Route("PUT", "/api/admin/profiles/<profile_id>", update_profile,
          "Save a profile: validated, written atomically, the old file kept in backups/; a running session keeps "
          "the version it started with", body=ProfileDocument, admin=True),
    Route("POST", "/api/admin/profiles/<profile_id>/copy", copy_profile, "Copy a profile under a new id and name",
          body=ProfileCopy, admin=True, status=201),
    Route("DELETE", "/api/admin/profiles/<profile_id>", delete_profile,
          "Remove a profile (its file moves to backups/)", admin=True),
    Route("GET", "/api/admin/room", room_facts, "The lights, groups and profile kinds the editors offer",
          admin=True),
    Route("GET", "/api/admin/presets", admin_presets, "The room's presets, for the editor", admin=True),
    Route("GET", "/api/admin/presets/<name>", admin_preset, "A preset as the room file says it", admin=True),
    Route("PUT", "/api/admin/presets/<name>", save_preset,
          "Save a preset (new or changed): validated, only the room file's presets: rewritten, the old file kept "
          "in backups/; an active preset holds on as it began until released", body=PresetDocument, admin=True),
    Route("DELETE", "/api/admin/presets/<name>", delete_preset,
          "Remove a preset of the clinic's own (calm, check-in and emergency can be changed, not removed)",
          admin=True),
    Route("PUT", "/api/admin/preview", preview, "Show a scene in the room until the editor ends the preview",
          body=Preview, admin=True),
    Route("DELETE", "/api/admin/preview", end_preview, "End the preview: the room returns to its setting",
          admin=True),
    Route("POST", "/api/vitals", vitals.add, "A reading (blood pressure, pulse, temperature) in the running "
          "session; a limit crossed is a notice, the room changes nothing", body=VitalsEntry, status=201),
    Route("PATCH", "/api/vitals/<int:event_id>", vitals.correct, "Correct a reading (journaled; the original "
          "is kept)", body=VitalsValues),
    Route("POST", "/api/vitals/notices/<int:event_id>/seen", vitals.seen, "The therapist has seen a notice"),
    Route("GET", "/api/sessions/<int:session_id>/vitals", vitals.session_vitals, "A session's readings, "
          "stored pulse and notices"),
    Route("GET", "/api/admin/sessions/<int:session_id>/vitals", vitals.export,
          "Export a session's vitals record: json or csv", admin=True, query=("format",)),
    Route("DELETE", "/api/admin/sessions/<int:session_id>/vitals", vitals.delete,
          "Delete a session's vitals record for good (journaled as deleted)", admin=True),
    Route("GET", "/api/admin/calibration", calibration.state, "The room's sound calibration (audio.calibration_dba)",
          admin=True),
    Route("PUT", "/api/admin/calibration/reference", calibration.play, "Play the calibration reference (pink noise "
          "at -20 LUFS) in the room, with no session or preset on", body=calibration.Play, admin=True),
    Route("DELETE", "/api/admin/calibration/reference", calibration.stop, "Stop the calibration reference",
          admin=True),
    Route("PUT", "/api/admin/calibration", calibration.save, "Save the meter's reading of the reference as the room "
          "file's audio.calibration_dba (counted from the service's next start)", body=calibration.Reading, admin=True),
]
