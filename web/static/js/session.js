// The session card: the start screen when no session runs, else the phase, its times, the timeline and
// the controls. Times count on locally between state events, from the server's figures.

import { api } from "./api.js";
import { $, el } from "./dom.js";
import { clock, length } from "./format.js";

const OPEN_PHASE_S = 15 * 60;   // how wide an open-ended phase is drawn on the timeline

let shownKey = null;
let current = null;             // {session, at}: the last session seen and when (performance.now())
let profiles = null;

document.addEventListener("profiles-changed", () => {   // saved in the clinic tools: show the new versions
  profiles = null;
  shownKey = null;
  document.dispatchEvent(new Event("redraw"));
});

export function renderSession(session, act) {
  current = session ? { session, at: performance.now() } : null;
  const key = session
    ? JSON.stringify([session.id, session.profile, session.phase.index, session.paused, session.phases])
    : "none";
  if (key !== shownKey) {
    shownKey = key;
    $("session-body").replaceChildren(session ? running(session, act) : startScreen(act));
  }
  tick();
}

export function renderReminders(session, act) {
  const reminders = session?.reminders ?? [];
  $("reminders").hidden = reminders.length === 0;
  $("reminder-list").replaceChildren(...reminders.map((r) => el("li", {},
    el("span", {}, r.text),
    el("button", { type: "button", "aria-label": `Done: ${r.text}`,
                   onclick: () => act("POST", `/api/reminders/${r.id}/ack`) }, "Done"))));
}

/** Advance the shown times to now; called every second and on every state event. */
export function tick() {
  if (!current || !$("phase-elapsed")) return;
  const { session, at } = current;
  const passed = session.paused ? 0 : (performance.now() - at) / 1000;
  const inPhase = session.phase.elapsed_s + passed;
  $("phase-elapsed").textContent = clock(inPhase);
  $("session-elapsed").textContent = clock(session.elapsed_s + passed);
  const remaining = session.phase.remaining_s;
  $("phase-remaining").textContent = remaining === null || remaining === undefined ? "open-ended"
    : remaining - passed >= 0 ? `${clock(remaining - passed)} left` : `${clock(passed - remaining)} over`;
  const now = document.querySelector(".timeline [aria-current] .progress");
  if (now) {
    const total = session.phases?.[session.phase.index]?.duration_s ?? Math.max(inPhase, OPEN_PHASE_S);
    now.style.width = `${Math.min(100, (100 * inPhase) / total)}%`;
  }
}

function running(session, act) {
  const phases = session.phases ?? [];
  return el("div", {},
    el("p", { class: "profile" }, session.profile_name ?? session.profile,
       session.label ? el("span", { class: "hint" }, ` · ${session.label}`) : null,
       session.paused ? el("strong", { class: "paused" }, " · Paused") : null),
    el("p", { class: "phase" },
       el("span", { class: "phase-name" }, session.phase.name),
       phases.length ? el("span", { class: "hint" }, ` phase ${session.phase.index + 1} of ${phases.length}`) : null),
    el("p", { class: "times" },
       el("span", {}, "In phase ", el("strong", { id: "phase-elapsed" })),
       el("strong", { id: "phase-remaining" }),
       el("span", { class: "hint" }, "Session ", el("span", { id: "session-elapsed" }))),
    phases.length ? timeline(phases, session.phase.index) : null,
    el("div", { class: "row controls" },
       el("button", { type: "button", onclick: () => act("POST", "/api/session/previous") }, "Previous phase"),
       session.paused
         ? el("button", { type: "button", class: "primary", onclick: () => act("POST", "/api/session/resume") }, "Resume")
         : el("button", { type: "button", onclick: () => act("POST", "/api/session/pause") }, "Pause"),
       el("button", { type: "button", onclick: () => act("POST", "/api/session/next") }, "Next phase"),
       el("button", { type: "button", onclick: () => act("POST", "/api/session/extend", { duration: "5m" }, "Phase extended by 5 minutes") }, "+5 min"),
       el("button", { type: "button", onclick: () => act("POST", "/api/session/extend", { duration: "15m" }, "Phase extended by 15 minutes") }, "+15 min"),
       el("button", { type: "button", class: "danger", onclick: () => confirmStop(act) }, "Stop…")));
}

function timeline(phases, index) {
  return el("ol", { class: "timeline", "aria-label": "Phases" }, phases.map((phase, i) => el("li", {
    class: i < index ? "past" : i === index ? "now" : "next",
    "aria-current": i === index ? "step" : null,
    style: { flexGrow: String(phase.duration_s ?? OPEN_PHASE_S) },
  }, el("span", { class: "progress" }), el("span", { class: "name" }, phase.name),
     el("span", { class: "length" }, length(phase.duration_s)))));
}

function confirmStop(act) {
  const dialog = $("confirm-stop");
  dialog.returnValue = "";
  dialog.onclose = () => { if (dialog.returnValue === "stop") act("POST", "/api/session/stop", undefined, "Session stopped"); };
  dialog.showModal();
}

function startScreen(act) {
  const box = el("div", { class: "start" }, el("p", {}, "No session is running. Presets and the controls below work without one."));
  const list = el("ul", { class: "profiles" });
  box.append(list);
  loadProfiles().then((found) => {
    if (!Array.isArray(found)) {
      list.replaceWith(el("p", { class: "hint" }, found.status === 404
        ? "Sessions are not available on this room yet." : `The profiles could not be loaded: ${found.message}`));
      return;
    }
    list.replaceChildren(...found.map((p) => el("li", {},
      el("div", {},
        el("h3", {}, p.name),
        el("p", { class: "hint" }, `${p.planned_s === null ? "open-ended" : length(p.planned_s)} · ${p.phases.length} phases`),
        el("p", { class: "phases" }, p.phases.map((ph) => `${ph.name} ${length(ph.duration_s)}`).join(" · "))),
      el("button", { type: "button", class: "primary", "aria-label": `Start ${p.name}`,
                     onclick: () => act("POST", "/api/session", { profile: p.id }, `${p.name} started`) }, "Start"))));
  });
  return box;
}

async function loadProfiles() {
  if (profiles) return profiles;
  try {
    const found = await api("GET", "/api/profiles");
    profiles = Array.isArray(found) ? found : found.profiles;
    return profiles;
  } catch (error) {
    return error;
  }
}
