// The clinic tools' forms: each input carries the dotted path of its value in the draft being edited
// (`phases[0].lights.per_light.ceiling.kelvin`), the same path the server names in its errors, so typing
// changes the draft and a problem shows right after its field (or the nearest enclosing one there is).

import { el } from "./dom.js";
import { t } from "./i18n.js";

const NUMBERS = new Set(["brightness", "kelvin", "volume"]);
const inputId = (path) => `f-${path.replace(/[^a-z0-9]+/gi, "-")}`;

export function field(draft, label, path, value, attrs = {}) {
  const id = inputId(path);
  return el("div", { class: "field" },
    el("label", { for: id }, label),
    el("input", { id, type: "text", value: value ?? "", "data-path": path, autocomplete: "off", ...attrs,
                  oninput: (event) => setAt(draft, path, event.target.value) }));
}

/** A choice among `options` ([value, label] pairs; the value "" leaves the key out). */
export function choice(draft, label, path, value, options, onchange = () => {}) {
  const id = inputId(path);
  return el("div", { class: "field" },
    el("label", { for: id }, label),
    el("select", { id, "data-path": path, onchange: (event) => { setAt(draft, path, event.target.value); onchange(); } },
      options.map(([v, text]) => el("option", { value: v, selected: String(value ?? "") === v }, text))));
}

/** Light settings of one light or group: brightness, warmth and on/off, under `path`. */
export function lightRow(draft, title, path, setting = {}) {
  return el("div", { class: "light-row" },
    el("span", {}, title),
    field(draft, t("editor.brightness"), `${path}.brightness`, setting.brightness, { inputmode: "decimal" }),
    field(draft, t("editor.kelvin"), `${path}.kelvin`, setting.kelvin, { inputmode: "numeric" }),
    choice(draft, t("editor.on_off"), `${path}.on`, setting.on,
           [["", t("editor.as_room")], ["true", t("editor.on")], ["false", t("editor.off")]]));
}

export function setAt(draft, path, text) {
  const parts = path.replace(/\[(\d+)\]/g, ".$1").split(".");
  const last = parts.pop();
  let node = draft;
  for (const part of parts) {
    if (typeof node[part] !== "object" || node[part] === null) node[part] = {};
    node = node[part];
  }
  const value = text.trim();
  if (value === "") delete node[last];
  else if (last === "on") node[last] = value === "true";
  else node[last] = NUMBERS.has(last) && !Number.isNaN(Number(value)) ? Number(value) : text;
  prune(draft);
}

/** Empty settings left by cleared fields go, so the file says only what was chosen. */
function prune(node) {
  for (const [key, value] of Object.entries(node)) {
    if (typeof value !== "object" || value === null) continue;
    prune(value);
    if (!Array.isArray(node) && !Array.isArray(value) && Object.keys(value).length === 0) delete node[key];
  }
}

export const hex = (color) => Array.isArray(color)
  ? `#${color.map((c) => c.toString(16).padStart(2, "0")).join("")}` : color;

/** Clear the form's problems, or show the server's: each after its field, the rest in `#form-errors`. */
export function showProblems(form, error = null) {
  for (const node of form.querySelectorAll(".field-error:not(#form-errors)")) node.remove();
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  const summary = form.querySelector("#form-errors");
  summary.textContent = "";
  if (!error) return;
  const rest = [];
  for (const problem of error.fields ?? []) {
    const input = closestField(form, problem.path);
    if (!input) { rest.push(`${problem.path}: ${problem.message}`); continue; }
    input.setAttribute("aria-invalid", "true");
    input.after(el("p", { class: "field-error", "data-for": problem.path }, problem.message));
  }
  summary.textContent = error.fields?.length ? rest.join(" · ") || t("editor.correct_fields") : error.message;
}

/** The input for this path, or for the nearest enclosing path the form has (a per-light detail, say). */
function closestField(form, path) {
  for (let p = path; p; p = p.replace(/(\.[^.[\]]+|\[\d+\])$/, "")) {
    const input = form.querySelector(`[data-path="${CSS.escape(p)}"]`);
    if (input) return input;
    if (!/(\.[^.[\]]+|\[\d+\])$/.test(p)) break;
  }
  return null;
}
