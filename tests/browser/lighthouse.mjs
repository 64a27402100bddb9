// Lighthouse (npm, pinned 12.2.3) on the main pages, in Debian's Chromium: accessibility and
// best practices must each score at least 95. Signed-in pages get the session's cookie as an
// extra header (Lighthouse opens its own tab, outside Playwright's contexts).

import lighthouse from "lighthouse";
import { chromium } from "playwright-core";
import { freePort } from "./common.mjs";


// pages: [{ name, url, cookie }] -> [{ name, accessibility, bestPractices }]
export async function audit(pages, executablePath) {
  const port = await freePort();
  const browser = await chromium.launch({
    executablePath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", `--remote-debugging-port=${port}`, "--ignore-certificate-errors"],
  });
  const scores = [];
  try {
    for (const page of pages) {
      const flags = {
        port,
        output: "json",
        logLevel: "error",
        onlyCategories: ["accessibility", "best-practices"],
        formFactor: "desktop",
        screenEmulation: { mobile: false, width: 1350, height: 940, deviceScaleFactor: 1, disabled: false },
        throttlingMethod: "provided",
        extraHeaders: page.cookie ? { Cookie: page.cookie } : undefined,
      };
      const result = await lighthouse(page.url, flags);
      const lhr = result.lhr;
      const failing = (category) =>
        lhr.categories[category].auditRefs
          .filter((ref) => ref.weight > 0 && lhr.audits[ref.id].score !== null && lhr.audits[ref.id].score < 1)
          .map((ref) => ref.id);
      scores.push({
        name: page.name,
        accessibility: Math.round(lhr.categories.accessibility.score * 100),
        bestPractices: Math.round(lhr.categories["best-practices"].score * 100),
        failing: [...failing("accessibility"), ...failing("best-practices")],
      });
    }
  } finally {
    await browser.close();
  }
  return scores;
}
