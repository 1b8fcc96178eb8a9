// The alerts the room sent the clinic floor (core/alerts.py): what went out, when, and who saw it —
// "Seen by the front desk, 14:02" once the overview acknowledges. Shown only when there are any.

import { $, el, renderWhenChanged } from "./dom.js";
import { timeOfDay } from "./format.js";
import { t } from "./i18n.js";

function when(iso) {
  return timeOfDay(new Date(iso));
}

function state(alert) {
  if (alert.seen) return t("alerts.seen", { by: alert.seen.by, time: when(alert.seen.at) });
  return alert.sent ? t("alerts.sent", { time: when(alert.at) }) : t("alerts.waiting");
}

export function renderAlerts(room) {
  const alerts = room.alerts ?? [];
  const card = $("alerts");
  card.hidden = alerts.length === 0;
  renderWhenChanged($("alert-list"), alerts, (list) => list.map((alert) =>
    el("li", { class: `alert${alert.urgent ? " urgent" : ""}${alert.seen ? " seen" : ""}`, "data-alert": alert.id },
      el("strong", {}, t(`alerts.${alert.kind}`)), " · ", el("span", { class: "alert-state" }, state(alert)))));
}
