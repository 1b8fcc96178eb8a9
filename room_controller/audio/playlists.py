"""Playlists as the clinic writes them: M3U/M3U8, XSPF, or a plain folder of audio files.

Paths are relative to the playlist file. A silent stretch is an entry of its own, written `silence: 5m`
(or `silence:5m`) on a line of an M3U file or as the `<location>` of an XSPF track; any duration
`units.parse_duration` accepts. Reading never raises: what is wrong becomes a `Problem` for
`room-controller check` (naming the file it tried, in words `check` can say in the room's language), and
the player skips it.
"""

from __future__ import annotations

import errno
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from room_controller.files.yamlfile import Problem, said
from room_controller.i18n.said import Said, SaidError
from room_controller.units import parse_duration

AUDIO_SUFFIXES = {".ogg", ".oga", ".opus", ".flac", ".mp3", ".wav", ".m4a", ".aac", ".wma", ".aiff"}
PLAYLIST_SUFFIXES = {".m3u", ".m3u8", ".xspf"}
_SILENCE = re.compile(r"^silence:\s*(?P<d>.+)$", re.IGNORECASE)
_XSPF_NS = "{http://xspf.org/ns/0/}"


@dataclass(frozen=True)
class Track:
    path: Path
    title: str
    line: int


@dataclass(frozen=True)
class Silence:
    seconds: float
    line: int


Entry = Track | Silence


@dataclass(frozen=True)
class Playlist:
    name: str
    entries: tuple[Entry, ...]
    problems: tuple[Problem, ...]


def load(name: str, playlists_dir: Path) -> Playlist:
    """The playlist `name` (a file or folder in `playlists_dir`, or an absolute path)."""
    source = Path(playlists_dir) / name
    problems: list[Problem] = []
    entries: list[Entry] = []
    if source.is_dir():
        entries = [Track(p, p.stem, 1) for p in sorted(source.iterdir())
                   if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file()]
    elif not source.exists():
        problems.append(_unreadable(source, Said.of("check.why_missing")))
    elif source.suffix.lower() not in PLAYLIST_SUFFIXES:
        problems.append(said(str(source), 1, "", Said.of("check.not_a_playlist", path=str(source))))
    else:
        try:
            text = _read_text(source)
        except OSError as exc:
            problems.append(_unreadable(source, Said.of("check.why_not_allowed")
                                        if exc.errno in (errno.EACCES, errno.EPERM) else exc.strerror or str(exc)))
        else:
            parse = _parse_xspf if source.suffix.lower() == ".xspf" else _parse_m3u
            entries = parse(text, source, problems)
    if not problems and not any(isinstance(e, Track) for e in entries):
        problems.append(said(str(source), 1, "", Said.of("check.no_audio", path=str(source))))
    return Playlist(name, tuple(entries), tuple(problems))


def check(name: str, playlists_dir: Path) -> list[Problem]:
    """Everything wrong with a playlist that can be seen without decoding audio: for `room-controller check`."""
    playlist = load(name, playlists_dir)
    source = str(Path(playlists_dir) / name)
    missing = [said(source, e.line, f"tracks[{i}]", Said.of("check.track_missing", path=str(e.path)))
               for i, e in enumerate(playlist.entries) if isinstance(e, Track) and not e.path.is_file()]
    return list(playlist.problems) + missing


def _unreadable(source: Path, why: Said | str) -> Problem:
    return said(str(source), 1, "", Said.of("check.cannot_read_playlist", path=str(source), why=why))


def _read_text(source: Path) -> str:
    data = source.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # old .m3u files are often in the Windows code page


def _entry(location: str, title: str | None, line: int, source: Path, problems: list[Problem]) -> Entry | None:
    """One location (path, file: URL or silence) as an entry; a problem when it cannot be one."""
    silence = _SILENCE.match(location)
    if silence:
        try:
            return Silence(parse_duration(silence.group("d")), line)
        except SaidError as exc:
            problems.append(said(str(source), line, "", exc.said))
            return None
    url = urlparse(location)
    if url.scheme == "file":
        path = Path(unquote(url.path))
    elif url.scheme and len(url.scheme) > 1:  # one letter is a Windows drive
        problems.append(said(str(source), line, "", Said.of("check.not_local", location=repr(location))))
        return None
    else:
        path = Path(unquote(location) if source.suffix.lower() == ".xspf" else location)
    path = path if path.is_absolute() else source.parent / path
    return Track(path, title or path.stem, line)


def _parse_m3u(text: str, source: Path, problems: list[Problem]) -> list[Entry]:
    entries: list[Entry] = []
    title = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.upper().startswith("#EXTINF:"):
            title = line.partition(",")[2].strip() or None
        elif line and not line.startswith("#"):
            entry = _entry(line, title, number, source, problems)
            if entry is not None:
                entries.append(entry)
            title = None
    return entries


def _parse_xspf(text: str, source: Path, problems: list[Problem]) -> list[Entry]:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        problems.append(said(str(source), exc.position[0], "", Said.of("check.not_xspf", why=exc)))
        return []
    entries: list[Entry] = []
    # ElementTree keeps no line numbers: take them from the <track> openings in the text
    lines = [text.count("\n", 0, m.start()) + 1 for m in re.finditer(r"<track[\s>]", text)]
    for i, track in enumerate(root.iter(f"{_XSPF_NS}track")):
        location = (track.findtext(f"{_XSPF_NS}location") or "").strip()
        title = (track.findtext(f"{_XSPF_NS}title") or "").strip() or None
        line = lines[i] if i < len(lines) else 1
        if not location:
            problems.append(said(str(source), line, f"tracks[{i}]", Said.of("check.no_location")))
            continue
        entry = _entry(location, title, line, source, problems)
        if entry is not None:
            entries.append(entry)
    return entries

