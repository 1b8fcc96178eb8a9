"""The vitals in the session report: readings as points and the stored live pulse as a line on a strip
under the timeline (the same time axis), then a table of the readings with the limits they crossed and,
when corrected, what was first entered. Each limit crossed is named by its source (an example's says it is
one); a reading taken with no limits set says it was not checked.

Built from the journal's rows like the rest of the report (report.build and html.render call in here).
Words come from the room's catalogue under `vitals.*` (the panel's vitals card uses the same keys); without
a translator (the JSON export's one-line `text`) they are English.
"""

from __future__ import annotations

from html import escape

from room_controller import i18n
from room_controller.journal.store import Row
from room_controller.reporting.times import clock_text
from room_controller.vitals import record
from room_controller.vitals.model import UNITS

HEIGHT, LANE = 96, 26
KINDS = record.KINDS   # the events this section is built from (report.build keeps only these for it)
CSS = ("table.vitals td.over { font-weight: bold; color: #e0763f; } table.vitals td.n { text-align: right; "
       "font-variant-numeric: tabular-nums; } svg.vitals polyline { stroke: currentColor; }")


def word(t, key: str, **params) -> str:
    return (t or i18n.translator())(key, **params)


def section(rows: list[Row]) -> dict:
    """The report's `vitals` (readings, each with a one-line `text`) and `pulse` (the stored rows)."""
    return {"vitals": [dict(r, text=summary(r)) for r in record.readings(rows)], "pulse": record.pulse_rows(rows)}


def summary(reading: dict, t=None) -> str:
    parts = []
    if "systolic" in reading:
        parts.append(word(t, "vitals.bp", systolic=reading["systolic"], diastolic=reading["diastolic"]))
    if "pulse" in reading:
        parts.append(word(t, "vitals.pulse_value", pulse=reading["pulse"]))
    if "temperature" in reading:
        parts.append(f"{reading['temperature']:g} °C")
    text = ", ".join(parts)
    beyond = list(dict.fromkeys(_beyond(t, c) for c in reading["crossed"]))
    return text + "".join(f" — {b}" for b in beyond)


def _beyond(t, crossing: dict) -> str:
    """Whose limit was crossed: the source it names, an example's own words, or (an older record) neither."""
    if crossing.get("example"):
        return word(t, "vitals.beyond_example")
    if crossing.get("source"):
        return word(t, "vitals.beyond_from", source=crossing["source"])
    return word(t, "vitals.beyond")


def _checked(t, reading: dict) -> str:
    """Said of a reading within its limits: nothing when it was checked, that it was not when no limit was set
    (an older record, which did not say, stays silent)."""
    return word(t, "vitals.not_checked") if reading.get("limits") == [] else ""


def html(report: dict, end_s: float, t, axis: tuple[float, float, float]) -> str:
    """The strip and the table, or nothing for a session without vitals. `axis`: the timeline's width,
    left and right margins, so a point here is under the same moment there."""
    readings, stored = report.get("vitals", []), report.get("pulse", [])
    if not readings and not stored:
        return ""
    out = [f"<style>{CSS}</style>", _strip(readings, stored, end_s, t, axis), f"<h2>{word(t, 'vitals.title')}</h2>"]
    if readings:
        names = ("systolic", "diastolic", "pulse", "temperature")
        head = "".join(f"<th>{word(t, 'vitals.' + k)} ({UNITS[k]})</th>" for k in names)
        body = "".join(_row(r, names, t) for r in readings)
        out.append(f"<table class=vitals><thead><tr><th>{word(t, 'vitals.session_time')}</th>{head}"
                   f"<th>{word(t, 'vitals.limits')}</th></tr></thead><tbody>{body}</tbody></table>")
    if stored:
        out.append("<p class=quiet data-pulse-rows>" + word(
            t, "vitals.pulse_range", count=len(stored), low=f"{min(p['min'] for p in stored):g}",
            high=f"{max(p['max'] for p in stored):g}") + "</p>")
    return "".join(out)


def _row(reading: dict, names: tuple[str, ...], t) -> str:
    over = {c["value_name"] for c in reading["crossed"]}
    cells = "".join(f"<td class=\"n{' over' if k in over else ''}\">{escape(str(reading.get(k, '')))}</td>"
                    for k in names)
    marks = escape("; ".join(
        _beyond(t, c) + ": " + word(t, "vitals.crossed", name=word(t, f"vitals.{c['value_name']}"),
                                   value=f"{c['value']:g}", side=word(t, f"vitals.{c['side']}"),
                                   limit=f"{c['limit']:g}") + f". {c['instruction']}"
        for c in reading["crossed"]) or _checked(t, reading))
    if reading.get("original"):
        first = ", ".join(f"{word(t, f'vitals.{k}_m')} {v:g}" for k, v in reading["original"].items())
        marks += f" <span class=edited>({escape(word(t, 'vitals.corrected', values=first))})</span>"
    return (f"<tr data-event=\"{reading['event']}\"><td class=t>{clock_text(reading['at_s'])}</td>{cells}"
            f"<td>{marks}</td></tr>")


def _strip(readings: list[dict], stored: list[dict], end_s: float, t, axis: tuple[float, float, float]) -> str:
    width, left, right = axis
    scale = (width - left - right) / max(end_s, 60.0)
    out = [f'<svg class=vitals xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {HEIGHT}" role="img" '
           f'aria-label="{escape(word(t, "vitals.strip"))}">',
           f'<text x="6" y="{LANE * 0.68:.1f}">{escape(word(t, "vitals.title"))}</text>']
    for r in readings:
        x = left + r["at_s"] * scale
        text = summary(r, t)
        out.append(f'<g data-kind="vitals" data-name="{escape(text)}" data-at-s="{r["at_s"]:g}">'
                   f'<title>{clock_text(r["at_s"])} {escape(text)}</title>'
                   f'<path d="M{x:.1f} 3 l6 {LANE - 6} h-12 z" fill="{"#e0763f" if r["crossed"] else "#b0607f"}"/></g>')
    if stored:
        low, high = min(p["min"] for p in stored), max(p["max"] for p in stored)
        spread = max(high - low, 10.0)

        def y(bpm: float) -> float:
            return HEIGHT - 6 - (HEIGHT - LANE - 16) * (bpm - low) / spread

        points = " ".join(f"{left + p['at_s'] * scale:.1f},{y(p['bpm']):.1f}" for p in stored)
        out.append(f'<text x="6" y="{HEIGHT - 24}">{escape(word(t, "vitals.pulse"))}</text>'
                   f'<text x="6" y="{HEIGHT - 8}">{low:g}–{high:g}</text>'
                   f'<polyline data-kind="pulse" points="{points}" fill="none" stroke-width="1.5"/>')
    out.append("</svg>")
    return "".join(out)
