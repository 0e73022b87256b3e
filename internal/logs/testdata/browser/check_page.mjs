// Opens an HTML report of "strata logs analyze" in headless Chromium and
// prints one JSON line describing what rendered:
// {"charts": N, "series": N, "bars": N, "width": [...], "errors": [...]}
// where width holds each chart's rendered width in pixels and errors every
// console error and page error.
//
// Usage: node check_page.mjs <file:// URL>
import { chromium } from "playwright-core";

const [pageURL] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
  ],
  timeout: 60000,
});
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("requestfailed", (r) => errors.push("request failed: " + r.url()));
  page.on("request", (r) => { if (r.url() !== pageURL) errors.push("external request: " + r.url()); });
  await page.goto(pageURL, { timeout: 60000 });
  const res = await page.evaluate(() => ({
    charts: document.querySelectorAll("svg.chart").length,
    series: document.querySelectorAll("svg.chart polyline.series").length,
    bars: document.querySelectorAll("svg.chart rect.bar").length,
    width: [...document.querySelectorAll("svg.chart")].map((s) => s.getBoundingClientRect().width),
    names: [...document.querySelectorAll("svg.chart")].map((s) => s.dataset.chart),
  }));
  res.errors = errors;
  console.log(JSON.stringify(res));
} finally {
  await browser.close();
}
