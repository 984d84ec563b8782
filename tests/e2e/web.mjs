// End-to-end test of the web UI in Debian's headless Chromium, driven by
// playwright-core. Run by tests/integration/test_web.py against a started
// system: node web.mjs BASE_URL SCREENSHOT_DIR. Exits non-zero on the first
// failed check, printing what it was.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";

const [base, shots] = process.argv.slice(2);
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"];
const consoleErrors = [];
const t0 = Date.now();
const step = (what) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${what}`);

async function shot(page, name) {
  if (shots) await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}

/** No horizontal scrolling: the page is no wider than the viewport. */
async function assertNoOverflow(page, where) {
  const [sw, cw] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(sw <= cw, `${where}: page is ${sw}px wide in a ${cw}px viewport`);
}

/** Polls FN in the page until it returns true. (waitForFunction would need
 * eval, which the UI's Content-Security-Policy rightly forbids.) */
async function until(page, fn, arg, timeout = 8000) {
  const end = Date.now() + timeout;
  while (!(await page.evaluate(fn, arg))) {
    assert.ok(Date.now() < end, `timed out waiting for ${fn}`);
    await page.waitForTimeout(100);
  }
}

const runCount = (page) => page.locator("#runs tbody tr").count();

async function createCronTask(page, name) {
  step("create a cron task through the form, with the keyboard where it matters");
  await page.goto(`${base}/#/tasks`);
  await page.locator("main h1").waitFor();
  // Keyboard: Tab from the top of the page reaches "New task"; Enter follows it.
  await page.locator("body").focus();
  let reached = false;
  for (let i = 0; i < 8 && !reached; i++) {
    await page.keyboard.press("Tab");
    reached = await page.evaluate(() => document.activeElement?.textContent === "New task");
  }
  assert.ok(reached, "Tab never reached the New task link");
  await page.keyboard.press("Enter");
  await page.waitForURL(/#\/new$/);
  await page.locator("#f-name").waitFor();
  await page.locator("#f-name").focus();
  await page.keyboard.type(name);
  await page.locator("#f-labels").fill("team=e2e");
  await page.locator("input[name=kind][value=cron]").check();
  await page.locator("#f-schedule\\.cron").fill("* * * * * *");
  await page.locator("#f-schedule\\.timezone").fill("Europe/Paris");
  await page.locator("#f-action\\.command").fill("echo");
  await page.getByRole("button", { name: "Add argument" }).click();
  await page.keyboard.type("hello from e2e");
  await until(page, () => /second/i.test(document.getElementById("cron-desc").textContent));
  await until(page, () => document.querySelectorAll("#cron-preview li").length === 5); // from the api
  await shot(page, "new-task");
  await page.getByRole("button", { name: "Create task" }).press("Enter");
  await page.waitForURL(/#\/tasks\/[0-9a-f]+$/);
  return page.url().split("/").pop();
}

async function checkRunsAndFeed(page, id) {
  step("runs show in the history within seconds, and in the live feed");
  await page.locator("#runs tbody tr").first().waitFor({ timeout: 8000 });
  await page.locator(`#runs tbody tr[data-status=succeeded]`).first().waitFor({ timeout: 8000 });
  await page.locator(`#feed-list li[data-task="${id}"][data-type="run.finished"]`).first().waitFor({ timeout: 8000 });
  assert.equal(await page.locator("#feed-status").textContent(), "live");
  await page.locator("details summary").first().click();
  assert.match(await page.locator("details pre").first().textContent(), /hello from e2e/);
  await shot(page, "task");
}

async function checkPauseResume(page) {
  step("pause stops new runs; resume starts them again");
  await page.getByRole("button", { name: "Pause" }).click();
  await page.locator("dd .pill.s-paused").waitFor();
  await page.waitForTimeout(1500); // a run dispatched just before the pause may still land
  const paused = await runCount(page);
  await page.waitForTimeout(3000);
  assert.equal(await runCount(page), paused, "runs kept coming while paused");
  // Keyboard: the focus moved to the Resume button; Enter presses it.
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Resume");
  await page.keyboard.press("Enter");
  await page.locator("dd .pill.s-active").waitFor();
  await until(page, (n) => document.querySelectorAll("#runs tbody tr").length > n, paused);
}

async function checkValidation(page) {
  step("validation: local errors as you type, the api's errors next to their field");
  await page.goto(`${base}/#/new`);
  await page.locator("#f-name").fill("bad cron");
  await page.locator("input[name=kind][value=cron]").check();
  await page.locator("#f-schedule\\.cron").fill("* *");
  await page.locator("#err-schedule\\.cron").filter({ hasText: "5 or 6 fields" }).waitFor();
  await page.locator("#f-schedule\\.cron").fill("61 * * * *");
  await page.locator("#err-schedule\\.cron").filter({ hasText: "out of range" }).waitFor(); // live, from the preview
  await page.locator("#f-action\\.command").fill("true");
  await page.getByRole("button", { name: "Create task" }).click();
  await page.locator("#err-schedule\\.cron").filter({ hasText: "out of range" }).waitFor();
  assert.equal(await page.locator("#f-schedule\\.cron").getAttribute("aria-invalid"), "true");
  assert.equal(await page.locator("#form-error").textContent(), "");
  await shot(page, "validation");
}

async function checkListAndDashboard(page, name) {
  step("the list finds the task by name and label; the dashboard charts have data");
  await page.goto(`${base}/#/tasks`);
  await page.locator("#f-search").fill(name.slice(0, 6));
  await page.locator("#f-label").fill("team=e2e");
  await page.locator("tbody tr a", { hasText: name }).waitFor();
  assert.match(await page.locator("tbody tr").first().textContent(), /in \d+ seconds?|now/);
  await shot(page, "tasks");
  await page.goto(`${base}/#/`);
  await page.locator("#chart-throughput canvas").waitFor();
  await page.locator("#chart-lateness canvas").waitFor();
  await until(page, () => Number(document.querySelector("[data-stat=runs]")?.textContent) > 0);
  await shot(page, "dashboard");
}

async function checkPhone(browser, id) {
  step("phone-sized viewport: no horizontal scrolling on any page");
  const phone = await browser.newPage({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  watch(phone);
  for (const [hash, name] of [["#/", "dashboard"], ["#/tasks", "tasks"], ["#/new", "new"], [`#/tasks/${id}`, "task"]]) {
    await phone.goto(`${base}/${hash}`);
    await phone.locator("main h1").waitFor();
    await phone.waitForTimeout(700);
    await assertNoOverflow(phone, `phone ${name}`);
    await shot(phone, `phone-${name}`);
  }
  await phone.close();
}

async function checkDelete(page, id) {
  step("delete asks for confirmation (keyboard), then removes the task");
  await page.goto(`${base}/#/tasks/${id}`);
  await page.getByRole("button", { name: "Delete" }).focus();
  await page.keyboard.press("Enter");
  await page.locator("#confirm[open]").waitFor();
  await page.keyboard.press("Escape"); // cancel keeps it
  await page.waitForTimeout(300);
  assert.equal(await page.locator("#confirm[open]").count(), 0);
  await page.getByRole("button", { name: "Delete" }).click();
  await page.locator("#confirm-ok").click();
  await page.waitForURL(/#\/tasks$/);
  const status = await page.evaluate(async (tid) => (await fetch(`/api/v1/tasks/${tid}`)).status, id);
  assert.equal(status, 404);
  await page.waitForTimeout(500);
  assert.equal(await page.locator(`tbody tr[data-id="${id}"]`).count(), 0);
}

function watch(page) {
  page.on("pageerror", (e) => consoleErrors.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    // The browser logs every 4xx response as "Failed to load resource"; the
    // test provokes those on purpose (a bad cron, a deleted task). Anything
    // else logged as an error is the UI's fault.
    if (m.type() === "error" && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text()))
      consoleErrors.push(m.text());
  });
}

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: FLAGS });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  watch(page);
  const name = `e2e-${Date.now() % 100000}`;
  const id = await createCronTask(page, name);
  await checkRunsAndFeed(page, id);
  await checkPauseResume(page);
  await checkValidation(page);
  await checkListAndDashboard(page, name);
  await checkPhone(browser, id);
  await checkDelete(page, id);
  assert.deepEqual(consoleErrors, [], "console errors");
  step("all checks passed");
} finally {
  await browser.close();
}
