// Past sessions: each opens its report beside the dock, so Calm stays in reach while it is read (a tab of
// its own, for printing, is a tap further); the label is the clinic's to change.

import { api } from "./api.js";
import { openDialog } from "./dialog.js";
import { $, el, toast } from "./dom.js";
import { dateTime } from "./format.js";
import { locale, t } from "./i18n.js";

export function wirePast() {
  $("past").addEventListener("toggle", () => { if ($("past").open) load(); });
  document.addEventListener("language", () => { if ($("past").open) load(); });
  $("report-close").addEventListener("click", () => $("report").close());
  $("report").addEventListener("close", () => { $("report-frame").src = "about:blank"; });
}

function showReport(event) {
  event.preventDefault();
  const address = event.currentTarget.href;
  $("report-tab").href = address;
  $("report-frame").title = t("past.report");
  $("report-frame").src = address;
  openDialog($("report"));
}

async function load() {
  let sessions;
  try { sessions = await api("GET", "/api/sessions"); } catch (error) { toast(error.message); return; }
  $("past-list").replaceChildren(...sessions.map((s) => el("li", { "data-session": s.id },
    el("span", {}, `${dateTime(new Date(s.started_wall * 1000))} · ${s.profile_name}`),
    el("input", { type: "text", value: s.label, maxlength: 80, "aria-label": t("past.label_aria", { id: s.id }),
                  onchange: (event) => relabel(s.id, event.target.value) }),
    el("a", { href: `/api/sessions/${s.id}/report?format=html&lang=${encodeURIComponent(locale())}`,
              onclick: showReport }, t("past.report")))));
}

async function relabel(id, label) {
  try { await api("PATCH", `/api/sessions/${id}`, { label }); toast(t("past.label_saved")); } catch (error) { toast(error.message); }
}
