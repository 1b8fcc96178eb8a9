// The panel's words from the room's catalogues (the same .po files as the report, exported to JSON), and
// dates and numbers in the locale's format (Intl). The room's language comes with the state; a tablet may
// keep its own (Clinic tools → Language), remembered on that tablet only.

const STORED = "panel-language";
let tag = "en";
let words = {};
let languages = null;

/** Use the tablet's own choice, else `roomTag`, else the browser's; English when none has a catalogue. */
export async function useLanguage(roomTag) {
  languages ??= await fetchJson("/static/i18n/languages.json") ?? { en: "English" };
  const wanted = [localStorage.getItem(STORED), roomTag, navigator.language, "en"]
    .find((candidate) => candidate && languages[candidate.split("-")[0]]);
  if (wanted === tag && Object.keys(words).length) return false;
  words = await fetchJson(`/static/i18n/${wanted.split("-")[0]}.json`) ?? words;
  tag = wanted;
  document.documentElement.lang = tag;
  translate(document);
  return true;
}

export function chooseLanguage(choice) {
  if (choice) localStorage.setItem(STORED, choice); else localStorage.removeItem(STORED);
}

export const chosenLanguage = () => localStorage.getItem(STORED) ?? "";
export const knownLanguages = () => languages ?? {};
export const locale = () => tag;

export function t(key, params = {}) {
  const text = words[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

export const has = (key) => key in words;

/** Static text marked in the page: data-i18n (text), data-i18n-placeholder, data-i18n-label (aria-label). */
export function translate(root) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  for (const node of root.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", t(node.dataset.i18nLabel));
}

/** A shipped preset in the panel's language; a clinic's own by the label it gave it. */
export const presetLabel = (name, label) => (has(`preset.${name}`) ? t(`preset.${name}`) : label ?? name);

export const number = (value) => Math.round(value).toLocaleString(tag);

async function fetchJson(path) {
  try {
    const response = await fetch(path, { cache: "no-cache" });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}
