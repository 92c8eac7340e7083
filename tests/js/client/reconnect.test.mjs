// Reconnection: backoff with full jitter, the attempt counter, and the close
// codes and HTTP statuses after which the client does not come back.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { connectTo, nextEvent, openClient, record, startServer } from './helpers.mjs';

const shared = await startServer();

test('reconnects after the server stops and starts again; delays follow the backoff exactly', { timeout: 20000 }, async (t) => {
  const server = await startServer(t);
  // A known "random" sequence, so that each delay can be computed.
  const randoms = [0.5, 0.25, 0.75, 0.125, 1 - 2 ** -10];
  let calls = 0;
  const random = () => randoms[calls++ % randoms.length];
  const reconnect = { minDelay: 4, maxDelay: 40, factor: 3 };
  const client = await openClient(t, server, { reconnect, random });
  const events = record(client, ['close', 'reconnecting', 'statechange']);

  // Five failed attempts (the port refuses) while the server is down.
  const fifth = nextEvent(client, 'reconnecting', (event) => event.attempt === 5);
  await server.stop();
  await fifth;
  const opened = nextEvent(client, 'open');
  await server.start();
  await opened;
  assert.equal(client.state, 'open');

  const close = events.find((event) => event.type === 'close');
  assert.equal(close.code, 1001, 'a stopping finch server says "going away"');
  assert.equal(close.willReconnect, true);
  const waits = events.filter((event) => event.type === 'reconnecting');
  assert.ok(waits.length >= 5);
  waits.forEach((event, index) => {
    const attempt = index + 1;
    assert.equal(event.attempt, attempt);
    const ceiling = Math.min(reconnect.maxDelay, reconnect.minDelay * reconnect.factor ** (attempt - 1));
    assert.equal(event.delay, ceiling * randoms[index % randoms.length], `delay of attempt ${attempt}`);
  });
  assert.deepEqual(events.filter((event) => event.type === 'statechange').map((event) => event.state),
    ['reconnecting', 'open']);

  // Once a connection has opened, the count starts again from 1.
  const again = nextEvent(client, 'reconnecting');
  await server.stop();
  assert.equal((await again).attempt, 1);
});

test('a url function is called before every attempt', { timeout: 10000 }, async (t) => {
  let calls = 0;
  const client = connectTo(t, shared, { url: () => { calls++; return shared.wsUrl; } });
  await nextEvent(client, 'open');
  assert.equal(calls, 1);
  const reopened = nextEvent(client, 'open');
  client.send('bye');
  await reopened;
  assert.equal(calls, 2);
});

test("a normal close (1000, 'bye') is retried", { timeout: 10000 }, async (t) => {
  const client = await openClient(t, shared);
  const closed = nextEvent(client, 'close');
  const reconnecting = nextEvent(client, 'reconnecting');
  client.send('bye');
  const event = await closed;
  assert.equal(event.code, 1000);
  assert.equal(event.willReconnect, true);
  assert.equal(client.state, 'reconnecting');
  assert.equal((await reconnecting).attempt, 1);
  await nextEvent(client, 'open');
  assert.equal(await client.request('echo', 'back'), 'back');
});

test("a policy violation (1008, 'kick') is terminal: no reconnect, state 'closed'", { timeout: 10000 }, async (t) => {
  const client = await openClient(t, shared);
  const events = record(client, ['close', 'reconnecting', 'statechange']);
  const waiting = client.request('silent', null, { timeout: 60000 });
  const closed = nextEvent(client, 'close');
  client.send('kick');
  const event = await closed;
  assert.equal(event.code, 1008);
  assert.equal(event.reason, 'kicked');
  assert.equal(event.willReconnect, false);
  assert.equal(client.state, 'closed');
  await assert.rejects(waiting, { code: 'disconnected' });
  assert.equal(client.send('echo', 1), false);
  assert.deepEqual(events.map((e) => e.type), ['statechange', 'close']);
  assert.equal(events[0].state, 'closed');
});

test('terminalCloseCodes replaces the default list', { timeout: 10000 }, async (t) => {
  const client = await openClient(t, shared, { terminalCloseCodes: [1000] });
  const closed = nextEvent(client, 'close');
  client.send('bye');
  assert.equal((await closed).willReconnect, false);
  assert.equal(client.state, 'closed');

  const kickable = await openClient(t, shared, { terminalCloseCodes: [] });
  const kicked = nextEvent(kickable, 'close');
  kickable.send('kick');
  assert.equal((await kicked).willReconnect, true);
  await nextEvent(kickable, 'open');
});

test('an upgrade refused with a terminal HTTP status (404 here) is not retried', { timeout: 10000 }, async (t) => {
  const client = connectTo(t, shared, { url: `ws://127.0.0.1:${shared.port}/not-the-websocket` });
  const events = record(client, ['error', 'close', 'reconnecting']);
  const closed = nextEvent(client, 'close');
  const event = await closed;
  assert.equal(event.willReconnect, false);
  assert.equal(client.state, 'closed');
  assert.deepEqual(events.map((e) => e.type), ['error', 'close']);
  assert.match(events[0].error.message, /404/);
});

test('the same refusal is retried when its status is not in terminalHttpStatuses', { timeout: 10000 }, async (t) => {
  const client = connectTo(t, shared, {
    url: `ws://127.0.0.1:${shared.port}/not-the-websocket`,
    terminalHttpStatuses: [401],
  });
  const second = await nextEvent(client, 'reconnecting', (event) => event.attempt === 2);
  assert.equal(second.attempt, 2);
  assert.equal(client.state, 'reconnecting');
});

test('with reconnect: false any close ends the client', { timeout: 10000 }, async (t) => {
  const client = await openClient(t, shared, { reconnect: false });
  const closed = nextEvent(client, 'close');
  client.send('bye');
  const event = await closed;
  assert.equal(event.code, 1000);
  assert.equal(event.willReconnect, false);
  assert.equal(client.state, 'closed');
});

test('while the browser says it is offline no attempt is made; online tries at once', { timeout: 10000 }, async (t) => {
  // What a browser has: navigator.onLine and 'online' events on the global.
  const savedNavigator = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  const events = new EventTarget();
  Object.defineProperty(globalThis, 'navigator', { value: { onLine: false }, configurable: true, writable: true });
  globalThis.addEventListener = events.addEventListener.bind(events);
  globalThis.removeEventListener = events.removeEventListener.bind(events);
  t.after(() => {
    if (savedNavigator) Object.defineProperty(globalThis, 'navigator', savedNavigator);
    else delete globalThis.navigator;
    delete globalThis.addEventListener;
    delete globalThis.removeEventListener;
  });

  let calls = 0;
  const client = connectTo(t, shared, { url: () => { calls++; return shared.wsUrl; } });
  assert.equal(calls, 0);
  assert.equal(client.state, 'connecting');
  const opened = nextEvent(client, 'open');
  globalThis.navigator.onLine = true;
  events.dispatchEvent(new Event('online'));
  await opened;
  assert.equal(calls, 1);
});
