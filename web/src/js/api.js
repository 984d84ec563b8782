// The REST API as the UI uses it: same origin (the web role proxies /api).
//
// Tokens (issue 8): an api started with --tokens answers 401 to a request
// without a valid one. The token is kept for the session (sessionStorage,
// never in a URL) and sent as "Authorization: Bearer". On a 401, api() asks
// the handler set with onUnauthorized (auth.js: a sign-in dialog) for a new
// token and sends the request again; requests made meanwhile wait for the
// same answer. A 403 means the token is valid but lacks a scope.

const TOKEN_KEY = "dts.token";
let authHandler = null;

export class ApiError extends Error {
  constructor(status, problem) {
    super(status === 403 ? forbiddenText(problem) : problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.field = this.problem.field;
  }
}

/** What a 403 means to the user: the token is fine, its scopes are not enough. */
function forbiddenText(problem) {
  const detail = problem?.detail || "forbidden";
  const why = problem?.field === "action.type" && !/shell/.test(detail) ? " Shell actions need a token with the shell scope." : "";
  return `Your token does not allow this: ${detail}.${why}`;
}

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** FN(rejectedToken) resolves to true when a new token is in place. */
export function onUnauthorized(fn) {
  authHandler = fn;
}

async function send(method, path, body, headers, token) {
  const h = { Accept: "application/json", ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (body !== undefined) h["Content-Type"] = "application/json";
  try {
    return await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
  } catch {
    throw new ApiError(0, { title: "Network error", detail: "the server could not be reached; retry" });
  }
}

/** Calls the api; resolves to {status, body, headers}, rejects with ApiError.
 * With opts.token, uses that token and never asks for another (sign-in checks). */
export async function api(method, path, body, headers = {}, opts = {}) {
  let res;
  for (let tries = 0; ; tries++) {
    const token = opts.token ?? getToken();
    res = await send(method, path, body, headers, token);
    if (res.status !== 401 || opts.token !== undefined || !authHandler || tries === 3) break;
    if (!(await authHandler(token))) break;
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text }; }
  if (!res.ok) throw new ApiError(res.status, data);
  return { status: res.status, body: data, headers: res.headers };
}

export const get = (path) => api("GET", path).then((r) => r.body);
