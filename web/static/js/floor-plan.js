// The clinic's day on the floor's screen: a room's next booking on its card, and every room's plan as one list
// by start time, the plans' problems above it with each room's name, so a booking that cannot be prepared is
// seen before the day starts. Times are in this screen's time zone.

import { el } from "./dom.js";
import { dateTime, timeOfDay } from "./format.js";
import { has, t } from "./i18n.js";

/** Days from this screen's today to the date (0 today, 1 tomorrow). */
const daysAhead = (date) => Math.round((new Date(date).setHours(0, 0, 0, 0) - new Date().setHours(0, 0, 0, 0))
                                       / 86400000);

/** "09:00" today, "tomorrow, 09:00" tomorrow, else the date with the time. */
export function when(start) {
  const date = new Date(start);
  const days = daysAhead(date);
  return days === 0 ? timeOfDay(date) : days === 1 ? t("floor.tomorrow", { time: timeOfDay(date) }) : dateTime(date);
}

/** "at 09:00", "tomorrow at 09:00": a booking in the words the panel's problems use. */
function whenAt(start) {
  const date = new Date(start);
  const time = timeOfDay(date);
  const days = daysAhead(date);
  return days === 0 ? t("day.when_today", { time }) : days === 1 ? t("day.when_tomorrow", { time })
    : t("day.when_on", { date: date.toLocaleDateString(), time });
}

const stateWord = (state) => (has(`floor.booking.${state}`) ? t(`floor.booking.${state}`) : state);
const bookingName = (b) => b.name ?? b.profile ?? t("day.no_profile");

/** A plan's problem with its room's name: in this screen's words when its code is one the panel says (the
 *  room's own sentence is English), else the room's sentence after the room and the booking's time. */
function problemText(p) {
  const code = p.code === "unknown_profile" && !p.profile ? "no_profile" : p.code;
  if (p.start && code && has(`day.problem.${code}`)) {
    return t("floor.plan_problem", { room: p.room_name,
                                     what: t(`day.problem.${code}`, { when: whenAt(p.start), profile: p.profile }) });
  }
  return t("floor.plan_problem", { room: [p.room_name, p.start && when(p.start)].filter(Boolean).join(", "),
                                   what: p.what });
}

/** The card's line: "Next: Psilocybin, 8 hours, 09:00 · ready". */
export function nextLine(next) {
  if (!next) return null;
  return el("p", { class: "next", "data-state": next.state },
    `${t("floor.next", { name: bookingName(next), time: when(next.start) })} · ${stateWord(next.state)}`);
}

/** The plan's section: its problems first, then the bookings by start time. */
export function planView(plan) {
  return [
    el("h2", {}, t("floor.plan")),
    plan.problems.length
      ? el("ul", { class: "plan-problems" }, plan.problems.map((p) => el("li", { "data-room": p.room },
        problemText(p))))
      : null,
    el("ol", { class: "plan-bookings" }, plan.bookings.map((b) => el("li", {
      "data-booking": b.id, "data-room": b.room, "data-state": b.state },
      el("span", { class: "plan-time" }, when(b.start)),
      el("span", { class: "plan-room" }, b.room_name),
      el("span", { class: "plan-name" }, bookingName(b)),
      el("span", { class: "plan-state" }, stateWord(b.state))))),
  ];
}
