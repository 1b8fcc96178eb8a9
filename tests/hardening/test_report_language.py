"""The report's `?lang=` takes only a language the room has a catalogue for, and whatever tags are sent the
translators kept stay few (before: 11,133 tags such as `en.<anything>` kept one translator each, 83 -> 163 MB)."""

from __future__ import annotations

import gc

import pytest
import requests
from babel import localedata

from room_controller import i18n
from tests.hardening.conftest import AUTH


def translators() -> int:
    gc.collect()
    return sum(isinstance(o, i18n.Translator) for o in gc.get_objects())


@pytest.fixture
def report_url(served):
    r = requests.post(f"{served.base}/api/session", headers=AUTH, json={"profile": "ketamine-1h"})
    assert r.status_code == 201, r.text
    requests.post(f"{served.base}/api/session/stop", headers=AUTH).raise_for_status()
    return f"{served.base}/api/sessions/{r.json()['session']}/report?format=html"


@pytest.mark.parametrize(("tag", "used"), [("de", "de"), ("DE", "de"), ("de-CH", "de-CH"), ("pt-br", "pt-BR"),
                                           ("en_AU", "en-AU"), ("es-419", "es-419"), ("de-XX", "de"),
                                           ("en-GB-oxendict", "en-GB"), ("en-Latn-US", "en-US")])
def test_a_tag_with_a_catalogue_is_its_language_and_a_region_the_formats_know(tag, used):
    assert i18n.check_tag(tag) == used
    assert i18n.translator(tag).tag == used


@pytest.mark.parametrize(("tag", "said"), [("en.x1", "'en.x1' is not a language tag"),
                                           ("en@euro", "'en@euro' is not a language tag"),
                                           ("en-" + "a" * 40, "is not a language tag"),
                                           ("cs", "there is no catalogue for 'cs'; languages: de, en, es, nl, pt")])
def test_anything_else_is_refused_with_what_to_send(tag, said):
    with pytest.raises(ValueError, match=said):
        i18n.check_tag(tag)
    assert i18n.translator(tag).tag == "en"   # said by a room (a catalogue's fallback), not asked for


@pytest.mark.slow
def test_many_distinct_tags_keep_few_translators(report_url):
    before = translators()
    for n in range(200):   # the attack's tags: each refused, none kept
        r = requests.get(f"{report_url}&lang=en.{n}", headers=AUTH)
        assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid"), r.text
        assert r.json()["error"]["message"] == f"lang: 'en.{n}' is not a language tag (say de, nl, en-AU, pt-BR)"
    regions = [f"{language}-{territory}" for language in i18n.available()
               for territory in sorted(localedata.load(language)["territories"]) if len(territory) == 2]
    assert len(regions) > 500
    for tag in regions[::10]:   # every tag a browser may send: each answered in its language
        r = requests.get(f"{report_url}&lang={tag}", headers=AUTH)
        assert r.status_code == 200 and f"<html lang={tag.split('-')[0]}>" in r.text, tag
    for tag in regions:
        i18n.translator(tag)
    for n in range(5000):
        i18n.translator(f"en.{n}")
    assert translators() <= before + 32   # the cache's bound; before, one per tag (over 5,000 here)
