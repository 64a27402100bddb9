// End-to-end tests of Custos' web interface in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core; no browser is ever downloaded). Starts `custos demo` on a free
// port over real TLS, then plays the scenarios of the web interface issue:
//   first sign-in with enrolment (the secret read from the page, the code computed here);
//   a lawyer uploads a document with provenance (a missing field refused next to the field)
//   and downloads it byte-exact; a screened lawyer does not see the walled matter in any list
//   and gets the not-found page by URL; the officer finds both events in the audit explorer
//   and exports the CSV; a POST without the CSRF token is refused; the same pages in zh-CN.
// axe-core runs on every page, signed in as each role that sees it: no serious or critical
// violation. Screenshots go to $CUSTOS_SCREENSHOTS (default target/screenshots).
//
// Usage: node e2e.mjs [path/to/custos]

import { request as httpRequest } from "playwright-core";
import { audit as lighthouseAudit } from "./lighthouse.mjs";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { NEW_PASSWORD, PASSWORD, accessible, binary, check, enrol, launch, shot, shots, startDemo, summary, totp } from "./common.mjs";

async function main() {
  const { child, base } = await startDemo();
  const { browser, newContext } = await launch();
  try {
    // ---- Sign-in page, both languages, and a wrong password.
    console.log("sign-in");
    const anon = await newContext();
    const ap = await anon.newPage();
    await ap.goto(`${base}/`);
    check(ap.url().startsWith(`${base}/sign-in?next=`), "an anonymous visit goes to the sign-in page, keeping where it was going");
    check((await ap.textContent("h1")).includes("Sign in"), "the sign-in page is in English for an English browser");
    await shot(ap, "sign-in-en");
    await accessible(ap, "sign-in (en)");
    await ap.fill("#user_name", "lena.lawyer");
    await ap.fill("#password", "wrong password entirely");
    await ap.locator("form[action='/sign-in'] button[type=submit]").click();
    check((await ap.textContent(".error-summary")).includes("not right"), "a wrong password is refused in words");
    await accessible(ap, "sign-in with an error");
    const zh = await newContext("zh-CN");
    const zp = await zh.newPage();
    await zp.goto(`${base}/sign-in`);
    check((await zp.textContent("h1")).includes("登录"), "the sign-in page is in Chinese for a Chinese browser");
    check((await zp.getAttribute("html", "lang")) === "zh-CN", "the page says it is zh-CN");
    await shot(zp, "sign-in-zh");
    await accessible(zp, "sign-in (zh-CN)");
    // The switch is remembered.
    await ap.locator("form.lang button[value='zh-CN']").click();
    await ap.waitForLoadState("load");
    check((await ap.textContent("h1")).includes("登录"), "the language switch changes the page");
    await ap.goto(`${base}/sign-in`);
    check((await ap.textContent("h1")).includes("登录"), "the language switch is remembered");

    // ---- First sign-in with enrolment (a lawyer).
    console.log("first sign-in");
    const lena = await newContext();
    const lp = await lena.newPage();
    await enrol(lp, base, "lena.lawyer", "lawyer");
    check((await lp.textContent("h1")).includes("Lena"), "after enrolment the lawyer is home");
    await shot(lp, "home-en");
    await accessible(lp, "home (lawyer)");

    // ---- Matters, a matter, an upload with provenance.
    console.log("documents");
    await lp.goto(`${base}/matters`);
    await accessible(lp, "matters (lawyer)");
    await shot(lp, "matters");
    const matterLink = lp.locator("table a", { hasText: "Series C" });
    check(await matterLink.count() === 1, "the lawyer sees her matter in the list");
    await matterLink.click();
    await lp.waitForSelector("h1");
    const matterUrl = lp.url();
    await accessible(lp, "matter (lawyer)");
    check(await lp.locator("form[action$='/members/remove']").count() === 0, "a lawyer who does not lead the matter is not offered staffing changes");
    await shot(lp, "matter");
    await lp.locator("a.button", { hasText: "Upload" }).click();
    await lp.waitForSelector("form[data-upload]");
    await accessible(lp, "upload form");
    const content = randomBytes(3 * 1024 * 1024 + 17);
    const file = path.join(shots, "upload.bin");
    writeFileSync(file, content);
    await lp.fill("#title", "Due diligence report (draft)");
    await lp.selectOption("#classification", "privileged");
    await lp.fill("#source", "Client data room");
    await lp.fill("#content_description", "Findings of the legal due diligence");
    await lp.fill("#purpose", "Advice on the Series C financing");
    // legal_basis left empty on purpose
    await lp.fill("#collected_by", "Lena Fischer");
    await lp.fill("#collected_at", "2026-11-20T10:30");
    await lp.setInputFiles("#content", file);
    await lp.locator("form[data-upload] button[type=submit]").click();
    await lp.waitForSelector("#legal_basis-error");
    check((await lp.textContent("#legal_basis-error")).includes("legal basis"), "a missing provenance field is refused next to the field");
    check(await lp.locator(".field-error").count() === 1, "only the missing field is marked");
    await shot(lp, "upload-error");
    await accessible(lp, "upload form with an error");
    await lp.fill("#legal_basis", "Engagement letter 2026-031");
    await lp.setInputFiles("#content", file);
    await lp.locator("form[data-upload] button[type=submit]").click();
    await lp.waitForURL(/\/documents\/[0-9a-f-]+\?done=uploaded/);
    const docUrl = lp.url().split("?")[0];
    check((await lp.textContent("h1")).includes("Due diligence"), "the uploaded document has its page");
    await shot(lp, "document");
    await accessible(lp, "document (lawyer)");
    const [download] = await Promise.all([lp.waitForEvent("download"), lp.locator("a", { hasText: "Download" }).click()]);
    const got = readFileSync(await download.path());
    check(Buffer.compare(got, content) === 0, `the download is byte-exact (${got.length} bytes)`);

    await lp.goto(`${base}/`);
    check((await lp.locator("main").textContent()).includes("Due diligence report (draft)"), "the home page lists the document just opened");
    await lp.goto(`${base}/matters?q=series`);
    const found = await lp.locator("table tbody tr").allTextContents();
    check(found.length === 1 && found[0].includes("Series C"), `searching matters by title finds only the match (${found.length})`);
    await lp.goto(`${base}/matters?q=nothing-has-this-title`);
    check(await lp.locator("table").count() === 0, "a search without a match says so");
    await accessible(lp, "matters search");

    // ---- Without JavaScript (the progress bar is an enhancement), at tablet width.
    console.log("no script, tablet");
    const plain = await browser.newContext({ ignoreHTTPSErrors: true, locale: "en-GB", javaScriptEnabled: false, viewport: { width: 768, height: 1024 } });
    await plain.addCookies((await lena.cookies()).filter((c) => c.name.startsWith("__Host-")));
    const np = await plain.newPage();
    await np.goto(`${matterUrl}/upload`);
    for (const [field, value] of [["#title", "Engagement letter (signed)"], ["#source", "The client, by post"], ["#content_description", "Signed engagement letter"], ["#purpose", "Engagement"], ["#legal_basis", "Engagement letter 2026-031"], ["#collected_by", "Lena Fischer"], ["#collected_at", "2026-11-21T09:00"]]) {
      await np.fill(field, value);
    }
    const small = randomBytes(70_000);
    const smallFile = path.join(shots, "small.bin");
    writeFileSync(smallFile, small);
    await np.setInputFiles("#content", smallFile);
    await shot(np, "upload-tablet");
    await Promise.all([np.waitForURL(/\/documents\/[0-9a-f-]+\?done=uploaded/), np.locator("form[data-upload] button[type=submit]").click()]);
    check(true, "an upload works without JavaScript");
    await np.goto(matterUrl);
    const overflow = await np.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    check(overflow <= 0, `the matter page fits a tablet's width (overflow ${overflow}px)`);
    await shot(np, "matter-tablet");
    await plain.close();

    // ---- CSRF: a state change without the token is refused.
    console.log("csrf");
    const memberPost = await lp.request.post(`${matterUrl}/members/add`, {
      form: { person: "00000000-0000-0000-0000-000000000000" },
      headers: { origin: base },
    });
    check(memberPost.status() === 403, `a POST without the CSRF token is refused (${memberPost.status()})`);
    check((await memberPost.text()).includes("expired"), "the refusal is a page that says why");

    // ---- The screened lawyer.
    console.log("wall");
    const sam = await newContext();
    const sp = await sam.newPage();
    const samFactor = await enrol(sp, base, "sam.screened");
    await sp.goto(`${base}/matters`);
    const samMatters = await sp.locator("main").textContent();
    check(!samMatters.includes("Soylent"), "the screened lawyer does not see the walled matter in the list");
    await sp.goto(`${base}/`);
    check(!(await sp.locator("main").textContent()).includes("Soylent"), "nor on the home page");
    const officer = await newContext();
    const op = await officer.newPage();
    await enrol(op, base, "olivia.officer", "officer");
    await accessible(op, "home (officer)");
    // The walled matter's address, as its team lead sees it.
    const carl = await newContext();
    const cp = await carl.newPage();
    await enrol(cp, base, "carl.corplead", "lead");
    await accessible(cp, "home (team lead)");
    await cp.goto(`${base}/matters`);
    const walled = cp.locator("table a", { hasText: "Soylent" });
    check(await walled.count() === 1, "the team lead sees the walled matter");
    const walledUrl = new URL(await walled.getAttribute("href"), base).href;
    await cp.goto(walledUrl);
    await accessible(cp, "matter (team lead)");
    check(await cp.locator("form[action$='/members/remove']").count() > 0, "its team lead is offered staffing changes");
    await shot(cp, "matter-lead");
    // The wall forbids staffing the screened lawyer on it: the refusal says so in words.
    const samOption = await cp.locator("#person option", { hasText: "Sam Patel" }).getAttribute("value");
    await cp.selectOption("#person", samOption);
    const refused = await Promise.all([cp.waitForNavigation(), cp.locator("form[action$='/members/add'] button:not([name=preview])").click()]);
    check(refused[0].status() === 409, `staffing a screened lawyer is refused (${refused[0].status()})`);
    check((await cp.textContent("main")).includes("An ethical wall screens this person"), "the refusal names the wall in words");
    await shot(cp, "staffing-refused");
    await accessible(cp, "staffing refused by a wall");
    // A team lead takes on a client and opens a matter for it.
    await cp.goto(`${base}/clients`);
    await accessible(cp, "clients (team lead)");
    await cp.fill("#client-name", "Hooli Holdings");
    await cp.fill("#client-contact", "legal@hooli.example");
    await cp.locator("form[method=post][action='/clients'] button").click();
    await cp.waitForURL(/\/clients\/[0-9a-f-]+\?done=client-created/);
    check((await cp.textContent("h1")).includes("Hooli"), "a team lead takes on a client");
    const hooliNumber = ((await cp.textContent("dl.summary")).match(/C-\d{4,}/) ?? [""])[0];
    check(hooliNumber !== "", `the new client has a number (${hooliNumber})`);
    await accessible(cp, "client (team lead)");
    await shot(cp, "client");
    await cp.fill("#matter-title", "Hooli - data protection audit");
    const carlOption = await cp.locator("#matter-lead option", { hasText: "Carl Svensson" }).getAttribute("value");
    await cp.selectOption("#matter-lead", carlOption);
    await cp.locator("form[action$='/matters'] button").click();
    await cp.waitForURL(/\/matters\/[0-9a-f-]+\?done=matter-created/);
    check((await cp.textContent("h1")).includes("data protection audit"), "and opens a matter for it");
    const hooliUrl = cp.url().replace(/\?.*$/, "");
    const hidden = await sp.goto(walledUrl);
    check(hidden.status() === 404, `the screened lawyer gets 404 for the walled matter (${hidden.status()})`);
    const missing = await sp.goto(`${base}/matters/00000000-0000-0000-0000-000000000001`);
    check(missing.status() === 404, "and the same 404 for a matter that does not exist");
    const hiddenText = (await sp.goto(walledUrl), await sp.locator("main").textContent());
    await sp.goto(`${base}/matters/00000000-0000-0000-0000-000000000001`);
    const missingText = await sp.locator("main").textContent();
    check(hiddenText === missingText, "the not-found pages are the same");
    await shot(sp, "not-found");
    await accessible(sp, "not found");

    // ---- The officer's pages and the audit explorer.
    console.log("officer");
    for (const [url, name] of [["/people", "people"], ["/teams", "teams"], ["/walls", "walls"], ["/clients", "clients"], ["/account", "account"], ["/account/trail", "trail"]]) {
      await op.goto(`${base}${url}`);
      await accessible(op, `${name} (officer)`);
      await shot(op, name);
    }
    // The officer adds a person: the one-time password is shown once, and the person's first
    // sign-in with it goes through the setup.
    await op.goto(`${base}/people`);
    await op.fill("#display_name", "Nora Novak");
    await op.fill("#new_user_name", "nora.novak");
    await op.selectOption("#role", "lawyer");
    await op.locator("form[action='/people'] button").click();
    await op.waitForSelector("#secret-once");
    const otp = (await op.textContent("#secret-once")).trim();
    check(otp.length >= 12, "adding a person shows their one-time password");
    await shot(op, "person-created");
    await accessible(op, "one-time password");
    await op.goto(`${base}/people`);
    check(!(await op.content()).includes(otp), "the one-time password is not shown again");
    const nora = await newContext();
    const np2 = await nora.newPage();
    await enrol(np2, base, "nora.novak", undefined, otp);
    check((await np2.textContent("h1")).includes("Nora"), "the new person signs in with it and sets up her account");
    // A wall: the officer screens Nora from the Hooli client; the list says what it screens.
    await op.goto(`${base}/walls`);
    const noraOption = await op.locator("#wall-person option", { hasText: "Nora Novak" }).getAttribute("value");
    await op.selectOption("#wall-person", noraOption);
    // The officer sees clients' metadata only: she picks the client by the number its team
    // lead gave her.
    check(await op.locator("#wall-client option", { hasText: "Hooli" }).count() === 0, "the officer does not see client names she has no need to know");
    const hooliOption = await op.locator("#wall-client option", { hasText: hooliNumber }).getAttribute("value");
    await op.selectOption("#wall-client", hooliOption);
    await op.fill("#wall-reason", "Her previous firm acted against Hooli");
    await op.locator("form[action='/walls'] button:not([name=preview])").click();
    await op.waitForURL(/\/walls\?done=wall-raised/);
    const wallRows = await op.locator("table tbody tr").allTextContents();
    check(wallRows.some((r) => r.includes("Nora Novak") && r.includes(hooliNumber) && r.includes("acted against")), "the new wall is listed with whom it screens from what");
    await shot(op, "walls");
    await accessible(op, "walls after raising one");
    // Numbers are searchable by those who see metadata only.
    await op.goto(`${base}/clients?q=${hooliNumber}`);
    const byNumber = await op.locator("table tbody tr").allTextContents();
    check(byNumber.length === 1 && byNumber[0].includes(hooliNumber), `the officer finds a client by its number (${byNumber.length})`);
    await shot(op, "clients-by-number");
    // From the next request on, Carl cannot put Nora on his Hooli matter.
    await cp.goto(hooliUrl);
    await cp.selectOption("#person", await cp.locator("#person option", { hasText: "Nora Novak" }).getAttribute("value"));
    const staffNora = await Promise.all([cp.waitForNavigation(), cp.locator("form[action$='/members/add'] button:not([name=preview])").click()]);
    check(staffNora[0].status() === 409, `the new wall forbids staffing her at once (${staffNora[0].status()})`);
    await op.goto(`${base}/people`);
    await op.locator("table a", { hasText: "Lena" }).click();
    await op.waitForSelector("h1");
    await accessible(op, "person (officer)");
    await shot(op, "person");
    await op.goto(walledUrl);
    check((await op.locator("main").textContent()).includes("Sam Patel is screened"), "the matter page shows its wall to the officer");
    await accessible(op, "matter (officer)");
    await shot(op, "matter-officer");
    await op.goto(docUrl);
    check(await op.locator("table.entries").count() === 1, "the officer sees the document's access history");
    await accessible(op, "document (officer)");
    await op.goto(`${base}/audit`);
    await accessible(op, "audit explorer");
    await op.selectOption("#action", "document.upload");
    await op.locator("form.filters button[type=submit]").click();
    await op.waitForLoadState("load");
    const uploads = await op.locator("table.entries tbody tr").allTextContents();
    check(uploads.some((r) => r.includes("Lena Fischer") && r.includes("Uploaded a document")), "the audit explorer finds the lawyer's upload");
    check(uploads.some((r) => /Document in M-\d{4}/.test(r)), "the explorer names an upload's record by its matter's number, not only by id");
    // The officer filters by the number she reads, not by an id.
    const matterNumber = (await op.locator("table.entries .record-number", { hasText: /^Document in M-/ }).first().textContent()).replace("Document in ", "");
    await op.goto(`${base}/audit`);
    await op.fill("#matter", matterNumber);
    await op.locator("form.filters button[type=submit]").click();
    await op.waitForLoadState("load");
    const matterRows = await op.locator("table.entries tbody tr").allTextContents();
    check(matterRows.length > 0 && matterRows.every((r) => r.includes(matterNumber)), `filtering by ${matterNumber} shows that matter's entries (${matterRows.length})`);
    check(await op.inputValue("#matter") === matterNumber, "the filter keeps the number typed");
    await op.goto(`${base}/audit?matter=M-9999`);
    check((await op.locator("main").textContent()).includes("No matter has that number."), "an unknown matter number is named");
    await op.goto(`${base}/audit`);
    const samId = await op.locator("#person option", { hasText: "Sam Patel" }).getAttribute("value");
    await op.selectOption("#person", samId);
    await op.selectOption("#outcome", "deny");
    await op.locator("form.filters button[type=submit]").click();
    await op.waitForLoadState("load");
    const denials = await op.locator("table.entries tbody tr").allTextContents();
    check(denials.some((r) => r.includes("Sam Patel") && r.includes("Ethical wall")), "the audit explorer finds the screened lawyer's denial by the wall");
    await shot(op, "audit");
    const [csv] = await Promise.all([op.waitForEvent("download"), op.locator("#export-csv").click()]);
    const text = readFileSync(await csv.path(), "utf8");
    const lines = text.trim().split(/\r\n/);
    check(lines.length === denials.length + 1, `the CSV has the filtered entries (${lines.length - 1} rows for ${denials.length} shown)`);
    check(lines.slice(1).every((l) => l.includes("deny") && l.includes("Sam Patel")), "every CSV row is one of the filtered entries");

    // ---- The transparency log: the officer signs a checkpoint now; the lawyer downloads the
    // proof of an entry of her own trail and checks it offline with the published key.
    console.log("transparency");
    await op.goto(`${base}/audit`);
    await op.locator("#sign-checkpoint").click();
    await op.waitForURL(/done=checkpoint-signed/);
    check(await op.locator(".notice").count() === 1, "signing a checkpoint now says so");
    const signedSize = Number((await op.textContent("#checkpoint-size")).trim());
    check(signedSize > 0, `the explorer shows the signed checkpoint (${signedSize} entries)`);
    await accessible(op, "audit explorer with its checkpoint");
    // The officer exports everything about the screened lawyer with proofs; the file verifies
    // offline.
    await op.goto(`${base}/audit?person=${samId}`);
    const [exportDownload] = await Promise.all([op.waitForEvent("download"), op.locator("#export-proofs").click()]);
    const exportPath = await exportDownload.path();
    const exported = JSON.parse(readFileSync(exportPath, "utf8"));
    check(exported.type === "export" && exported.entries.length > 0 && exported.entries.every((e) => e.canonical.includes(samId)), `the export with proofs holds his entries (${exported.entries.length})`);
    const exportVerified = execFileSync(binary, ["audit", "verify-proof", exportPath, "--key", (await op.textContent("#verifier-key")).trim()]).toString();
    check(exportVerified.includes("export verified"), "the export verifies offline");

    await lp.goto(`${base}/account/trail`);
    const key = (await lp.textContent("#verifier-key")).trim();
    check(Number((await lp.textContent("#checkpoint-size")).trim()) >= signedSize, "the trail shows the same checkpoint");
    const listingRows = lp.locator("table.entries tbody tr", { hasText: "Listed matters" });
    check(await listingRows.count() > 0 && await listingRows.locator("a[href^='/audit/proof/']").count() === 0, "a listing's entry offers no proof (it counts what was withheld from her)");
    const proofLinks = lp.locator("table.entries a[href^='/audit/proof/']");
    check(await proofLinks.count() > 0, `her entries in the checkpoint offer a proof (${await proofLinks.count()})`);
    const [proofDownload] = await Promise.all([lp.waitForEvent("download"), proofLinks.last().click()]);
    const proofPath = await proofDownload.path();
    const proof = JSON.parse(readFileSync(proofPath, "utf8"));
    check(proof.type === "inclusion" && proof.canonical.includes(`"seq":${proof.seq}`), `the proof file holds the entry (${proof.seq})`);
    const verified = execFileSync(binary, ["audit", "verify-proof", proofPath, "--key", key]).toString();
    check(verified.includes(`entry ${proof.seq} is in the log`), "the downloaded proof verifies offline with the log's verifier key");
    const [cpDownload] = await Promise.all([lp.waitForEvent("download"), lp.locator("#download-checkpoint").click()]);
    const note = readFileSync(await cpDownload.path(), "utf8");
    check(note.split("\n")[1] === String(await lp.textContent("#checkpoint-size")).trim(), "the checkpoint downloads as its signed note");
    await lp.locator("#checkpoint").scrollIntoViewIfNeeded();
    await shot(lp, "trail-checkpoint");
    await lp.locator("#checkpoint").screenshot({ path: path.join(shots, "checkpoint-panel.png") });
    await accessible(lp, "trail with its checkpoint");

    // ---- Chinese home page.
    console.log("zh-CN");
    const lzh = await lena.newPage();
    await lena.addCookies([{ name: "custos_lang", value: "zh-CN", url: base }]);
    await lzh.goto(`${base}/`);
    check((await lzh.textContent("h1")).includes("欢迎"), "the home page in Chinese");
    await shot(lzh, "home-zh");
    await accessible(lzh, "home (zh-CN)");
    await lzh.goto(matterUrl);
    await shot(lzh, "matter-zh");
    await accessible(lzh, "matter (zh-CN)");
    await lzh.goto(`${base}/account/trail`);
    check((await lzh.textContent("#checkpoint-title")).includes("检查点"), "the checkpoint panel in Chinese");
    await lzh.locator("#checkpoint").scrollIntoViewIfNeeded();
    await shot(lzh, "trail-checkpoint-zh");
    await lzh.locator("#checkpoint").screenshot({ path: path.join(shots, "checkpoint-panel-zh.png") });
    await accessible(lzh, "trail (zh-CN)");

    // ---- The officer ends the screened lawyer's sessions: his next page goes to sign-in
    // with a message, and back to that page after signing in.
    console.log("ended session");
    await op.goto(`${base}/people`);
    await op.locator("table a", { hasText: "Sam Patel" }).click();
    await op.waitForSelector("h1");
    await op.locator("form[action$='/sessions/end'] button").click();
    await op.waitForURL(/done=sessions-ended/);
    check(await op.locator(".notice").count() === 1, "ending someone's sessions says so");
    await sp.goto(`${base}/matters`);
    check(sp.url().includes("next=%2Fmatters") && sp.url().includes("ended=1"), "an ended session returns to sign-in, keeping the page");
    check((await sp.textContent(".notice")).includes("ended"), "the sign-in page says the session ended");
    await shot(sp, "sign-in-ended");
    // A code works once: wait for the authenticator's next code.
    await sp.waitForTimeout(30_000 - (Date.now() % 30_000) + 1_000);
    await sp.fill("#user_name", "sam.screened");
    await sp.fill("#password", PASSWORD);
    await sp.fill("#code", totp(samFactor.secret));
    await sp.locator("form[action='/sign-in'] button[type=submit]").click();
    await sp.waitForLoadState("load");
    check(sp.url() === `${base}/matters`, `after signing in again he is back on the page (${sp.url()})`);

    // ---- Throttling: repeated wrong passwords lock the account, and the page says until when;
    // the officer sees the locked account waiting on her home page and unlocks it.
    console.log("lockout");
    const pat = await newContext();
    const pp = await pat.newPage();
    let lockMessage = "";
    for (let i = 0; i < 8 && !lockMessage.includes("Try again"); i++) {
      await pp.goto(`${base}/sign-in`);
      await pp.fill("#user_name", "pat.paralegal");
      await pp.fill("#password", `not the password ${i}`);
      await pp.locator("form[action='/sign-in'] button[type=submit]").click();
      await pp.waitForLoadState("load");
      lockMessage = await pp.textContent(".error-summary");
    }
    check(/Try again in .* \(after \d+ \w+ \d{4} \d\d:\d\d UTC\)/.test(lockMessage), `a locked account is told when to try again ("${lockMessage.trim().replace(/\s+/g, " ")}")`);
    await shot(pp, "sign-in-locked");
    await accessible(pp, "sign-in locked");
    await op.goto(`${base}/`);
    const waiting = op.locator("section[aria-labelledby=waiting] a");
    check((await waiting.textContent()).includes("One locked account"), "the officer's home page shows the locked account waiting");
    await shot(op, "home-officer");
    await waiting.click();
    await op.locator("table a", { hasText: "Pat Kowalski" }).click();
    await op.waitForSelector("h1");
    await op.locator("form[action$='/unlock'] button").click();
    await op.waitForURL(/done=unlocked/);
    check(await op.locator("form[action$='/unlock']").count() === 0, "the officer unlocks the account");

    // ---- My account: an API token, shown once, works with the API until it is revoked.
    console.log("api token");
    await lp.goto(`${base}/account`);
    await lp.fill("#token-name", "Nightly matter export");
    await lp.fill("#token-days", "7");
    await lp.locator("form[action='/account/tokens'] button").click();
    await lp.waitForSelector("#new-token");
    const token = (await lp.textContent("#new-token")).trim();
    await shot(lp, "account-token");
    await accessible(lp, "account with a new token");
    const api = await httpRequest.newContext({ ignoreHTTPSErrors: true });
    const withToken = () => api.get(`${base}/api/matters`, { headers: { authorization: `Bearer ${token}` } });
    check((await withToken()).status() === 200, "the new token reaches the API");
    await lp.goto(`${base}/account`);
    check(!(await lp.content()).includes(token), "the token is not shown again");
    const row = lp.locator("tr", { hasText: "Nightly matter export" });
    await row.locator("form[action='/account/tokens/revoke'] button").click();
    await lp.waitForURL(/done=token-revoked/);
    check((await withToken()).status() === 401, "a revoked token is refused at once");
    await api.dispose();

    // ---- Lighthouse on sign-in, home, matter and audit pages.
    console.log("lighthouse");
    const cookieOf = async (context) =>
      (await context.cookies()).filter((c) => c.name.startsWith("__Host-")).map((c) => `${c.name}=${c.value}`).join("; ");
    const lena_cookie = await cookieOf(lena);
    const officer_cookie = await cookieOf(officer);
    const scores = await lighthouseAudit(
      [
        { name: "sign-in", url: `${base}/sign-in` },
        { name: "home", url: `${base}/`, cookie: lena_cookie },
        { name: "matter", url: matterUrl, cookie: lena_cookie },
        { name: "audit", url: `${base}/audit`, cookie: officer_cookie },
      ],
      process.env.CHROMIUM ?? "/usr/bin/chromium",
    );
    for (const s of scores) {
      check(s.accessibility >= 95 && s.bestPractices >= 95, `lighthouse ${s.name}: accessibility ${s.accessibility}, best practices ${s.bestPractices}${s.failing.length ? ` (not full marks: ${s.failing.join(", ")})` : ""}`);
    }
    writeFileSync(path.join(shots, "lighthouse.json"), JSON.stringify(scores, null, 2));

    // ---- Sign out.
    console.log("sign-out");
    await lp.goto(`${base}/account`);
    await lp.locator("form[action='/sign-out'] button").click();
    await lp.waitForURL(/\/sign-in\?out=1/);
    check(await lp.locator(".notice").count() === 1, "signing out says so");
    await lp.goto(matterUrl);
    check(lp.url().startsWith(`${base}/sign-in?next=`), "after signing out, pages need signing in again");
  } finally {
    await browser.close();
    child.kill("SIGTERM");
  }
  const { passed, failures } = summary();
  console.log(`${passed} passed, ${failures} failed`);
  process.exit(failures === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
