// page.mjs URL SCREENSHOT: opens the radio's page in headless Chromium and
// waits until it shows a track on air, then saves a screenshot. Exits
// non-zero, saying why, when the page does not get there.
import { chromium } from "playwright-core";

const [url, shot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  const src = await page.getAttribute("#player", "src");
  if (src !== "all.mp3") throw new Error(`player src is ${src}`);
  // The demo catalogue needs analysing before the first track starts.
  await page.waitForFunction(() => document.getElementById("now").dataset.kind, null, { timeout: 180000 });
  const now = await page.textContent("#now");
  if (!/BPM/.test(now)) throw new Error(`now playing shows no track: ${now}`);
  await page.waitForFunction(() => document.querySelectorAll("#next li").length > 0, null, { timeout: 30000 });
  const stats = await page.textContent("#stats");
  await page.screenshot({ path: shot, fullPage: true });
  if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
  console.log(`now playing: ${now}`);
  console.log(`stats: ${stats}`);
} finally {
  await browser.close();
}
