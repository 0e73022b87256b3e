// Opens a page holding a browser upload form in headless Chromium, puts a
// file in its file input, submits it, and waits until the browser has
// followed the store's success_action_redirect. Prints one JSON line:
// {"url": <final URL>, "body": <final page text>}.
//
// Usage: node post_form.mjs <page URL> <file path> <redirect URL prefix>
import { chromium } from "playwright-core";

const [pageURL, filePath, redirectPrefix] = process.argv.slice(2);
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
  await page.goto(pageURL, { timeout: 60000 });
  await page.setInputFiles("input[type=file]", filePath);
  await Promise.all([
    page.waitForURL((u) => u.href.startsWith(redirectPrefix), { timeout: 60000 }),
    page.click("button[type=submit]"),
  ]);
  const body = await page.textContent("body");
  console.log(JSON.stringify({ url: page.url(), body }));
} finally {
  await browser.close();
}
