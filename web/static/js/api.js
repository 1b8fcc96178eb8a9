// Calls to the room's HTTP API: JSON in and out, the CSRF token on every change, errors as ApiError.

import { t } from "./i18n.js";

let csrf = null;
let adminCsrf = null;   // the clinic tools' login has a token of its own
let onUnauthorized = () => {};
let onUsed = () => {};

// Answered with the panel's login, so the server counted a use of it (webapp/auth.py; idle.js counts down from it)
const usesLogin = (path) => !path.startsWith("/api/admin/") && path !== "/api/health" && path !== "/api/login";

export function useCsrf(token) { csrf = token; }
export function useAdminCsrf(token) { adminCsrf = token; }
export function whenUnauthorized(fn) { onUnauthorized = fn; }
export function whenUsed(fn) { onUsed = fn; }

export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

export async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const token = path.startsWith("/api/admin/") ? adminCsrf : csrf;
  if (token && method !== "GET") headers["X-CSRF-Token"] = token;
  let response;
  try {
    response = await fetch(path, {
      method, headers, cache: "no-store", credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "offline", t("api.offline"));
  }
  const data = await response.json().catch(() => null);
  if (response.ok) {
    if (usesLogin(path)) onUsed();
    return data;
  }
  const error = data?.error ?? {};
  if (response.status === 401 && !path.startsWith("/api/admin/") && path !== "/api/login") onUnauthorized();
  const failure = new ApiError(response.status, error.code ?? "http", error.message ?? t("api.http", { status: response.status }),
                               Number(response.headers.get("Retry-After")) || null);
  failure.fields = error.fields ?? [];
  throw failure;
}
