// Undo a phase move: while the server offers it (the session's `undo`), one big button under the phase
// controls says what it returns to, "Undo · back to Onset 2:42", that phase's time counting on as it would
// have, and a bar shows how long the offer lasts. The offer's times count on locally between state events.

import { $ } from "./dom.js";
import { clock } from "./format.js";
import { t } from "./i18n.js";

let offer = null;   // {undo, paused, at}: the server's offer, the session's pause, when it came (performance.now())
let timer = null;

export function renderUndo(session, act) {
  const button = $("undo");
  if (!button.onclick) button.onclick = () => take(act);
  const undo = session?.undo ?? null;
  const appears = undo && !offer;
  offer = undo ? { undo, paused: session.paused, at: performance.now() } : null;
  timer ??= setInterval(show, 250);
  show();
  if (appears) {   // ready for its one tap, and in sight (the page keeps clear of the dock: scroll-padding)
    button.disabled = false;
    button.scrollIntoView({ block: "nearest" });
  }
}

/** One tap sends one undo: the button waits for the answer (and the state after it) before it can be pressed again. */
async function take(act) {
  if (!offer) return;
  const button = $("undo");
  button.disabled = true;
  const result = await act("POST", "/api/session/undo", undefined, t("undo.done", { phase: offer.undo.back_to }));
  if (!result) button.disabled = false;
}

function show() {
  const button = $("undo");
  const passed = offer ? (performance.now() - offer.at) / 1000 : 0;
  const left = offer ? offer.undo.expires_in_s - passed : 0;
  button.hidden = left <= 0;
  if (button.hidden) return;
  const inPhase = offer.undo.phase_elapsed_s + (offer.paused ? 0 : passed);
  $("undo-to").textContent = t("undo.back_to", { phase: offer.undo.back_to, time: clock(inPhase) });
  $("undo-left").style.width = `${Math.min(100, (100 * left) / offer.undo.window_s)}%`;
}
