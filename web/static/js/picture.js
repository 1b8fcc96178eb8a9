// The demo room's picture: each simulated light drawn in the colour and brightness it glows with now,
// over a floor plan, so a person sees what the room would look like. Only a demo room answers
// /api/demo/room; elsewhere the card stays hidden.

import { api } from "./api.js";
import { $ } from "./dom.js";

const SPOTS = [[200, 120], [330, 170], [70, 210], [200, 250], [330, 60], [70, 60]];   // x, y on a 400x300 plan
const NS = "http://www.w3.org/2000/svg";
let names = {};

export function nameLights(state) {
  names = Object.fromEntries((state.lights ?? []).map((l) => [l.id, l.name ?? l.id]));
}

function svg(tag, attrs) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

function draw(lights) {
  const plan = $("room-plan");
  plan.replaceChildren();
  const defs = svg("defs", {});
  plan.append(defs);
  const [r, g, b] = lights.reduce(([r, g, b], l) => {
    const c = parseInt(l.color.slice(1), 16);
    return [r + ((c >> 16) & 255) * l.level, g + ((c >> 8) & 255) * l.level, b + (c & 255) * l.level];
  }, [0, 0, 0]).map((v) => Math.min(255, Math.round(v / 1.5)));
  plan.append(svg("rect", { x: 0, y: 0, width: 400, height: 300, rx: 12, fill: `rgb(${r},${g},${b})`, stroke: "#3b2219" }));
  plan.append(svg("rect", { x: 150, y: 130, width: 100, height: 150, rx: 10, fill: "#000", "fill-opacity": 0.35 }));
  lights.forEach((light, i) => {
    const [x, y] = SPOTS[i % SPOTS.length];
    const gradient = svg("radialGradient", { id: `glow-${i}` });
    gradient.append(svg("stop", { offset: "0%", "stop-color": light.color, "stop-opacity": Math.min(1, light.level * 1.6) }));
    gradient.append(svg("stop", { offset: "100%", "stop-color": light.color, "stop-opacity": 0 }));
    defs.append(gradient);
    plan.append(svg("circle", { cx: x, cy: y, r: 30 + 90 * light.level, fill: `url(#glow-${i})` }));
    plan.append(svg("circle", { cx: x, cy: y, r: 9, fill: light.level > 0 ? light.color : "#2a1a14", stroke: "#5a3324" }));
    const label = svg("text", { x, y: y + 26, "text-anchor": "middle", "font-size": 13, fill: "#b98069" });
    label.textContent = `${names[light.id] ?? light.id} ${Math.round(light.level * 100)} %`;
    plan.append(label);
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
