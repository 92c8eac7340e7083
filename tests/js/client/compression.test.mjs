// permessage-deflate with Node's ws against finch_js_test_server --compression:
// ws offers it by default (permessage-deflate; client_max_window_bits) and
// gets finch's answer, which the server's Socket::compressed() agrees with;
// messages below and above the 1 KiB threshold go both ways, directly and
// through finch's client; a window the client asks for is honoured; ws
// without it, and a server without --compression, talk uncompressed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';

import { WebSocket } from 'ws';

import { nextMessage, openClient, startServer } from './helpers.mjs';

const ANSWER = 'permessage-deflate; server_no_context_takeover; client_no_context_takeover';
const server = await startServer(undefined, ['--compression']);

// About 20 KiB of JSON that deflate shrinks, as real messages are.
const LARGE = Array.from({ length: 300 },
  (_, i) => ({ id: i, name: `user-${i}`, tags: ['a', 'b', String(i % 7)], score: i * 1.5 }));
const SMALL = 'x'.repeat(100);

// An open ws socket with `options`, terminated after the test, and the 101's
// Sec-WebSocket-Extensions (undefined when there is none).
async function openSocket(t, url, options) {
  const ws = new WebSocket(url, options);
  t.after(() => ws.terminate());
  // ws emits both in the same tick: listen for both at once.
  const [[response]] = await Promise.all([once(ws, 'upgrade'), once(ws, 'open')]);
  return { ws, header: response.headers['sec-websocket-extensions'] };
}

// Sends {path, id, data} and resolves with the envelope that answers it.
function request(ws, path, id, data) {
  const answered = new Promise((resolve) => {
    const listener = (message) => {
      const envelope = JSON.parse(message);
      if (envelope.replyTo !== id) return;
      ws.off('message', listener);
      resolve(envelope);
    };
    ws.on('message', listener);
  });
  ws.send(JSON.stringify({ path, id, data }));
  return answered;
}

async function echoes(ws, data, id) {
  const answer = await request(ws, 'echo', id, data);
  assert.equal(answer.status, 200);
  assert.deepEqual(answer.data, data);
}

test("ws offering permessage-deflate by default gets finch's answer; 100 B and 20 KiB round-trip", { timeout: 10000 }, async (t) => {
  const { ws, header } = await openSocket(t, server.wsUrl);
  assert.equal(header, ANSWER);
  assert.equal(ws.extensions, 'permessage-deflate');
  assert.equal((await request(ws, 'compressed', 1)).data, true, "the server's Socket::compressed()");
  await echoes(ws, SMALL, 2);
  await echoes(ws, LARGE, 3);
});

test("finch's client over ws: compression agreed, requests and a broadcast of both sizes", { timeout: 10000 }, async (t) => {
  // finch's client keeps its socket to itself: this subclass shows it.
  const sockets = [];
  class RecordingWebSocket extends WebSocket {
    constructor(...args) {
      super(...args);
      sockets.push(this);
    }
  }
  const client = await openClient(t, server, { WebSocket: RecordingWebSocket });
  assert.equal(sockets.length, 1);
  assert.equal(sockets[0].extensions, 'permessage-deflate');
  assert.equal(await client.request('compressed'), true);
  assert.deepEqual(await client.request('echo', SMALL), SMALL);
  assert.deepEqual(await client.request('echo', LARGE), LARGE);
  const news = nextMessage(client, 'news');
  assert.equal(await client.request('broadcast', { path: 'news', data: LARGE }), 1);
  assert.deepEqual((await news)[0], LARGE);
});

test('ws with perMessageDeflate: false gets no extension, and 20 KiB round-trip', { timeout: 10000 }, async (t) => {
  const { ws, header } = await openSocket(t, server.wsUrl, { perMessageDeflate: false });
  assert.equal(header, undefined);
  assert.equal(ws.extensions, '');
  assert.equal((await request(ws, 'compressed', 1)).data, false);
  await echoes(ws, LARGE, 2);
});

test('ws with threshold 0 compresses every message: 200 of 0 B to 10 KiB, all answered in order', { timeout: 20000 }, async (t) => {
  const { ws, header } = await openSocket(t, server.wsUrl, { perMessageDeflate: { threshold: 0 } });
  assert.equal(header, ANSWER);
  const count = 200;
  const sent = Array.from({ length: count }, (_, i) => ({ i, text: 'y'.repeat(i * 50) }));
  const replies = [];
  const all = new Promise((resolve) => {
    ws.on('message', (message) => {
      replies.push(JSON.parse(message));
      if (replies.length === count) resolve();
    });
  });
  // All at once: ws compresses them concurrently and must keep their order.
  sent.forEach((data, i) => ws.send(JSON.stringify({ path: 'echo', id: i + 1, data })));
  await all;
  assert.deepEqual(replies.map((reply) => reply.replyTo), sent.map((_, i) => i + 1));
  assert.deepEqual(replies.map((reply) => reply.data), sent);
});

test('ws asking serverMaxWindowBits 10 gets it, and inflates with that window', { timeout: 10000 }, async (t) => {
  const { ws, header } = await openSocket(t, server.wsUrl, { perMessageDeflate: { serverMaxWindowBits: 10 } });
  assert.equal(header,
    'permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_no_context_takeover');
  // A 2000-byte block repeated: compressed with a larger window, the reply
  // would refer 2000 bytes back, which ws's inflater of 1 KiB refuses.
  const block = randomBytes(1000).toString('hex');
  await echoes(ws, block.repeat(10), 1);
});

test('a server without --compression: ws offering it gets no extension, and 20 KiB round-trip', { timeout: 10000 }, async (t) => {
  const plain = await startServer(t);
  const { ws, header } = await openSocket(t, plain.wsUrl);
  assert.equal(header, undefined);
  assert.equal(ws.extensions, '');
  assert.equal((await request(ws, 'compressed', 1)).data, false);
  await echoes(ws, LARGE, 2);
});
