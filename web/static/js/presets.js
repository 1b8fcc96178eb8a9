// The room's presets in the clinic tools: calm, check-in, emergency and the clinic's own, edited like the
// profiles (form.js) and saved into the room file. A preset's lights can be tried in the room first; one
// that is on while it is edited holds on as it began until it is released.

import { api } from "./api.js";
import { ask } from "./dialog.js";
import { $, el, toast } from "./dom.js";
import { field, hex, lightRow, showProblems } from "./form.js";
import { presetLabel, t } from "./i18n.js";

let draft = null;      // the preset being edited, as the room file says it
let name = null;       // null: a new preset, whose name is in the draft's form
let room = null;
let back = () => {};

const MUSIC = [["", "presets.music_keep"], ["play", "presets.music_play"], ["silence", "presets.music_silence"],
               ["stop", "presets.music_stop"]];

/** The list for the tools' first screen; `onBack` shows that screen again. */
export async function presetList(facts, onBack) {
  room = facts;
  back = onBack;
  const presets = await api("GET", "/api/admin/presets");
  return el("section", { class: "tools-presets" },
    el("h3", {}, t("presets.title")),
    el("ul", { class: "profiles" }, presets.map((p) => listed(p, presetLabel(p.name, p.label)))),
    el("button", { type: "button", onclick: () => { draft = { label: "", lights: { transition: "5s" } }; name = null; show(false); } },
       t("presets.new")));
}

function listed(p, label) {
  return el("li", {},
    el("span", {}, p.active ? t("presets.on_now", { label }) : label),
    el("div", { class: "row" },
      el("button", { type: "button", "aria-label": t("presets.edit_aria", { label }), onclick: () => edit(p.name) },
         t("common.edit")),
      p.builtin ? null : el("button", { type: "button", class: "danger", "aria-label": t("presets.delete_aria", { label }),
                                        onclick: () => remove(p) }, t("common.delete"))));
}

async function edit(presetName) {
  const found = await api("GET", `/api/admin/presets/${encodeURIComponent(presetName)}`);
  draft = found.preset;
  name = presetName;
  show(found.active);
}

async function remove(preset) {
  if (!await ask(t("presets.delete_confirm", { label: preset.label }), t("common.delete"))) return;
  try {
    await api("DELETE", `/api/admin/presets/${encodeURIComponent(preset.name)}`);
    toast(t("tools.deleted", { name: preset.label }));
    back();
  } catch (error) { toast(error.message); }
}

function musicMode() {
  if (draft.music === undefined || draft.music === null) return "";
  return typeof draft.music === "object" ? "play" : draft.music;
}

function setMusic(active) {
  const mode = $("f-music-mode").value;
  if (mode === "") delete draft.music;
  else draft.music = mode === "play" ? { playlist: draft.music?.playlist ?? "" } : mode;
  show(active);
}

function show(active) {
  const lights = draft.lights ?? {};
  const music = typeof draft.music === "object" && draft.music ? draft.music : null;
  $("tools-body").replaceChildren(el("form", { id: "preset-form", novalidate: true, onsubmit: save },
    el("h3", {}, name ? t("presets.editing", { label: draft.label || name }) : t("presets.new")),
    active ? el("p", { class: "hint" }, t("presets.active_hint")) : null,
    el("fieldset", { class: "phase-edit" },
      el("legend", {}, t("presets.legend")),
      name ? null : field(draft, t("presets.name"), "name", draft.name),
      field(draft, t("presets.label"), "label", draft.label),
      field(draft, t("editor.brightness"), "lights.brightness", lights.brightness, { inputmode: "decimal" }),
      field(draft, t("editor.kelvin"), "lights.kelvin", lights.kelvin, { inputmode: "numeric" }),
      field(draft, t("presets.colour"), "lights.color", hex(lights.color)),
      field(draft, t("editor.fade"), "lights.transition", lights.transition),
      el("details", { class: "wide", open: Boolean(lights.per_light || lights.per_group) },
        el("summary", {}, t("presets.each")),
        room.lights.map((light) => lightRow(draft, light.name, `lights.per_light.${light.id}`, lights.per_light?.[light.id])),
        room.groups.map((group) => lightRow(draft, t("presets.group", { name: group }), `lights.per_group.${group}`, lights.per_group?.[group]))),
      el("div", { class: "field" },
        el("label", { for: "f-music-mode" }, t("card.music")),
        el("select", { id: "f-music-mode", "data-path": "music", onchange: () => setMusic(active) },
          MUSIC.map(([v, key]) => el("option", { value: v, selected: musicMode() === v }, t(key))))),
      music ? field(draft, t("presets.playlist"), "music.playlist", music.playlist) : null,
      music ? field(draft, t("editor.volume"), "music.volume", music.volume, { inputmode: "numeric" }) : null,
      el("div", { class: "row wide" }, el("button", { type: "button", onclick: preview }, t("editor.preview")))),
    el("p", { id: "form-errors", class: "field-error", role: "alert" }),
    el("div", { class: "row" },
      el("button", { type: "button", onclick: back }, t("common.back")),
      el("button", { type: "submit", class: "primary" }, t("common.save")))));
}

async function preview() {
  if (!draft.lights) { toast(t("presets.no_light")); return; }
  try {
    await api("PUT", "/api/admin/preview", { lights: draft.lights });
    toast(t("presets.showing"));
  } catch (error) { toast(error.message); }
}

async function save(event) {
  event.preventDefault();
  const form = $("preset-form");
  const { name: typed, ...preset } = draft;
  const target = name ?? typed;
  if (!target) { showProblems(form, { fields: [{ path: "name", message: t("presets.need_name") }] }); return; }
  showProblems(form);
  try {
    const result = await api("PUT", `/api/admin/presets/${encodeURIComponent(target)}`, { preset });
    toast(result.active ? t("presets.saved_active", { label: preset.label || target })
                        : t("common.saved", { name: preset.label || target }));
    back();
  } catch (error) {
    showProblems(form, error);
  }
}
