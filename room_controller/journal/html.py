"""The session report as a printable HTML page: a timeline picture, then every event in a table.

Built from `report.build` (spans and points) and the journal's rows, nothing else, so the picture can be
checked against the journal: every shape carries its kind, name and session times as `data-` attributes.
The page is self-contained (inline CSS and SVG, no script), light on paper and readable on a screen.
"""

from __future__ import annotations

from html import escape

from room_controller.journal.report import clock_text, details, wall_text
from room_controller.journal.store import Row

WIDTH, LEFT, RIGHT = 1000, 110, 20
LANE, GAP, AXIS = 26, 8, 24
LANES = (  # (report list, title, span or point, colour)
    ("phases", "Phases", "span", "#c9a27e"),
    ("presets", "Presets", "span", "#d9826b"),
    ("tracks", "Music", "span", "#9bb3c9"),
    ("notes", "Notes", "point", "#4c6b8a"),
    ("reminders", "Reminders", "point", "#8a6d2f"),
)
CSS = """
body { font: 14px/1.45 system-ui, "DejaVu Sans", sans-serif; color: #222; margin: 2rem; }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; } h2 { font-size: 1.1rem; margin: 1.6rem 0 .5rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .6rem 0; }
dt { color: #555; } dd { margin: 0; }
svg { width: 100%; height: auto; border: 1px solid #ccc; }
svg text { font: 12px system-ui, "DejaVu Sans", sans-serif; fill: #333; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .2rem .5rem; vertical-align: top; }
tr { break-inside: avoid; } tbody tr:nth-child(even) { background: #f4f1ee; }
td.t { white-space: nowrap; font-variant-numeric: tabular-nums; }
.edited { color: #555; font-size: .9em; }
@media print { body { margin: 0; } svg { border: none; } }
"""


def render(report: dict, rows: list[Row], room_name: str = "") -> str:
    session = report["session"]
    title = f"Session {session['id']}" + (f" · {session['label']}" if session["label"] else "")
    end_s = _end_s(rows)
    facts = [("Room", room_name), ("Profile", session["profile_name"]), ("Label", session["label"] or "—"),
             ("Started", wall_text(session["started_wall"])),
             ("Ended", wall_text(session["ended_wall"]) if session["ended_wall"] else "still running"),
             ("Session time", clock_text(end_s))]
    notes = "".join(f"<li><b>{clock_text(n['at_s'])}</b> {escape(n['text'])}"
                    + (f" <span class=edited>(edited; first written: {escape(n['original'])})</span>"
                       if n.get("original") is not None else "") + "</li>" for n in report["notes"])
    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1><dl>"
        + "".join(f"<dt>{k}</dt><dd>{escape(str(v))}</dd>" for k, v in facts if v) + "</dl>"
        + "<h2>Timeline</h2>" + timeline_svg(report, end_s)
        + (f"<h2>Notes</h2><ul>{notes}</ul>" if notes else "")
        + f"<h2>Every event ({len(rows)})</h2>" + _table(rows)
        + "</body></html>\n")


def timeline_svg(report: dict, end_s: float) -> str:
    """Lanes of spans (phases, presets, music) and points (notes, reminders) over session time."""
    span = max(end_s, 60.0)
    scale = (WIDTH - LEFT - RIGHT) / span
    height = AXIS + len(LANES) * (LANE + GAP) + GAP
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
           f'aria-label="Timeline of the session" data-end-s="{end_s:g}">']
    step = next(s for s in (300, 900, 1800, 3600, 7200) if span / s <= 12)
    for t in range(0, int(span) + 1, step):
        x = LEFT + t * scale
        out.append(f'<line x1="{x:.1f}" y1="{AXIS - 6}" x2="{x:.1f}" y2="{height}" stroke="#ddd"/>'
                   f'<text x="{x:.1f}" y="{AXIS - 10}" text-anchor="middle">{clock_text(t)[:-3]}</text>')
    for i, (name, title, shape, colour) in enumerate(LANES):
        y = AXIS + GAP + i * (LANE + GAP)
        out.append(f'<text x="8" y="{y + LANE * 0.68:.1f}">{title}</text>')
        for item in report[name]:
            if shape == "span":
                start, stop = item["start_s"], item["end_s"] if item["end_s"] is not None else end_s
                x, w = LEFT + start * scale, max(1.0, (stop - start) * scale)
                out.append(f'<g data-kind="{name}" data-name="{escape(item["name"])}" data-start-s="{start:g}" '
                           f'data-end-s="{stop:g}"><title>{escape(item["name"])} '
                           f'{clock_text(start)}–{clock_text(stop)}</title>'
                           f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{LANE}" fill="{colour}" '
                           'stroke="#fff" rx="3"/>'
                           + (f'<text x="{x + 4:.1f}" y="{y + LANE * 0.68:.1f}">{escape(_fit(item["name"], w))}</text>'
                              if w > 40 else "") + "</g>")
            else:
                at = item["at_s"]
                x = LEFT + at * scale
                out.append(f'<g data-kind="{name}" data-name="{escape(item["text"])}" data-at-s="{at:g}">'
                           f'<title>{clock_text(at)} {escape(item["text"])}</title>'
                           f'<path d="M{x:.1f} {y + 3} l6 {LANE - 6} h-12 z" fill="{colour}"/></g>')
    out.append("</svg>")
    return "".join(out)


def _table(rows: list[Row]) -> str:
    body = "".join(
        f"<tr data-event=\"{row.id}\"><td class=t>{wall_text(row.wall)}</td><td class=t>{clock_text(row.session_s)}</td>"
        f"<td>{escape(row.kind)}</td><td>{escape(details(row.data))}</td></tr>" for row in rows)
    return ("<table><thead><tr><th>Time</th><th>Session</th><th>Event</th><th>Details</th></tr></thead>"
            f"<tbody>{body}</tbody></table>")


def _end_s(rows: list[Row]) -> float:
    return max([r.session_s for r in rows if r.session_s is not None] + [0.0])


def _fit(text: str, width: float) -> str:
    chars = int(width / 7)
    return text if len(text) <= chars else text[:max(1, chars - 1)] + "…"
