// Helpers shared by the browser tests: the demo server, a check counter, TOTP codes, axe-core,
// screenshots and the first sign-in of a demo account.

import AxeBuilder from "@axe-core/playwright";
import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, "../..");
export const binary = process.argv[2] ?? path.join(root, "target/debug/custos");
export const shots = process.env.CUSTOS_SCREENSHOTS ?? path.join(root, "target/screenshots");
mkdirSync(shots, { recursive: true });
export const PASSWORD = "custos-demo-2026";
export const NEW_PASSWORD = "copper kettle winter harbour 42";

let failures = 0;
let passed = 0;
export function check(condition, what) {
  if (condition) {
    passed += 1;
    console.log(`  ok   ${what}`);
  } else {
    failures += 1;
    console.log(`  FAIL ${what}`);
  }
}

// RFC 6238 TOTP (SHA-1, 6 digits, 30 s), as an authenticator app computes it.
function base32(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of text.replace(/=+$/, "").toUpperCase()) {
    const v = alphabet.indexOf(ch);
    if (v < 0) continue;
    bits += v.toString(2).padStart(5, "0");
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}
export function totp(secret, at = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac("sha1", base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, "0");
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

export async function startDemo() {
  const port = await freePort();
  const child = spawn(binary, ["demo", "--listen", `127.0.0.1:${port}`], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, RUST_LOG: "warn" },
  });
  let out = "";
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start:\n${out}`)), 60_000);
    const onData = (d) => {
      out += d.toString();
      if (out.includes("Custos is serving")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`demo exited (${code}):\n${out}`)));
  });
  return { child, base: `https://127.0.0.1:${port}` };
}

// axe-core on the current page: no serious or critical violation.
export async function accessible(page, name) {
  const result = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]).analyze();
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of bad) {
    console.log(`       axe ${v.impact}: ${v.id} (${v.nodes.length}) ${v.help} :: ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(" | ")}`);
  }
  check(bad.length === 0, `axe: ${name} has no serious or critical violation`);
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

// First sign-in of a demo account: one-time password, new password, authenticator enrolment
// (the secret read from the page), recovery codes. Leaves the page on the home page.
export async function enrol(page, base, user, name, initial = PASSWORD) {
  await page.goto(`${base}/sign-in`);
  await page.fill("#user_name", user);
  await page.fill("#password", initial);
  await page.locator("form[action='/sign-in'] button[type=submit]").click();
  await page.waitForURL(`${base}/account/setup`);
  if (name) {
    await shot(page, `${name}-setup-password`);
    await accessible(page, "setup (password)");
  }
  // Demo accounts have a chosen password; people created by the officer change theirs here.
  if (await page.locator("#current").count() === 1) {
    await page.fill("#current", initial);
    await page.fill("#new", NEW_PASSWORD);
    await page.fill("#confirm", NEW_PASSWORD);
    await page.locator("form[action='/account/setup/password'] button").click();
    await page.waitForURL(`${base}/account/setup`);
  }
  await page.locator("form[action='/account/setup/totp'] button").click();
  await page.waitForSelector("#totp-secret");
  const secret = (await page.textContent("#totp-secret")).trim();
  check(await page.locator(".qr svg").count() === 1, `${user}: the enrolment page shows a QR code`);
  check(/^[A-Z2-7]{16,}$/.test(secret), `${user}: the enrolment page shows the secret as text`);
  if (name) {
    await shot(page, `${name}-setup-totp`);
    await accessible(page, "setup (authenticator)");
  }
  await page.fill("#code", totp(secret));
  await page.locator("form[action='/account/setup/totp/confirm'] button").click();
  await page.waitForSelector("#recovery-codes");
  const codes = await page.locator("#recovery-codes code").allTextContents();
  check(codes.length === 10, `${user}: ten recovery codes are shown once`);
  if (name) {
    await shot(page, `${name}-recovery-codes`);
    await accessible(page, "recovery codes");
  }
  await page.locator("a.button").click();
  // The home page; an outside recipient's account goes on to what was released to it.
  await page.waitForURL((url) => url.pathname === "/" || url.pathname === "/received");
  return { secret, codes };
}


// How many checks passed and failed so far.
export function summary() {
  return { passed, failures };
}

// Headless Debian chromium and a context factory (language, downloads, viewport).
export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu"],
  });
  const newContext = (locale = "en-GB") =>
    browser.newContext({ ignoreHTTPSErrors: true, locale, acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  return { browser, newContext };
}
