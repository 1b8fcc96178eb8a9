// The clinic tools: behind the admin PIN, the session profiles — list, copy, delete, and an editor whose
// fields carry the dotted path the server names in its errors, so each problem shows next to its field.
// A phase's scene can be previewed in the room; closing the tools ends the preview.

import { api, useAdminCsrf } from "./api.js";
import { $, el, toast } from "./dom.js";

let draft = null;      // the profile being edited, as its file says it
let isNew = false;

export function wireTools() {
  $("tools-open").addEventListener("click", openTools);
  $("tools-close").addEventListener("click", () => $("tools").close());
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
      $("tools-message").textContent = error.status === 401 ? "That admin PIN is not right." : error.message;
    }
  });
}

async function openTools() {
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
  const profiles = await api("GET", "/api/admin/profiles");
  $("tools-body").replaceChildren(
    el("h3", {}, "Session profiles"),
    el("ul", { class: "profiles" }, profiles.map((p) => el("li", {},
      el("span", {}, p.name),
      el("div", { class: "row" },
        el("button", { type: "button", "aria-label": `Edit ${p.name}`, onclick: () => edit(p.id) }, "Edit"),
        el("button", { type: "button", "aria-label": `Copy ${p.name}`, onclick: () => copy(p) }, "Copy"),
        el("button", { type: "button", class: "danger", "aria-label": `Delete ${p.name}`, onclick: () => remove(p) }, "Delete"))))),
    el("button", { type: "button", class: "primary", onclick: () => startNew() }, "New profile"));
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

function field(label, path, value, attrs = {}) {
  const id = `f-${path.replace(/[^a-z0-9]+/gi, "-")}`;
  return el("div", { class: "field" },
    el("label", { for: id }, label),
    el("input", { id, type: "text", value: value ?? "", "data-path": path, autocomplete: "off", ...attrs,
                  oninput: (event) => setAt(path, event.target.value) }));
}

function showEditor(inUse) {
  const phases = draft.phases.map((phase, i) => {
    const at = `phases[${i}]`;
    const music = typeof phase.music === "object" && phase.music ? phase.music : {};
    return el("fieldset", { class: "phase-edit" },
      el("legend", {}, `Phase ${i + 1}`),
      field("Name", `${at}.name`, phase.name),
      field("Length (e.g. 20m, 1h30m, open)", `${at}.duration`, phase.duration),
      field("Brightness %", `${at}.lights.brightness`, phase.lights?.brightness, { inputmode: "decimal" }),
      field("Warmth K", `${at}.lights.kelvin`, phase.lights?.kelvin, { inputmode: "numeric" }),
      field("Fade", `${at}.lights.transition`, phase.lights?.transition),
      field("Playlist (empty: silence)", `${at}.music.playlist`, music.playlist),
      field("Volume %", `${at}.music.volume`, music.volume, { inputmode: "numeric" }),
      el("div", { class: "row" },
        el("button", { type: "button", onclick: () => preview(i) }, "Preview in the room"),
        draft.phases.length > 1 ? el("button", { type: "button", onclick: () => { draft.phases.splice(i, 1); showEditor(inUse); } }, "Remove phase") : null));
  });
  $("tools-body").replaceChildren(el("form", { id: "profile-form", novalidate: true, onsubmit: save },
    el("h3", {}, isNew ? "New profile" : `Editing ${draft.name}`),
    inUse ? el("p", { class: "hint" }, "A session with this profile is running: it keeps its version; a save applies to the next session.") : null,
    isNew ? field("Id", "id", draft.id) : null,
    field("Name", "name", draft.name),
    field("Description", "description", draft.description),
    phases,
    el("p", { id: "form-errors", class: "field-error", role: "alert" }),
    el("div", { class: "row" },
      el("button", { type: "button", onclick: () => { draft.phases.push({ name: "New phase", duration: "20m" }); showEditor(inUse); } }, "Add phase"),
      el("button", { type: "button", onclick: showList }, "Back"),
      el("button", { type: "submit", class: "primary" }, "Save"))));
}

function setAt(path, text) {
  const parts = path.replace(/\[(\d+)\]/g, ".$1").split(".");
  const last = parts.pop();
  let node = draft;
  for (const part of parts) {
    if (part === "music" && typeof node.music !== "object") node.music = {};
    node[part] ??= {};
    node = node[part];
  }
  const number = ["brightness", "kelvin", "volume"].includes(last) && text.trim() !== "" && !Number.isNaN(Number(text));
  if (text.trim() === "") delete node[last]; else node[last] = number ? Number(text) : text;
  for (const phase of draft.phases) {
    if (phase.music && typeof phase.music === "object" && !phase.music.playlist) phase.music = "silence";
    if (phase.lights && Object.keys(phase.lights).length === 0) delete phase.lights;
  }
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
  for (const node of document.querySelectorAll("#profile-form .field-error:not(#form-errors)")) node.remove();
  for (const node of document.querySelectorAll("#profile-form [aria-invalid]")) node.removeAttribute("aria-invalid");
  $("form-errors").textContent = "";
  try {
    const result = isNew
      ? await api("POST", "/api/admin/profiles", { profile: draft })
      : await api("PUT", `/api/admin/profiles/${encodeURIComponent(draft.id)}`, { profile: draft });
    toast(result.in_use ? `Saved ${draft.name}: the running session keeps its version` : `Saved ${draft.name}`);
    document.dispatchEvent(new Event("profiles-changed"));
    showList();
  } catch (error) {
    const rest = [];
    for (const problem of error.fields ?? []) {
      const input = closestField(problem.path);
      if (!input) { rest.push(`${problem.path}: ${problem.message}`); continue; }
      input.setAttribute("aria-invalid", "true");
      input.after(el("p", { class: "field-error", "data-for": problem.path }, problem.message));
    }
    $("form-errors").textContent = error.fields?.length ? rest.join(" · ") || "Please correct the fields marked." : error.message;
  }
}

/** The input for this path, or for the nearest enclosing path the form has (a per-light detail, say). */
function closestField(path) {
  for (let p = path; p; p = p.replace(/(\.[^.[\]]+|\[\d+\])$/, "")) {
    const input = document.querySelector(`#profile-form [data-path="${CSS.escape(p)}"]`);
    if (input) return input;
    if (!/(\.[^.[\]]+|\[\d+\])$/.test(p)) break;
  }
  return null;
}
