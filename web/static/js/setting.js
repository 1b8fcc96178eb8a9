// The room's setting: light and volume sliders that show what the room really is, and send one value
// when released. While a finger is on a slider (or its change is on the way) the slider is left alone;
// afterwards it shows the room's state again, so it never shows a value that did not happen.

import { $, el } from "./dom.js";

const busy = new Set();   // sliders being moved or whose value is on its way

export function bindSlider(input, send) {
  input.addEventListener("input", () => {
    busy.add(input);
    output(input).textContent = `${describe(input, Number(input.value))} (release to set)`;
  });
  input.addEventListener("change", async () => {
    busy.add(input);
    try {
      await send(Number(input.value));
    } finally {
      busy.delete(input);
      document.dispatchEvent(new Event("redraw"));
    }
  });
}

export function renderLights(state, act) {
  const lights = state.lights;
  show($("room-brightness"), average(lights.map((l) => l.state && (l.state.on ? l.state.brightness : 0))));
  show($("room-kelvin"), average(lights.map((l) => l.state?.on ? l.state.kelvin : null)));
  renderPresets(state, act);
  const list = $("light-list");
  if (list.dataset.ids !== lights.map((l) => l.id).join()) {
    list.dataset.ids = lights.map((l) => l.id).join();
    list.replaceChildren(...lights.map((light) => lightRow(light, act)));
  }
  for (const light of lights) {
    $(`light-${light.id}-status`).textContent = light.online === false ? "offline" : "";
    show($(`light-${light.id}-brightness`), light.state ? (light.state.on ? light.state.brightness : 0) : null);
    show($(`light-${light.id}-kelvin`), light.state?.on ? light.state.kelvin ?? null : null);
  }
}

export function renderMusic(audio) {
  show($("volume"), audio.volume ?? null);
  $("track").textContent = audio.track ?? "nothing";
  $("play").textContent = audio.playing ? "Pause music" : "Play music";
  $("play").dataset.playing = audio.playing ? "yes" : "no";
}

function renderPresets(state, act) {
  const others = (state.presets ?? []).filter((p) => p.name !== "calm" && p.name !== "emergency");
  const box = $("presets");
  if (box.dataset.names === others.map((p) => p.name).join()) return;
  box.dataset.names = others.map((p) => p.name).join();
  box.replaceChildren(...others.map((p) => el("button", { type: "button",
    onclick: () => act("POST", `/api/presets/${encodeURIComponent(p.name)}`) }, p.label)));
}

function lightRow(light, act) {
  const id = `light-${light.id}`;
  const row = el("div", { class: "light" },
    el("h3", {}, light.name ?? light.id, " ", el("span", { id: `${id}-status`, class: "hint" })),
    slider(`${id}-brightness`, "Brightness", 0, 100, 1, "brightness"),
    slider(`${id}-kelvin`, "Warmth", 1800, 6500, 50, "kelvin"));
  for (const input of row.querySelectorAll("input")) {
    bindSlider(input, (value) => act("PATCH", `/api/lights/${encodeURIComponent(light.id)}`, { [input.dataset.kind]: value }));
  }
  return row;
}

function slider(id, label, min, max, step, kind) {
  return el("div", { class: "slider" },
    el("label", { for: id }, label),
    el("output", { id: `${id}-out`, for: id }),
    el("input", { id, type: "range", min, max, step, "data-kind": kind }));
}

function show(input, value) {
  if (busy.has(input)) return;
  if (value === null || value === undefined) {
    input.value = input.min;
    output(input).textContent = "unknown";
    input.setAttribute("aria-valuetext", "unknown");
    return;
  }
  input.value = String(value);
  output(input).textContent = describe(input, value);
  input.setAttribute("aria-valuetext", describe(input, value));
}

function describe(input, value) {
  if (input.dataset.kind === "kelvin") {
    const feel = value < 2700 ? "warm" : value < 4000 ? "neutral" : "cool";
    return `${Math.round(value)} K, ${feel}`;
  }
  return `${Math.round(value)} %`;
}

function output(input) {
  return $(`${input.id}-out`);
}

function average(values) {
  const known = values.filter((v) => v !== null && v !== undefined);
  return known.length ? known.reduce((a, b) => a + b, 0) / known.length : null;
}
