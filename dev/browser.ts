// A headless Chromium for the dashboard's browser test and its screenshot: Debian's chromium
// (scripts/ensure-servers.sh installs it), driven by playwright-core, with a fresh profile in a
// temporary directory that close() removes. playwright-core is a development dependency: only
// the test and `node dist/dev/dashboard-screenshot.js` load this module.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export interface HeadlessBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(viewport = { width: 1400, height: 1000 }): Promise<HeadlessBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'meshserve-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    return {
      context,
      close: async () => {
        await context.close().catch(() => undefined);
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
}
