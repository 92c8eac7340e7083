// The heartbeat and connectTimeout against a frozen server (SIGSTOP): its
// sockets stay open and the kernel still accepts TCP connections, but nothing
// answers, so only the client's own timers can notice.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { WebSocket } from 'ws';

import { connectTo, nextEvent, openClient, record, startServer } from './helpers.mjs';

const options = {
  heartbeat: { interval: 100, timeout: 300 },
  connectTimeout: 200,
  reconnect: { minDelay: 10, maxDelay: 50, factor: 2 },
};

test('a frozen server is noticed by the heartbeat, and the client comes back once it thaws', { timeout: 20000 }, async (t) => {
  const server = await startServer(t);
  const client = await openClient(t, server, options);
  // The heartbeat's pings go unnoticed by the application: requests keep working.
  assert.equal(await client.request('echo', 'alive'), 'alive');

  const events = record(client, ['close', 'reconnecting', 'error', 'open']);
  const closed = nextEvent(client, 'close');
  const gaveUpOnce = nextEvent(client, 'error', (event) => event.error?.code === 'timeout');
  server.pause();
  const event = await closed;
  assert.equal(event.code, 1006);
  assert.equal(event.reason, 'heartbeat timeout');
  assert.equal(event.willReconnect, true);
  assert.equal(client.state, 'reconnecting');
  // Attempts against the frozen server are abandoned after connectTimeout.
  await gaveUpOnce;

  const opened = nextEvent(client, 'open');
  server.resume();
  await opened;
  assert.equal(await client.request('echo', 'back'), 'back');
  assert.equal(events[0].type, 'close');
  assert.equal(events[1].type, 'reconnecting');
  assert.equal(events.filter((e) => e.type === 'close').length, 1, 'no close event for attempts that never opened');
});

test('connectTimeout abandons an attempt that does not open: error, then reconnecting, no close', { timeout: 20000 }, async (t) => {
  const server = await startServer(t);
  server.pause();
  const client = connectTo(t, server, { ...options, heartbeat: false });
  const events = record(client, ['close', 'reconnecting', 'error', 'open']);
  const reconnecting = await nextEvent(client, 'reconnecting');
  assert.equal(reconnecting.attempt, 1);
  assert.deepEqual(events.map((e) => e.type), ['error', 'reconnecting']);
  assert.equal(events[0].error.name, 'FinchError');
  assert.equal(events[0].error.code, 'timeout');

  const opened = nextEvent(client, 'open');
  server.resume();
  await opened;
  assert.equal(events.some((e) => e.type === 'close'), false);
});

// The client sends a ping only once the previous one was answered, so a fifth
// ping, with no close before it, proves four answers accepted (the timeout is
// generous: a slow machine must not look like a dead server). A path
// without route gets finch's 404 error envelope, which proves life as well
// (servers without Options::heartbeatPath answer '$ping' that way).
for (const path of ['$ping', 'no-such-route']) {
  test(`heartbeat pings on '${path}' are answered and keep the connection`, { timeout: 20000 }, async (t) => {
    const server = await startServer(t);
    const pings = [];
    let fifth;
    const fifthPing = new Promise((resolve) => { fifth = resolve; });
    class Spy extends WebSocket {
      send(text, ...rest) {
        const message = JSON.parse(text);
        if (message.path === path) {
          pings.push(message);
          if (pings.length === 5) fifth();
        }
        return super.send(text, ...rest);
      }
    }
    const client = connectTo(t, server, { WebSocket: Spy, heartbeat: { interval: 50, timeout: 2000, path } });
    const events = record(client, ['close', 'reconnecting']);
    await fifthPing;
    assert.deepEqual(events, []);
    assert.equal(client.state, 'open');
    assert.deepEqual(Object.keys(pings[0]), ['path', 'id']);
    const ids = pings.map((ping) => ping.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    assert.equal(new Set(ids).size, ids.length);
  });
}
