// The clinic overview: every room on the broker, from what each room publishes, live. It only reads.

import { $, el } from "./dom.js";
import { clock } from "./format.js";
import { follow } from "./live.js";

function render({ broker, rooms }) {
  $("broker").hidden = broker === "connected";
  $("broker").textContent = broker === "connected" ? "" : "The clinic broker cannot be reached: what you see may be out of date.";
  if (!rooms.length) return;
  $("rooms").replaceChildren(...rooms.map(card));
}

function card(room) {
  const state = room.state ?? {};
  const session = state.session;
  const offline = room.status !== "online";
  const problems = [...(state.problems ?? [])];
  if (offline) problems.unshift("The room controller is offline");
  return el("section", { class: "card room", "data-room": room.id, "data-status": room.status,
                         "aria-label": state.room?.name || room.id },
    el("h2", {}, state.room?.name || room.id),
    el("p", { class: "status" }, offline ? "Offline" : "Online"),
    el("p", { class: "session" }, session
      ? [session.profile_name ?? session.profile, session.label ? ` · ${session.label}` : "", session.paused ? " · Paused" : ""].join("")
      : "No session"),
    session ? el("p", { class: "phase" }, session.phase.name) : null,
    session ? el("p", { class: "time" }, `Session ${clock(session.elapsed_s)}`) : null,
    el("p", { class: "preset" }, state.preset ? `Preset: ${state.preset}` : "No preset"),
    problems.length ? el("ul", { class: "room-problems" }, problems.map((p) => el("li", {}, p))) : null);
}

function showLink(link) {
  const node = $("link");
  node.dataset.link = link;
  node.textContent = link === "live" ? "Live" : "Reconnecting… what you see may be out of date";
}

follow({ onState: render, onLink: showLink, stillLoggedIn: async () => true });
