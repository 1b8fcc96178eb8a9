// The time this panel's login has left. A login not marked as the room's tablet ends after web.idle_logout
// unused (the server's rule, webapp/auth.py), except while a session runs and the panel is open: its event
// stream keeps it on. Out of a session the panel counts down from its last use, warns before the end with one
// tap to stay logged in, and at the end shows the PIN screen saying why, so the therapist meets the PIN
// screen before a press needs the login, never a press that fails.

import { api } from "./api.js";
import { $ } from "./dom.js";
import { timeOfDay } from "./format.js";
import { t } from "./i18n.js";

const WARN_S = 300;   // the warning shows five minutes before the end (a quarter of a shorter idle time)
const EARLY_S = 5;    // the server counted the use before its answer came: end a little before it would

let idle = null;      // seconds a login may go unused; null: it never ends (the room's tablet, an open room)
let lastUse = 0;
let timer = null;
let ended = () => {};

/** Count down `seconds` from now; `onEnded(why)` when they are over with no use. */
export function watchIdle(seconds, onEnded) {
  idle = seconds ?? null;
  ended = onEnded;
  $("idle-stay").addEventListener("click", stay);
  document.addEventListener("visibilitychange", check);   // a tablet woken from sleep looks at once
  used();
}

/** The server counted a use of this login just now (a request answered, or the open panel in a session). */
export function used() {
  lastUse = Date.now();
  check();
}

async function stay() {
  $("idle-stay").disabled = true;
  try {
    const state = await api("GET", "/api/login");
    if (state.authenticated) used();
    else end(t("login.ended"));
  } catch {
    check();   // unreachable: the warning stays, and says how long is left
  } finally {
    $("idle-stay").disabled = false;
  }
}

function check() {
  clearTimeout(timer);
  if (idle === null) return;
  const left = (lastUse - Date.now()) / 1000 + idle - EARLY_S;
  if (left <= 0) {
    end(t("login.idle_ended", { minutes: Math.round(idle / 60) }));
    return;
  }
  const warn = Math.min(WARN_S, idle / 4);
  if (left <= warn) {
    const said = t("idle.warning", { time: timeOfDay(new Date(Date.now() + left * 1000)) });
    if ($("idle-left").textContent !== said) $("idle-left").textContent = said;   // a status said once, not each second
  }
  $("idle").hidden = left > warn;
  timer = setTimeout(check, (left > warn ? left - warn : left) * 1000);
}

function end(why) {
  idle = null;
  $("idle").hidden = true;
  ended(why);
}
