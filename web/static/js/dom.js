// A few DOM helpers, so the renderers read as what they show.

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "style") Object.assign(node.style, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

let toastTimer = null;
export function toast(text) {
  const node = $("toast");
  node.textContent = text;
  node.classList.add("shown");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => node.classList.remove("shown"), 4000);
}

/** Give `node` the children `build(data)` makes, but only when `data` changed since last time (or the words did).
 *  A list rebuilt on every state update loses taps: the finger goes down on one button and comes up on its
 *  replacement, and the browser fires no click. */
export function renderWhenChanged(node, data, build) {
  const key = JSON.stringify(data);
  if (node.dataset.shown === key) return;
  node.dataset.shown = key;
  node.replaceChildren(...build(data));
}

// New words (another language, or the first catalogue after a failed fetch): every such list is drawn again.
document.addEventListener("language", () => {
  for (const node of document.querySelectorAll("[data-shown]")) delete node.dataset.shown;
});
