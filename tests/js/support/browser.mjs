// Debian's Chromium, headless, driven by playwright-core: the browser of the
// browser tests (tests/js/browser).
import { chromium } from 'playwright-core';

// `args` are more command line switches; `env` replaces the browser's
// environment (the TLS test gives it a HOME whose NSS database trusts the
// test CA).
export function launchChromium({ args = [], env } = {}) {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', ...args],
    ...(env === undefined ? {} : { env }),
  });
}
