// The clinic's day on the floor's screen: a room's next booking on its card, and every room's plan as one list
// by start time, the plans' problems above it with each room's name, so a booking that cannot be prepared is
// seen before the day starts. Times are in this screen's time zone.

import { el } from "./dom.js";
import { dateTime, timeOfDay } from "./format.js";
import { has, t } from "./i18n.js";

/** "09:00" today, "tomorrow, 09:00" tomorrow (this screen's days), else the date with the time. */
export function when(start) {
  const date = new Date(start);
  const tomorrow = new Date();
  tomorrow.setDate(tomorrow.getDate() + 1);
  if (date.toDateString() === new Date().toDateString()) return timeOfDay(date);
  return date.toDateString() === tomorrow.toDateString() ? t("floor.tomorrow", { time: timeOfDay(date) })
    : dateTime(date);
}

const stateWord = (state) => (has(`floor.booking.${state}`) ? t(`floor.booking.${state}`) : state);

/** The card's line: "Next: Psilocybin, 8 hours, 09:00 · ready". */
export function nextLine(next) {
  if (!next) return null;
  return el("p", { class: "next", "data-state": next.state },
    `${t("floor.next", { name: next.name, time: when(next.start) })} · ${stateWord(next.state)}`);
}

/** The plan's section: its problems first, then the bookings by start time. */
export function planView(plan) {
  return [
    el("h2", {}, t("floor.plan")),
    plan.problems.length
      ? el("ul", { class: "plan-problems" }, plan.problems.map((p) => el("li", { "data-room": p.room },
        t("floor.plan_problem", { room: [p.room_name, p.start && when(p.start)].filter(Boolean).join(", "),
                                  what: p.what }))))
      : null,
    el("ol", { class: "plan-bookings" }, plan.bookings.map((b) => el("li", {
      "data-booking": b.id, "data-room": b.room, "data-state": b.state },
      el("span", { class: "plan-time" }, when(b.start)),
      el("span", { class: "plan-room" }, b.room_name),
      el("span", { class: "plan-name" }, b.name),
      el("span", { class: "plan-state" }, stateWord(b.state))))),
  ];
}
