// End-to-end test of the web UI in Debian's headless Chromium, driven by
// playwright-core. Run by tests/integration/test_web.py against a started
// system: node web.mjs BASE_URL SCREENSHOT_DIR [tokens]. With "tokens" it
// runs the sign-in flow against an api started with --tokens, taking the
// tokens from DTS_E2E_TOKEN (read,write,shell,admin) and DTS_E2E_WRITER
// (read,write: no shell), never from the command line. Exits non-zero on the first failed
// check, printing what it was.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";

const [base, shots, mode] = process.argv.slice(2);
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
  await page.locator("#f-max_runs").fill("1000"); // the cron window
  await page.locator("#f-jitter_s").fill("1"); // spread within its one-second period
  await page.locator("#f-exclude_cron").fill("* * * * *"); // the preview marks what it would exclude
  await until(page, () => document.querySelectorAll("#cron-preview li[data-excluded]").length === 5);
  await page.locator("#f-exclude_cron").fill("");
  await until(page, () => document.querySelectorAll("#cron-preview li").length === 5 &&
    !document.querySelector("#cron-preview li[data-excluded]"));
  await page.locator("#f-exclude").fill("2000-01-01 2000-01-02"); // long past: runs go on
  await shot(page, "new-task");
  await page.getByRole("button", { name: "Create task" }).press("Enter");
  await page.waitForURL(/#\/tasks\/[0-9a-f]+$/);
  assert.match(await page.locator("#jitter").textContent(), /up to 1 s after each cron time/);
  assert.match(await page.locator("#exclusions").textContent(), /2000-01-01 – 2000-01-02/);
  return page.url().split("/").pop();
}

async function checkRunsAndFeed(page, id, name) {
  step("runs show in the history within seconds, and in the live feed, by the task's name");
  await page.locator("#runs tbody tr").first().waitFor({ timeout: 8000 });
  await page.locator(`#runs tbody tr[data-status=succeeded]`).first().waitFor({ timeout: 8000 });
  const fed = page.locator(`#feed-list li[data-task="${id}"][data-type="run.finished"]`).first();
  await fed.waitFor({ timeout: 8000 });
  const link = fed.locator("a.feed-task");
  assert.equal(await link.textContent(), name);
  assert.equal(await link.getAttribute("title"), id); // the id on hover
  assert.equal(await link.getAttribute("href"), `#/tasks/${id}`);
  assert.equal(await page.locator("#feed-status").textContent(), "live");
  await page.locator("details summary").first().click();
  assert.match(await page.locator("details pre").first().textContent(), /hello from e2e/);
  assert.match(await page.locator("dl.spec").textContent(), /at most 1000 runs/);
  await shot(page, "task");
}

// The feed's 500 ms is timed on the plain build (make test). Under the
// sanitizers (make asan-test sets DTS_SANITIZED) the api and the web role run
// several times slower by design, so that run allows 1500 ms: it still fails
// a feed that polls slowly or reloads, but not one that ASan slowed down.
const FEED_MS = process.env.DTS_SANITIZED ? 1500 : 500;

async function checkFeedStreams(page) {
  step(`the feed streams: a new task shows within ${FEED_MS} ms of its creation, without a reload`);
  const streams = [];
  page.on("request", (r) => { if (r.url().endsWith("/api/v1/events/stream")) streams.push(r.url()); });
  await page.goto(`${base}/?fresh#/`); // a full load, so the stream's request is seen
  await until(page, () => document.getElementById("feed-status").textContent === "live");
  const loads = [];
  page.on("load", () => loads.push(Date.now()));
  await page.waitForTimeout(300); // settled on the stream
  const started = Date.now();
  const r = await fetch(`${base}/api/v1/tasks`, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name: "e2e-feed", schedule: { cron: "0 0 1 1 *" }, action: { type: "noop" } }) });
  assert.equal(r.status, 201);
  const task = await r.json();
  const item = page.locator(`#feed-list li[data-task="${task.id}"][data-type="task.created"]`);
  await item.waitFor({ timeout: 5000 });
  const ms = Date.now() - started;
  step(`  shown ${ms} ms after the POST was sent`);
  assert.ok(ms < FEED_MS, `the event took ${ms} ms to show (at most ${FEED_MS})`);
  assert.equal(loads.length, 0, "the page reloaded");
  assert.ok(streams.length > 0, "the feed did not use the event stream");
  assert.equal(await item.locator("a.feed-task").textContent(), "e2e-feed");
  await shot(page, "feed");
  await fetch(`${base}/api/v1/tasks/${task.id}`, { method: "DELETE" });
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
  await page.locator("#f-start_at").fill("2030-01-02T00:00");
  await page.locator("#f-end_at").fill("2030-01-01T00:00");
  await page.locator("#err-end_at").filter({ hasText: "after" }).waitFor();
  await page.locator("#f-end_at").fill("2030-01-03T00:00");
  await page.getByRole("button", { name: "Create task" }).click();
  await page.locator("#err-schedule\\.cron").filter({ hasText: "out of range" }).waitFor();
  assert.equal(await page.locator("#f-schedule\\.cron").getAttribute("aria-invalid"), "true");
  assert.equal(await page.locator("#form-error").textContent(), "");
  await shot(page, "validation");
}

/** An instant as a datetime-local value in UTC, to the minute (the backfill form's zone). */
const utcInput = (ms) => new Date(ms).toISOString().slice(0, 16);

async function submitBackfill(page, from, to) {
  await page.locator("#bf-from").fill(from);
  await page.locator("#bf-to").fill(to);
  await page.getByRole("button", { name: "Backfill", exact: true }).press("Enter"); // the keyboard
}

async function checkBackfill(page, onceId) {
  step("backfill from the task page: errors at their field; past minutes queued once, run as kind backfill");
  const minute = Math.floor(Date.now() / 60000) * 60000; // before the task exists: the range is all past
  const r = await fetch(`${base}/api/v1/tasks`, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name: "e2e-backfill", schedule: { cron: "* * * * *", timezone: "Europe/Paris" }, action: { type: "noop" } }) });
  assert.equal(r.status, 201);
  const task = await r.json();
  await page.goto(`${base}/#/tasks/${task.id}`);
  await page.locator("#bf-from").waitFor();
  assert.match(await page.locator("#backfill-card").textContent(), /Times are in UTC \(the schedule itself is in Europe\/Paris\)/);
  // A reversed range: refused as you type and on submit, at "To", before any request.
  const posts = [];
  const seen = (q) => { if (q.url().endsWith("/backfill")) posts.push(q); };
  page.on("request", seen);
  await submitBackfill(page, utcInput(minute - 60000), utcInput(minute - 3 * 60000));
  await page.locator("#err-bf-to").filter({ hasText: "after “From”" }).waitFor();
  assert.equal(await page.locator("#bf-to").getAttribute("aria-invalid"), "true");
  assert.equal(await page.locator("#err-bf-from").textContent(), "");
  assert.equal(posts.length, 0, "a reversed range was sent");
  page.off("request", seen);
  // What only the api knows (its clock, the schedule's count) comes back at the field its problem names.
  await submitBackfill(page, utcInput(minute - 3 * 60000), utcInput(minute + 2 * 86400000));
  await page.locator("#err-bf-to").filter({ hasText: "must not be in the future" }).waitFor();
  await submitBackfill(page, utcInput(minute - 10001 * 60000), utcInput(minute));
  await page.locator("#err-bf-to").filter({ hasText: "more than 10000" }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), "bf-to");
  assert.equal(await page.locator("#bf-error").textContent(), "");
  await shot(page, "backfill-error");

  await submitBackfill(page, utcInput(minute - 3 * 60000), utcInput(minute));
  await page.locator("#bf-result").filter({ hasText: "3 queued, 0 already backfilled or run." }).waitFor();
  assert.equal(await page.locator("#err-bf-to").textContent(), "");
  assert.equal(await page.locator("#bf-to").getAttribute("aria-invalid"), null);
  const done = "#runs tbody tr[data-kind=backfill][data-status=succeeded]";
  await until(page, (sel) => document.querySelectorAll(sel).length >= 3, done, 15000);
  const sched = await page.locator(`${done} td[data-label=Scheduled] time`).evaluateAll((ts) => ts.map((t) => Date.parse(t.getAttribute("datetime"))));
  assert.deepEqual(sched.sort(), [minute - 3 * 60000, minute - 2 * 60000, minute - 60000]);
  assert.match(await page.locator(done).first().textContent(), /\(backfill\)/);
  await shot(page, "backfill");
  step("a repeated backfill queues nothing twice; a paused task's 409 shows its detail");
  await submitBackfill(page, utcInput(minute - 3 * 60000), utcInput(minute));
  await page.locator("#bf-result").filter({ hasText: "0 queued, 3 already backfilled or run." }).waitFor();
  assert.equal((await fetch(`${base}/api/v1/tasks/${task.id}/pause`, { method: "POST" })).status, 200);
  await submitBackfill(page, utcInput(minute - 3 * 60000), utcInput(minute));
  await page.locator("#bf-error").filter({ hasText: "paused; resume it first" }).waitFor();
  assert.equal(await page.locator("#bf-result").textContent(), "");
  await fetch(`${base}/api/v1/tasks/${task.id}`, { method: "DELETE" });

  step("a one-time task's page has no backfill form");
  await page.goto(`${base}/#/tasks/${onceId}`);
  await page.locator("dl.spec").waitFor();
  assert.ok(await page.locator("#backfill-card").isHidden(), "a one-time task shows the backfill form");
}

async function checkListAndDashboard(page, name) {
  step("the list finds the task by name and label; the dashboard charts have data");
  await page.goto(`${base}/#/tasks`);
  await page.locator("#f-search").fill(name.slice(0, 6));
  await page.locator("#f-label").fill("team=e2e");
  await page.locator("tbody tr a", { hasText: name }).waitFor();
  assert.match(await page.locator("tbody tr").first().textContent(), /in \d+ seconds?|now/);
  await shot(page, "tasks");
  step("the list sorts by name on the server, across everything listed");
  await page.locator("#f-search").fill("");
  await page.locator("#f-label").fill("");
  await page.locator("#f-sort").selectOption("name");
  await until(page, () => {
    const names = [...document.querySelectorAll("tbody tr td[data-label=Name] a")].map((a) => a.textContent);
    return names.length > 1 && names.every((n, i) => i === 0 || names[i - 1] <= n);
  });
  await page.goto(`${base}/#/`);
  await page.locator("#chart-throughput canvas").waitFor();
  await page.locator("#chart-lateness canvas").waitFor();
  await until(page, () => Number(document.querySelector("[data-stat=runs]")?.textContent) > 0);
  await shot(page, "dashboard");
}

const E2E_SECRET = "whsec_ZTJlLXNpZ25pbmcta2V5LTAxMjM0NTY3ODlhYmNkZWY=";

async function fillHttpForm(page, name) {
  await page.goto(`${base}/#/tasks`); // from #/new, going to #/new again would keep the old form
  await page.getByRole("link", { name: "New task" }).click();
  await page.locator("#f-name").fill(name);
  await page.locator("#f-action\\.type-http").check();
  await page.locator("#f-action\\.method").selectOption("PUT");
  await page.locator("#f-action\\.url").fill("http://127.0.0.1:9/"); // refused: loopback, no --http-allow
  await page.getByRole("button", { name: "Add header" }).click();
  await page.keyboard.type("Host"); // dts sets Host: only the api says so
  await page.locator("#f-action\\.headers-value-0").fill("example.com");
  await page.locator("#f-action\\.body").fill('{"from":"e2e"}');
  await page.locator("#f-action\\.signing_secret").fill(E2E_SECRET);
  await page.locator("#f-overlap").selectOption("forbid");
  await page.locator("#f-retry").check();
  await page.locator("#f-retry\\.backoff").selectOption("fixed");
  await page.locator("#f-retry\\.initial_s").fill("0.2");
}

async function checkHttpTask(page) {
  step("an HTTP task with retry and overlap through the form; field errors, local and the api's");
  const hookName = `e2e-hook-${Date.now() % 100000}`;
  await fillHttpForm(page, hookName);
  // A bad retry value: the error shows next to the field as you type, and stops the submit there.
  await page.locator("#f-retry\\.max_attempts").fill("0");
  await page.locator("#err-retry\\.max_attempts").filter({ hasText: "From 1 to 100" }).waitFor();
  assert.equal(await page.locator("#f-retry\\.max_attempts").getAttribute("aria-invalid"), "true");
  await page.getByRole("button", { name: "Create task" }).click();
  assert.equal(await page.evaluate(() => document.activeElement?.id), "f-retry.max_attempts");
  assert.match(page.url(), /#\/new$/);
  await page.locator("#f-retry\\.max_attempts").fill("2");
  // The api refuses the Host header: its error shows at the headers, on that row.
  await page.getByRole("button", { name: "Create task" }).click();
  await page.locator("#err-action\\.headers").filter({ hasText: "not a header a task may set" }).waitFor();
  assert.equal(await page.locator("#f-action\\.headers").getAttribute("aria-invalid"), "true");
  assert.equal(await page.locator("#form-error").textContent(), "");
  await shot(page, "validation-http");
  await page.locator("#f-action\\.headers").fill("X-From");
  const posted = page.waitForRequest((q) => q.method() === "POST" && q.url().endsWith("/api/v1/tasks"));
  await page.getByRole("button", { name: "Create task" }).click();
  await page.waitForURL(/#\/tasks\/[0-9a-f]+$/);
  const id = page.url().split("/").pop();
  // The form sends an Idempotency-Key: the same request again (a resubmit
  // after a lost answer) creates nothing and gets the same task back.
  const sent = await posted;
  const key = sent.headers()["idempotency-key"];
  assert.match(key, /^form-[0-9a-f]{32}$/);
  const again = await page.request.post(`${base}/api/v1/tasks`,
    { headers: { "Content-Type": "application/json", "Idempotency-Key": key }, data: sent.postData() });
  assert.equal(again.status(), 200);
  assert.equal(again.headers()["idempotent-replayed"], "true");
  assert.equal((await again.json()).id, id);

  step("both attempts fail with the executor's error shown; the second is dead");
  await page.locator("#runs tbody tr[data-attempt='2'][data-kind=retry] .s-dead").waitFor({ timeout: 8000 });
  assert.match(await page.locator("#runs tbody tr[data-attempt='1'] .run-error").textContent(), /refused: the host's address is loopback/);
  const spec = await page.locator("dl.spec").textContent();
  assert.match(spec, /PUT http:\/\/127\.0\.0\.1:9\//);
  assert.match(spec, /X-From: example\.com/);
  assert.match(spec, /signed \(Standard Webhooks/); // shown as set, never as the secret
  assert.ok(!(await page.content()).includes(E2E_SECRET.slice(6)));
  assert.match(spec, /up to 2 attempts, every 0\.2 s/);
  assert.match(spec, /forbid/);
  assert.match(spec, /0 succeeded, 2 failed · 0 dispatched/);

  step("the dead letter is listed; Retry runs a third attempt");
  await page.getByRole("link", { name: "Dead letters" }).click();
  const dead = page.locator(`#dead tbody tr[data-task="${id}"]`);
  await dead.waitFor();
  assert.match(await dead.textContent(), /refused/);
  assert.equal(await dead.locator("td[data-label=Task] a").textContent(), hookName);
  assert.equal(await dead.locator("td[data-label=Task] a").getAttribute("title"), id);
  await shot(page, "dead-letters");
  await dead.getByRole("button", { name: /Retry/ }).click();
  await page.locator(".notice", { hasText: "Queued attempt 3" }).waitFor();
  await page.locator(".notice a").click();
  await page.locator("#runs tbody tr[data-attempt='3'][data-kind=redrive]").waitFor({ timeout: 8000 });
  await shot(page, "task-http");
  return id;
}

async function checkPhone(browser, id, hookId) {
  step("phone-sized viewport: no horizontal scrolling on any page");
  const phone = await browser.newPage({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  watch(phone);
  for (const [hash, name] of [["#/", "dashboard"], ["#/tasks", "tasks"], ["#/new", "new"], [`#/tasks/${id}`, "task"],
    [`#/tasks/${hookId}`, "task-http"], [`#/tasks/${hookId}/edit`, "edit-http"], ["#/dead", "dead"]]) {
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

async function checkTokens(browser) {
  const token = process.env.DTS_E2E_TOKEN, writer = process.env.DTS_E2E_WRITER;
  assert.ok(token && writer, "DTS_E2E_TOKEN and DTS_E2E_WRITER must be set");
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(10000);
  watch(page);
  const requests = [];
  page.on("request", (r) => requests.push({ url: r.url(), auth: r.headers().authorization || "" }));

  step("tokens: the UI asks on the first 401; a wrong token is refused in the dialog");
  await page.goto(`${base}/#/`);
  await page.locator("#signin[open]").waitFor();
  await page.locator("#f-token").fill(`dts_${"0".repeat(64)}`);
  await page.keyboard.press("Enter");
  await page.locator("#err-token").filter({ hasText: "not accepted" }).waitFor();
  assert.equal(await page.locator("#signin[open]").count(), 1);
  await shot(page, "signin");

  step("the right token works: views and the feed load, with the token in a header only");
  await page.locator("#f-token").fill(token);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.locator("#signin[open]").waitFor({ state: "detached" });
  await page.locator("[data-stat=tasks]").waitFor();
  await until(page, () => document.getElementById("feed-status").textContent === "live");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("dts.token")), token);
  await page.goto(`${base}/#/new`);
  await page.locator("#f-name").fill("e2e-token");
  await page.locator("#f-action\\.type-noop").check();
  await page.getByRole("button", { name: "Create task" }).click();
  await page.waitForURL(/#\/tasks\/[0-9a-f]+$/);
  for (let end = Date.now() + 8000; !requests.some((r) => r.url.endsWith("/api/v1/events/stream") && r.auth === `Bearer ${token}`);) {
    assert.ok(Date.now() < end, "the feed's stream sent no token");
    await page.waitForTimeout(100);
  }
  assert.ok(!requests.some((r) => r.url.includes(token.slice(4))), "a token went into a URL");

  step("sign out asks again; a token without the shell scope gets a clear 403 at the action type");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.locator("#signin[open]").waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("dts.token")), null);
  await page.locator("#f-token").fill(writer);
  await page.keyboard.press("Enter");
  await page.locator("#signin[open]").waitFor({ state: "detached" });
  await page.locator("dd .pill").first().waitFor(); // the task page loaded again
  await page.goto(`${base}/#/new`);
  await page.locator("#f-name").fill("e2e-shell");
  await page.locator("#f-action\\.command").fill("true");
  await page.getByRole("button", { name: "Create task" }).click();
  await page.locator("#err-action\\.type").filter({ hasText: "shell scope" }).waitFor();
  assert.equal(await page.locator("#form-error").textContent(), "");
  await shot(page, "forbidden");

  step("the backfill form sends the session's token (a writer's is enough)");
  const minute = Math.floor(Date.now() / 60000) * 60000;
  const made = await page.request.post(`${base}/api/v1/tasks`, { headers: { Authorization: `Bearer ${writer}` },
    data: { name: "e2e-token-backfill", schedule: { cron: "* * * * *" }, action: { type: "noop" } } });
  assert.equal(made.status(), 201);
  const cronId = (await made.json()).id;
  await page.goto(`${base}/#/tasks/${cronId}`);
  await submitBackfill(page, utcInput(minute - 2 * 60000), utcInput(minute));
  await page.locator("#bf-result").filter({ hasText: "2 queued, 0 already" }).waitFor();
  assert.ok(requests.some((r) => r.url.endsWith(`/tasks/${cronId}/backfill`) && r.auth === `Bearer ${writer}`),
    "the backfill was not sent with the session's token");
  await page.close();
}

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: FLAGS });
try {
  if (mode === "tokens") {
    await checkTokens(browser);
  } else {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(10000);
    watch(page);
    const name = `e2e-${Date.now() % 100000}`;
    const id = await createCronTask(page, name);
    await checkRunsAndFeed(page, id, name);
    await checkPauseResume(page);
    await checkValidation(page);
    const hookId = await checkHttpTask(page);
    await checkBackfill(page, hookId);
    await checkListAndDashboard(page, name);
    await checkPhone(browser, id, hookId);
    await checkDelete(page, id);
    await checkFeedStreams(page);
  }
  assert.deepEqual(consoleErrors, [], "console errors");
  step("all checks passed");
} finally {
  await browser.close();
}
