"""The catalogues: every language has every key with the same placeholders, the panel's JSON is the same
catalogue, and dates, times, numbers and durations come out in each locale's own format (CLDR, via Babel)."""

from __future__ import annotations

import datetime
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from room_controller import i18n
from room_controller.i18n import export

LANGUAGES = i18n.available()


def test_the_five_languages_are_there():
    assert {"en", "de", "nl", "es", "pt"} <= set(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalogue_has_every_key_with_the_same_placeholders(language):
    english, other = i18n.catalogue("en"), i18n.catalogue(language)
    assert sorted(set(english) - set(other)) == [], f"{language}.po misses these keys"
    assert sorted(set(other) - set(english)) == [], f"{language}.po has keys English does not"
    wrong = {key: (i18n.placeholders(english[key]), i18n.placeholders(text)) for key, text in other.items()
             if i18n.placeholders(text) != i18n.placeholders(english[key])}
    assert wrong == {}


def test_a_missing_key_or_placeholder_is_found(tmp_path, monkeypatch):
    """The check above on a catalogue made wrong on purpose: it must see both faults."""
    source = (i18n.LOCALE_DIR / "de.po").read_text(encoding="utf-8")
    broken = source.replace('msgid "report.title"\nmsgstr "Sitzungsbericht"\n', "")
    broken = broken.replace('msgstr "Notiz: {text}"', 'msgstr "Notiz: {txt}"')
    assert broken.count("msgid") == source.count("msgid") - 1
    (tmp_path / "en.po").write_text((i18n.LOCALE_DIR / "en.po").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "de.po").write_text(broken, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.catalogue.cache_clear()
    try:
        with pytest.raises(AssertionError, match="misses these keys"):
            test_every_catalogue_has_every_key_with_the_same_placeholders("de")
        (tmp_path / "de.po").write_text(broken + '\nmsgid "report.title"\nmsgstr "Sitzungsbericht"\n', encoding="utf-8")
        i18n.catalogue.cache_clear()
        with pytest.raises(AssertionError, match="event.note"):
            test_every_catalogue_has_every_key_with_the_same_placeholders("de")
    finally:
        i18n.catalogue.cache_clear()


def test_the_panels_json_is_exactly_the_catalogues():
    """web/static/i18n/<language>.json is made by `python -m room_controller.i18n.export`; a .po edited
    without exporting again fails here."""
    for language in LANGUAGES:
        shipped = json.loads((export.OUT / f"{language}.json").read_text(encoding="utf-8"))
        assert shipped == export.panel_words(language), f"run python -m room_controller.i18n.export ({language})"
    assert json.loads((export.OUT / "languages.json").read_text(encoding="utf-8")) == export.languages()


def test_dates_times_and_numbers_in_each_locales_format():
    wall = datetime.datetime(2027, 1, 15, 14, 5).timestamp()
    assert [i18n.translator(tag).time(wall) for tag in ("en", "en-AU", "de", "nl", "es", "pt")] == [
        "2:05\u202fPM", "2:05\u202fpm", "14:05", "14:05", "14:05", "14:05"]
    assert [i18n.translator(tag).date(wall) for tag in ("en", "de", "nl", "es", "pt")] == [
        "January 15, 2027", "15. Januar 2027", "15 januari 2027", "15 de enero de 2027", "15 de janeiro de 2027"]
    assert [i18n.translator(tag).number(1234.5, 1) for tag in ("en", "de", "nl", "es", "pt", "pt-PT")] == [
        "1,234.5", "1.234,5", "1.234,5", "1.234,5", "1.234,5", "1\xa0234,5"]   # Portugal groups with a space


def test_durations_are_rounded_for_people():
    t = i18n.translator("de")
    assert [t.duration(s) for s in (59.99841389900001, 119.4, 600, 3600, 3900 + 29, None)] == [
        "60 s", "119 s", "10 Min.", "1 Std.", "1 Std. 5 Min.", "offen"]


@given(st.floats(min_value=0, max_value=48 * 3600, allow_nan=False))
def test_a_duration_never_shows_a_fraction(seconds):
    text = i18n.translator("en").duration(seconds)
    assert "." not in text and "," not in text and text.split()[0].isdigit()


def test_a_room_language_must_have_a_catalogue():
    assert i18n.check_tag("pt-BR") == "pt-BR" and i18n.check_tag("en-AU") == "en-AU"
    with pytest.raises(ValueError, match="no catalogue for 'cs'"):
        i18n.check_tag("cs")
    with pytest.raises(ValueError, match="not a language tag"):
        i18n.check_tag("klingon!")
    assert i18n.translator("xx").tag == "en"   # a tablet's odd request falls back to English


def test_the_reports_vitals_are_in_the_rooms_language():
    """The vitals table and strip of the report take their words from the catalogue, limits and first entries
    included; the JSON export's one-line text stays English."""
    from room_controller.reporting import vitals_report

    reading = {"event": 7, "at_s": 600, "systolic": 171, "diastolic": 95, "pulse": 80, "original": {"systolic": 161},
               "crossed": [{"value_name": "systolic", "value": 171, "side": "above", "limit": 160,
                            "instruction": "Ärztin rufen", "source": "Protokoll v3", "example": False}]}
    page = vitals_report.html({"vitals": [reading], "pulse": []}, 3600, i18n.translator("de"), (800, 120, 20))
    for words in ("<h2>Vitalwerte</h2>", "Systolisch (mmHg)",
                  "Grenzwert von Protokoll v3 überschritten: Systolisch 171 liegt über 160. Ärztin rufen",
                  "korrigiert; zuerst eingegeben: systolisch 161",
                  "RR 171/95, Puls 80 — Grenzwert von Protokoll v3 überschritten"):
        assert words in page
    assert vitals_report.summary(reading) == "BP 171/95, pulse 80 — beyond the limit of Protokoll v3"
