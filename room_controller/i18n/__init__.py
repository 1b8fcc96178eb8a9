"""The clinic's language: words from gettext catalogues (`locale/<language>.po`), and dates, times and numbers
in the locale's own format (Babel, from the Unicode CLDR).

A clinic adds a language by adding a `.po` file beside the others: no code. Keys are short dotted names
(`report.phase_began`), English is a catalogue like any other, and placeholders are `{name}` in every
language (the panel reads the same catalogues, exported to JSON by `room_controller.i18n.export`).

A room's `language` is a BCP 47 tag: `de`, `nl`, `en-AU`, `pt-BR`. Its language part picks the catalogue,
the whole tag picks the formats, so an Australian clinic reads English words with its own dates.
"""

from __future__ import annotations

import datetime
import functools
import re
import string
from pathlib import Path

from babel import Locale, localedata
from babel.dates import format_date, format_datetime, format_time
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT = "en"
MAX_TAG = 35   # BCP 47 tags in use are far shorter (RFC 5646 4.4.1 asks for at least 35 characters)
_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")   # a language, then subtags (RFC 5646 2.1)
_REGION = re.compile(r"[A-Za-z]{2}|[0-9]{3}")


def available() -> list[str]:
    """The languages that have a catalogue."""
    return sorted(p.stem for p in LOCALE_DIR.glob("*.po"))


@functools.lru_cache(maxsize=16)   # one per catalogue file: a handful
def catalogue(language: str) -> dict[str, str]:
    """One catalogue's keys and texts (an untranslated entry is a missing one, so English stands in)."""
    with (LOCALE_DIR / f"{language}.po").open("rb") as file:
        return {m.id: m.string for m in read_po(file, locale=language)
                if m.id and m.string and isinstance(m.id, str) and isinstance(m.string, str)}   # no plural forms


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def check_tag(tag: str) -> str:
    """The tag the room uses for `tag`, or ValueError saying which it can use. `tag` is a BCP 47 tag whose
    language has a catalogue; what comes back is that language with the tag's region when the formats know the
    pair (`de-CH`, `pt-BR`), else the language alone (`de-XX`, `en-GB-oxendict`: the words are the same, only
    the formats are the language's own). So the tags in use are few, whatever a browser or a URL sends: they
    key the translators' cache."""
    if len(tag) > MAX_TAG or not _TAG.fullmatch(tag):
        raise ValueError(f"{tag[:MAX_TAG]!r} is not a language tag (say de, nl, en-AU, pt-BR)")
    language, *subtags = re.split("[-_]", tag)
    language = language.lower()
    if not (LOCALE_DIR / f"{language}.po").is_file():
        raise ValueError(f"there is no catalogue for {language!r}; languages: {', '.join(available())}")
    region = next((s.upper() for s in subtags[:2] if _REGION.fullmatch(s)), None)   # after a script, if any
    return f"{language}-{region}" if region and localedata.exists(f"{language}_{region}") else language


def translator(tag: str = DEFAULT) -> Translator:
    """The words and formats for `tag` (check_tag's); English for a tag the room cannot use."""
    try:
        tag = check_tag(tag)
    except ValueError:
        tag = DEFAULT
    return _translator(tag)


@functools.lru_cache(maxsize=32)   # check_tag's tags: a few per language, and a bound all the same
def _translator(tag: str) -> Translator:
    return Translator(tag)


class Translator:
    """Words and formats of one language tag; a key missing in it falls back to English, then to the key."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.locale = Locale.parse(tag, sep="-" if "-" in tag else "_")
        self.language = self.locale.language
        self._words = {**catalogue(DEFAULT), **catalogue(self.language)}

    def __call__(self, key: str, **params) -> str:
        text = self._words.get(key, key)
        return text.format(**params) if params else text

    def has(self, key: str) -> bool:
        return key in self._words

    def number(self, value: float, digits: int = 0) -> str:
        return format_decimal(value, "#,##0" + ("." + "0" * digits if digits else ""), locale=self.locale)

    def date_time(self, wall: float) -> str:
        local = datetime.datetime.fromtimestamp(wall).astimezone()
        return format_datetime(local, "medium", tzinfo=local.tzinfo, locale=self.locale)

    def date(self, wall: float) -> str:
        return format_date(datetime.date.fromtimestamp(wall), "long", locale=self.locale)

    def time(self, wall: float) -> str:
        local = datetime.datetime.fromtimestamp(wall).astimezone()
        return format_time(local, "short", tzinfo=local.tzinfo, locale=self.locale)

    def duration(self, seconds: float | None) -> str:
        """A length as people say it: whole minutes (seconds under two minutes), hours from an hour on."""
        if seconds is None:
            return self("duration.open")
        if seconds < 120:
            return self("duration.s", s=self.number(round(seconds)))
        minutes = round(seconds / 60)
        hours, minutes = divmod(minutes, 60)
        if not hours:
            return self("duration.min", min=self.number(minutes))
        if not minutes:
            return self("duration.h", h=self.number(hours))
        return self("duration.h_min", h=self.number(hours), min=self.number(minutes))
