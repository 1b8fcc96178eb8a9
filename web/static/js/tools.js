// The clinic tools: behind the admin PIN, the session profiles — list, copy, delete, and an editor whose
// fields carry the dotted path the server names in its errors (form.js), so each problem shows next to
// its field — and the room's presets (presets.js). A scene can be previewed in the room; closing the
// tools ends the preview. Above the admin login, this tablet's language (no PIN needed: it changes nothing
// in the room).

import { api, useAdminCsrf } from "./api.js";
import { $, el, toast } from "./dom.js";
import { ask, openDialog } from "./dialog.js";
import { choice, field, lightRow, showProblems } from "./form.js";
import { chooseLanguage, chosenLanguage, knownLanguages, t, useLanguage } from "./i18n.js";
import { calibrationSection } from "./calibration.js";
import { presetList } from "./presets.js";

let draft = null;      // the profile being edited, as its file says it
let isNew = false;
let room = null;       // the lights, groups and profile kinds to choose from

export function wireTools() {
  $("tools-open").addEventListener("click", openTools);
  $("tools-close").addEventListener("click", () => $("tools").close());
  $("language").addEventListener("change", async (event) => {
    chooseLanguage(event.target.value);
    if (await useLanguage(document.documentElement.dataset.roomLanguage)) document.dispatchEvent(new Event("language"));
    languageChoice();
    if ($("admin-login").hidden && !$("profile-form") && !$("preset-form")) showList();   // no edit in hand is lost
  });
  $("tools").addEventListener("close", () => api("DELETE", "/api/admin/preview").catch(() => {}));
  $("admin-login").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const state = await api("POST", "/api/admin/login", { pin: $("admin-pin").value });
      useAdminCsrf(state.csrf);
      $("admin-pin").value = "";
      showList();
    } catch (error) {
      $("admin-pin").value = "";
      $("tools-message").textContent = error.status === 401 ? t("tools.wrong_pin") : error.message;
    }
  });
}

/** The tablet's own language, or the room's (the first choice). */
function languageChoice() {
  $("language").replaceChildren(el("option", { value: "" }, t("tools.room_language")),
    ...Object.entries(knownLanguages()).map(([tag, name]) => el("option", { value: tag }, name)));
  $("language").value = chosenLanguage();
}

async function openTools() {
  languageChoice();
  openDialog($("tools"));
  $("tools-message").textContent = "";
  const state = await api("GET", "/api/admin/login").catch(() => ({ authenticated: false }));
  if (state.authenticated) {
    useAdminCsrf(state.csrf);
    showList();
  } else {
    $("admin-login").hidden = false;
    $("tools-body").replaceChildren();
    $("admin-pin").focus({ preventScroll: true });
  }
}

async function showList() {
  $("admin-login").hidden = true;
  $("tools-message").textContent = "";
  room ??= await api("GET", "/api/admin/room");
  const [profiles, presets, calibration] = await Promise.all([api("GET", "/api/admin/profiles"), presetList(room, showList),
                                                             calibrationSection()]);
  $("tools-body").replaceChildren(
    el("h3", {}, t("tools.profiles")),
    el("ul", { class: "profiles" }, profiles.map((p) => el("li", {},
      el("span", {}, p.name),
      el("div", { class: "row" },
        el("button", { type: "button", "aria-label": t("tools.edit_aria", { name: p.name }), onclick: () => edit(p.id) }, t("common.edit")),
        el("button", { type: "button", "aria-label": t("tools.copy_aria", { name: p.name }), onclick: () => copy(p) }, t("common.copy")),
        el("button", { type: "button", class: "danger", "aria-label": t("tools.delete_aria", { name: p.name }), onclick: () => remove(p) }, t("common.delete")))))),
    el("button", { type: "button", class: "primary", onclick: () => startNew() }, t("tools.new_profile")),
    presets, calibration);
}

async function edit(id) {
  const found = await api("GET", `/api/admin/profiles/${encodeURIComponent(id)}`);
  draft = found.profile;
  isNew = false;
  showEditor(found.in_use);
}

function startNew() {
  draft = { id: "", name: "", phases: [{ name: t("editor.first_phase"), duration: "30m", lights: { brightness: 40, kelvin: 2700, transition: "1m" } }] };
  isNew = true;
  showEditor(false);
}

async function copy(profile) {
  const id = await ask(t("tools.copy_id"), t("common.copy"), `${profile.id}-copy`);
  if (!id) return;
  try {
    await api("POST", `/api/admin/profiles/${encodeURIComponent(profile.id)}/copy`, { id, name: t("tools.copy_name", { name: profile.name }) });
    toast(t("tools.copied", { id }));
    showList();
  } catch (error) { toast(error.message); }
}

async function remove(profile) {
  if (!await ask(t("tools.delete_confirm", { name: profile.name }), t("common.delete"))) return;
  try {
    await api("DELETE", `/api/admin/profiles/${encodeURIComponent(profile.id)}`);
    toast(t("tools.deleted", { name: profile.name }));
    showList();
  } catch (error) { toast(error.message); }
}

// -- the editor ------------------------------------------------------------------------------------------

function reminders(at, list, rerender) {
  return el("div", { class: "reminders" },
    list.map((reminder, j) => el("div", { class: "reminder-row" },
      field(draft, t("editor.reminder"), `${at}[${j}].text`, reminder.text),
      field(draft, t("editor.at"), `${at}[${j}].at`, reminder.at),
      field(draft, t("editor.every"), `${at}[${j}].every`, reminder.every),
      el("button", { type: "button", "aria-label": t("editor.remove_reminder_aria", { index: j + 1 }), onclick: () => { list.splice(j, 1); rerender(); } },
        t("common.remove")))),
    el("button", { type: "button", onclick: () => { list.push({ text: "" }); rerender(); } }, t("editor.add_reminder")));
}

function showEditor(inUse) {
  const again = () => showEditor(inUse);
  const phases = draft.phases.map((phase, i) => {
    const at = `phases[${i}]`;
    const music = typeof phase.music === "object" && phase.music ? phase.music : {};
    phase.reminders ??= [];
    return el("fieldset", { class: "phase-edit" },
      el("legend", {}, t("editor.phase", { index: i + 1 })),
      field(draft, t("editor.name"), `${at}.name`, phase.name),
      field(draft, t("editor.length"), `${at}.duration`, phase.duration),
      field(draft, t("editor.brightness"), `${at}.lights.brightness`, phase.lights?.brightness, { inputmode: "decimal" }),
      field(draft, t("editor.kelvin"), `${at}.lights.kelvin`, phase.lights?.kelvin, { inputmode: "numeric" }),
      field(draft, t("editor.fade"), `${at}.lights.transition`, phase.lights?.transition),
      field(draft, t("editor.playlist_or_silence"), `${at}.music.playlist`, music.playlist),
      field(draft, t("editor.volume"), `${at}.music.volume`, music.volume, { inputmode: "numeric" }),
      el("details", { class: "wide" }, el("summary", {}, t("light.each")),
        room.lights.map((light) => lightRow(draft, light.name, `${at}.lights.per_light.${light.id}`,
                                            phase.lights?.per_light?.[light.id]))),
      el("details", { class: "wide", open: phase.reminders.length > 0 },
        el("summary", {}, t("editor.reminders_count", { count: phase.reminders.length })), reminders(`${at}.reminders`, phase.reminders, again)),
      el("div", { class: "row" },
        el("button", { type: "button", onclick: () => preview(i) }, t("editor.preview")),
        draft.phases.length > 1 ? el("button", { type: "button", onclick: () => { draft.phases.splice(i, 1); again(); } }, t("editor.remove_phase")) : null));
  });
  draft.reminders ??= [];
  $("tools-body").replaceChildren(el("form", { id: "profile-form", novalidate: true, onsubmit: save },
    el("h3", {}, isNew ? t("tools.new_profile") : t("editor.editing", { name: draft.name })),
    inUse ? el("p", { class: "hint" }, t("editor.in_use")) : null,
    isNew ? field(draft, t("editor.id"), "id", draft.id) : null,
    field(draft, t("editor.name"), "name", draft.name),
    field(draft, t("editor.description"), "description", draft.description),
    choice(draft, t("editor.kind"), "kind", draft.kind ?? "other", room.kinds.map((kind) => [kind, kind])),
    phases,
    el("fieldset", { class: "phase-edit" }, el("legend", {}, t("editor.session_reminders")),
      reminders("reminders", draft.reminders, again)),
    el("p", { id: "form-errors", class: "field-error", role: "alert" }),
    el("div", { class: "row" },
      el("button", { type: "button", onclick: () => { draft.phases.push({ name: t("editor.new_phase"), duration: "20m" }); again(); } },
        t("editor.add_phase")),
      el("button", { type: "button", onclick: showList }, t("common.back")),
      el("button", { type: "submit", class: "primary" }, t("common.save")))));
}

async function preview(index) {
  const lights = draft.phases[index].lights;
  if (!lights) { toast(t("editor.no_light")); return; }
  try {
    await api("PUT", "/api/admin/preview", { lights });
    toast(t("editor.showing", { name: draft.phases[index].name }));
  } catch (error) { toast(error.message); }
}

async function save(event) {
  event.preventDefault();
  showProblems($("profile-form"));
  for (const phase of draft.phases) {   // a music setting without a playlist is silence
    if (phase.music && typeof phase.music === "object" && !phase.music.playlist) phase.music = "silence";
  }
  try {
    const result = isNew
      ? await api("POST", "/api/admin/profiles", { profile: draft })
      : await api("PUT", `/api/admin/profiles/${encodeURIComponent(draft.id)}`, { profile: draft });
    toast(t(result.in_use ? "editor.saved_in_use" : "common.saved", { name: draft.name }));
    document.dispatchEvent(new Event("profiles-changed"));
    showList();
  } catch (error) {
    showProblems($("profile-form"), error);
  }
}
