import { chromium, type Browser, type BrowserContext } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`, done by .ci/run). */
export const CHROMIUM = process.env.TICKFORGE_TEST_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Headless Chromium for page tests, quiet on the network: no first-run, background, sync or
 * component-update traffic. Playwright gives every launch a fresh profile (--user-data-dir).
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A browser context that answers the site's basic-auth challenge with `token` as the password. */
export function contextWithToken(browser: Browser, token: string): Promise<BrowserContext> {
  return browser.newContext({ httpCredentials: { username: 'tickforge', password: token } });
}
