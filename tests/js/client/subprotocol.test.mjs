// Subprotocols with Node's ws, directly and through finch's client: the
// server (--subprotocols a,b) picks the first offered one it speaks, and
// refuses a client that offers only others with HTTP 400, which ends
// finch's client for good (a terminal HTTP status).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';

import { WebSocket } from 'ws';

import { connectTo, nextEvent, openClient, record, startServer } from './helpers.mjs';

const server = await startServer(undefined, ['--subprotocols', 'a,b']);

// A ws socket, terminated after the test `t`.
function plainSocket(t, protocols) {
  const ws = protocols === undefined ? new WebSocket(server.wsUrl) : new WebSocket(server.wsUrl, protocols);
  ws.on('error', () => {});  // the tests below look at 'unexpected-response' and 'open'
  t.after(() => ws.terminate());
  return ws;
}

test("ws offering ['x', 'b', 'a'] gets 'b', the first in its order that the server speaks", { timeout: 10000 }, async (t) => {
  const ws = plainSocket(t, ['x', 'b', 'a']);
  await once(ws, 'open');
  assert.equal(ws.protocol, 'b');
});

test('ws offering only unknown subprotocols is refused with HTTP 400', { timeout: 10000 }, async (t) => {
  const ws = plainSocket(t, ['x', 'y']);
  const [, response] = await once(ws, 'unexpected-response');
  assert.equal(response.statusCode, 400);
  let body = '';
  for await (const chunk of response) body += chunk;
  assert.equal(body, 'Unsupported subprotocol: the client offered x, y; this server speaks a, b.\n');
});

test('the client reports the chosen subprotocol as client.protocol, and the server agrees', { timeout: 10000 }, async (t) => {
  const client = connectTo(t, server, { protocols: ['x', 'b', 'a'] });
  assert.equal(client.protocol, '', 'not open yet');
  await nextEvent(client, 'open');
  assert.equal(client.protocol, 'b');
  assert.equal(await client.request('subprotocol'), 'b');

  const plain = await openClient(t, server);
  assert.equal(plain.protocol, '');
  assert.equal(await plain.request('subprotocol'), '');

  const closed = nextEvent(client, 'close');
  client.close();
  await closed;
  assert.equal(client.protocol, '', 'closed');
});

test('the client offering only unknown subprotocols ends for good: 400 is a terminal status', { timeout: 10000 }, async (t) => {
  const client = connectTo(t, server, { protocols: ['x'] });
  const events = record(client, ['error', 'close', 'reconnecting', 'open']);
  const event = await nextEvent(client, 'close');
  assert.equal(event.willReconnect, false);
  assert.equal(client.state, 'closed');
  assert.deepEqual(events.map((e) => e.type), ['error', 'close']);
  assert.match(events[0].error.message, /400/);
});
