// The REST API as the UI uses it: same origin (the web role proxies /api).
//
// Tokens (issue 8): when the api starts requiring them it answers 401; the
// UI then asks for a token once and keeps it for the session
// (sessionStorage), sending it as "Authorization: Bearer". setToken and the
// "dts:auth" event are that hook; nothing asks for a token until a 401 comes.

const TOKEN_KEY = "dts.token";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.field = this.problem.field;
  }
}

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** Calls the api; resolves to {status, body, headers}, rejects with ApiError. */
export async function api(method, path, body, headers = {}) {
  const h = { Accept: "application/json", ...headers };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) h.Authorization = `Bearer ${token}`;
  if (body !== undefined) h["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, { title: "Network error", detail: "the server could not be reached; retry" });
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text }; }
  if (res.status === 401) window.dispatchEvent(new CustomEvent("dts:auth"));
  if (!res.ok) throw new ApiError(res.status, data);
  return { status: res.status, body: data, headers: res.headers };
}

export const get = (path) => api("GET", path).then((r) => r.body);
