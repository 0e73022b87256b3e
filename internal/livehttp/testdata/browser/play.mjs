// Opens a player page in headless Chromium and waits until its <video>
// element's currentTime passes a threshold, or the page reports a player
// error, or the timeout. Prints one JSON line:
// {"currentTime": <s>, "error": <player error or "">, "readyState": <n>}
// and exits 0; the Go test judges the result.
//
// Usage: node play.mjs <page URL> <seconds to reach> <timeout ms>
import { chromium } from "playwright-core";

const [pageURL, want, timeoutArg] = process.argv.slice(2);
const timeout = Number(timeoutArg || 60000);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
  ],
  timeout: 60000,
});
try {
  const page = await browser.newPage();
  const logs = [];
  page.on("console", (m) => logs.push(m.type() + ": " + m.text()));
  page.on("pageerror", (e) => logs.push("pageerror: " + e.message));
  await page.goto(pageURL, { timeout: 60000 });
  try {
    await page.waitForFunction(
      (w) => window.playError || document.querySelector("video").currentTime > w,
      Number(want), { timeout, polling: 100 });
  } catch (e) {
    logs.push("wait: " + e.message.split("\n")[0]);
  }
  const res = await page.evaluate(() => {
    const v = document.querySelector("video");
    return {
      currentTime: v.currentTime,
      error: window.playError || (v.error ? "media error " + v.error.code + ": " + v.error.message : ""),
      readyState: v.readyState,
    };
  });
  res.logs = logs.slice(-20);
  console.log(JSON.stringify(res));
} finally {
  await browser.close();
}
