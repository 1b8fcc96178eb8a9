// The demo room's picture: each simulated light drawn in its colour over a floor plan, glowing more the
// brighter it is, so a person sees which light does what. Tone-mapped into the panel's dark palette: it shows
// how the lights glow relative to one another, never their real brightness (a room at full would turn the
// tablet into the brightest light in a dim room), and each label sits on a dark plate so it reads at any
// glow. Only a demo room answers /api/demo/room; elsewhere the card stays hidden.

import { api } from "./api.js";
import { $ } from "./dom.js";

const SPOTS = [[200, 120], [330, 170], [70, 210], [200, 250], [330, 60], [70, 60]];   // x, y on a 400x300 plan
const NS = "http://www.w3.org/2000/svg";
const FLOOR = [18, 10, 8];     // the plan's floor, as dark as the panel's cards
const AMBIENT = 22;            // the most the lights together tint the floor, per channel
const GLOW = 0.6;              // a glow's colour at its centre: the light's hue at this share of full
let names = {};

export function nameLights(state) {
  names = Object.fromEntries((state.lights ?? []).map((l) => [l.id, l.name ?? l.id]));
}

function svg(tag, attrs) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

/** The light's hue at `share` of full brightness, whatever its own brightness. */
function hue(color, share) {
  const c = parseInt(color.slice(1), 16);
  const rgb = [(c >> 16) & 255, (c >> 8) & 255, c & 255];
  const top = Math.max(...rgb, 1);
  return `rgb(${rgb.map((v) => Math.round((v / top) * 255 * share)).join(",")})`;
}

function draw(lights) {
  const plan = $("room-plan");
  plan.replaceChildren();
  const defs = svg("defs", {});
  plan.append(defs);
  const total = lights.reduce((sum, l) => sum + l.level, 0) / Math.max(lights.length, 1);
  const floor = FLOOR.map((v, i) => v + Math.round(AMBIENT * total * [1, 0.7, 0.4][i]));
  plan.append(svg("rect", { x: 0, y: 0, width: 400, height: 300, rx: 12, fill: `rgb(${floor.join(",")})`, stroke: "#3b2219" }));
  plan.append(svg("rect", { x: 150, y: 130, width: 100, height: 150, rx: 10, fill: "#000", "fill-opacity": 0.35 }));
  lights.forEach((light, i) => {
    const [x, y] = SPOTS[i % SPOTS.length];
    const gradient = svg("radialGradient", { id: `glow-${i}` });
    gradient.append(svg("stop", { offset: "0%", "stop-color": hue(light.color, GLOW), "stop-opacity": light.level > 0 ? 0.15 + 0.55 * light.level : 0 }));
    gradient.append(svg("stop", { offset: "100%", "stop-color": hue(light.color, GLOW), "stop-opacity": 0 }));
    defs.append(gradient);
    plan.append(svg("circle", { cx: x, cy: y, r: 30 + 60 * light.level, fill: `url(#glow-${i})` }));
    plan.append(svg("circle", { cx: x, cy: y, r: 9, fill: light.level > 0 ? hue(light.color, 0.35 + 0.45 * light.level) : "#2a1a14",
                                stroke: "#5a3324" }));
    const words = `${names[light.id] ?? light.id} ${Math.round(light.level * 100)} %`;
    const plate = svg("rect", { y: y + 13, height: 20, rx: 4, fill: "#0d0706", class: "plate" });
    const label = svg("text", { x, y: y + 28, "text-anchor": "middle", "font-size": 15, fill: "#e2a68d" });
    label.textContent = words;
    plan.append(plate, label);
    const width = label.getBBox().width || words.length * 8.5;
    plate.setAttribute("x", String(x - width / 2 - 4));
    plate.setAttribute("width", String(width + 8));
  });
}

export async function showPicture() {
  try {
    draw(await api("GET", "/api/demo/room"));
  } catch {
    return;   // not a demo room
  }
  $("room-picture").hidden = false;
  setInterval(async () => draw(await api("GET", "/api/demo/room").catch(() => [])), 250);
}
