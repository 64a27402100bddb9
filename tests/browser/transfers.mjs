// Browser tests of transfers outside the firm (issue 16), against `custos demo` over real TLS:
//   The officer registers an expert, records her agreement and how her address was verified;
//   Lena records the client's consent on the client's consents page, asks to send a document
//   of M-0001 to the expert after checking it on the request form; the team lead and the
//   officer approve from their queues; the recipient, with no account, opens the mailed link,
//   asks for a code, is refused a wrong one, opens it with the right one (read from the
//   officer's outbox: no mail server in the demo) and downloads the document byte-exact; the
//   register shows the download, filters and exports it as CSV; the officer links the expert's
//   own account, and she signs in to see and download what was released to her; Lena checks a
//   disclosure on a legal basis on the form; the consent is revoked and the link stops.
//   The same pages in zh-CN. axe-core on every page; screenshots to $CUSTOS_SCREENSHOTS.
//
// Usage: node transfers.mjs [path/to/custos]

import { accessible, check, enrol, launch, shot, startDemo, summary } from "./common.mjs";

const today = new Date().toISOString().slice(0, 10);

async function main() {
  const { child, base } = await startDemo();
  const { browser, newContext } = await launch();
  try {
    const officer = await newContext();
    const op = await officer.newPage();
    await enrol(op, base, "olivia.officer");
    const lena = await newContext();
    const lp = await lena.newPage();
    await enrol(lp, base, "lena.lawyer");
    const carl = await newContext();
    const cp = await carl.newPage();
    await enrol(cp, base, "carl.corplead");

    // ---- Notices by mail: the officer gives her address on her account page.
    console.log("notices");
    await op.goto(`${base}/account`);
    await op.fill("#email", "olivia@firm.example");
    await op.locator("form[action='/account/mail-address'] button").click();
    await op.waitForURL(/done=mail-address-saved/);
    check(await op.inputValue("#email") === "olivia@firm.example", "the address for notices is kept");
    await shot(op, "account-notices");
    await accessible(op, "account with notices");

    // ---- The outside recipient (R11).
    console.log("outside recipient");
    await op.goto(`${base}/third-parties`);
    await op.fill("#rp-name", "Dr Erin Walsh");
    await op.fill("#rp-org", "Walsh Forensics");
    await op.selectOption("#rp-category", "expert_witness");
    await op.fill("#rp-email", "erin@walsh-forensics.example");
    await op.locator("form[action='/third-parties'] button").click();
    await op.waitForURL(/done=recipient-registered/);
    check((await op.textContent("main table")).includes("not verified"), "a new recipient is not verified");
    const row = op.locator("main table tbody tr", { hasText: "Walsh" });
    await row.locator("input[name=signed_on]").fill(today);
    await row.locator("input[name=verified_how]").fill("Called Walsh Forensics and read the address back");
    await row.locator("button").click();
    await op.waitForURL(/done=recipient-updated/);
    const line = await op.locator("main table tbody tr", { hasText: "Walsh" }).textContent();
    check(line.includes("verified") && !line.includes("not verified") && line.includes("in force"), "the address is verified and the agreement in force");
    await shot(op, "third-parties");
    await accessible(op, "outside recipients");

    // ---- The client's consent (R10), recorded by Lena.
    console.log("consent");
    await lp.goto(`${base}/clients`);
    await lp.locator("tr", { hasText: "C-0001" }).locator("a").first().click();
    await lp.locator("a", { hasText: "Consents to share" }).click();
    await lp.waitForSelector("#purposes");
    await lp.fill("#purposes", "expert_report");
    await lp.selectOption("#k-recipient", { label: "Dr Erin Walsh (Walsh Forensics)" });
    await lp.fill("#given", today);
    await lp.locator("form[action$='/consents'] button").click();
    await lp.waitForURL(/done=consent-recorded/);
    check((await lp.textContent("main table")).includes("expert_report"), "the consent is listed");
    await shot(lp, "consents");
    await accessible(lp, "client consents");
    const consentsUrl = lp.url().split("?")[0];

    // ---- The request, checked before it is asked (R12).
    console.log("request");
    await lp.goto(`${base}/matters`);
    await lp.locator("tr", { hasText: "M-0001" }).locator("a").first().click();
    await lp.locator("a", { hasText: "Send documents out" }).click();
    await lp.waitForSelector("#recipient");
    const requestUrl = lp.url();
    await lp.selectOption("#recipient", { label: "Dr Erin Walsh (Walsh Forensics)" });
    await lp.fill("#purpose", "settlement_talks");
    await lp.selectOption("#consent", { index: 1 });
    const firstDoc = lp.locator("input[name=document]").first();
    const docId = await firstDoc.getAttribute("value");
    await firstDoc.check();
    await lp.locator("button[value=check]").click();
    await lp.waitForSelector("section[aria-labelledby=checks]");
    check((await lp.textContent("section[aria-labelledby=checks]")).includes("does not cover the purpose"), "a purpose the consent does not name fails its check, before anyone approves");
    await lp.fill("#purpose", "expert_report");
    await lp.locator("input[name=document]").first().check();
    await lp.locator("button[value=check]").click();
    await lp.waitForSelector("section[aria-labelledby=checks]");
    check((await lp.textContent("section[aria-labelledby=checks]")).includes("Every check holds"), "the checks hold for the consented purpose");
    await shot(lp, "transfer-request-checked");
    await accessible(lp, "transfer request with its checks");
    await lp.locator("button[value=submit]").click();
    await lp.waitForURL(/done=transfer-requested/);
    check((await lp.textContent("section[aria-labelledby=mine]")).includes("Waiting for approvals"), "the request waits for approvals");
    check((await lp.textContent("section[aria-labelledby=queue]")).includes("Nothing waits"), "the requester has nothing to approve");

    // ---- Two approvals.
    console.log("approvals");
    await op.goto(`${base}/transfers`);
    const notice = await op.locator("section[aria-labelledby=outbox] tbody tr", { hasText: "olivia@firm.example" }).first().textContent();
    check(notice.includes("waits for your approval"), "the officer is told by mail that a transfer waits for her approval");
    await cp.goto(`${base}/transfers`);
    check((await cp.textContent("section[aria-labelledby=queue]")).includes("M-0001"), "the team lead's queue holds the request");
    await cp.locator("form[action$='/approve'] button").click();
    await cp.waitForURL(/done=transfer-approved/);
    await op.goto(`${base}/transfers`);
    const card = await op.textContent("section[aria-labelledby=queue]");
    check(card.includes("team lead") && card.includes("Client consent (R10)") && card.includes("holds"), "the officer's queue shows the approval given and every check on one screen");
    await shot(op, "transfer-queue");
    await accessible(op, "approval queue");
    await op.locator("form[action$='/approve'] button").click();
    await op.waitForURL(/done=transfer-released/);
    const mail = await op.locator("pre.mail").first().textContent();
    const path = mail.match(/\/release\/[0-9a-f]{64}/)?.[0];
    check(!!path, "the outbox holds the recipient's link");
    await shot(op, "transfers-register");
    await accessible(op, "transfers with register and outbox");

    // ---- The recipient, with no account.
    console.log("recipient");
    const guest = await newContext();
    const gp = await guest.newPage();
    await gp.goto(`${base}${path}`);
    check((await gp.textContent("h1")).includes("Documents for you"), "the recipient's page opens without an account");
    check(await gp.locator("a[download]").count() === 0, "no download before the code");
    check((await gp.textContent("section[aria-labelledby=docs]")).includes("listed once you give the code"), "before the code the page says how many documents, not which");
    await shot(gp, "release-page");
    await accessible(gp, "recipient page");
    await gp.locator("form[action$='/code'] button").click();
    await gp.waitForURL(/sent=1/);
    await op.goto(`${base}/transfers`);
    const codeMail = await op.locator("pre.mail").first().textContent();
    const code = codeMail.match(/\b\d{6}\b/)?.[0];
    check(!!code, "the code waits in the outbox");
    await gp.fill("#code", code === "000000" ? "111111" : "000000");
    await gp.locator("form[action$='/open'] button").click();
    await gp.waitForSelector("[role=alert]");
    check((await gp.textContent("[role=alert]")).includes("wrong"), "a wrong code is refused in words");
    await shot(gp, "release-wrong-code");
    await accessible(gp, "recipient page, wrong code");
    await gp.fill("#code", code);
    await gp.locator("form[action$='/open'] button").click();
    await gp.waitForURL(/open=1/);
    await shot(gp, "release-open");
    await accessible(gp, "recipient page, open");
    const [download] = await Promise.all([gp.waitForEvent("download"), gp.locator("a[download]").first().click()]);
    const fs = await import("node:fs/promises");
    const got = await fs.readFile(await download.path());
    const mine = await lp.request.get(`${base}/api/documents/${docId}/content`);
    check(Buffer.compare(got, Buffer.from(await mine.body())) === 0, `the download is byte-exact (${got.length} bytes)`);
    // ---- The register: filters, titles as the viewer may see them, CSV export (R12).
    console.log("register");
    await op.goto(`${base}/transfers/register`);
    const entry = await op.locator("table.register tbody tr").first().textContent();
    check(entry.includes("127.0.0.1") && entry.includes(docId), "the register shows the document and the download's address");
    let sha = "";
    for (let i = 0; i < 20 && !sha; i++) {
      await op.goto(`${base}/transfers/register`);
      sha = (await op.locator("table.register tbody tr").first().textContent()).match(/SHA-256 ([0-9a-f]{64})/)?.[1] ?? "";
      if (!sha) await op.waitForTimeout(100);
    }
    const { createHash } = await import("node:crypto");
    check(sha === createHash("sha256").update(got).digest("hex"), "the register holds the SHA-256 of the released bytes");
    await shot(op, "transfer-register");
    await accessible(op, "transfer register");
    const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
    await op.fill("#from", tomorrow);
    await op.locator("form.filters button").click();
    await op.waitForURL(/from=/);
    check(await op.locator("table.register").count() === 0, "a date filter after the transfer keeps nothing");
    await op.fill("#from", "");
    await op.fill("#client", "C-0001");
    await op.locator("form.filters button").click();
    await op.waitForURL(/client=C-0001/);
    check(await op.locator("table.register tbody tr").count() === 1, "the client filter (by number) keeps the transfer");
    const csv = await op.request.get(`${base}${await op.locator("a", { hasText: "Export as CSV" }).getAttribute("href")}`);
    const csvText = await csv.text();
    check(csv.headers()["content-type"].startsWith("text/csv") && csvText.includes(docId) && csvText.includes(sha), "the CSV export holds the transfer with its document and SHA-256");

    // ---- The expert's own account sees only what was released to her (R11).
    console.log("recipient account");
    await op.goto(`${base}/third-parties`);
    const erinRow = op.locator("main table tbody tr", { hasText: "Walsh Forensics" });
    await erinRow.locator("select[name=account]").selectOption({ label: "Dr Erin Walsh (expert witness) (erin.expert)" });
    await erinRow.locator("button").click();
    await op.waitForURL(/done=recipient-updated/);
    check((await op.locator("main table tbody tr", { hasText: "Walsh Forensics" }).textContent()).includes("erin.expert"), "the recipient's account is linked");
    // Linking mailed the account a new one-time password, to the recipient alone (the demo
    // has no relay: the officer's outbox holds it, as it holds the link).
    await op.goto(`${base}/transfers`);
    const accountMail = await op.locator("pre.mail", { hasText: "erin.expert" }).first().textContent();
    const mailed = accountMail.match(/one-time password ([0-9A-Za-z]+)/)?.[1];
    check(!!mailed, "the account's one-time password went to the recipient's verified address");
    const erin = await newContext();
    const ep = await erin.newPage();
    await enrol(ep, base, "erin.expert", undefined, mailed);
    check(new URL(ep.url()).pathname === "/received", "an outside account lands on what was released to it");
    check((await ep.textContent("nav")).includes("Received") && !(await ep.textContent("nav")).includes("Matters"), "its navigation offers nothing of the firm");
    check((await ep.locator("article a[download]").count()) === 1, "the released document is offered");
    const [own] = await Promise.all([ep.waitForEvent("download"), ep.locator("article a[download]").first().click()]);
    check(Buffer.compare(await fs.readFile(await own.path()), got) === 0, "the account's download is byte-exact");
    await shot(ep, "received");
    await accessible(ep, "received (own account)");
    const zhErin = await newContext("zh-CN");
    await zhErin.addCookies(await erin.cookies());
    const zep = await zhErin.newPage();
    await zep.goto(`${base}/received`);
    check((await zep.textContent("h1")).includes("已接收"), "the received page is in Chinese");
    await shot(zep, "received-zh");
    await accessible(zep, "received (zh-CN)");

    // ---- A disclosure without consent, checked on the form (R13).
    console.log("legal exception");
    await lp.goto(requestUrl);
    await lp.selectOption("#recipient", { label: "Dr Erin Walsh (Walsh Forensics)" });
    await lp.fill("#purpose", "regulator_inquiry");
    await lp.locator("details summary").click();
    await lp.selectOption("#basis", "regulator_request");
    await lp.fill("#reference", "CSRC letter 2026-114");
    await lp.check("#inform-forbidden");
    await lp.fill("#forbidden_until", tomorrow);
    await lp.fill("#link_days", "3");
    await lp.locator("input[name=document]").first().check();
    await lp.locator("button[value=check]").click();
    await lp.waitForSelector("section[aria-labelledby=checks]");
    const legal = await lp.textContent("section[aria-labelledby=checks]");
    check(legal.includes("regulator_request") && legal.includes("Every check holds"), "a disclosure on a legal basis is checked without a consent");
    check(await lp.inputValue("#link_days") === "3" && await lp.inputValue("#reference") === "CSRC letter 2026-114", "the form keeps what was typed");
    await shot(lp, "transfer-legal-exception");
    await accessible(lp, "transfer request on a legal basis");
    const zl = await newContext("zh-CN");
    await zl.addCookies(await officer.cookies());
    const zlp = await zl.newPage();
    await zlp.goto(`${base}/transfers/register`);
    check((await zlp.textContent("h1")).includes("登记簿"), "the register is in Chinese");
    await shot(zlp, "transfer-register-zh");
    await accessible(zlp, "transfer register (zh-CN)");

    // ---- zh-CN.
    console.log("zh-CN");
    const zh = await newContext("zh-CN");
    await zh.addCookies(await officer.cookies());
    const zp = await zh.newPage();
    await zp.goto(`${base}/transfers`);
    check((await zp.textContent("h1")).includes("对外传输"), "the transfers page is in Chinese");
    await shot(zp, "transfers-zh");
    await accessible(zp, "transfers (zh-CN)");
    await zp.goto(`${base}/third-parties`);
    check((await zp.textContent("h1")).includes("外部接收方"), "the recipients page is in Chinese");
    await shot(zp, "third-parties-zh");
    await accessible(zp, "outside recipients (zh-CN)");
    await zp.goto(consentsUrl);
    check((await zp.textContent("main")).includes("记录同意"), "the consents page is in Chinese");
    await accessible(zp, "consents (zh-CN)");
    const zguest = await (await newContext("zh-CN")).newPage();
    await zguest.goto(`${base}${path}`);
    check((await zguest.textContent("h1")).includes("发送给您的文件"), "the recipient's page is in Chinese");
    await shot(zguest, "release-page-zh");
    await accessible(zguest, "recipient page (zh-CN)");

    // ---- Revocation stops the link at once.
    console.log("revocation");
    await lp.goto(consentsUrl);
    await lp.locator("form[action$='/revoke'] input[name=reason]").fill("The client withdrew consent by phone");
    await lp.locator("form[action$='/revoke'] button").click();
    await lp.waitForURL(/done=consent-revoked/);
    const after = await gp.goto(`${base}${path}`);
    check(after.status() === 403, `the link no longer opens (${after.status()})`);
    await shot(gp, "release-revoked");
    await ep.goto(`${base}/received`);
    check((await ep.textContent("main")).includes("Nothing is released"), "the account no longer sees the revoked release");
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
