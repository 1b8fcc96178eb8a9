// Vitals beside the setting: notices when a limit is crossed (calm, with the protocol's words), the live
// pulse with its trend, what the profile asks to measure, and a reading entered in a few taps. The room
// never acts on a value; this card only shows and records.

import { $, el, renderWhenChanged } from "./dom.js";
import { clock } from "./format.js";
import { t } from "./i18n.js";

const MEASURE = { blood_pressure: "vitals.blood_pressure", pulse: "vitals.pulse_m", temperature: "vitals.temperature_m" };
const FIELDS = ["systolic", "diastolic", "pulse", "temperature"];
const LABELS = { temperature: "vitals.temperature_c" };   // the field's short label with its unit
const AGO = [0, 5, 10, 15, 30];                             // minutes: when the reading was taken
let editing = null;   // the reading being corrected, or null for a new one

/** The card's form, built once (a state event must never wipe what the therapist is typing). */
export function wireVitals(act) {
  const words = (key) => el("span", { "data-i18n": key }, t(key));   // drawn again by i18n.translate
  const inputs = FIELDS.map((name) => el("label", { class: "vital" }, words(LABELS[name] ?? `vitals.${name}`),
    el("input", { id: `vital-${name}`, type: "number", inputmode: "decimal", step: name === "temperature" ? "0.1" : "1",
                  min: name === "temperature" ? "30" : "20", max: name === "temperature" ? "45" : "300" })));
  const taken = el("select", { id: "vital-ago" }, AGO.map((min) => el("option", { value: String(min * 60) })));
  const form = el("form", { id: "vital-form", class: "vital-form" },
    el("p", { id: "vital-editing", class: "hint", hidden: true }),
    el("div", { class: "vital-fields" }, inputs, el("label", { class: "vital" }, words("vitals.taken"), taken)),
    el("div", { class: "row" },
       el("button", { type: "submit", id: "vital-save", class: "primary" }),
       el("button", { type: "button", id: "vital-cancel", hidden: true, "data-i18n": "common.cancel", onclick: () => edit(null) },
          t("common.cancel"))));
  form.addEventListener("submit", (event) => { event.preventDefault(); save(act); });
  $("vitals").replaceChildren(
    el("h2", { id: "vitals-title", "data-i18n": "vitals.title" }, t("vitals.title")),
    el("div", { id: "vital-notices", role: "status", "aria-live": "polite" }),
    el("p", { id: "vital-limits", class: "vital-limits", hidden: true }),
    el("div", { id: "vital-live", class: "vital-live", hidden: true }),
    el("ul", { id: "vital-schedule", class: "vital-schedule" }),
    form,
    el("ul", { id: "vital-readings", class: "vital-readings" }));
  formWords();
  document.addEventListener("language", formWords);
}

/** The form's words that depend on what it is doing (the rest are marked for i18n.translate). */
function formWords() {
  for (const option of $("vital-ago").options) {
    const min = Number(option.value) / 60;
    option.textContent = min ? t("vitals.ago", { min }) : t("vitals.now");
  }
  $("vital-save").textContent = t(editing ? "vitals.save_correction" : "vitals.save");
  $("vital-editing").textContent = editing ? t("vitals.correcting", { time: clock(editing.at_s) }) : "";
}

async function save(act) {
  const body = {};
  for (const name of FIELDS) {
    const value = $(`vital-${name}`).value.trim();
    if (value !== "") body[name] = Number(value);
  }
  let result;
  if (editing) {
    result = await act("PATCH", `/api/vitals/${editing.event}`, body, t("vitals.correction_saved"));
  } else {
    const ago = Number($("vital-ago").value);
    result = await act("POST", "/api/vitals", ago ? { ...body, ago } : body, t("vitals.saved"));
  }
  if (result) edit(null);
}

function edit(reading) {
  editing = reading;
  for (const name of FIELDS) $(`vital-${name}`).value = reading?.[name] ?? "";
  $("vital-ago").disabled = Boolean(reading);
  formWords();
  $("vital-cancel").hidden = !reading;
  $("vital-editing").hidden = !reading;
  if (reading) $("vital-systolic").focus();
}

export function renderVitals(state, act) {
  const vitals = state.vitals ?? {};
  const card = $("vitals");
  card.hidden = !state.session && !vitals.pulse;
  $("vital-form").hidden = !state.session;
  renderWhenChanged($("vital-notices"), vitals.notices ?? [], (notices) => notices.map((n) => notice(n, act)));
  renderLimits(state.session ? vitals.limits : undefined);
  renderPulse(vitals.pulse);
  renderWhenChanged($("vital-schedule"), vitals.schedule ?? [], (schedule) => schedule.map((s) => el("li", { "data-state": s.state },
    el("span", {}, t("vitals.measure_at", { time: clock(s.due_s), what: (s.name ? `${s.name}: ` : "")
      + s.measure.map((m) => t(MEASURE[m])).join(", ") })),
    el("strong", { class: "vital-state" }, t(`vitals.${s.state}`)))));
  renderWhenChanged($("vital-readings"), vitals.readings ?? [], (readings) => readings.slice().reverse().map((r) => el("li", { "data-event": r.event },
    el("span", { class: "t" }, clock(r.at_s)),
    el("span", { class: r.crossed.length ? "over" : "" }, summary(r)),
    el("button", { type: "button", class: "quiet", "aria-label": t("vitals.correct_aria", { time: clock(r.at_s) }),
                   onclick: () => edit(r) }, t("vitals.correct")))));
}

function summary(r) {
  return [r.systolic !== undefined ? `${r.systolic}/${r.diastolic}` : null, r.pulse !== undefined ? `♥ ${r.pulse}` : null,
          r.temperature !== undefined ? `${r.temperature} °C` : null].filter(Boolean).join(" · ");
}

/** Where the limits a reading is checked against come from, or that there are none: a reading saved
 *  without a word must never look like a reading found normal. */
function renderLimits(limits) {
  const line = $("vital-limits");
  line.hidden = limits === undefined;
  if (limits === undefined) return;
  line.dataset.limits = limits === null ? "none" : limits.example ? "example" : "set";
  renderWhenChanged(line, limits, (given) => {
    if (given === null) return [t("vitals.no_limits")];
    const named = given.sources.filter((source) => source !== "example");
    return [given.example ? el("strong", {}, t("vitals.limits_example")) : null,
            named.length ? el("span", {}, t("vitals.limits_from", { source: named.join("; ") })) : null].filter(Boolean);
  });
}

/** A crossing's title quotes its limit's source; an example says it is one. */
function noticeTitle(c) {
  if (c.example) return t("vitals.notice_example");
  return c.source ? t("vitals.notice_from", { source: c.source }) : t("vitals.notice");
}

function notice(n, act) {
  return el("div", { class: "vital-notice", "data-notice": n.id },
    [...new Set(n.crossed.map(noticeTitle))].map((title) => el("p", { class: "vital-notice-title" }, title)),
    el("ul", {}, n.crossed.map((c) => el("li", {}, t("vitals.crossed", {
      name: t(`vitals.${c.value_name}`), value: c.value, side: t(`vitals.${c.side}`), limit: c.limit })))),
    ...n.instructions.map((text) => el("p", { class: "vital-instruction" }, text)),
    el("button", { type: "button", onclick: () => act("POST", `/api/vitals/notices/${n.id}/seen`) }, t("vitals.seen")));
}

function renderPulse(pulse) {
  const box = $("vital-live");
  box.hidden = !pulse;
  if (!pulse) return;
  box.dataset.stale = pulse.stale ? "yes" : "no";
  const value = pulse.bpm === null ? t("vitals.no_signal") : t("vitals.per_min", { bpm: Math.round(pulse.bpm) });
  box.replaceChildren(
    el("span", { class: "hint" }, t("vitals.live")), el("strong", { id: "vital-bpm" }, value),
    pulse.stale && pulse.heard_s_ago !== null ? el("span", { class: "hint" }, t("vitals.stale", { time: clock(pulse.heard_s_ago) })) : null,
    trend(pulse.trend ?? []));
}

function trend(points) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 120 30");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", t("vitals.trend"));
  svg.classList.add("vital-trend");
  if (points.length > 1) {
    const low = Math.min(...points.map((p) => p[1])), high = Math.max(...points.map((p) => p[1]));
    const spread = Math.max(high - low, 10);
    const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    line.setAttribute("points", points.map(([ago, bpm]) => `${(120 - ago / 5).toFixed(1)},${(28 - 26 * (bpm - low) / spread).toFixed(1)}`).join(" "));
    svg.append(line);
  }
  return svg;
}
