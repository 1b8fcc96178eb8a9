// The clinic floor: the rooms' live alerts at the top, each until someone acknowledges it (an urgent one calls
// with a tone), and every room below, from what each room publishes. The page says at once when what it shows
// may be out of date: its own stream is gone, or the overview has lost the clinic broker (it catches up from
// the rooms' retained lists when it is back). Between them the day's plan (floor-plan.js). Its one change is an
// acknowledgement, behind the overview's PIN.

import { alarm, enableSound, onSoundChange } from "./alarm.js";
import { api, useCsrf } from "./api.js";
import { $, el, renderWhenChanged, toast } from "./dom.js";
import { nextLine, planView } from "./floor-plan.js";
import { clock, length, timeOfDay } from "./format.js";
import { has, t, translate, useLanguage } from "./i18n.js";
import { follow } from "./live.js";

const DESK = "floor-desk";   // this browser is the front desk's own screen (its login never idles out)
let last = null;             // the overview's last state
let link = "connecting";
let waiting = null;          // the alert whose acknowledgement waits for the PIN

function render(state) {
  last = state;
  showLost();
  $("turned-away").hidden = !state.turned_away;
  $("turned-away").textContent = state.turned_away ? t("floor.turned_away") : "";
  renderWhenChanged($("alerts"), state.alerts, (alerts) => alerts.map(alertCard));
  since();
  alarm(state.alerts.some((a) => a.urgent && !a.seen));
  $("plan").hidden = !state.plan.bookings.length && !state.plan.problems.length;
  renderWhenChanged($("plan"), state.plan, planView);
  if (state.rooms.length) renderWhenChanged($("rooms"), state.rooms, (rooms) => rooms.map(card));
}

function alertCard(alert) {
  const when = [alert.phase, alert.session_s === null ? null : t("floor.session", { time: clock(alert.session_s) })]
    .filter(Boolean);
  const title = has(`floor.kind.${alert.kind}`) ? t(`floor.kind.${alert.kind}`) : alert.what;
  return el("article", { class: "alert", "data-alert": alert.id, "data-urgent": String(alert.urgent),
                         "data-seen": alert.seen ? "" : null, "aria-label": alert.room_name || alert.room },
    el("p", { class: "alert-room" }, alert.room_name || alert.room),
    el("p", { class: "alert-kind" }, title),
    title === alert.what ? null : el("p", { class: "alert-what" }, alert.what),   // the room's own line, if it says more
    el("p", { class: "alert-when" }, [...when, ""].join(" · "), el("span", { class: "since", "data-t": alert.t })),
    alert.seen
      ? el("p", { class: "seen" }, t("floor.seen", { by: alert.seen.by, time: timeOfDay(new Date(alert.seen.at)) }))
      : el("button", { type: "button", class: "ack primary", onclick: () => acknowledge(alert.id) },
           t("floor.acknowledge")));
}

/** "3 min ago" on every alert, each second, without redrawing the buttons (a redraw under a finger loses the tap). */
function since() {
  for (const node of document.querySelectorAll(".since")) {
    node.textContent = t("floor.ago", { time: length(Math.max(0, Date.now() / 1000 - Number(node.dataset.t))) });
  }
}

function card(room) {
  const state = room.state ?? {};
  const session = state.session;
  const offline = room.status !== "online";
  const problems = [...(state.problems ?? [])];
  if (offline) problems.unshift(t("floor.room_offline"));
  return el("section", { class: "card room", "data-room": room.id, "data-status": room.status,
                         "aria-label": state.room?.name || room.id },
    el("h2", {}, state.room?.name || room.id),
    el("p", { class: "status" }, offline ? t("floor.offline") : t("floor.online")),
    el("p", { class: "session" }, session
      ? [session.profile_name ?? session.profile, session.label ? ` · ${session.label}` : "",
         session.paused ? ` · ${t("floor.paused")}` : ""].join("")
      : t("floor.no_session")),
    session ? el("p", { class: "phase" }, session.phase.name) : null,
    session ? el("p", { class: "time" }, t("floor.session", { time: clock(session.elapsed_s) })) : null,
    el("p", { class: "preset" }, state.preset ? t("floor.preset", { name: state.preset }) : t("floor.no_preset")),
    nextLine(room.next),
    problems.length ? el("ul", { class: "room-problems" }, problems.map((p) => el("li", {}, p))) : null);
}

function showLink(state) {
  link = state;
  $("link").dataset.link = state;
  $("link").textContent = state === "live" ? t("link.live") : t("link.reconnecting");
  showLost();
}

/** "Connection lost" while this page's stream is down or the overview cannot reach the broker. */
function showLost() {
  const why = link !== "live" ? t("floor.lost_page") : last && last.broker !== "connected" ? t("floor.lost_broker") : "";
  $("lost").hidden = !why;
  $("lost-why").textContent = why;
}

function showSound(on) {
  $("sound").hidden = on;
  $("sound-state").textContent = on ? t("floor.sound_on") : t("floor.sound_off");
}

async function acknowledge(id) {
  try {
    await api("POST", "/api/alerts/ack", { id });
  } catch (error) {
    if (error.status === 401) askPin(id);
    else toast(t("floor.ack_failed", { why: error.message }));
  }
}

function askPin(id) {
  waiting = id;
  $("login-title").textContent = t("floor.pin_title", { name: last?.name ?? "" });
  $("login-error").textContent = "";
  $("desk").checked = localStorage.getItem(DESK) === "yes";
  $("login-form").hidden = false;
  $("pin").focus();
}

async function logIn(event) {
  event.preventDefault();
  try {
    localStorage.setItem(DESK, $("desk").checked ? "yes" : "");
    const state = await api("POST", "/api/login", { pin: $("pin").value, tablet: $("desk").checked });
    useCsrf(state.csrf);
  } catch (error) {
    $("login-error").textContent = error.code === "wrong_pin" ? t("login.wrong")
      : error.code === "too_many_tries" ? t("login.too_many", { seconds: error.retryAfter ?? "" }) : error.message;
    return;
  }
  $("pin").value = "";
  $("login-form").hidden = true;
  if (waiting) await acknowledge(waiting);
  waiting = null;
}

async function start() {
  await useLanguage(undefined);
  translate(document);
  showSound(false);
  onSoundChange(showSound);
  $("sound").addEventListener("click", enableSound);
  $("login-form").addEventListener("submit", logIn);
  $("login-cancel").addEventListener("click", () => { $("login-form").hidden = true; waiting = null; });
  setInterval(since, 1000);
  try {
    const state = await api("GET", "/api/login");
    if (state.csrf) useCsrf(state.csrf);
  } catch { /* the stream says the overview cannot be reached */ }
  follow({ onState: render, onLink: showLink, stillLoggedIn: async () => true });
}

start();
