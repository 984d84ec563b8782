// End-to-end test of the execution features in the web UI (issue 16): the
// lateness SLO's field in the form and its row on the task page, and the flag
// on a late run; chaining's field, its row, and a chained run linked to its
// source; the concurrency key's fields, and its live figures on the task
// page. Run by tests/integration/test_web_exec.py against a started system:
// node exec.mjs BASE_URL LATE_TASK_ID CHAIN_TARGET_ID. Exits non-zero on the
// first failed check, printing what it was.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";

const [base, lateId, targetId] = process.argv.slice(2);
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"];
const step = (what) => console.log(what);
const consoleErrors = [];

/** Opens a new task's form named NAME (a shell `true`), sets field ID to a
 * bad VALUE, submits, and waits for the error slot of ID to say WORDS. */
async function refused(page, name, id, value, words) {
  await page.goto(`${base}/#/new`);
  await page.locator("#f-name").fill(name);
  await page.locator("#f-action\\.command").fill("true");
  await page.locator(`#f-${id}`).fill(value);
  await page.getByRole("button", { name: "Create task" }).click();
  await page.locator(`#err-${id}`).filter({ hasText: words }).waitFor();
}

async function checkSloForm(page) {
  step("the form refuses a bad SLO by its field, then saves a good one; the page shows it");
  await refused(page, "e2e-slo", "slo_ms", "0", "milliseconds");
  assert.equal(await page.locator("#f-slo_ms").getAttribute("aria-invalid"), "true");
  await page.locator("#f-slo_ms").fill("250");
  await page.getByRole("button", { name: "Create task" }).click();
  await page.waitForURL(/#\/tasks\/[0-9a-f]+$/);
  await page.locator("dl.spec").filter({ hasText: "Lateness SLO" }).waitFor();
  assert.match(await page.locator("dl.spec").textContent(), /start within 250 ms/);
  step("editing keeps the SLO (the form is filled from the task)");
  await page.getByRole("link", { name: "Edit" }).click();
  await page.locator("#f-slo_ms").waitFor();
  assert.equal(await page.locator("#f-slo_ms").inputValue(), "250");
  await page.locator("#f-slo_ms").fill("400");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.waitForURL(/#\/tasks\/[0-9a-f]+$/);
  await page.locator("dl.spec").filter({ hasText: "start within 400 ms" }).waitFor();
}

async function checkLateRun(page) {
  step("a late run is flagged in the history, and counted on the task page");
  await page.goto(`${base}/#/tasks/${lateId}`);
  const row = page.locator("#runs tbody tr[data-late]");
  await row.first().waitFor({ timeout: 15000 });
  assert.equal(await row.locator(".s-late").first().textContent(), "late");
  assert.match(await page.locator("[data-slo]").textContent(), /1 late of 1 kept runs/);
}

async function checkChain(page) {
  step("the form refuses an unknown chained task by its field, then chains a real one");
  await refused(page, "e2e-chain", "then", "nosuchtask always", "names no task"); // the api's 400
  await page.locator("#f-then").fill(`${targetId} sometimes`);
  await page.locator("#err-then").filter({ hasText: "not success, failure or always" }).waitFor(); // local
  await page.locator("#f-then").fill(`${targetId} always`);
  await page.getByRole("button", { name: "Create task" }).click();
  await page.waitForURL(/#\/tasks\/[0-9a-f]+$/);
  const sourceId = page.url().split("/").pop();
  await page.locator("[data-then] li").filter({ hasText: "on always" }).waitFor();
  step("the chained run shows on the target's page, linked to the run that chained it");
  await page.locator(`[data-then] a[href="#/tasks/${targetId}"]`).click();
  const row = page.locator("#runs tbody tr[data-kind=chained]");
  await row.first().waitFor({ timeout: 15000 });
  assert.match(await row.first().locator("[data-source]").getAttribute("data-source"), new RegExp(`^${sourceId}:`));
  assert.match(await row.first().textContent(), /\(chained\)/);
}

async function checkConcurrency(page) {
  step("the form refuses a concurrency limit below 1 by its field; the task page shows the key's figures");
  await refused(page, "e2e-conc", "concurrency\\.limit", "0", "1 to 10000");
  await page.locator("#f-concurrency\\.key").fill("e2e-key");
  await page.locator("#f-concurrency\\.limit").fill("3");
  await page.getByRole("button", { name: "Create task" }).click();
  await page.waitForURL(/#\/tasks\/[0-9a-f]+$/);
  await page.locator('[data-concurrency="e2e-key"]').filter({ hasText: "at most 3 at once" }).waitFor();
  await page.locator("[data-concurrency-live]").filter({ hasText: /\d+ running, \d+ waiting now/ }).waitFor();
}

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: FLAGS });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(10000);
  // The browser logs each 4xx as "Failed to load resource"; the checks provoke those.
  page.on("console", (m) => {
    if (m.type() === "error" && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  await checkSloForm(page);
  await checkLateRun(page);
  await checkChain(page);
  await checkConcurrency(page);
  assert.deepEqual(consoleErrors, [], "console errors");
  step("all checks passed");
} finally {
  await browser.close();
}
