// The session card: the start screen when no session runs, else the phase, its times, the timeline and
// the controls. Times count on locally between state events, from the server's figures.

import { api } from "./api.js";
import { openDialog } from "./dialog.js";
import { $, el, renderWhenChanged } from "./dom.js";
import { clock, length } from "./format.js";
import { t } from "./i18n.js";

const OPEN_PHASE_S = 15 * 60;   // how wide an open-ended phase is drawn on the timeline

let shownKey = null;
let current = null;             // {session, at}: the last session seen and when (performance.now())
let profiles = null;
let listOpen = false;           // the timeline's list of phases, as the therapist left it open or closed

document.addEventListener("profiles-changed", () => {   // saved in the clinic tools: show the new versions
  profiles = null;
  shownKey = null;
  document.dispatchEvent(new Event("redraw"));
});
document.addEventListener("language", () => { shownKey = null; });

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
  renderWhenChanged($("reminder-list"), reminders, (shown) => shown.map((r) => el("li", {},
    el("span", {}, r.text),
    el("button", { type: "button", "aria-label": t("reminder.done_aria", { text: r.text }),
                   onclick: () => act("POST", `/api/reminders/${r.id}/ack`) }, t("common.done")))));
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
  $("phase-remaining").textContent = remaining === null || remaining === undefined ? t("session.open_ended")
    : remaining - passed >= 0 ? t("session.left", { time: clock(remaining - passed) })
      : t("session.over", { time: clock(passed - remaining) });
  const now = document.querySelector(".phase-bar .now .progress");
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
       session.paused ? el("strong", { class: "paused" }, ` · ${t("session.paused")}`) : null),
    el("p", { class: "phase" },
       el("span", { class: "phase-name" }, session.phase.name),
       phases.length ? el("span", { class: "hint" },
         ` ${t("session.phase_of", { index: session.phase.index + 1, count: phases.length })}`) : null),
    el("p", { class: "times" },
       el("span", {}, `${t("session.in_phase")} `, el("strong", { id: "phase-elapsed" })),
       el("strong", { id: "phase-remaining" }),
       el("span", { class: "hint" }, `${t("session.session_time")} `, el("span", { id: "session-elapsed" }))),
    phases.length ? timeline(phases, session.phase.index) : null,
    el("div", { class: "row controls" },
       el("button", { type: "button", onclick: () => act("POST", "/api/session/previous") }, t("session.previous")),
       session.paused
         ? el("button", { type: "button", class: "primary", onclick: () => act("POST", "/api/session/resume") }, t("session.resume"))
         : el("button", { type: "button", onclick: () => act("POST", "/api/session/pause") }, t("session.pause")),
       el("button", { type: "button", onclick: () => act("POST", "/api/session/next") }, t("session.next")),
       [5, 15].map((minutes) => el("button", { type: "button", onclick: () => act("POST", "/api/session/extend",
         { duration: `${minutes}m` }, t("session.extended", { length: length(minutes * 60) })) },
         t("session.extend", { minutes }))),
       el("button", { type: "button", id: "session-stop", class: "danger", onclick: () => confirmStop(act) }, t("session.stop"))));
}

/** The phases as a bar in proportion to their lengths, with the next phase named in full under it (the
 *  current one is the card's heading); a tap opens the list of all of them. Names of eight phases never fit
 *  side by side on a phone, least of all in German, so the bar carries no words to cut. */
function timeline(phases, index) {
  const state = (i) => (i < index ? "past" : i === index ? "now" : "next");
  const next = phases[index + 1];
  return el("details", { class: "timeline", open: listOpen, ontoggle: (event) => { listOpen = event.target.open; } },
    el("summary", {},
      el("span", { class: "phase-bar", "aria-hidden": "true" }, phases.map((phase, i) => el("span", {
        class: state(i), style: { flexGrow: String(phase.duration_s ?? OPEN_PHASE_S) },
      }, i === index ? el("span", { class: "progress" }) : null))),
      el("span", { class: "upcoming" }, next
        ? [el("span", { class: "hint" }, `${t("session.upcoming")} `), el("span", { class: "name" }, next.name),
           el("span", { class: "length" }, ` · ${length(next.duration_s)}`)]
        : el("span", { class: "hint" }, t("session.last_phase"))),
      el("span", { class: "all hint" }, t("session.all_phases", { count: phases.length }))),
    el("ol", { "aria-label": t("session.phases") }, phases.map((phase, i) => el("li", {
      class: state(i), "aria-current": i === index ? "step" : null,
    }, el("span", { class: "name" }, phase.name), " ", el("span", { class: "length" }, length(phase.duration_s))))));
}

function confirmStop(act) {
  const dialog = $("confirm-stop");
  dialog.returnValue = "";
  dialog.onclose = () => { if (dialog.returnValue === "stop") act("POST", "/api/session/stop", undefined, t("session.stopped")); };
  openDialog(dialog);
}

function startScreen(act) {
  const box = el("div", { class: "start" }, el("p", {}, t("session.none")));
  const list = el("ul", { class: "profiles" });
  box.append(list);
  loadProfiles().then((found) => {
    if (!Array.isArray(found)) {
      list.replaceWith(el("p", { class: "hint" }, found.status === 404
        ? t("session.unavailable") : t("session.profiles_failed", { message: found.message })));
      return;
    }
    list.replaceChildren(...found.map((p) => el("li", {},
      el("div", {},
        el("h3", {}, p.name),
        el("p", { class: "hint" }, t("session.profile_summary", { length: length(p.planned_s), count: p.phases.length })),
        el("p", { class: "phases" }, p.phases.map((ph) => `${ph.name} ${length(ph.duration_s)}`).join(" · "))),
      el("button", { type: "button", class: "primary", "aria-label": t("session.start_aria", { name: p.name }),
                     onclick: () => act("POST", "/api/session", { profile: p.id }, t("session.started", { name: p.name })) },
         t("session.start")))));
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

// -- the session time after a reboot without network time ------------------------------------------------

/** The correction, shown only while the room doubts its session time (the state's `session_clock` problem). */
export function renderClock(state) {
  const doubt = Boolean(state.session) && (state.problem_keys ?? []).includes("session_clock");
  const box = $("session-clock");
  box.hidden = !doubt;
  if (doubt && !box.firstChild) {
    box.append(el("p", { "data-i18n": "clock.doubt" }, t("clock.doubt")),
               el("button", { type: "button", id: "clock-open", class: "primary big", "data-i18n": "clock.set",
                              onclick: askTime }, t("clock.set")));
  }
}

function askTime() {
  const dialog = $("set-clock");
  const now = current ? current.session.elapsed_s + (current.session.paused ? 0 : (performance.now() - current.at) / 1000) : 0;
  $("clock-hours").value = String(Math.floor(now / 3600));
  $("clock-minutes").value = String(Math.floor((now % 3600) / 60));
  confirmWords();
  dialog.returnValue = "";
  openDialog(dialog);
}

/** The hours and minutes typed, as seconds (null while they are not a time). */
function typedTime() {
  const [h, m] = [$("clock-hours").value, $("clock-minutes").value].map((v) => (v.trim() === "" ? 0 : Number(v)));
  const whole = (n, top) => Number.isInteger(n) && n >= 0 && n <= top;
  return whole(h, 24) && whole(m, 59) ? h * 3600 + m * 60 : null;
}

function confirmWords() {
  const seconds = typedTime();
  $("clock-confirm").disabled = seconds === null;
  $("clock-confirm").textContent = t("clock.confirm", { time: seconds === null ? "–" : hoursMinutes(seconds) });
}

const hoursMinutes = (seconds) => `${Math.floor(seconds / 3600)}:${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}`;

export function wireClock(act) {
  $("clock-cancel").addEventListener("click", () => $("set-clock").close("cancel"));
  for (const id of ["clock-hours", "clock-minutes"]) $(id).addEventListener("input", confirmWords);
  $("set-clock").addEventListener("close", () => {
    const seconds = typedTime();
    if ($("set-clock").returnValue !== "set" || seconds === null) return;
    act("POST", "/api/session/clock", { elapsed: `${Math.floor(seconds / 3600)}h${(seconds % 3600) / 60}m` },
        t("clock.done", { time: hoursMinutes(seconds) }));
  });
}
