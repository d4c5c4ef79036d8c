// The dashboard screenshot in docs/: `node dist/dev/dashboard-screenshot.js <dashboard-url> <out.png>`
// against a running `meshserve start` with traffic flowing (docs/operations.md, "Dashboard").
import { launchChromium } from './browser.js';

const [url, out] = process.argv.slice(2);
if (!url || !out) {
  console.error('usage: node dist/dev/dashboard-screenshot.js <dashboard-url> <out.png>');
  process.exit(2);
}
const browser = await launchChromium({ width: 1400, height: 900 });
try {
  const page = await browser.context.newPage();
  await page.goto(url);
  await page.locator('#connection.live').waitFor({ timeout: 15_000 });
  await page.waitForTimeout(3_000); // a few more samples on the charts
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
}
