"""The session report as a page for people: a one-page summary, a timeline picture, then every event in words.

Built from `report.build` (spans and points) and the journal's rows, nothing else, so the picture can be
checked against the journal: every shape carries its kind, name and session times as `data-` attributes,
every table row its event's id and kind. Words come from the room's catalogue (`room_controller.i18n`).

The page is self-contained (inline CSS and SVG, no script). On a screen it is dark and red-shifted like the
panel, for a dim room; on paper it is black on white. It fits a portrait tablet (768 px): the timeline is
drawn at about that width, so its labels stay their size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from html import escape

from room_controller.i18n import Translator, translator
from room_controller.journal.store import Row
from room_controller.reporting import vitals_report, words
from room_controller.reporting.report import music_groups
from room_controller.reporting.times import clock_text

WIDTH, LEFT, RIGHT = 720, 100, 12
LANE, GAP, AXIS = 26, 8, 24
LANES = (  # (report list, catalogue key of its title, span or point, colour)
    ("phases", "report.lane_phases", "span", "#8a5a3c"),
    ("presets", "report.lane_presets", "span", "#9c4a33"),
    ("tracks", "report.lane_music", "span", "#5c6f80"),
    ("notes", "report.lane_notes", "point", "#c9a27e"),
    ("reminders", "report.lane_reminders", "point", "#d08a3a"),
)
CSS = """
:root { color-scheme: dark light; --bg: #0d0706; --text: #e2a68d; --muted: #b98069; --line: #3b2219;
        --stripe: #170d0a; --strong: #f0c4ad; }
body { font: 16px/1.45 system-ui, "DejaVu Sans", sans-serif; color: var(--text); background: var(--bg);
       margin: 0 auto; padding: 1rem; max-width: 60rem; }
h1 { font-size: 1.35rem; margin: 0 0 .3rem; color: var(--strong); }
h2 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; color: var(--muted); text-transform: uppercase;
     letter-spacing: .05em; }
h3 { font-size: 1rem; margin: .8rem 0 .2rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .4rem 0; }
dt { color: var(--muted); } dd { margin: 0; }
ul { margin: .2rem 0; padding-left: 1.2rem; }
.summary { display: grid; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); gap: 0 1.5rem; }
svg { display: block; width: 100%; height: auto; border: 1px solid var(--line); }
svg text { font: 12px system-ui, "DejaVu Sans", sans-serif; fill: currentColor; }
svg .grid { stroke: var(--line); } svg .span text { fill: #fff3ea; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .25rem .5rem; vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
tr { break-inside: avoid; } tbody tr:nth-child(even) { background: var(--stripe); }
td.t { white-space: nowrap; font-variant-numeric: tabular-nums; }
.edited, .quiet { color: var(--muted); font-size: .9em; }
.missed { color: #e0763f; font-weight: 600; }
@media (max-width: 40rem) { td.t + td.t { display: none; } }
@media print {
  :root { --bg: #fff; --text: #1a1a1a; --muted: #555; --line: #bbb; --stripe: #f2f0ee; --strong: #000; }
  body { font-size: 11pt; max-width: none; padding: 0; }
  svg { border: none; } svg .span text { fill: #fff; }
  h2 { break-after: avoid; } .summary { break-after: page; }
}
"""


def render(report: dict, rows: list[Row], room_name: str = "", language: str = "en") -> str:
    return "".join(chunks(report, rows, len(rows), room_name, language))


def chunks(report: dict, rows: Iterable[Row], count: int, room_name: str = "", language: str = "en") -> Iterator[str]:
    """The page, its table of every event written a row at a time as `rows` are read (`count` of them)."""
    t = translator(language)
    session = report["session"]
    title = t("report.title") + (f" · {session['label']}" if session["label"] else "")
    end_s = report["end_s"]
    facts = [(t("report.room"), room_name), (t("report.profile"), session["profile_name"]),
             (t("report.started"), t.date_time(session["started_wall"])),
             (t("report.ended"), t.date_time(session["ended_wall"]) if session["ended_wall"] else t("report.running")),
             (t("report.length"), t.duration(end_s)), (t("report.record"), f"#{session['id']}")]
    yield (
        f"<!doctype html>\n<html lang={t.language}><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>" + _facts(facts)
        + summary(t, report)
        + f"<h2>{t('report.timeline')}</h2>" + timeline_svg(report, end_s, t)
        + vitals_report.html(report, end_s, t, (WIDTH, LEFT, RIGHT))
        + f"<h2>{t('report.every_event', count=t.number(count))}</h2>"
        + f"<table class=events><thead><tr><th>{t('report.time')}</th><th>{t('report.session_time')}</th>"
        + f"<th>{t('report.event')}</th></tr></thead><tbody>")
    undone = {event: move for move in report["undone_moves"] for event in move["events"]}
    alerts = {alert["id"]: alert for alert in report.get("alerts", ())}
    for row in rows:
        note = f" <span class=quiet>· {_undone(t, undone[row.id])}</span>" if row.id in undone else ""
        yield (f'<tr data-event="{row.id}" data-kind="{escape(row.kind)}"{" data-undone" if note else ""}>'
               f"<td class=t>{t.time(row.wall)}</td><td class=t>{clock_text(row.session_s)}</td>"
               f"<td>{escape(words.describe(t, row, alerts))}{note}</td></tr>")
    yield "</tbody></table></body></html>\n"


def summary(t: Translator, report: dict) -> str:
    """The one page a clinician reads first: phases, presets, music, notes, reminders, the alerts the clinic floor
    was sent (and who saw them), the sound dose."""
    start = report["session"]["started_wall"]
    at = lambda seconds: t.time(start + seconds)  # noqa: E731  (a time of day from a session time)
    phases = "".join(
        f"<tr data-phase><td>{escape(p['name'])}</td><td class=t>{at(p['start_s'])}</td>"
        f"<td class=t>{_span_length(t, p)}</td><td class=t>{t.duration(p.get('planned_s'))}</td></tr>"
        + "".join(f"<tr class=quiet data-undone><td colspan=4>{_undone(t, move, at)}</td></tr>"
                  for move in p.get("undone", ()))
        for p in report["phases"])
    parts = [f"<section class=phases><h3>{t('report.phases')}</h3><table><thead><tr><th>{t('report.phase')}</th>"
             f"<th>{t('report.began')}</th><th>{t('report.lasted')}</th><th>{t('report.planned')}</th></tr></thead>"
             f"<tbody>{phases}</tbody></table></section>"]
    presets = [t("report.preset_used", preset=escape(words.preset_name(t, p["name"])), times=t.number(p["times"]),
                 length=t.duration(p["seconds"])) for p in report["presets_used"]]
    parts.append(_list(t("report.presets"), presets, t("report.none")))
    parts.append(_list(t("report.music"), _music(t, report), t("report.no_music")))
    parts.append(_list(t("report.notes"), [
        f"{at(n['at_s'])} {escape(n['text'])}" + (f" <span class=edited>{t('report.edited', text=escape(n['original']))}"
                                                   "</span>" if n.get("original") is not None else "")
        for n in report["notes"]], t("report.none")))
    parts.append(_list(t("report.reminders"), [
        f"{at(r['at_s'])} {escape(r['text'])} · " + (t("report.reminder_done", time=at(r["acknowledged_s"]))
                                                       if r["acknowledged_s"] is not None
                                                       else f"<span class=missed>{t('report.reminder_missed')}</span>")
        for r in report["reminders"]], t("report.none")))
    parts.append(_list(t("report.alerts"), _alerts(t, report, at), t("report.none")))
    parts.append(f"<section class=dose><h3>{t('report.dose')}</h3><p data-dose>{_dose(t, report.get('dose'))}</p>"
                 + "".join(f"<p class=quiet>{t('report.restarted', time=at(r['at_s']))}</p>"
                           for r in report["recoveries"]) + "</section>")
    return f"<h2>{t('report.summary')}</h2><div class=summary>{''.join(parts)}</div>"


def _alerts(t: Translator, report: dict, at: Callable[[float], str]) -> list[str]:
    """The alerts the clinic floor was sent, in the order of their first: one alone with its time and who saw
    it; the same alert again and again (a reading missed every hour) as one line with how often and how many
    were seen, so an eight-hour session's summary stays on its page. Each is in the event list below."""
    said: dict[str, list[dict]] = {}
    for alert in report["alerts"]:
        said.setdefault(words.alert_what(t, alert), []).append(alert)
    lines = []
    for what, alerts in said.items():
        if len(alerts) > 1:
            lines.append(escape(t("report.alert_times", what=what, count=t.number(len(alerts)),
                                  first=at(alerts[0]["at_s"]), last=at(alerts[-1]["at_s"]),
                                  seen=t.number(sum(1 for a in alerts if a.get("seen"))))))
            continue
        seen = alerts[0].get("seen")
        lines.append(f"{at(alerts[0]['at_s'])} {escape(what)} · " + (
            escape(t("event.alert_seen_by", by=seen.get("by") or "?", time=words.seen_at(t, seen))) if seen
            else f"<span class=missed>{t('report.alert_unseen')}</span>"))
    return lines


def _music(t: Translator, report: dict) -> list[str]:
    """How much music in all, each phase's (and each preset's) tracks counted by playlist, and any volume the
    room's limit held back. Every track is named in the event list below, not here: a summary of a long
    session with calm pressed often would run to pages."""
    tracks = report["tracks"]
    lines = [t("report.music_played", tracks=t.number(len(tracks)),
               length=t.duration(sum(_stop(s) - s["start_s"] for s in tracks)))] if tracks else []
    for group in music_groups(report):
        where = (t("report.music_during", preset=words.preset_name(t, group["preset"])) if group["preset"]
                 else group["phase"] or "—")
        count = t("report.track_one") if group["tracks"] == 1 else t("report.tracks", count=t.number(group["tracks"]))
        length = t.duration(group["seconds"])
        lines.append(escape(t("report.music_group", where=where, tracks=count, length=length,
                              playlist=words.file_name(group["playlist"])) if group["playlist"] else
                            t("report.music_group_unnamed", where=where, tracks=count, length=length)))
    held = [v for v in report.get("volumes", []) if v["played"] < v["asked"]]
    if held:
        top = max(held, key=lambda v: v["asked"])
        lines.append(t("report.volume_held", times=t.number(len(held)), asked=t.number(top["asked"]),
                       played=t.number(top["played"])))
    return lines


def timeline_svg(report: dict, end_s: float, t: Translator | None = None) -> str:
    """Lanes of spans (phases, presets, music) and points (notes, reminders) over session time."""
    t = t or translator()
    span = max(end_s, 60.0)
    scale = (WIDTH - LEFT - RIGHT) / span
    height = AXIS + len(LANES) * (LANE + GAP) + GAP
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
           f'aria-label="{escape(t("report.timeline"))}" data-end-s="{end_s:g}">']
    step = next((s for s in (300, 900, 1800, 3600, 7200) if span / s <= 9), 3600 * math.ceil(span / 9 / 3600))
    for at in range(0, int(span) + 1, step):
        x = LEFT + at * scale
        out.append(f'<line class="grid" x1="{x:.1f}" y1="{AXIS - 6}" x2="{x:.1f}" y2="{height}"/>'
                   f'<text x="{x:.1f}" y="{AXIS - 10}" text-anchor="middle">{clock_text(at)[:-3]}</text>')
    for i, (name, key, shape, colour) in enumerate(LANES):
        y = AXIS + GAP + i * (LANE + GAP)
        out.append(f'<text class="lane" x="6" y="{y + LANE * 0.68:.1f}">{escape(t(key))}</text>')
        for item in report[name]:
            shown = words.preset_name(t, item["name"]) if name == "presets" else item.get("name")
            out.append(_span(item, shown, name, y, scale, end_s, colour) if shape == "span" else
                       _point(item, name, y, scale, colour))
    out.append("</svg>")
    return "".join(out)


def _span(item: dict, shown: str, name: str, y: float, scale: float, end_s: float, colour: str) -> str:
    start, stop = item["start_s"], item["end_s"] if item["end_s"] is not None else end_s
    x, w = LEFT + start * scale, max(1.0, (stop - start) * scale)
    label = escape(_fit(shown, w - 8))
    return (f'<g class="span" data-kind="{name}" data-name="{escape(item["name"])}" data-start-s="{start:g}" '
            f'data-end-s="{stop:g}"><title>{escape(shown)} {clock_text(start)}–{clock_text(stop)}</title>'
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{LANE}" fill="{colour}" rx="3"/>'
            + (f'<text x="{x + 4:.1f}" y="{y + LANE * 0.68:.1f}">{label}</text>' if w > 30 else "") + "</g>")


def _point(item: dict, name: str, y: float, scale: float, colour: str) -> str:
    at = item["at_s"]
    x = LEFT + at * scale
    return (f'<g data-kind="{name}" data-name="{escape(item["text"])}" data-at-s="{at:g}">'
            f'<title>{clock_text(at)} {escape(item["text"])}</title>'
            f'<path d="M{x:.1f} {y + 3} l6 {LANE - 6} h-12 z" fill="{colour}"/></g>')


def _undone(t: Translator, move: dict, at: Callable[[float], str] | None = None) -> str:
    """A move taken back: under the phase it left ("Moved to Peak by hand at 10:42 · undone 6 s later"), or
    after its events in the list."""
    after = t.duration(move["after_s"] or 0)
    if at is None:
        return t("report.undone", after=after)
    key = "report.clock_undone" if move["kind"] == "clock" else "report.moved_undone"
    return t(key, phase=escape(move["to"] or "?"), time=at(move["at_s"]), after=after)


def _facts(facts: list[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{k}</dt><dd>{escape(str(v))}</dd>" for k, v in facts if v) + "</dl>"


def _list(title: str, items: list[str], empty: str) -> str:
    body = "".join(f"<li>{item}</li>" for item in items) if items else f"<li class=quiet>{empty}</li>"
    return f"<section><h3>{title}</h3><ul>{body}</ul></section>"


def _dose(t: Translator, dose: dict | None) -> str:
    if dose is None:
        return t("report.dose_unknown")
    if dose["percent"] is None:
        return t("report.dose_uncalibrated")
    return t("report.dose_percent" if dose["final"] else "report.dose_so_far", percent=t.number(dose["percent"]))


def _span_length(t: Translator, span: dict) -> str:
    return t.duration(span["end_s"] - span["start_s"]) if span["end_s"] is not None else t("report.running")


def _stop(span: dict) -> float:
    return span["end_s"] if span["end_s"] is not None else span["start_s"]


def _fit(text: str, width: float) -> str:
    chars = int(width / 7)
    return text if len(text) <= chars else text[:max(1, chars - 1)] + "…"
