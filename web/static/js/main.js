// The panel: log in (or not, on an open room), follow the room live, and wire every control.

import { api, useCsrf, whenUnauthorized, whenUsed } from "./api.js";
import { $, toast } from "./dom.js";
import { timeOfDay } from "./format.js";
import { locale, presetLabel, t, useLanguage } from "./i18n.js";
import { holdToActivate } from "./hold.js";
import { follow } from "./live.js";
import { used, watchIdle } from "./idle.js";
import { wirePast } from "./past.js";
import { wireTools } from "./tools.js";
import { nameLights, showPicture } from "./picture.js";
import { bindSlider, renderDose, renderLights, renderMusic } from "./setting.js";
import { renderClock, renderReminders, renderSession, tick, wireClock } from "./session.js";
import { renderVitals, wireVitals } from "./vitals.js";
import { renderUndo } from "./undo.js";
import { isHeld, renderHeldSources } from "./sources.js";
import { renderAlerts } from "./alerts.js";
import { dayProblems, renderDay } from "./day.js";

const HOLD_MS = 1000;
const RELEASE_AFTER_MS = 1000;
const TABLET = "room-tablet";   // this browser is the room's own tablet (its login never idles out)
let last = null;   // the last state the server sent
let releaseTimer = null;

/** Send a change; say plainly if it did not happen. Resolves either way, so callers need no catch. */
async function act(method, path, body, done) {
  try {
    const result = await api(method, path, body);
    if (done) toast(done);
    return result;
  } catch (error) {
    if (error.status === 404 && error.code === "not_found") toast(t("panel.cannot"));
    else if (error.status !== 401) toast(error.message);
    return null;
  }
}

function render(state) {
  last = state;
  document.documentElement.dataset.roomLanguage = state.room.language ?? "";
  useLanguage(state.room.language).then((changed) => { if (changed) document.dispatchEvent(new Event("language")); });
  document.title = `${state.room.name} · panel`;
  $("room-name").textContent = state.room.name;
  renderPreset(state);
  renderDay(state, act);
  renderSession(state.session, act);
  renderUndo(state.session, act);
  renderClock(state);
  renderReminders(state.session, act);
  renderVitals(state, act);
  renderLights(state, act);
  nameLights(state);
  renderMusic(state.audio ?? {}, Boolean(state.session));
  renderDose(state.audio?.dose);
  renderProblems(state);
  renderAlerts(state);
}

function renderPreset(state) {
  const preset = state.preset;
  const label = presetLabel(preset, (state.presets ?? []).find((p) => p.name === preset)?.label);
  $("preset-status").textContent = preset ? t("preset.is_on", { preset: `${label[0].toUpperCase()}${label.slice(1)}` }) : "";
  if (preset && preset !== document.body.dataset.preset) holdRelease();
  $("release").hidden = !preset;
  // English says "Release calm"; other languages keep the preset's name as they write it
  $("release-what").textContent = preset ? t("preset.release", { preset: locale().startsWith("en") ? label.toLowerCase() : label }) : "";
  $("release-to").textContent = state.session ? t("preset.back_to", { phase: state.session.phase.name }) : t("preset.back_to_idle");
  // read as one: "Release emergency light · back to Peak"
  $("calm").setAttribute("aria-pressed", preset === "calm" ? "true" : "false");
  document.body.dataset.preset = preset ?? "";
}

/** Releasing is a deliberate act: the release control cannot be pressed until a second after a preset
 *  came on or Calm was tapped, so a hurried second tap never undoes what the first did. */
function holdRelease() {
  $("release").disabled = true;
  clearTimeout(releaseTimer);
  releaseTimer = setTimeout(() => { $("release").disabled = false; }, RELEASE_AFTER_MS);
}

function renderProblems(state) {
  // the session time's doubt is said in the session card, in the panel's language, with its correction; a
  // source held off for flipping presets has a line of its own, with the control that lets it act again
  const problems = (state.problems ?? []).filter((_, i) => !(state.session && state.problem_keys?.[i] === "session_clock")
                                                           && !isHeld(state.problem_keys?.[i]));
  if (state.audio?.health === "error" && state.audio.problem) problems.push(t("problems.music", { problem: state.audio.problem }));
  problems.push(...dayProblems(state));
  const box = $("problems");
  const held = renderHeldSources(box, state, act);
  box.hidden = problems.length === 0 && held === 0;
  box.firstChild.textContent = problems.join(" · ");
}

function showLink(link) {
  const node = $("link");
  if (node.dataset.link === link) return;
  node.dataset.link = link;
  node.textContent = link === "live" ? t("link.live") : t("link.reconnecting");
}

function wire() {
  $("calm").addEventListener("click", async () => {
    // the emergency light holds until it is released: the room refuses calm (409), and the panel says how to leave
    if (last?.preset === "emergency") {
      if (await act("POST", "/api/presets/calm") === null) toast(t("preset.emergency_holds", { release: $("release-what").textContent }));
      return;
    }
    holdRelease();
    act("POST", "/api/presets/calm");
  });
  $("release").addEventListener("click", () => act("DELETE", "/api/presets/active"));
  holdToActivate($("emergency"), HOLD_MS, () => act("POST", "/api/presets/emergency"));
  bindSlider($("room-brightness"), (value) => act("PATCH", "/api/lights", { brightness: value }));
  bindSlider($("room-kelvin"), (value) => act("PATCH", "/api/lights", { kelvin: value }));
  bindSlider($("volume"), (value) => act("PATCH", "/api/audio", { volume: value }));
  $("lights-follow-button").addEventListener("click", () => act("PATCH", "/api/lights", { follow_phase: true }));
  $("volume-follow-button").addEventListener("click", () => act("PATCH", "/api/audio", { follow_phase: true }));
  $("play").addEventListener("click", () => act("PATCH", "/api/audio", { playing: $("play").dataset.playing !== "yes" }));
  $("next-track").addEventListener("click", () => act("POST", "/api/audio/next"));
  $("note-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("note-text").value.trim();
    if (text && await note(text)) $("note-text").value = "";
  });
  for (const button of document.querySelectorAll("[data-marker]")) {
    button.addEventListener("click", () => note(t(button.dataset.marker)));
  }
  document.addEventListener("redraw", () => last && render(last));
  document.addEventListener("language", () => {   // words drawn once are drawn again in the new language
    const link = $("link").dataset.link;
    $("link").dataset.link = "";
    if (link !== "connecting") showLink(link);
    if (last) render(last);
  });
  // the page ends above the docked controls, however tall, and a control scrolled into view stops above them
  const dock = document.querySelector(".dock");
  new ResizeObserver(() => document.documentElement.style.setProperty("--dock-height", `${dock.offsetHeight}px`)).observe(dock);
  wireTools();
  wirePast();
  wireVitals(act);
  wireClock(act);
  setInterval(tick, 1000);
}

function note(text) {
  return act("POST", "/api/notes", { text }, t("notes.noted", { time: timeOfDay(), text }));
}

async function loginState() {
  return api("GET", "/api/login");
}

/** The PIN screen, saying `why` the panel is there (logged out while it was drawn). */
function showLogin(state, why = "") {
  $("panel").hidden = true;
  $("login").hidden = false;
  $("login-message").textContent = why;
  if (!state.pin) {
    $("login-form").hidden = true;
    $("login-message").textContent = t("login.no_pin");
    return;
  }
  $("pin").focus();
}

function wireLogin() {
  const message = $("login-message");
  $("tablet").checked = localStorage.getItem(TABLET) === "yes";   // the room's tablet says so at every login
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = $("login-form").querySelector("button");
    submit.disabled = true;
    try {
      localStorage.setItem(TABLET, $("tablet").checked ? "yes" : "");
      await api("POST", "/api/login", { pin: $("pin").value, tablet: $("tablet").checked });
      location.reload();
      return;
    } catch (error) {
      $("pin").value = "";
      if (error.status === 429) {
        const wait = error.retryAfter ?? 60;
        message.textContent = t("login.too_many", { seconds: wait });
        setTimeout(() => { submit.disabled = false; message.textContent = ""; }, 1000 * wait);
        return;
      }
      message.textContent = error.status === 401 ? t("login.wrong") : error.message;
    }
    submit.disabled = false;
  });
}

async function start() {
  await useLanguage();
  wireLogin();
  const state = await loginState().catch(() => null);
  if (!state) {
    $("login").hidden = false;
    $("login-message").textContent = t("login.unreachable");
    setTimeout(() => location.reload(), 5000);
    return;
  }
  if (!state.authenticated) {
    showLogin(state);
    return;
  }
  useCsrf(state.csrf);
  whenUnauthorized(async () => showLogin(await loginState(), t("login.ended")));
  whenUsed(used);
  watchIdle(state.idle_s, (why) => showLogin({ pin: true }, why));
  $("login").hidden = true;
  $("panel").hidden = false;
  wire();
  showPicture();
  follow({
    onState: render,
    onLink: (link) => {
      if (link === "live" && last?.session) used();   // the open panel keeps its login during a session
      showLink(link);
    },
    stillLoggedIn: async () => {
      const now = await loginState();
      if (now.authenticated) used();
      else showLogin(now, t("login.ended"));
      return now.authenticated;
    },
  });
}

start();
