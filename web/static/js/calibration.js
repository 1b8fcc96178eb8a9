// The clinic tools' sound calibration (docs/sound-dose.md): play the reference in the room, read a sound
// level meter where the client's head will be, and save the reading as the room's calibration. Only with no
// session running; the server refuses otherwise and says why.

import { api } from "./api.js";
import { el, toast } from "./dom.js";
import { locale, t } from "./i18n.js";

let played = null;   // the volume the reference is playing at (null: not playing)

/** The tools' calibration section, with the room's calibration as it is now. */
export async function calibrationSection() {
  const now = await api("GET", "/api/admin/calibration");
  const status = el("p", { id: "calibration-status", class: "hint" }, now.calibration_dba === null
    ? t("calibration.none") : t("calibration.now", { dba: number1(now.calibration_dba) }));
  const volume = el("input", { id: "calibration-volume", type: "number", inputmode: "numeric", min: "1",
                               max: String(now.max_volume), step: "1", value: String(Math.min(50, now.max_volume)) });
  const reading = el("input", { id: "calibration-reading", type: "number", inputmode: "decimal", min: "20", max: "130",
                                step: "0.1" });
  const playing = el("p", { id: "calibration-playing", role: "status", hidden: played === null },
                     played === null ? "" : t("calibration.playing", { volume: played }));
  const play = el("button", { type: "button", id: "calibration-play", class: "primary" }, t("calibration.play"));
  const stop = el("button", { type: "button", id: "calibration-stop", hidden: played === null }, t("calibration.stop"));
  const shown = (volumeNow) => {
    played = volumeNow;
    playing.hidden = stop.hidden = played === null;
    playing.textContent = played === null ? "" : t("calibration.playing", { volume: played });
  };
  play.addEventListener("click", async () => {
    try { shown((await api("PUT", "/api/admin/calibration/reference", { volume: Number(volume.value) })).volume); }
    catch (error) { toast(error.message); }
  });
  stop.addEventListener("click", async () => {
    try { await api("DELETE", "/api/admin/calibration/reference"); shown(null); } catch (error) { toast(error.message); }
  });
  const save = el("button", { type: "submit", class: "primary" }, t("calibration.save"));
  const form = el("form", { id: "calibration-form", class: "calibration-form" },
    el("label", { for: "calibration-reading" }, t("calibration.reading")), el("div", { class: "row" }, reading, save));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (reading.value.trim() === "") { toast(t("calibration.need_reading")); return; }
    try {
      const result = await api("PUT", "/api/admin/calibration",
                               { reading: Number(reading.value), volume: played ?? Number(volume.value) });
      shown(null);
      status.textContent = t("calibration.saved", { dba: number1(result.calibration_dba) });
      reading.value = "";
    } catch (error) { toast(error.message); }
  });
  return el("section", { class: "tools-calibration" },
    el("h3", {}, t("calibration.title")), status,
    el("p", {}, t("calibration.step_play")),
    el("div", { class: "row" },
       el("label", { for: "calibration-volume", class: "hint" }, t("calibration.volume")), volume, play, stop),
    playing,
    el("p", {}, t("calibration.step_read")),
    form);
}

const number1 = (value) => value.toLocaleString(locale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 });
