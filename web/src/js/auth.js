// Signing in with an API token: the sign-in dialog (index.html's #signin)
// and the header's Sign in / Sign out button.
//
// The dialog opens on the first 401. A token is checked against the api
// before it is kept: a wrong one leaves the dialog open with an error. If the
// user cancels, requests fail with the 401 instead of asking again, until the
// header's "Sign in" button is pressed. Signing in or out fires "dts:reload"
// so the current view loads again with the new token.

import { api, getToken, onUnauthorized, setToken } from "./api.js";

let pending = null;   // the open dialog's answer: Promise<boolean>
let dismissed = false; // the user cancelled: do not ask on every 401

const byId = (id) => document.getElementById(id);

function reload() {
  window.dispatchEvent(new CustomEvent("dts:reload"));
}

/** Draws the header's button for the current state. */
function drawButton() {
  const b = byId("auth-button");
  if (getToken()) {
    b.textContent = "Sign out";
    b.hidden = false;
  } else {
    b.textContent = "Sign in";
    b.hidden = !dismissed;
  }
}

/** Checks TOKEN against the api: "" if it is accepted, else why not. */
async function check(token) {
  try {
    await api("GET", "/api/v1/tasks?limit=1", undefined, {}, { token });
    return "";
  } catch (e) {
    if (e.status === 403) return ""; // valid, without the read scope
    if (e.status === 401) return "That token was not accepted. Check it and try again.";
    return `Could not check the token: ${e.message}`;
  }
}

/** Opens the dialog; resolves to true once a valid token is stored. */
function ask(rejected) {
  const dlg = byId("signin"), input = byId("f-token"), err = byId("err-token"), form = dlg.querySelector("form");
  input.value = "";
  input.removeAttribute("aria-invalid");
  err.textContent = rejected ? "The token you used was not accepted (it may have been revoked). Sign in again." : "";
  dlg.showModal();
  input.focus();
  return new Promise((resolve) => {
    async function submit(e) {
      e.preventDefault();
      const token = input.value.trim();
      err.textContent = "";
      const why = token ? await check(token) : "Paste a token.";
      if (why) {
        err.textContent = why;
        input.setAttribute("aria-invalid", "true");
        input.focus();
        return;
      }
      setToken(token);
      finish(true);
    }
    function cancel(e) {
      e?.preventDefault();
      dismissed = true;
      finish(false);
    }
    function finish(ok) {
      form.removeEventListener("submit", submit);
      dlg.removeEventListener("cancel", cancel);
      byId("signin-cancel").removeEventListener("click", cancel);
      dlg.close();
      input.value = "";
      drawButton();
      resolve(ok);
    }
    form.addEventListener("submit", submit);
    dlg.addEventListener("cancel", cancel);
    byId("signin-cancel").addEventListener("click", cancel);
  });
}

/** api.js's 401 hook: one dialog for every request that needs it. */
function unauthorized(rejected) {
  const current = getToken();
  if (current && current !== rejected) return Promise.resolve(true); // signed in meanwhile
  if (current) setToken(""); // the stored token is no longer accepted
  if (pending) return pending;
  if (dismissed) { drawButton(); return Promise.resolve(false); }
  pending = ask(Boolean(rejected)).finally(() => { pending = null; });
  return pending;
}

export function startAuth() {
  onUnauthorized(unauthorized);
  byId("auth-button").addEventListener("click", async () => {
    if (getToken()) {
      setToken("");
      dismissed = false;
      drawButton();
      reload(); // the view loads again and, with tokens on, asks
      return;
    }
    dismissed = false;
    if (await unauthorized("")) reload();
  });
  drawButton();
}
