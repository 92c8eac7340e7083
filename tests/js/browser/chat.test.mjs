// The chat example's page in headless Chromium, two people in two browser
// contexts: they enter with nicknames, meet in the lobby, talk, measure the
// latency (the server asks the page "ping"), and come back into their rooms
// by themselves after the server restarts. Every wait is on the page's
// content (Playwright's locators poll until it shows, or the test's timeout
// ends it); nothing sleeps.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium } from '../support/browser.mjs';
import { FinchServer, binaryFrom } from '../support/server.mjs';

const TIMEOUT = 30_000;
const server = new FinchServer(binaryFrom('FINCH_CHAT'), ['--threads', '2']);
let browser;
let ann;
let bob;
const pageErrors = [];

before(async () => {
  await server.start();
  browser = await launchChromium();
}, { timeout: TIMEOUT });

after(async () => {
  await browser?.close();
  await server.stop();
}, { timeout: TIMEOUT });

// Waits until the page shows what `locator` finds (the latest, if several).
function shows(locator) {
  return locator.last().waitFor();
}

// A fresh browser context (its own cookies and storage) on the chat's page.
async function openPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error));
  await page.goto(`${server.url}/`);
  return page;
}

// Opens the page, enters as `nick`, and waits to be in the lobby.
async function enter(nick) {
  const page = await openPage();
  await page.fill('#nick', nick);
  await page.click('#enter');
  await shows(state(page, /^open$/));
  await shows(page.locator('#who', { hasText: `you are ${nick}` }));
  await shows(systemLine(page, 'you joined #lobby:'));
  return page;
}

function state(page, text) {
  return page.locator('#state', { hasText: text });
}

// A line of the page's own in the room on screen ("you joined", "bob left").
function systemLine(page, text) {
  return page.locator('#messages li.system', { hasText: text });
}

// A message of someone else in the room on screen.
function messageFrom(page, from, text) {
  return page.locator('#messages li:not(.mine):not(.system)')
    .filter({ has: page.locator('.from', { hasText: new RegExp(`^${from}$`) }) })
    .filter({ has: page.locator('.text', { hasText: new RegExp(`^${text}$`) }) });
}

// Says `text` in the room on screen; resolves once the server acknowledged
// it, with the acknowledgement ("✓ delivered to 1").
async function say(page, text) {
  await page.fill('#text', text);
  await page.click('#send');   // waits for the button: disabled while reconnecting
  const ack = page.locator('#messages li.mine')
    .filter({ has: page.locator('.text', { hasText: new RegExp(`^${text}$`) }) })
    .last().locator('.ack', { hasText: /^[✓✗]/ });
  await ack.waitFor();
  return ack.textContent();
}

test('two people meet in the lobby and talk', { timeout: TIMEOUT }, async () => {
  ann = await enter('ann');
  await shows(systemLine(ann, /^you joined #lobby: ann$/));
  bob = await enter('bob');
  await shows(systemLine(bob, /^you joined #lobby: (ann, bob|bob, ann)$/));
  await shows(systemLine(ann, /^bob joined$/));
  await shows(ann.locator('#members', { hasText: '2 online' }));

  assert.equal(await say(ann, 'hello, bob'), '✓ delivered to 1');
  await shows(messageFrom(bob, 'ann', 'hello, bob'));
  assert.equal(await say(bob, 'hi ann'), '✓ delivered to 1');
  await shows(messageFrom(ann, 'bob', 'hi ann'));
  assert.deepEqual(pageErrors, []);
});

test('a nickname in use is refused, with the server\'s reason', { timeout: TIMEOUT }, async () => {
  const page = await openPage();
  await page.fill('#nick', 'ann');
  await page.click('#enter');
  await shows(page.locator('#login-problem', { hasText: 'that nickname is taken' }));
  assert.equal(await page.locator('#state').textContent(), 'not connected');
  await page.context().close();
});

test('latency: the page answers the server\'s "ping" and shows the round trip', { timeout: TIMEOUT }, async () => {
  await ann.click('#latency');
  await shows(ann.locator('#tool-note', { hasText: /^round trip: \d+\.\d\d ms$/ }));
});

test('after a server restart the pages reconnect, rejoin their rooms and talk again', { timeout: 60_000 }, async () => {
  // ann is in a second room too; the lobby is on screen.
  await ann.fill('#room-name', 'garden');
  await ann.click('#join');
  await shows(systemLine(ann, /^you joined #garden: ann$/));
  await ann.click('#rooms li[data-room="lobby"]');
  await shows(ann.locator('#room-title', { hasText: '#lobby' }));

  await server.stop();
  for (const page of [ann, bob]) {
    await shows(state(page, /^reconnecting \(attempt \d+\)$/));
    await shows(systemLine(page, 'disconnected (code 1001'));
  }

  await server.start();   // the same port
  for (const page of [ann, bob]) {
    await shows(state(page, /^open$/));
    await shows(systemLine(page, /^you rejoined #lobby: /));
  }
  assert.equal(await say(bob, 'back again'), '✓ delivered to 1');
  await shows(messageFrom(ann, 'bob', 'back again'));
  assert.equal(await say(ann, 'welcome back'), '✓ delivered to 1');
  await shows(messageFrom(bob, 'ann', 'welcome back'));

  // ann is back in the garden as well.
  await ann.click('#rooms li[data-room="garden"]');
  await shows(systemLine(ann, /^you rejoined #garden: ann$/));
  assert.deepEqual(pageErrors, []);
});
