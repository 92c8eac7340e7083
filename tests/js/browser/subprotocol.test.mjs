// Subprotocols in headless Chromium: a page's WebSocket offering ['x', 'b']
// to a server that speaks a and b (finch_js_test_server --subprotocols a,b)
// opens with protocol 'b'; one offering only unknown subprotocols is refused
// (the browser hides the 400 and reports a close with 1006). The page is the
// server's own 404 page, not about:blank: Chromium's Local Network Access
// checks block a WebSocket from about:blank to 127.0.0.1
// (net::ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS), which would also look
// like a refusal.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium } from '../support/browser.mjs';
import { FinchServer, binaryFrom } from '../support/server.mjs';

const TIMEOUT = 30_000;
const server = new FinchServer(binaryFrom('FINCH_JS_TEST_SERVER'), ['--subprotocols', 'a,b']);
let browser;
let page;

before(async () => {
  await server.start();
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${server.url}/`);  // 404, but of the server's origin
}, { timeout: TIMEOUT });

after(async () => {
  await browser?.close();
  await server.stop();
}, { timeout: TIMEOUT });

// Opens a WebSocket in the page offering `protocols`; resolves with how it
// went: {opened, protocol, answer} (answer: what the server's "subprotocol"
// route said) or {opened: false, code}, whichever comes first.
function openInPage(protocols) {
  return page.evaluate(([url, protocols]) => new Promise((resolve) => {
    const ws = new WebSocket(url, protocols);
    ws.onopen = () => ws.send(JSON.stringify({ path: 'subprotocol', id: 1 }));
    ws.onmessage = (event) => {
      resolve({ opened: true, protocol: ws.protocol, answer: JSON.parse(event.data).data });
      ws.close();
    };
    ws.onclose = (event) => resolve({ opened: false, code: event.code });
  }), [server.wsUrl, protocols]);
}

test("a browser offering ['x', 'b'] gets 'b', and the server agrees", { timeout: TIMEOUT }, async () => {
  assert.deepEqual(await openInPage(['x', 'b']), { opened: true, protocol: 'b', answer: 'b' });
});

test('a browser offering nothing gets no subprotocol', { timeout: TIMEOUT }, async () => {
  assert.deepEqual(await openInPage([]), { opened: true, protocol: '', answer: '' });
});

test('a browser offering only unknown subprotocols is refused: it sees 1006', { timeout: TIMEOUT }, async () => {
  assert.deepEqual(await openInPage(['x', 'y']), { opened: false, code: 1006 });
});
