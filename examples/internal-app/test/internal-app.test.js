// @ts-check
// The internal app as a person sees it: its server started as a user would (`node server.js`),
// the page driven in a real headless Chromium (Debian's, through playwright-core), against a
// served API seeded through the SDK.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { once } from "node:events";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Pivotal } from "@pivotal/sdk";
import { chromium } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SERVER = fileURLToPath(new URL("../server.js", import.meta.url));
const baseUrl = process.env.PIVOTAL_BASE_URL ?? "";
const keys = JSON.parse(process.env.PIVOTAL_TEST_KEYS ?? "{}");
const apiKey = keys["internal-app"] ?? process.env.PIVOTAL_API_KEY ?? "";
const skip = !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM}: apt-get install -y chromium`
  : !(baseUrl && apiKey) ? "PIVOTAL_BASE_URL / PIVOTAL_API_KEY not set" : false;

/** @type {import("node:child_process").ChildProcessWithoutNullStreams} */
let app;
/** @type {import("playwright-core").Browser} */
let browser;
let appUrl = "";
// seeded oldest first; the page lists newest first
const seeded = [
  { name: "Kickoff call", customer: "Acme", target: "2020-01-15", owner: "ada@csm.example" },
  { name: "Data import", customer: "Globex", target: "2099-03-01", owner: "bob@csm.example" },
  { name: "SSO setup", customer: "Acme", target: null, owner: null },
  { name: "Training", customer: "Initech", target: "2021-06-30", owner: "ada@csm.example" },
  { name: "Go-live", customer: "Globex", target: "2099-12-31", owner: "bob@csm.example" },
  { name: "Health review", customer: "Initech", target: "2099-05-05", owner: null },
  { name: "Billing migration", customer: "Acme", target: "2022-02-02", owner: "cy@csm.example" },
];
const newestFirst = [...seeded].reverse();

before(async () => {
  if (skip) return;
  const pivotal = new Pivotal({ apiKey, baseUrl });
  /** @type {Record<string, string>} */
  const customers = {};
  for (const [name, domain] of [["Acme", "acme.example"], ["Globex", "globex.example"], ["Initech", null]]) {
    customers[/** @type {string} */ (name)] = (await pivotal.customers.create({ name: /** @type {string} */ (name), domain })).id;
  }
  for (const row of seeded) {
    await pivotal.onboardings.create({ customer: customers[row.customer], name: row.name, targetDate: row.target, ownerEmail: row.owner });
  }
  // not active: never on the page
  await pivotal.onboardings.create({ customer: customers.Acme, name: "Paused pilot", status: "paused" });
  const done = await pivotal.onboardings.create({ customer: customers.Acme, name: "Finished rollout" });
  await pivotal.onboardings.update(done.id, { status: "completed" });

  app = spawn(process.execPath, [SERVER], {
    env: { ...process.env, PIVOTAL_API_KEY: apiKey, PIVOTAL_BASE_URL: baseUrl, PORT: "0", PAGE_SIZE: "5" },
  });
  const [line] = await once(app.stdout, "data");
  appUrl = /http:\/\/\S+/.exec(String(line))?.[0] ?? "";
  assert.ok(appUrl, `the app printed no URL: ${line}`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
});

after(async () => {
  await browser?.close();
  app?.kill();
});

/** What a person reads in the table: one array of cell texts per row.
 * @param {import("playwright-core").Page} page */
const tableText = (page) => page.locator("tbody tr").evaluateAll((rows) =>
  rows.map((row) => [...row.querySelectorAll("td")].map((cell) => /** @type {HTMLElement} */ (cell).innerText.trim())));

test("the first page lists active onboardings with customers, owners and target dates, overdue ones highlighted",
  { skip }, async () => {
    const page = await browser.newPage();
    /** @type {string[]} */
    const requested = [];
    page.on("request", (request) => requested.push(request.url()));
    await page.goto(appUrl);
    assert.equal(await page.locator("h1").innerText(), "Active onboardings");
    const rows = await tableText(page);
    assert.deepEqual(rows.map((cells) => cells[0]?.replace(/ #\d+$/, "")), newestFirst.slice(0, 5).map((r) => r.name));
    assert.deepEqual(rows[0], ["Billing migration #7", "Acme acme.example", "cy@csm.example", "2022-02-02", rows[0]?.[4]]);
    assert.match(rows[0]?.[4] ?? "", /^Overdue by \d+ days$/);
    assert.deepEqual(rows[3]?.slice(1, 4), ["Initech", "ada@csm.example", "2021-06-30"]);
    assert.deepEqual(rows[4]?.slice(1, 5), ["Acme acme.example", "Unassigned", "None", ""]);
    assert.match(rows[1]?.[4] ?? "", /^In \d+ days$/);

    const overdue = await page.locator("tr.overdue td:first-child").allInnerTexts();
    assert.deepEqual(overdue.map((text) => text.replace(/ #\d+$/, "")), ["Billing migration", "Training"]);
    const [late, onTime] = await Promise.all([
      page.locator("tr.overdue").first().evaluate((row) => getComputedStyle(row).backgroundColor),
      page.locator("tbody tr:not(.overdue)").first().evaluate((row) => getComputedStyle(row).backgroundColor),
    ]);
    assert.notEqual(late, onTime); // the highlight shows
    assert.equal(await page.locator("tr.overdue .badge").count(), 2);
    assert.match(await page.locator(".summary").innerText(), /5 active onboardings on this page, 2 overdue/);
    assert.ok(!(await page.content()).includes(apiKey), "the API key reached the browser");
    assert.ok(requested.every((url) => url.startsWith(appUrl)), `the browser called elsewhere: ${requested}`);
    if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/internal-app-1.png`, fullPage: true });
    await page.close();
  });

test("the next page continues where the first ended, and leads back", { skip }, async () => {
  const page = await browser.newPage();
  await page.goto(appUrl);
  assert.equal(await page.getByRole("link", { name: "← First page" }).count(), 0);
  await page.getByRole("link", { name: "Next page →" }).click();
  await page.waitForURL(/cursor=/);
  const rows = await tableText(page);
  assert.deepEqual(rows.map((cells) => cells[0]?.replace(/ #\d+$/, "")), ["Data import", "Kickoff call"]);
  assert.deepEqual(await page.locator("tr.overdue td:first-child").allInnerTexts(), ["Kickoff call #1"]);
  assert.ok(!(await page.locator("body").innerText()).match(/Paused pilot|Finished rollout/));
  assert.equal(await page.getByRole("link", { name: "Next page →" }).count(), 0);
  if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/internal-app-2.png`, fullPage: true });
  await page.getByRole("link", { name: "← First page" }).click();
  await page.waitForURL((url) => !url.search);
  assert.equal((await tableText(page)).length, 5);
  await page.close();
});

test("an unknown path is a 404 page", { skip }, async () => {
  const page = await browser.newPage();
  const answer = await page.goto(`${appUrl}nowhere`);
  assert.equal(answer?.status(), 404);
  assert.equal(await page.locator("h1").innerText(), "Not found");
  await page.close();
});
