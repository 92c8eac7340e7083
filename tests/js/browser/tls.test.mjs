// finch_demo --tls-cert --tls-key in headless Chromium: the page comes over
// https://, its script picks wss:// from location, and the buttons talk over
// it. Chromium verifies the certificate: it trusts the test CA through an NSS
// database in a temporary HOME (Chromium has no switch that trusts a CA from
// a file; certutil, from Debian's libnss3-tools, makes the database). Without
// certutil the test falls back to --ignore-certificate-errors (outside CI
// only), which still runs TLS but checks no certificate. A second Chromium,
// without the CA, shows what a browser does with an untrusted server.
// Every wait is on the page's content; nothing sleeps.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { launchChromium } from '../support/browser.mjs';
import { ISO_TIME, demoPage } from '../support/demo_page.mjs';
import { chromiumHomeTrusting, makeCertificates, tlsArguments } from '../support/certificates.mjs';
import { FinchServer, binaryFrom } from '../support/server.mjs';

const TIMEOUT = 30_000;
const files = makeCertificates();
const home = chromiumHomeTrusting(files);
if (!home && process.env.CI === 'true')
  throw new Error('certutil (libnss3-tools) is required in CI: the TLS browser test verifies certificates with it');
const server = new FinchServer(binaryFrom('FINCH_DEMO'), tlsArguments(files));
let browser;
let page;
let received, shows, note, myId;  // demoPage(page)'s
let response;
const pageErrors = [];

before(async () => {
  await server.start();
  browser = home
    ? await launchChromium({ env: { ...process.env, HOME: home } })
    : await launchChromium({ args: ['--ignore-certificate-errors'] });
  page = await browser.newPage();
  ({ received, shows, note, myId } = demoPage(page));
  page.on('pageerror', (error) => pageErrors.push(error));
}, { timeout: TIMEOUT });

after(async () => {
  await browser?.close();
  await server.stop();
}, { timeout: TIMEOUT });

test('the page loads over https:// with a verified certificate and connects with wss://', { timeout: TIMEOUT }, async (t) => {
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  response = await page.goto(`${server.url}/`);
  assert.equal(response.status(), 200);
  const security = await response.securityDetails();
  assert.ok(security, 'the page came over TLS');
  assert.match(security.protocol, /^TLS 1\.[23]$/);
  if (home) assert.equal(security.issuer, 'finch test CA');
  else t.diagnostic('certutil is missing: Chromium ran with --ignore-certificate-errors (no verification)');
  await page.locator('#state').filter({ hasText: /^open$/ }).waitFor();
  await shows(received('connected', 'Welcome to the finch demo!'));
  assert.match(server.wsUrl, /^wss:\/\//);
  await shows(note(`connected to ${server.wsUrl}`));
  assert.equal(await page.evaluate(() => location.protocol), 'https:');
  assert.deepEqual(pageErrors, []);
});

test('time and clients answer over wss://', { timeout: TIMEOUT }, async () => {
  await page.click('#route-time');
  const answer = received('output', ISO_TIME).locator('pre').last();
  await answer.waitFor();
  assert.ok(Math.abs(Date.parse(await answer.textContent()) - Date.now()) < 60_000);
  const id = await myId();
  await page.click('#route-clients');
  await shows(received('clients', id).locator('.ids button', { hasText: `${id} (you)` }));
});

test('test: the upgrade came from the https:// page (its Origin)', { timeout: TIMEOUT }, async () => {
  await page.click('#route-test');
  const answer = received('test', /websocket/i).locator('pre').last();
  await answer.waitFor();
  const headers = Object.fromEntries(
    Object.entries(JSON.parse(await answer.textContent())).map(([name, value]) => [name.toLowerCase(), value]));
  assert.equal(headers.upgrade.toLowerCase(), 'websocket');
  assert.equal(headers.origin, server.url);
});

test('close: the server closes (1000), the page reconnects over wss:// by itself', { timeout: TIMEOUT }, async () => {
  const before = await myId();
  await page.click('#route-close');
  await shows(note('connection closed (code 1000), reconnecting'));
  await page.locator('#me').filter({ hasText: /^you are [0-9a-f]+$/ }).filter({ hasNotText: before }).waitFor();
  await page.locator('#state').filter({ hasText: /^open$/ }).waitFor();
  const times = await received('output', ISO_TIME).count();
  await page.click('#route-time');
  await shows(received('output', ISO_TIME).nth(times));
  assert.deepEqual(pageErrors, []);
});

const untrustingOptions = { timeout: TIMEOUT, skip: home ? false : 'certutil is missing' };
test('a Chromium that does not trust the test CA refuses the page: net::ERR_CERT_AUTHORITY_INVALID', untrustingOptions, async (t) => {
  // Its own empty HOME: no NSS database, so only the system's authorities.
  const emptyHome = mkdtempSync(join(tmpdir(), 'finch-tls-untrusting-'));
  t.after(() => rmSync(emptyHome, { recursive: true, force: true }));
  const untrusting = await launchChromium({ env: { ...process.env, HOME: emptyHome } });
  t.after(() => untrusting.close());
  const other = await untrusting.newPage();
  await assert.rejects(other.goto(`${server.url}/`), /net::ERR_CERT_AUTHORITY_INVALID/);
  // The server goes on: the trusting page still gets answers.
  const times = await received('output', ISO_TIME).count();
  await page.click('#route-time');
  await shows(received('output', ISO_TIME).nth(times));
});
