// permessage-deflate in headless Chromium, which offers it on every
// WebSocket: finch_demo --compression accepts it, and a 20 KiB message goes
// to the server and comes back; finch_chat --compression carries a message
// of 2000 characters between two pages whose sockets both agreed on it.
// Every wait is on a message or on the page's content; nothing sleeps.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium } from '../support/browser.mjs';
import { FinchServer, binaryFrom } from '../support/server.mjs';

const TIMEOUT = 30_000;
const ANSWER = 'permessage-deflate; server_no_context_takeover; client_no_context_takeover';
// About 20 KiB of JSON, above the 1 KiB threshold.
const LARGE = Array.from({ length: 300 },
  (_, i) => ({ id: i, name: `user-${i}`, tags: ['a', 'b', String(i % 7)], score: i * 1.5 }));
let browser;

before(async () => {
  browser = await launchChromium();
}, { timeout: TIMEOUT });

after(async () => {
  await browser?.close();
}, { timeout: TIMEOUT });

// A server started for the test `t` and stopped after it.
async function startServer(t, variable) {
  const server = new FinchServer(binaryFrom(variable), ['--compression']);
  t.after(() => server.stop());
  await server.start();
  return server;
}

test('finch_demo: Chromium gets permessage-deflate, and 20 KiB go both ways', { timeout: TIMEOUT }, async (t) => {
  const server = await startServer(t, 'FINCH_DEMO');
  const page = await browser.newPage();
  t.after(() => page.close());
  await page.goto(`${server.url}/`);  // the server's origin: Chromium blocks 127.0.0.1 from about:blank
  // A WebSocket of the test's own beside the page's: it sends the 20 KiB on
  // "test" (whose answer is the upgrade request's headers) and to itself
  // with "toclient" (which sends them back on "output").
  const got = await page.evaluate(async ([url, large]) => {
    const ws = new WebSocket(url);
    const inbox = [];
    const waiters = [];
    ws.onmessage = (event) => {
      const envelope = JSON.parse(event.data);
      const waiter = waiters.findIndex((w) => w.accept(envelope));
      if (waiter >= 0) waiters.splice(waiter, 1)[0].resolve(envelope);
      else inbox.push(envelope);
    };
    const next = (accept) => new Promise((resolve) => {
      const index = inbox.findIndex(accept);
      if (index >= 0) resolve(inbox.splice(index, 1)[0]);
      else waiters.push({ accept, resolve });
    });
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onclose = (event) => reject(new Error(`closed with ${event.code} before opening`));
    });
    const welcome = await next((envelope) => envelope.path === 'connected');
    ws.send(JSON.stringify({ path: 'test', data: large }));
    const headers = (await next((envelope) => envelope.path === 'test')).data;
    ws.send(JSON.stringify({ path: 'toclient', data: { id: welcome.data.id, message: large } }));
    // The demo's other "output" messages are strings (who connected).
    const back = await next((envelope) => envelope.path === 'output' && typeof envelope.data !== 'string');
    ws.close();
    return { extensions: ws.extensions, headers, back };
  }, [server.wsUrl, LARGE]);

  assert.equal(got.extensions, ANSWER);
  const offered = Object.entries(got.headers).find(([name]) => name.toLowerCase() === 'sec-websocket-extensions');
  assert.equal(offered?.[1], 'permessage-deflate; client_max_window_bits', 'what Chromium offered');
  assert.equal(got.back.status, 200);
  assert.deepEqual(got.back.data, LARGE);
});

test('finch_chat: two pages, both compressed, and a message of 2000 characters', { timeout: TIMEOUT }, async (t) => {
  const server = await startServer(t, 'FINCH_CHAT');
  const pageErrors = [];

  // The chat page keeps its socket inside finch's client: this records every
  // WebSocket the page opens.
  async function enter(nick) {
    const context = await browser.newContext();
    t.after(() => context.close());
    await context.addInitScript(() => {
      const Native = window.WebSocket;
      window.openedSockets = [];
      window.WebSocket = class extends Native {
        constructor(...args) {
          super(...args);
          window.openedSockets.push(this);
        }
      };
    });
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error));
    await page.goto(`${server.url}/`);
    await page.fill('#nick', nick);
    await page.click('#enter');
    await page.locator('#messages li.system', { hasText: 'you joined #lobby:' }).last().waitFor();
    return page;
  }

  const ann = await enter('ann');
  const bob = await enter('bob');
  for (const page of [ann, bob])
    assert.deepEqual(await page.evaluate(() => window.openedSockets.map((ws) => ws.extensions)), [ANSWER]);

  const text = Array.from({ length: 2000 }, (_, i) => 'abcdefghij'[i % 10]).join('');
  await ann.fill('#text', text);
  await ann.click('#send');
  await ann.locator('#messages li.mine .ack', { hasText: '✓ delivered to 1' }).waitFor();
  await bob.locator('#messages li:not(.mine):not(.system)')
    .filter({ has: bob.locator('.from', { hasText: /^ann$/ }) })
    .filter({ has: bob.locator('.text', { hasText: new RegExp(`^${text}$`) }) })
    .waitFor();
  assert.deepEqual(pageErrors, []);
});
