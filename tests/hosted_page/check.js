// An issued invoice's hosted page in a real browser: `node check.js URL SCREENSHOT.png
// PAID_URL`, run by scripts/check-hosted-page with Debian's Chromium, headless. The page
// must show the invoice's figures with scripts off, pass axe-core's accessibility rules with
// no serious or critical violation, link its PDF, and say "Paid" once paid (PAID_URL is a
// paid invoice's page). A screenshot of the first page is kept. Every wait is bounded.
const fs = require("fs");
const { chromium } = require("playwright-core");
const axe = require("axe-core");

const [url, screenshot, paidUrl] = process.argv.slice(2);
const expectText = (text, wanted, what) => {
  for (const part of wanted) {
    if (!text.includes(part)) throw new Error(`${what} lacks ${JSON.stringify(part)}:\n${text}`);
  }
};

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
    timeout: 60_000,
  });
  try {
    // No JavaScript: the page is whole without it.
    const plain = await browser.newContext({ javaScriptEnabled: false });
    const page = await plain.newPage({ viewport: { width: 1024, height: 900 } });
    const answer = await page.goto(url, { timeout: 30_000 });
    if (answer.status() !== 200) throw new Error(`the page answered ${answer.status()}`);
    const text = await page.innerText("body");
    expectText(text, ["Invoice No. 1", "Amount due: USD 1,234.56", "Annual plan",
      "Bill to", "Total", "Download the invoice as a PDF"], "the page");
    await page.screenshot({ path: screenshot, fullPage: true });
    const pdf = await page.getAttribute("a[href$='/pdf']", "href");
    const download = await plain.request.get(pdf, { timeout: 30_000 });
    const head = (await download.body()).subarray(0, 5).toString();
    if (download.status() !== 200 || head !== "%PDF-") {
      throw new Error(`the PDF link answered ${download.status()} ${head}`);
    }
    console.log(`ok  page: ${text.split("\n").length} lines of text without scripts; its PDF link answers a PDF`);
    await plain.close();

    // axe-core's rules need a script of their own, which the page's policy forbids: the
    // audit's context lets it in.
    const checked = await browser.newContext({ bypassCSP: true });
    const audited = await checked.newPage();
    await audited.goto(url, { timeout: 30_000 });
    await audited.addScriptTag({ content: axe.source });
    const results = await audited.evaluate(() => window.axe.run(document));
    const grave = results.violations.filter((v) => ["serious", "critical"].includes(v.impact));
    for (const violation of results.violations) {
      console.log(`    axe ${violation.impact}: ${violation.id} (${violation.nodes.length})`);
    }
    if (grave.length > 0) throw new Error(`axe-core found ${grave.length} serious or critical violations`);
    console.log(`ok  axe-core ${axe.version}: ${results.passes.length} rules pass, no serious or critical violation`);

    const paid = await checked.newPage();
    await paid.goto(paidUrl, { timeout: 30_000 });
    expectText(await paid.innerText("body"), ["Paid"], "the paid invoice's page");
    console.log("ok  paid: the paid invoice's page says Paid");
    await checked.close();
  } finally {
    await browser.close();
  }
  if (fs.statSync(screenshot).size < 1000) throw new Error("the screenshot is empty");
  console.log(`ok  screenshot: ${screenshot}`);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
