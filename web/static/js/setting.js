// The room's setting: light and volume sliders that show what the room really is, and send one value
// when released. While a finger is on a slider (or its change is on the way) the slider is left alone;
// afterwards it shows the room's state again, so it never shows a value that did not happen. The volume
// shows what the therapist chose, with where the level is now beside it while a ramp runs, and says when
// the room's max_volume holds it back. "Follow the phase" gives an adjustment up (lights, volume). Below it,
// a quiet gauge of the session's sound dose, or the plain fact that the room is not calibrated.

import { $, el } from "./dom.js";
import { number, presetLabel, t } from "./i18n.js";

const busy = new Set();    // sliders being moved or whose value is on its way
const sent = new Map();    // slider -> {value, until}: accepted, but the room has not reported it yet
const SETTLE_MS = 1500;    // how long an accepted value is shown before the room's own report wins

document.addEventListener("language", () => { $("presets").dataset.names = ""; $("light-list").dataset.ids = ""; });

export function bindSlider(input, send) {
  input.addEventListener("input", () => {
    busy.add(input);
    output(input).textContent = `${describe(input, Number(input.value))} ${t("slider.release_to_set")}`;
  });
  input.addEventListener("change", async () => {
    const value = Number(input.value);
    busy.add(input);
    try {
      if (await send(value) !== null) {
        sent.set(input, { value, until: performance.now() + SETTLE_MS });
        setTimeout(() => document.dispatchEvent(new Event("redraw")), SETTLE_MS + 50);
      }
    } finally {
      busy.delete(input);
      document.dispatchEvent(new Event("redraw"));
    }
  });
}

const known = (value) => typeof value === "number" && Number.isFinite(value);

export function renderLights(state, act) {
  const lights = state.lights;
  $("lights-follow").hidden = !(state.session && state.follow_phase?.lights === false);
  show($("room-brightness"), average(lights.map((l) => l.state && (l.state.on ? l.state.brightness : 0))));
  show($("room-kelvin"), average(lights.map((l) => l.state?.on ? l.state.kelvin : null)));
  renderPresets(state, act);
  const list = $("light-list");
  if (list.dataset.ids !== lights.map((l) => l.id).join()) {
    list.dataset.ids = lights.map((l) => l.id).join();
    list.replaceChildren(...lights.map((light) => lightRow(light, act)));
  }
  for (const light of lights) {
    const id = `light-${light.id}`;
    const colour = colourOf(light.state);
    $(`${id}-swatch`).hidden = !colour;
    $(`${id}-swatch`).style.background = colour ?? "";
    $(`${id}-status`).textContent = light.online === false ? t("light.offline") : colour ? t("light.colour", { colour }) : "";
    show($(`${id}-brightness`), light.state ? (light.state.on ? light.state.brightness : 0) : null);
    show($(`${id}-kelvin`), light.state?.on && !colour ? light.state.kelvin ?? null : null, colour ? t("light.in_colour") : null);
  }
}

/** The slider at the chosen volume (older rooms send only `volume`: then that), the bar at the level now. */
export function renderMusic(audio, session) {
  const now = known(audio.volume) ? audio.volume : null;
  const chosen = known(audio.requested_volume) ? audio.requested_volume : now;
  const going = known(audio.target_volume) ? audio.target_volume : chosen;
  const ramping = chosen !== null && now !== null && Math.abs(now - going) >= 1;
  show($("volume"), chosen, ramping ? t("music.now", { chosen: number(chosen), now: number(now) }) : null);
  $("volume-now").style.width = `${now ?? 0}%`;
  const limited = audio.limited === true && known(audio.max_volume);
  $("volume-limit").hidden = !limited;
  $("volume-limit").textContent = limited ? t("music.limited", { max: number(audio.max_volume) }) : "";
  $("volume-follow").hidden = !(session && audio.volume_source === "therapist");
  $("track").textContent = audio.track ?? t("music.nothing");
  $("play").textContent = audio.playing ? t("music.pause") : t("music.play");
  $("play").dataset.playing = audio.playing ? "yes" : "no";
}

/** The session's sound dose: a thin bar to 100 % of the daily limit, a word at 50 % and at 100 %; a room
 *  that is not calibrated says so, and a room that says nothing (older) shows nothing. */
export function renderDose(dose) {
  $("dose").hidden = !dose;
  if (!dose) return;
  const percent = dose.calibrated && known(dose.percent) ? dose.percent : null;
  const [half, full] = [...(dose.warnings ?? [50, 100])].sort((a, b) => a - b);
  const level = percent === null ? "none" : percent >= full ? "over" : percent >= half ? "half" : "ok";
  $("dose").dataset.level = level;
  $("dose-text").textContent = percent === null ? t("dose.uncalibrated")
    : `${t("dose.percent", { percent: number(percent) })}${dose.estimated ? ` ${t("dose.estimated")}` : ""}`;
  $("dose-bar").style.width = `${Math.min(100, percent ?? 0)}%`;
  $("dose-warning").hidden = level !== "half" && level !== "over";
  $("dose-warning").textContent = level === "over" ? t("dose.over") : level === "half" ? t("dose.half") : "";
}

function renderPresets(state, act) {
  const others = (state.presets ?? []).filter((p) => p.name !== "calm" && p.name !== "emergency");
  const box = $("presets");
  if (box.dataset.names === others.map((p) => p.name).join()) return;
  box.dataset.names = others.map((p) => p.name).join();
  box.replaceChildren(...others.map((p) => el("button", { type: "button",
    onclick: () => act("POST", `/api/presets/${encodeURIComponent(p.name)}`) }, presetLabel(p.name, p.label))));
}

/** A light that is on in colour mode: its "#rrggbb" (rooms that do not say the mode have none). */
function colourOf(state) {
  return state?.on && state.mode === "color" && /^#[0-9a-f]{6}$/i.test(state.color ?? "") ? state.color : null;
}

function lightRow(light, act) {
  const id = `light-${light.id}`;
  const row = el("div", { class: "light" },
    el("h3", {}, el("span", { id: `${id}-swatch`, class: "swatch", "aria-hidden": "true", hidden: true }),
       light.name ?? light.id, " ", el("span", { id: `${id}-status`, class: "hint" })),
    slider(`${id}-brightness`, t("light.brightness"), 0, 100, 1, "brightness"),
    slider(`${id}-kelvin`, t("light.warmth"), 1800, 6500, 50, "kelvin"));
  for (const input of row.querySelectorAll("input")) {
    bindSlider(input, (value) => act("PATCH", `/api/lights/${encodeURIComponent(light.id)}`, { [input.dataset.kind]: value }));
  }
  return row;
}

function slider(id, label, min, max, step, kind) {
  return el("div", { class: "slider" },
    el("label", { for: id }, label),
    el("output", { id: `${id}-out`, for: id }),
    el("input", { id, type: "range", min, max, step, "data-kind": kind }));
}

function show(input, value, words = null) {
  if (busy.has(input)) return;
  const accepted = sent.get(input);
  if (accepted && accepted.value !== Math.round(value ?? NaN) && performance.now() < accepted.until) {
    output(input).textContent = describe(input, accepted.value);   // the room's report of it is on the way
    return;
  }
  sent.delete(input);
  if (value === null || value === undefined) {
    input.value = input.min;
    output(input).textContent = words ?? t("slider.unknown");
    input.setAttribute("aria-valuetext", words ?? t("slider.unknown"));
    return;
  }
  input.value = String(value);
  output(input).textContent = words ?? describe(input, value);
  input.setAttribute("aria-valuetext", words ?? describe(input, value));
}

function describe(input, value) {
  if (input.dataset.kind === "kelvin") {
    const feel = t(value < 2700 ? "light.warm" : value < 4000 ? "light.neutral" : "light.cool");
    return t("light.kelvin_feel", { kelvin: Math.round(value), feel });
  }
  return `${number(value)} %`;
}

function output(input) {
  return $(`${input.id}-out`);
}

function average(values) {
  const known = values.filter((v) => v !== null && v !== undefined);
  return known.length ? known.reduce((a, b) => a + b, 0) / known.length : null;
}
