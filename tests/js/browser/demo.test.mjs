// finch_demo's page in headless Chromium: it loads finch's client from
// /finch.js, shows the connection's state, and each button's answer shows
// up in its log. Every wait is on the page's content (Playwright's locators
// poll until it shows, or the test's timeout ends it); nothing sleeps.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium } from '../support/browser.mjs';
import { ISO_TIME, demoPage } from '../support/demo_page.mjs';
import { FinchServer, binaryFrom } from '../support/server.mjs';

const TIMEOUT = 30_000;
const server = new FinchServer(binaryFrom('FINCH_DEMO'));
let browser;
let page;
let received, shows, note, myId;  // demoPage(page)'s
const pageErrors = [];

before(async () => {
  await server.start();
  browser = await launchChromium();
  page = await browser.newPage();
  ({ received, shows, note, myId } = demoPage(page));
  page.on('pageerror', (error) => pageErrors.push(error));
}, { timeout: TIMEOUT });

after(async () => {
  await browser?.close();
  await server.stop();
}, { timeout: TIMEOUT });

test('the page loads the client, shows the state "open" and the welcome', { timeout: TIMEOUT }, async () => {
  await page.goto(`${server.url}/`);
  await page.locator('#state').filter({ hasText: /^open$/ }).waitFor();
  await shows(received('connected', 'Welcome to the finch demo!'));
  await shows(received('output', 'New user connected! count: 1'));
  await shows(note(`connected to ${server.wsUrl}`));
  assert.match(await myId(), /^[0-9a-f]+$/);
  assert.deepEqual(pageErrors, []);
});

test('time: the server\'s UTC time shows on "output"', { timeout: TIMEOUT }, async () => {
  await page.click('#route-time');
  const answer = received('output', ISO_TIME).locator('pre').last();
  await answer.waitFor();
  const moment = Date.parse(await answer.textContent());
  assert.ok(Math.abs(moment - Date.now()) < 60_000, `${await answer.textContent()} is within a minute of now`);
  await shows(page.locator('#log li.out[data-path="time"]'));
});

test('clients: the list shows this page\'s own id, marked "(you)"', { timeout: TIMEOUT }, async () => {
  const id = await myId();
  await page.click('#route-clients');
  await shows(received('clients', id).locator('.ids button', { hasText: `${id} (you)` }));
});

test('test: the headers of the page\'s upgrade request show on "test"', { timeout: TIMEOUT }, async () => {
  await page.click('#route-test');
  const answer = received('test', /websocket/i).locator('pre').last();
  await answer.waitFor();
  const headers = Object.fromEntries(
    Object.entries(JSON.parse(await answer.textContent())).map(([name, value]) => [name.toLowerCase(), value]));
  assert.equal(headers.upgrade.toLowerCase(), 'websocket');
  assert.equal(headers.origin, server.url);
  assert.equal(headers['sec-websocket-version'], '13');
});

test('toclient: a message to this page\'s own id arrives; an unknown id gets 404', { timeout: TIMEOUT }, async () => {
  const id = await myId();
  // A click on the id in the clients answer fills in the form.
  await received('clients', id).locator('.ids button', { hasText: `${id} (you)` }).first().click();
  assert.equal(await page.inputValue('#to-id'), id);
  await page.fill('#to-message', 'a note to myself');
  await page.click('#to-send');
  await shows(received('output', /^a note to myself$/, 200));

  await page.fill('#to-id', '0'.repeat(32));
  await page.fill('#to-message', 'lost');
  await page.click('#to-send');
  await shows(received('output', 'no such client', 404));
});

test('an unknown path: finch\'s error envelope, status 404, shows', { timeout: TIMEOUT }, async () => {
  await page.click('#route-nowhere');
  const answer = received('error', '"path": "nowhere"', 404).locator('pre').last();
  await answer.waitFor();
  assert.equal(JSON.parse(await answer.textContent()).path, 'nowhere');
});

test('close: the server closes the connection (1000), the client reconnects by itself', { timeout: TIMEOUT }, async () => {
  const before = await myId();
  await page.click('#route-close');
  await shows(note('connection closed (code 1000), reconnecting'));
  // A new connection, with a new id, and the buttons work again.
  await page.locator('#me').filter({ hasText: /^you are [0-9a-f]+$/ }).filter({ hasNotText: before }).waitFor();
  await page.locator('#state').filter({ hasText: /^open$/ }).waitFor();
  const times = await received('output', ISO_TIME).count();
  await page.click('#route-time');
  await shows(received('output', ISO_TIME).nth(times));
  assert.deepEqual(pageErrors, []);
});
