// on()/off(): server envelopes reach the handlers of their path, error
// envelopes that answer no request reach on('error'). The server's "push"
// route sends any data on any path; envelopes of one connection arrive in
// order, so a later push is the barrier that proves an earlier one reached
// no handler.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { WebSocket } from 'ws';

import { connect } from '../../../clients/js/finch.js';
import { nextMessage, openClient, startServer } from './helpers.mjs';

const server = await startServer();

const push = (client, path, data) => client.send('push', { path, data });

test('a handler gets the data and the whole envelope of its path', { timeout: 10000 }, async (t) => {
  const client = await openClient(t, server);
  const received = nextMessage(client, 'news');
  push(client, 'news', { headline: 'finch ships a client' });
  const [data, envelope] = await received;
  assert.deepEqual(data, { headline: 'finch ships a client' });
  assert.equal(envelope.path, 'news');
  assert.equal(envelope.status, 200);
  assert.equal(typeof envelope.timestamp, 'number');
});

test('several handlers per path, off() one of them or all of a path', { timeout: 10000 }, async (t) => {
  const client = await openClient(t, server);
  const seen = [];
  const first = (data) => seen.push(`first:${data}`);
  const second = (data) => seen.push(`second:${data}`);
  const other = (data) => seen.push(`other:${data}`);
  assert.equal(client.on('a', first).on('a', second).on('b', other), client, 'on() is chainable');

  let barrier = nextMessage(client, 'barrier');
  push(client, 'a', 1);
  push(client, 'b', 2);
  push(client, 'barrier', null);
  await barrier;
  assert.deepEqual(seen, ['first:1', 'second:1', 'other:2']);

  seen.length = 0;
  assert.equal(client.off('a', first), client, 'off() is chainable');
  barrier = nextMessage(client, 'barrier');
  push(client, 'a', 3);
  push(client, 'barrier', null);
  await barrier;
  assert.deepEqual(seen, ['second:3']);

  seen.length = 0;
  client.off('a');
  barrier = nextMessage(client, 'barrier');
  push(client, 'a', 4);
  push(client, 'b', 5);
  push(client, 'barrier', null);
  await barrier;
  assert.deepEqual(seen, ['other:5']);
});

test('a throwing handler does not keep the message from the others, and is reported', { timeout: 10000 }, async (t) => {
  const client = await openClient(t, server);
  const errors = [];
  client.addEventListener('error', (event) => errors.push(event.error));
  client.on('x', () => { throw new Error('handler bug'); });
  const received = nextMessage(client, 'x');
  push(client, 'x', 'still delivered');
  assert.deepEqual((await received)[0], 'still delivered');
  assert.equal(errors.length, 1);
  assert.equal(errors[0].message, 'handler bug');
});

test("an unknown path's error envelope reaches on('error'); a request's does not", { timeout: 10000 }, async (t) => {
  const client = await openClient(t, server);
  const errors = [];
  client.on('error', (data, envelope) => errors.push([data, envelope]));

  const reported = nextMessage(client, 'error');
  assert.equal(client.send('nowhere', 1), true);
  const [data, envelope] = await reported;
  assert.deepEqual(data, { message: 'no route for path "nowhere"', path: 'nowhere' });
  assert.equal(envelope.status, 404);
  assert.equal(envelope.replyTo, undefined);

  errors.length = 0;
  await assert.rejects(client.request('nowhere either'), { name: 'FinchError', code: 'status', status: 404 });
  const barrier = nextMessage(client, 'barrier');
  push(client, 'barrier', null);
  await barrier;
  assert.deepEqual(errors, [], 'the answer to a request is only the request\'s');
});

test('connect() without a WebSocket constructor throws a TypeError', { timeout: 10000 }, (t) => {
  const saved = globalThis.WebSocket;
  t.after(() => { globalThis.WebSocket = saved; });
  globalThis.WebSocket = undefined;
  assert.throws(() => connect(server.wsUrl), TypeError);
});

test("connect() refuses a bad URL, an encoding other than 'json' and an unknown bufferPolicy", { timeout: 10000 }, () => {
  // What the WebSocket constructor throws for the first attempt comes out of connect().
  assert.throws(() => connect('not a url', { WebSocket }), SyntaxError);
  class NeverUsed {}
  assert.throws(() => connect(server.wsUrl, { WebSocket: NeverUsed, encoding: 'msgpack' }), RangeError);
  assert.throws(() => connect(server.wsUrl, { WebSocket: NeverUsed, bufferPolicy: 'keepAll' }), RangeError);
});
