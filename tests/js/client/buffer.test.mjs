// The offline buffer: what is sent while the client is not open waits, and
// goes out in order once it is, within `bufferSize` and its policy. Each test
// has its own server, which it stops and starts again on the same port; the
// server's "note" route records data and "notes" replies the list, which a
// restarted server begins empty.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { nextEvent, openClient, startServer } from './helpers.mjs';

// Stops the server and resolves once the client has seen its connection end.
async function takeDown(server, client) {
  const closed = nextEvent(client, 'close');
  await server.stop();
  const event = await closed;
  assert.equal(event.willReconnect, true);
  assert.notEqual(client.state, 'open');
}

async function bringBack(server, client) {
  const opened = nextEvent(client, 'open');
  await server.start();
  await opened;
}

test('messages sent while the server is down arrive after reconnecting, in order, before later ones', { timeout: 15000 }, async (t) => {
  const server = await startServer(t);
  const client = await openClient(t, server);
  await takeDown(server, client);

  for (let n = 1; n <= 5; n++) assert.equal(client.send('note', `offline ${n}`), true);
  // A request waits in the buffer too, through failed attempts, and is answered.
  const echoed = client.request('echo', 'buffered request');
  // Listeners of 'open' run after the buffer has been flushed.
  client.addEventListener('open', () => client.send('note', 'sent on open'), { once: true });

  await bringBack(server, client);
  assert.equal(await echoed, 'buffered request');
  assert.deepEqual(await client.request('notes'),
    ['offline 1', 'offline 2', 'offline 3', 'offline 4', 'offline 5', 'sent on open']);
});

test("with 'dropOldest' only the newest bufferSize messages arrive; a dropped request rejects", { timeout: 15000 }, async (t) => {
  const server = await startServer(t);
  const client = await openClient(t, server, { bufferSize: 3, bufferPolicy: 'dropOldest' });
  await takeDown(server, client);

  const dropped = client.request('echo', 'dropped');
  for (let n = 1; n <= 6; n++) assert.equal(client.send('note', `note ${n}`), true);
  await assert.rejects(dropped, { name: 'FinchError', code: 'bufferOverflow' });

  await bringBack(server, client);
  assert.deepEqual(await client.request('notes'), ['note 4', 'note 5', 'note 6']);
});

test("with 'reject' a full buffer refuses: send() returns false, request() rejects", { timeout: 15000 }, async (t) => {
  const server = await startServer(t);
  const client = await openClient(t, server, { bufferSize: 3, bufferPolicy: 'reject' });
  await takeDown(server, client);

  for (let n = 1; n <= 3; n++) assert.equal(client.send('note', `kept ${n}`), true);
  assert.equal(client.send('note', 'refused'), false);
  await assert.rejects(client.request('echo', 'refused'), { name: 'FinchError', code: 'bufferOverflow' });

  await bringBack(server, client);
  assert.deepEqual(await client.request('notes'), ['kept 1', 'kept 2', 'kept 3']);
});

test('a buffered request that times out is not sent later', { timeout: 15000 }, async (t) => {
  const server = await startServer(t);
  const client = await openClient(t, server);
  await takeDown(server, client);

  // "push" would send its data on "late": it must never arrive.
  const late = [];
  client.on('late', (data) => late.push(data));
  await assert.rejects(client.request('push', { path: 'late', data: 'too late' }, { timeout: 50 }), { code: 'timeout' });

  await bringBack(server, client);
  // Envelopes of one connection arrive in order: once this answer is here,
  // anything the buffered request had caused would have arrived before it.
  assert.equal(await client.request('echo', 'barrier'), 'barrier');
  assert.deepEqual(late, []);
});
