// Browser tests of the decision point's pages (issue 14), against `custos demo` over real TLS:
//   R4: the officer records an expired training on Lena's page; Lena's home says what keeps
//       her out and a matter page refuses her in words; the officer renews it.
//   R6: Lena opens emergency access to M-0004 by number with a justification and reads it; the
//       officer's home alerts her, the matter's "who has access" panel flags Lena, and the
//       officer closes the review.
//   R3: the officer raises an inclusionary wall on M-0001 (it keeps even her out), then lifts it.
//   What if: staffing Omar on the Corporate team and Sam on M-0003 (walled), and a firm
//       policy tried on M-0002, each previewed before anything is saved.
//   The same pages in zh-CN. axe-core on every page; screenshots to $CUSTOS_SCREENSHOTS.
//
// Usage: node decisions.mjs [path/to/custos]

import { accessible, check, enrol, launch, shot, startDemo, summary } from "./common.mjs";

const WHY = "Injunction hearing moved to this afternoon; Ian and Omar are on a flight";

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

    // The matters' addresses, from the officer's list (she sees every number).
    await op.goto(`${base}/matters`);
    const matterUrl = async (number) => {
      const row = op.locator("tr", { hasText: number });
      return new URL(await row.locator("a").getAttribute("href"), base).href;
    };
    const m1 = await matterUrl("M-0001");
    const m4 = await matterUrl("M-0004");
    const m2 = await matterUrl("M-0002");
    const m3 = await matterUrl("M-0003");

    // ---- R4: an expired training keeps Lena out, and every page says why.
    console.log("preconditions");
    await op.goto(`${base}/people`);
    await op.locator("table a", { hasText: "Lena" }).click();
    await op.waitForSelector("#training");
    await op.fill("#training", "2026-10-01");
    await op.locator("form[action$='/compliance'] button").click();
    await op.waitForURL(/done=compliance-recorded/);
    check((await op.textContent("section[aria-labelledby=compliance]")).includes("confidentiality training expired on 2026-10-01"), "the person page says her training expired, and when");
    await shot(op, "person-compliance");
    await accessible(op, "person page with compliance");
    await lp.goto(`${base}/`);
    check((await lp.textContent("[role=alert]")).includes("confidentiality training expired on 2026-10-01"), "her home page says what keeps her from client data");
    await shot(lp, "home-precondition");
    await accessible(lp, "home held back by R4");
    const denied = await lp.goto(m1);
    check(denied.status() === 403, `her own matter is refused (${denied.status()})`);
    check((await lp.textContent("main")).includes("confidentiality agreement and current confidentiality training"), "the refusal names the rule in words");
    await shot(lp, "denied-precondition");
    await accessible(lp, "refusal by R4");
    await op.fill("#training", "2099-12-31");
    await op.locator("form[action$='/compliance'] button").click();
    await op.waitForURL(/done=compliance-recorded/);
    check((await lp.goto(m1)).status() === 200, "renewed training gives access on the next request");

    // ---- What can this person access (the officer's access review).
    console.log("person access");
    const lenaPage = op.url().split("?")[0];
    await op.goto(lenaPage);
    const reach = await op.textContent("section[aria-labelledby=reach]");
    check(["M-0001", "M-0002", "M-0003", "M-0009"].every((n) => reach.includes(n)) && !reach.includes("M-0004"), "the person page lists the matters Lena can access, and no other");
    check(reach.includes("On the matter team"), "each with the rule in words");
    await shot(op, "person-access");
    await accessible(op, "person page with what they can access");
    await op.locator("#reach-table a", { hasText: "M-0001" }).click();
    check((await op.textContent("h1")).includes("M-0001") || op.url().includes("/matters/"), "a matter number links to the matter");
    await lp.goto(lenaPage);
    check((await lp.locator("section[aria-labelledby=reach]").count()) === 0, "Lena does not get the officer's view of her own access");

    // ---- Who can access a document: its classification counts.
    console.log("document access");
    await op.goto(m2);
    await op.locator("table tr", { has: op.locator(".tag-restricted") }).locator("a").first().click();
    await op.waitForSelector("section[aria-labelledby=access]");
    const docPanel = await op.textContent("section[aria-labelledby=access]");
    check(await op.locator("a", { hasText: "Download" }).count() === 0, "the officer, who sees metadata only, is not offered the download");
    check(docPanel.includes("Lena") && docPanel.includes("Pat") && docPanel.includes("Their role may not see records of this classification"), "a restricted document's panel holds back the paralegal by her role, and lets the lawyer in");
    await shot(op, "document-access");
    await accessible(op, "document page with its access panel");
    const docPage = op.url();

    // ---- R6: break-glass by number, flagged, alerted, reviewed.
    console.log("break-glass");
    check((await lp.goto(m4)).status() === 404, "M-0004 is hidden from Lena");
    await lp.goto(`${base}/break-glass`);
    await shot(lp, "break-glass-form");
    await accessible(lp, "break-glass form");
    await lp.fill("#bg-matter", "M-0004");
    await lp.fill("#bg-justification", WHY);
    await lp.locator("form[action='/break-glass'] button").click();
    await lp.waitForURL(/done=break-glass-opened/);
    check((await lp.textContent(".notice")).includes("officer has been alerted"), "opening says the officer was alerted");
    check(!(await lp.textContent("h1")).includes("metadata"), "the matter opens with its title");
    await shot(lp, "break-glass-opened");
    await op.goto(`${base}/`);
    const alert = op.locator("section[aria-labelledby=waiting] a", { hasText: "emergency access" });
    check(await alert.count() === 1, "the officer's home shows the emergency access waiting");
    await op.goto(m4);
    const panel = op.locator("section[aria-labelledby=access]");
    const lenaLine = panel.locator("tr", { hasText: "Lena" });
    check((await lenaLine.textContent()).includes("Break-glass"), "the access panel flags Lena's emergency access");
    check((await panel.textContent()).includes("Omar"), "the access panel lists the matter team");
    await shot(op, "matter-access");
    await accessible(op, "matter with the access panel");
    await alert.count();
    await op.goto(`${base}/break-glass`);
    check((await op.textContent("section[aria-labelledby=queue]")).includes(WHY), "the review queue shows the justification");
    await shot(op, "break-glass-queue");
    await accessible(op, "break-glass review queue");
    await op.locator("input[name=verdict][value=justified]").check();
    await op.locator("section[aria-labelledby=queue] textarea").fill("Hearing confirmed with the court registry");
    check(await op.locator("section[aria-labelledby=queue] form[action$='/end'] button", { hasText: "End it now" }).count() === 1, "the officer may end the open access at once");
    await op.locator("section[aria-labelledby=queue] form[action$='/review'] button").click();
    await op.waitForURL(/done=break-glass-reviewed/);
    check((await op.textContent("section[aria-labelledby=queue]")).includes("No emergency access waits"), "the reviewed access leaves the queue");
    check((await op.textContent("section[aria-labelledby=closed]")).includes("Justified"), "and is listed with the verdict");

    // ---- R3: an inclusionary wall on M-0001 admits Lena only (the officer included), then lifted.
    console.log("inclusionary wall");
    await op.goto(`${base}/walls`);
    await op.locator("input[name=kind][value=inclusionary]").check();
    const lenaOption = await op.locator("#wall-person option", { hasText: "Lena" }).getAttribute("value");
    await op.selectOption("#wall-person", lenaOption);
    const m1Option = await op.locator("#wall-matter option", { hasText: "M-0001" }).getAttribute("value");
    await op.selectOption("#wall-matter", m1Option);
    await op.fill("#wall-reason", "Project Falcon: named access only");
    await op.locator("form[action='/walls'] button[name=preview]").click();
    await op.waitForSelector("h1");
    const preview = await op.textContent("main");
    check(preview.includes("M-0001") && preview.includes("Carl") && preview.includes("Sally"), "the preview names who would lose access, before anything is saved");
    await shot(op, "wall-preview");
    await accessible(op, "wall preview");
    await op.locator("form[action='/walls'] button.button").first().click();
    await op.waitForURL(/done=wall-raised/);
    const row = op.locator("tbody tr", { hasText: "Project Falcon" });
    check((await row.textContent()).includes("Admits only"), "the wall is listed as inclusionary");
    check((await row.textContent()).includes("M-0001"), "the walled matter is named by its number, though the officer may not see it");
    check(await op.locator("#wall-matter option", { hasText: "M-0001" }).count() === 1, "the form still offers it, to admit another person");
    check((await lp.goto(m1)).status() === 200, "the admitted lawyer still reaches the matter");
    check((await op.goto(m1)).status() === 404, "everyone else is kept out, the officer included");
    await op.goto(`${base}/walls`);
    await shot(op, "walls-inclusionary");
    await accessible(op, "walls with an inclusionary wall");
    await row.locator("summary").click();
    await row.locator("textarea").fill("Deal announced");
    await row.locator("form button").click();
    await op.waitForURL(/done=wall-lifted/);
    check((await op.locator("tbody tr", { hasText: "Project Falcon" }).textContent()).includes("Lifted by"), "a lifted wall stays listed with who lifted it");
    check((await op.goto(m1)).status() === 200, "once lifted, the wall keeps no one out");

    // ---- Firm policies: refused with the checker's message (the text kept), then saved.
    console.log("firm policies");
    await op.goto(`${base}/policies`);
    await op.fill("#policy-text", 'forbid(principal, action, resource) when { principal.rol == "intern" };');
    await op.locator("form[action='/policies'] button:not([name=preview])").click();
    await op.waitForSelector("#policy-error");
    check((await op.textContent("#policy-error")).includes("rol"), "a policy that does not check is refused with the checker's message");
    check((await op.inputValue("#policy-text")).includes("principal.rol"), "the text typed is kept in the editor");
    await shot(op, "policies-refused");
    await accessible(op, "policies refused");
    await op.fill("#policy-text", '@id("no-restricted-at-night")\nforbid(principal, action, resource) when { resource is Document && resource.classification == "restricted" && (context.hour < 7 || context.hour >= 21) };');
    await op.locator("form[action='/policies'] button:not([name=preview])").click();
    await op.waitForURL(/done=policies-saved/);
    check((await op.textContent("label[for=policy-text]")).includes("Version 1"), "the saved policies are version 1, in force");
    await shot(op, "policies");
    await accessible(op, "policies saved");
    await op.fill("#policy-text", "");
    await op.locator("form[action='/policies'] button:not([name=preview])").click();
    await op.waitForURL(/done=policies-saved/);
    check(await op.locator("form[action='/policies/1/restore']").count() === 1, "an earlier version can be restored");

    // ---- What if: a firm policy tried on M-0002 before it is saved.
    console.log("what if");
    await op.goto(`${base}/policies`);
    await op.fill("#policy-text", '@id("no-interns")\nforbid(principal, action, resource) when { principal.role == "intern" };');
    await op.fill("#policy-records", "M-0002");
    await op.locator("form[action='/policies'] button[name=preview]").click();
    await op.waitForSelector("#policy-preview");
    const tried = await op.textContent("#policy-preview");
    check(tried.includes("M-0002") && tried.includes("Ivan Petrov") && !tried.includes("Lena"), "the policy preview names the intern who would lose M-0002, and no one else");
    check((await op.inputValue("#policy-text")).includes("no-interns"), "the text tried stays in the editor");
    check((await op.textContent("label[for=policy-text]")).includes("Version 2"), "trying saves nothing: version 2 is still in force");
    await shot(op, "policies-preview");
    await accessible(op, "policies preview");

    // Staffing: Omar joining the Corporate team, previewed, then not done.
    await op.goto(`${base}/teams`);
    await op.locator("table a", { hasText: "Corporate" }).click();
    const teamUrl = op.url();
    await op.selectOption("#person", { label: "Omar Haddad (Lawyer)" });
    await op.locator("button[name=preview]").click();
    await op.waitForSelector("h1");
    check((await op.textContent("h1")).includes("Omar Haddad"), "the staffing preview names the person");
    const omarRows = await op.textContent("main table");
    check(omarRows.includes("M-0001") && omarRows.includes("M-0003"), "it lists the team's matters");
    await shot(op, "staffing-preview");
    await accessible(op, "staffing preview");
    await op.locator("a.button.secondary").click();
    await op.waitForURL(teamUrl);
    check(!(await op.textContent("ul.people")).includes("Omar Haddad"), "going back changes nothing: Omar is not a member");

    // Staffing Sam on M-0003, which a wall screens him from: the preview says so.
    const carl = await newContext();
    const cp = await carl.newPage();
    await enrol(cp, base, "carl.corplead");
    await cp.goto(m3);
    await cp.selectOption("#person", { label: "Sam Patel (Lawyer)" });
    await cp.locator("button[name=preview]").click();
    await cp.waitForSelector("main table");
    const samRow = await cp.textContent("main table tbody");
    check(samRow.includes("M-0003") && samRow.includes("No access") && samRow.includes("wall"), "staffing a screened lawyer: the preview says the wall keeps him out");
    await shot(cp, "staffing-preview-wall");
    await accessible(cp, "staffing preview (wall)");

    // Who can access a client, on the client's page (the officer's view).
    await op.goto(`${base}/clients`);
    await op.locator("tr", { hasText: "C-0002" }).locator("a").first().click();
    const clientUrl = op.url();
    const clientPanel = await op.textContent("section[aria-labelledby=access]");
    check(clientPanel.includes("Carl") && clientPanel.includes("Lena") && !clientPanel.includes("Omar"), "the client page lists who can access the client, and not the others");
    check(clientPanel.includes("Sam Patel") || clientPanel.includes("no reason to see it"), "the screened lawyer is listed with the wall, or counted");
    await shot(op, "client-access");
    await accessible(op, "client access");

    // ---- The same pages in Chinese.
    console.log("zh-CN");
    const zh = await newContext("zh-CN");
    await zh.addCookies(await officer.cookies());
    const zp = await zh.newPage();
    await zp.goto(`${base}/break-glass`);
    check((await zp.textContent("h1")).includes("紧急访问"), "the emergency access page is in Chinese");
    await shot(zp, "break-glass-zh");
    await accessible(zp, "break-glass (zh-CN)");
    await zp.goto(m4);
    check((await zp.textContent("section[aria-labelledby=access]")).includes("谁有访问权"), "the access panel is in Chinese");
    await shot(zp, "matter-access-zh");
    await zp.goto(docPage);
    check((await zp.textContent("section[aria-labelledby=access]")).includes("其角色不得查看"), "the document's access panel is in Chinese");
    await zp.goto(lenaPage);
    check((await zp.textContent("section[aria-labelledby=reach]")).includes("可访问的内容"), "what a person can access, in Chinese");
    await shot(zp, "person-access-zh");
    await accessible(zp, "person access (zh-CN)");
    await zp.goto(clientUrl);
    check((await zp.textContent("section[aria-labelledby=access]")).includes("谁有访问权"), "the client's access panel is in Chinese");
    await accessible(zp, "client access (zh-CN)");
    await zp.goto(`${base}/walls`);
    check((await zp.textContent("main")).includes("准入"), "the walls page names inclusionary walls in Chinese");
    await accessible(zp, "walls (zh-CN)");
    await zp.goto(`${base}/policies`);
    check((await zp.textContent("h1")).includes("律所政策"), "the firm policies page is in Chinese");
    await accessible(zp, "policies (zh-CN)");
    await zp.fill("#policy-text", 'forbid(principal, action, resource) when { principal.role == "intern" };');
    await zp.fill("#policy-records", "C-0001");
    await zp.locator("form[action='/policies'] button[name=preview]").click();
    await zp.waitForSelector("#policy-preview");
    check((await zp.textContent("#policy-preview")).includes("将失去访问权"), "the policy preview is in Chinese");
    await shot(zp, "policies-preview-zh");
    await accessible(zp, "policies preview (zh-CN)");
    await zp.goto(teamUrl);
    await zp.locator("button[name=preview]").click();
    await zp.waitForSelector("main table");
    check((await zp.textContent("h1")).includes("会带来的变化"), "the staffing preview is in Chinese");
    await shot(zp, "staffing-preview-zh");
    await accessible(zp, "staffing preview (zh-CN)");
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
