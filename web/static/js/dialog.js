// The panel's dialogs leave Calm in reach. A modal <dialog> (showModal) makes the whole page inert, the
// dock with it, and a tap on Calm lands on the dialog; the browser's own confirm() and prompt() block the
// page altogether. So each dialog is shown non-modally, beside the dock (panel.css keeps it out of the
// dock's place), and the rest of the panel, not the dock, is inert while it is open. Escape closes the top
// one and focus goes back where it was, as with a modal dialog.

import { $ } from "./dom.js";
import { t } from "./i18n.js";

const FOCUSABLE = "[autofocus], input:not([hidden]), select, button:not([hidden]), a[href], iframe";
let opened = [];           // the open dialogs, the last on top
const returnTo = new Map();   // each dialog, and what had the focus before it opened

/** Show `dialog` beside the dock, its first control focused without scrolling the page. */
export function openDialog(dialog) {
  if (dialog.open) return;
  if (!returnTo.has(dialog)) dialog.addEventListener("close", () => closed(dialog));
  returnTo.set(dialog, document.activeElement);
  dialog.show();
  opened = [...opened.filter((d) => d !== dialog), dialog];
  shade();
  dialog.querySelector(FOCUSABLE)?.focus({ preventScroll: true });
}

function closed(dialog) {
  shade();
  const from = returnTo.get(dialog);
  if (dialog.open || !from?.isConnected || document.querySelector(".dock").contains(document.activeElement)) return;
  from.focus({ preventScroll: true });
}

/** The page under the dialogs is dimmed and inert; the dock never is. */
function shade() {
  opened = opened.filter((d) => d.open);
  const open = opened.length > 0;
  document.body.toggleAttribute("data-dialog", open);
  for (const node of $("panel").children) if (!node.classList.contains("dock")) node.inert = open;
}

document.addEventListener("keydown", (event) => {
  const top = opened.filter((d) => d.open).at(-1);
  if (event.key !== "Escape" || !top) return;
  event.preventDefault();
  if (top.dispatchEvent(new Event("cancel", { cancelable: true }))) top.close("");
});

/** A question in place of confirm() or, with `value`, prompt(): resolves to true (or the typed text) when
 *  `yes` is tapped, to null when cancelled. */
export function ask(question, yes, value = null) {
  const dialog = $("ask");
  $("ask-text").textContent = question;
  $("ask-input").hidden = value === null;
  $("ask-input").value = value ?? "";
  $("ask-yes").textContent = yes;
  $("ask-no").textContent = t("common.cancel");
  dialog.returnValue = "";
  openDialog(dialog);
  if (value !== null) $("ask-input").select();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      if (dialog.returnValue !== "yes") resolve(null);
      else resolve(value === null ? true : $("ask-input").value.trim() || null);
    }, { once: true });
  });
}
