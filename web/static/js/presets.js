// The room's presets in the clinic tools: calm, check-in, emergency and the clinic's own, edited like the
// profiles (form.js) and saved into the room file. A preset's lights can be tried in the room first; one
// that is on while it is edited holds on as it began until it is released.

import { api } from "./api.js";
import { $, el, toast } from "./dom.js";
import { field, hex, lightRow, showProblems } from "./form.js";

let draft = null;      // the preset being edited, as the room file says it
let name = null;       // null: a new preset, whose name is in the draft's form
let room = null;
let back = () => {};

const MUSIC = [["", "as it is"], ["play", "a playlist"], ["silence", "silence"], ["stop", "stop"]];

/** The list for the tools' first screen; `onBack` shows that screen again. */
export async function presetList(facts, onBack) {
  room = facts;
  back = onBack;
  const presets = await api("GET", "/api/admin/presets");
  return el("section", { class: "tools-presets" },
    el("h3", {}, "Room presets"),
    el("ul", { class: "profiles" }, presets.map((p) => el("li", {},
      el("span", {}, p.active ? `${p.label} (on now)` : p.label),
      el("div", { class: "row" },
        el("button", { type: "button", "aria-label": `Edit preset ${p.label}`, onclick: () => edit(p.name) }, "Edit"),
        p.builtin ? null : el("button", { type: "button", class: "danger", "aria-label": `Delete preset ${p.label}`,
                                          onclick: () => remove(p) }, "Delete"))))),
    el("button", { type: "button", onclick: () => { draft = { label: "", lights: { transition: "5s" } }; name = null; show(false); } },
       "New preset"));
}

async function edit(presetName) {
  const found = await api("GET", `/api/admin/presets/${encodeURIComponent(presetName)}`);
  draft = found.preset;
  name = presetName;
  show(found.active);
}

async function remove(preset) {
  if (!confirm(`Delete the preset ${preset.label}? The room file's old version is kept in backups.`)) return;
  try {
    await api("DELETE", `/api/admin/presets/${encodeURIComponent(preset.name)}`);
    toast(`${preset.label} deleted`);
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
    el("h3", {}, name ? `Editing the preset ${draft.label || name}` : "New preset"),
    active ? el("p", { class: "hint" }, "This preset is on: it holds as it began until it is released; a save applies the next time.") : null,
    el("fieldset", { class: "phase-edit" },
      el("legend", {}, "Preset"),
      name ? null : field(draft, "Name (letters, digits, - and _)", "name", draft.name),
      field(draft, "Label on the panel", "label", draft.label),
      field(draft, "Brightness %", "lights.brightness", lights.brightness, { inputmode: "decimal" }),
      field(draft, "Warmth K", "lights.kelvin", lights.kelvin, { inputmode: "numeric" }),
      field(draft, "Colour (#rrggbb, instead of warmth)", "lights.color", hex(lights.color)),
      field(draft, "Fade", "lights.transition", lights.transition),
      el("details", { class: "wide", open: Boolean(lights.per_light || lights.per_group) },
        el("summary", {}, "Each light and group"),
        room.lights.map((light) => lightRow(draft, light.name, `lights.per_light.${light.id}`, lights.per_light?.[light.id])),
        room.groups.map((group) => lightRow(draft, `Group ${group}`, `lights.per_group.${group}`, lights.per_group?.[group]))),
      el("div", { class: "field" },
        el("label", { for: "f-music-mode" }, "Music"),
        el("select", { id: "f-music-mode", "data-path": "music", onchange: () => setMusic(active) },
          MUSIC.map(([v, text]) => el("option", { value: v, selected: musicMode() === v }, text)))),
      music ? field(draft, "Playlist", "music.playlist", music.playlist) : null,
      music ? field(draft, "Volume %", "music.volume", music.volume, { inputmode: "numeric" }) : null,
      el("div", { class: "row wide" }, el("button", { type: "button", onclick: preview }, "Preview in the room"))),
    el("p", { id: "form-errors", class: "field-error", role: "alert" }),
    el("div", { class: "row" },
      el("button", { type: "button", onclick: back }, "Back"),
      el("button", { type: "submit", class: "primary" }, "Save"))));
}

async function preview() {
  if (!draft.lights) { toast("This preset sets no light."); return; }
  try {
    await api("PUT", "/api/admin/preview", { lights: draft.lights });
    toast("Showing the preset's lights in the room until you close the tools");
  } catch (error) { toast(error.message); }
}

async function save(event) {
  event.preventDefault();
  const form = $("preset-form");
  const { name: typed, ...preset } = draft;
  const target = name ?? typed;
  if (!target) { showProblems(form, { fields: [{ path: "name", message: "Give the new preset a name." }] }); return; }
  showProblems(form);
  try {
    const result = await api("PUT", `/api/admin/presets/${encodeURIComponent(target)}`, { preset });
    toast(result.active ? `Saved ${preset.label || target}: it applies the next time it is tapped` : `Saved ${preset.label || target}`);
    back();
  } catch (error) {
    showProblems(form, error);
  }
}
