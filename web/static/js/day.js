// The clinic's day on the panel (docs/day.md): while no session runs, a card names the next booking, "Next:
// Psilocybin, 8 hours, at 09:00", and once the room has put on its arrival light and music one big button
// starts it with a tap (the room never starts a session by itself). The plan's problems go on the problem
// line. During a session neither is shown: the client is in the room, and the floor's overview has the plan.
//
// Times are the room's local time, read from the booking's own offset, so a tablet set to another zone
// still says the time on the room's calendar; "today" is the room's day when it last said how the plan stood.

import { $, el, renderWhenChanged } from "./dom.js";
import { locale, t } from "./i18n.js";

const STARTABLE = new Set(["preparing", "ready"]);
const LATER = new Set(["planned", "preparing", "ready", "problem"]);
const PROBLEMS = new Set(["unknown_profile", "no_profile", "overlap", "in_session"]);   // said in the panel's words
const LATER_SHOWN = 3;   // the bookings after the next, on one line: enough to see the day's shape

let starting = null;     // the booking whose start was sent and not yet answered

/** The room's local date and time in an ISO 8601 string with an offset, as a Date read in UTC. */
function wallTime(iso) {
  const [, y, mo, d, h, mi] = iso.match(/^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)/).map(Number);
  return new Date(Date.UTC(y, mo - 1, d, h, mi));
}

const days = (from, to) => Math.round((wallTime(to.slice(0, 10) + "T00:00") - wallTime(from.slice(0, 10) + "T00:00")) / 86400000);
const time = (iso) => wallTime(iso).toLocaleTimeString(locale(), { timeZone: "UTC", hour: "2-digit", minute: "2-digit" });
const date = (iso) => wallTime(iso).toLocaleDateString(locale(), { timeZone: "UTC", weekday: "long", day: "numeric", month: "long" });

/** A booking's name: its profile's, else the profile it names, else that it names none the room knows. */
const nameOf = (booking) => booking.name ?? booking.profile ?? t("day.no_profile");

/** "at 09:00", "tomorrow at 09:00" or "on Wednesday 9 December at 09:00": when a booking starts, said in full. */
function when(booking, today) {
  const ahead = days(today, booking.start);
  const words = { time: time(booking.start), date: date(booking.start) };
  return t(ahead <= 0 ? "day.when_today" : ahead === 1 ? "day.when_tomorrow" : "day.when_on", words);
}

/** "09:00", "tomorrow 09:00": the short form, for the list of later bookings. */
function shortWhen(booking, today) {
  const ahead = days(today, booking.start);
  const words = { time: time(booking.start), date: date(booking.start) };
  return ahead <= 0 ? words.time : t(ahead === 1 ? "day.tomorrow_at" : "day.on_at", words);
}

function stateWords(booking) {
  if (STARTABLE.has(booking.state)) return t("day.ready");
  if (booking.state === "problem") return t("day.cannot");
  return t("day.prepares", { time: time(booking.prepare_at) });
}

/** A problem of a booking in the panel's words (its code says which); the room's own sentence for the rest. */
function problemWords(problem, day) {
  const booking = (day.bookings ?? []).find((b) => b.id === problem.booking);
  const code = problem.code === "unknown_profile" && !booking?.profile ? "no_profile" : problem.code;
  if (!booking || !PROBLEMS.has(code)) return problem.what;
  return t(`day.problem.${code}`, { when: when(booking, day.at), profile: booking.profile });
}

/** The plan's problems as the problem line says them; none during a session. */
export function dayProblems(state) {
  if (state.session || !state.day) return [];
  return (state.day.problems ?? []).map((problem) => t("day.problem", { what: problemWords(problem, state.day) }));
}

export function renderDay(state, act) {
  const day = state.day;
  const card = $("day");
  card.hidden = !day || Boolean(state.session);
  if (card.hidden) return;
  const next = day.next;
  const bookings = day.bookings ?? [];   // by start
  const later = bookings.slice(bookings.findIndex((b) => b.id === next?.id) + 1)
    .filter((b) => LATER.has(b.state)).slice(0, LATER_SHOWN);
  const view = next ? {
    id: next.id, name: nameOf(next), next: t("day.next", { name: nameOf(next), when: when(next, day.at) }), status: stateWords(next),
    start: STARTABLE.has(next.state), later: later.map((b) => `${shortWhen(b, day.at)} ${nameOf(b)}`),
  } : { none: t("day.none") };
  renderWhenChanged($("day-body"), view, (shown) => (shown.none ? [el("p", { class: "day-next" }, shown.none)] : [
    el("p", { class: "day-next" }, shown.next),
    el("p", { class: "hint" }, shown.status),
    shown.start ? el("button", { type: "button", id: "day-start", class: "primary big", "data-booking": shown.id,
                                 disabled: starting === shown.id, onclick: () => start(shown, act) },
                     t("day.start", { name: shown.name })) : null,
    shown.later.length ? el("p", { class: "hint day-later" }, t("day.later", { list: shown.later.join(" · ") })) : null,
  ].filter(Boolean)));
}

/** One tap sends one start: the button waits for the answer, and is pressable again only if it failed. */
async function start(booking, act) {
  starting = booking.id;
  $("day-start").disabled = true;
  const result = await act("POST", "/api/day/start", { booking: booking.id }, t("session.started", { name: booking.name }));
  starting = null;
  if (!result && $("day-start")) $("day-start").disabled = false;
}
