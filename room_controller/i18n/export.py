"""The catalogues as JSON for the panel: `python -m room_controller.i18n.export` writes
`web/static/i18n/<language>.json` (key -> text) and `languages.json` (tag -> the language's own name).

The .po files stay the one source; a test fails when the JSON and the catalogues differ.
"""

from __future__ import annotations

import json
from pathlib import Path

from room_controller import i18n

OUT = Path(__file__).resolve().parents[2] / "web" / "static" / "i18n"


def panel_words(language: str) -> dict[str, str]:
    """Every key with its text in `language` (English where the catalogue has none)."""
    return {key: i18n.translator(language)(key) for key in sorted(i18n.catalogue(i18n.DEFAULT))}


def languages() -> dict[str, str]:
    return {language: i18n.catalogue(language).get("language.name", language) for language in i18n.available()}


def write(out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, words in [*((lang, panel_words(lang)) for lang in i18n.available()), ("languages", languages())]:
        path = out / f"{name}.json"
        path.write_text(json.dumps(words, ensure_ascii=False, indent=0, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write():
        print(path.name)
