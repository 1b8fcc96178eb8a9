// Past sessions: each opens its printable report (a new tab); the label is the clinic's to change.

import { api } from "./api.js";
import { $, el, toast } from "./dom.js";

export function wirePast() {
  $("past").addEventListener("toggle", () => { if ($("past").open) load(); });
}

async function load() {
  let sessions;
  try { sessions = await api("GET", "/api/sessions"); } catch (error) { toast(error.message); return; }
  $("past-list").replaceChildren(...sessions.map((s) => el("li", { "data-session": s.id },
    el("span", {}, `${new Date(s.started_wall * 1000).toLocaleString()} · ${s.profile_name}`),
    el("input", { type: "text", value: s.label, maxlength: 80, "aria-label": `Label of session ${s.id}`,
                  onchange: (event) => relabel(s.id, event.target.value) }),
    el("a", { href: `/api/sessions/${s.id}/report?format=html`, target: "_blank", rel: "noopener" }, "Report"))));
}

async function relabel(id, label) {
  try { await api("PATCH", `/api/sessions/${id}`, { label }); toast("Label saved"); } catch (error) { toast(error.message); }
}
