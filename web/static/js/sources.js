// A command source held off for flipping presets (core/sources.py): a line of its own on the problem line, in
// the panel's words, with the control that lets it act again.

import { el, renderWhenChanged } from "./dom.js";
import { t } from "./i18n.js";

const HELD = "source:";   // a held source's problem key: "source:<kind>:<topic>"

export function isHeld(key) {
  return Boolean(key?.startsWith(HELD));
}

/** The held sources' lines in `box` (after its text, kept across renders); how many there are. */
export function renderHeldSources(box, state, act) {
  if (!box.querySelector(".held-sources")) box.replaceChildren(el("span"), el("div", { class: "held-sources" }));
  const held = (state.problem_keys ?? []).filter(isHeld).map((key) => {
    const [, kind, topic] = key.match(/^source:([^:]*):(.*)$/s);
    return { kind, topic };
  });
  renderWhenChanged(box.querySelector(".held-sources"), held, (sources) => sources.map(({ kind, topic }) => {
    const name = kind === "button" ? t("source.button", { topic }) : t("source.command");
    const said = t("problems.source_held", { source: name });
    return el("p", { class: "held-source" }, `${said[0].toUpperCase()}${said.slice(1)} `,
      el("button", { type: "button", "data-source": topic, onclick: () => act("POST", "/api/sources/clear", { source: topic }) },
        t("problems.let_act")));
  }));
  return held.length;
}
