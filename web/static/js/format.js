// Times as a therapist reads them at arm's length, in the panel's language.

import { locale, number, t } from "./i18n.js";

export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** A length as the report says it (room_controller.i18n.Translator.duration): the same catalogue keys. */
export function length(seconds) {
  if (seconds === null || seconds === undefined) return t("duration.open");
  if (seconds < 120) return t("duration.s", { s: number(seconds) });
  const m = Math.round(seconds / 60);
  const h = Math.floor(m / 60);
  if (!h) return t("duration.min", { min: number(m) });
  return m % 60 ? t("duration.h_min", { h: number(h), min: number(m % 60) }) : t("duration.h", { h: number(h) });
}

export function timeOfDay(date = new Date()) {
  return date.toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit" });
}

export function dateTime(date) {
  return date.toLocaleString(locale(), { dateStyle: "medium", timeStyle: "short" });
}
