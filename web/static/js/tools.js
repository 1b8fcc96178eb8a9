// The clinic tools: behind the admin PIN, the session profiles — list, copy, delete, and an editor whose
// fields carry the dotted path the server names in its errors (form.js), so each problem shows next to
// its field — and the room's presets (presets.js). A scene can be previewed in the room; closing the
// tools ends the preview. Above the admin login, this tablet's language (no PIN needed: it changes nothing
// in the room).

import { api, useAdminCsrf } from "./api.js";
import { $, el, toast } from "./dom.js";
import { choice, field, lightRow, showProblems } from "./form.js";
import { chooseLanguage, chosenLanguage, knownLanguages, t, useLanguage } from "./i18n.js";
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
  $("tools").showModal();
  $("tools-message").textContent = "";
  const state = await api("GET", "/api/admin/login").catch(() => ({ authenticated: false }));
  if (state.authenticated) {
    useAdminCsrf(state.csrf);
    showList();
  } else {
    $("admin-login").hidden = false;
    $("tools-body").replaceChildren();
    $("admin-pin").focus();
  }
}

async function showList() {
  $("admin-login").hidden = true;
  $("tools-message").textContent = "";
  room ??= await api("GET", "/api/admin/room");
  const [profiles, presets] = await Promise.all([api("GET", "/api/admin/profiles"), presetList(room, showList)]);
  $("tools-body").replaceChildren(
    el("h3", {}, "Session profiles"),
    el("ul", { class: "profiles" }, profiles.map((p) => el("li", {},
      el("span", {}, p.name),
      el("div", { class: "row" },
        el("button", { type: "button", "aria-label": `Edit ${p.name}`, onclick: () => edit(p.id) }, "Edit"),
        el("button", { type: "button", "aria-label": `Copy ${p.name}`, onclick: () => copy(p) }, "Copy"),
        el("button", { type: "button", class: "danger", "aria-label": `Delete ${p.name}`, onclick: () => remove(p) }, "Delete"))))),
    el("button", { type: "button", class: "primary", onclick: () => startNew() }, "New profile"),
    presets);
}

async function edit(id) {
  const found = await api("GET", `/api/admin/profiles/${encodeURIComponent(id)}`);
  draft = found.profile;
  isNew = false;
  showEditor(found.in_use);
}

function startNew() {
  draft = { id: "", name: "", phases: [{ name: "Arrival", duration: "30m", lights: { brightness: 40, kelvin: 2700, transition: "1m" } }] };
  isNew = true;
  showEditor(false);
}

async function copy(profile) {
  const id = prompt("Id of the copy (letters, digits, - and _)", `${profile.id}-copy`);
  if (!id) return;
  try {
    await api("POST", `/api/admin/profiles/${encodeURIComponent(profile.id)}/copy`, { id, name: `${profile.name} (copy)` });
    toast(`Copied as ${id}`);
    showList();
  } catch (error) { toast(error.message); }
}

async function remove(profile) {
  if (!confirm(`Delete ${profile.name}? Its file is kept in backups.`)) return;
  try {
    await api("DELETE", `/api/admin/profiles/${encodeURIComponent(profile.id)}`);
    toast(`${profile.name} deleted`);
    showList();
  } catch (error) { toast(error.message); }
}

// -- the editor ------------------------------------------------------------------------------------------

function reminders(at, list, rerender) {
  return el("div", { class: "reminders" },
    list.map((reminder, j) => el("div", { class: "reminder-row" },
      field(draft, "Reminder", `${at}[${j}].text`, reminder.text),
      field(draft, "At (once)", `${at}[${j}].at`, reminder.at),
      field(draft, "Every (repeating)", `${at}[${j}].every`, reminder.every),
      el("button", { type: "button", "aria-label": `Remove reminder ${j + 1}`, onclick: () => { list.splice(j, 1); rerender(); } }, "Remove"))),
    el("button", { type: "button", onclick: () => { list.push({ text: "" }); rerender(); } }, "Add reminder"));
}

function showEditor(inUse) {
  const again = () => showEditor(inUse);
  const phases = draft.phases.map((phase, i) => {
    const at = `phases[${i}]`;
    const music = typeof phase.music === "object" && phase.music ? phase.music : {};
    phase.reminders ??= [];
    return el("fieldset", { class: "phase-edit" },
      el("legend", {}, `Phase ${i + 1}`),
      field(draft, "Name", `${at}.name`, phase.name),
      field(draft, "Length (e.g. 20m, 1h30m, open)", `${at}.duration`, phase.duration),
      field(draft, "Brightness %", `${at}.lights.brightness`, phase.lights?.brightness, { inputmode: "decimal" }),
      field(draft, "Warmth K", `${at}.lights.kelvin`, phase.lights?.kelvin, { inputmode: "numeric" }),
      field(draft, "Fade", `${at}.lights.transition`, phase.lights?.transition),
      field(draft, "Playlist (empty: silence)", `${at}.music.playlist`, music.playlist),
      field(draft, "Volume %", `${at}.music.volume`, music.volume, { inputmode: "numeric" }),
      el("details", { class: "wide" }, el("summary", {}, "Each light"),
        room.lights.map((light) => lightRow(draft, light.name, `${at}.lights.per_light.${light.id}`,
                                            phase.lights?.per_light?.[light.id]))),
      el("details", { class: "wide", open: phase.reminders.length > 0 },
        el("summary", {}, `Reminders (${phase.reminders.length})`), reminders(`${at}.reminders`, phase.reminders, again)),
      el("div", { class: "row" },
        el("button", { type: "button", onclick: () => preview(i) }, "Preview in the room"),
        draft.phases.length > 1 ? el("button", { type: "button", onclick: () => { draft.phases.splice(i, 1); again(); } }, "Remove phase") : null));
  });
  draft.reminders ??= [];
  $("tools-body").replaceChildren(el("form", { id: "profile-form", novalidate: true, onsubmit: save },
    el("h3", {}, isNew ? "New profile" : `Editing ${draft.name}`),
    inUse ? el("p", { class: "hint" }, "A session with this profile is running: it keeps its version; a save applies to the next session.") : null,
    isNew ? field(draft, "Id", "id", draft.id) : null,
    field(draft, "Name", "name", draft.name),
    field(draft, "Description", "description", draft.description),
    choice(draft, "Kind", "kind", draft.kind ?? "other", room.kinds.map((kind) => [kind, kind])),
    phases,
    el("fieldset", { class: "phase-edit" }, el("legend", {}, "Reminders at session times"),
      reminders("reminders", draft.reminders, again)),
    el("p", { id: "form-errors", class: "field-error", role: "alert" }),
    el("div", { class: "row" },
      el("button", { type: "button", onclick: () => { draft.phases.push({ name: "New phase", duration: "20m" }); again(); } }, "Add phase"),
      el("button", { type: "button", onclick: showList }, "Back"),
      el("button", { type: "submit", class: "primary" }, "Save"))));
}

async function preview(index) {
  const lights = draft.phases[index].lights;
  if (!lights) { toast("This phase sets no light."); return; }
  try {
    await api("PUT", "/api/admin/preview", { lights });
    toast(`Showing ${draft.phases[index].name} in the room until you close the tools`);
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
    toast(result.in_use ? `Saved ${draft.name}: the running session keeps its version` : `Saved ${draft.name}`);
    document.dispatchEvent(new Event("profiles-changed"));
    showList();
  } catch (error) {
    showProblems($("profile-form"), error);
  }
}
