// tests/explore/browser-near.mjs — the explore page on a NEAR KMS (`explore --near`), in
// headless Debian chromium (npm playwright-core).
//
// Run by tests/explore/near.sh with the page's URL, the dstack-gov binary and a temp dir;
// the governance set up there comes in the environment (KMS_CONTRACT_ID, APP, APP2, IMG,
// MR, DEV, CH, BAD). Checks that the page shows the NEAR KMS, each app as its account
// `<hex>.<kms>` with `dstack-gov near` commands, why the history is empty, that the boot
// check posts to the NEAR check and names the near fix, that a governance change appears
// without a reload, and that the page logs no console error.
// Prints "browser-near: N passed, N failed"; EXPLORE_SCREENSHOTS=1 copies the screenshot
// to docs/explore-near.png.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [url, G, T] = process.argv.slice(2);
const E = process.env;
const KMS = E.KMS_CONTRACT_ID;
let pass = 0, fail = 0;
const ok = (name) => { pass++; console.log(`ok   browser-near: ${name}`); };
const bad = (name, why) => { fail++; console.log(`FAIL browser-near: ${name}${why ? `\n     ${why}` : ""}`); };
async function check(name, fn) {
  try { const r = await fn(); if (r === false) bad(name); else ok(name); } catch (e) { bad(name, String(e.message || e).split("\n")[0]); }
}

const errors = [];
const ctx = await chromium.launchPersistentContext(mkdtempSync(join(T, "chromium-")), {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"],
  viewport: { width: 1280, height: 900 },
});
try {
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => { if (!r.url().startsWith(url)) errors.push(`request outside the server: ${r.url()}`); });
  page.setDefaultTimeout(5000);
  await page.goto(url);
  await page.waitForFunction(() => document.querySelectorAll("#app-rows tr.app").length === 2);

  await check("renders the KMS account and NEAR", async () =>
    (await page.textContent("#kms-address")) === KMS && (await page.textContent("#chain")).startsWith("NEAR"));
  await check("renders the owner as a NEAR account", async () => {
    const t = await page.textContent("#kms-kv");
    return t.includes("test.near") && t.includes("NEAR account");
  });
  await check("renders OS image, MR, device with near commands", async () => {
    const t = await page.textContent("#kms-lists");
    return t.includes(E.IMG) && t.includes(E.MR) && t.includes(E.DEV) && t.includes("dstack-gov near kms add-image");
  });
  await check("each app is its account <hex>.<kms>", async () => {
    const t = await page.textContent("#app-rows");
    return t.includes(`${E.APP}.${KMS}`) && t.includes(`${E.APP2}.${KMS}`);
  });
  await check("app details: compose hash and the near add-hash command", async () => {
    await page.fill("#app-search", E.APP.slice(0, 12));
    await page.waitForFunction(() => document.querySelectorAll("#app-rows tr.app").length === 1);
    const t = await page.textContent("#app-rows");
    await page.fill("#app-search", "");
    for (const w of [E.CH, `dstack-gov near app add-hash ${E.APP}.${KMS} HASH`, "upgradeable by the owner"])
      if (!t.includes(w)) throw new Error(`lacks ${w}: ${t.slice(0, 300)}`);
  });
  await check("history says why it is empty", async () => (await page.textContent("#history-note")).includes("no query for past events"));
  await check("boot check: compose hash denied, with the near fix", async () => {
    const bi = { appId: E.APP, composeHash: E.BAD, instanceId: "", deviceId: E.ADEV, mrAggregated: E.MR,
                 mrSystem: "", osImageHash: E.IMG, tcbStatus: "UpToDate", advisoryIds: [] };
    await page.selectOption("#route", "app");
    await page.fill("#bootinfo", JSON.stringify(bi));
    await page.dispatchEvent("#bootinfo", "input");
    await page.click("#check-btn");
    await page.waitForFunction(() => document.getElementById("verdict").dataset.allowed !== undefined);
    const t = await page.textContent("#verdict");
    return (await page.getAttribute("#verdict", "data-allowed")) === "false" &&
      t.includes("Compose hash not allowed") && t.includes(`dstack-gov near app add-hash ${E.APP}.${KMS} ${E.BAD}`);
  });
  await page.evaluate(() => { window.__noReload = 1; });
  const IMG3 = "f".repeat(64);
  execFileSync(G, ["near", "kms", "add-image", IMG3, "--yes"], { stdio: "ignore" });
  await check("a governance change appears without a reload", async () => {
    await page.waitForFunction((h) => document.getElementById("kms-lists").textContent.includes(h), IMG3);
    return (await page.evaluate(() => window.__noReload)) === 1;
  });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(T, "explore-near.png"), fullPage: true });
  await check("no console errors and no request outside the server", async () => {
    if (errors.length) throw new Error(errors.join("; "));
  });
  if (E.EXPLORE_SCREENSHOTS === "1") {
    copyFileSync(join(T, "explore-near.png"), "docs/explore-near.png");
    console.log("screenshot: docs/explore-near.png");
  }
} catch (e) {
  bad("page session", String(e.message || e).split("\n")[0]);
} finally {
  await ctx.close();
}
console.log(`browser-near: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
