// What every client test file shares: a finch_js_test_server per file (or per
// test, for those that stop it), clients that are closed after their test,
// and promises for the next event or message, so that tests wait for what
// happens instead of sleeping.
import { after } from 'node:test';

import { WebSocket } from 'ws';

import { connect } from '../../../clients/js/finch.js';
import { FinchServer, binaryFrom } from '../support/server.mjs';

// A started test server, stopped (thawed first, if a test froze it) after
// the test `t`, or without `t` after the whole file. `args` are more command
// line arguments (`['--subprotocols', 'a,b']`).
export async function startServer(t, args = []) {
  const server = new FinchServer(binaryFrom('FINCH_JS_TEST_SERVER'), args);
  const stop = async () => {
    if (server.child) server.resume();
    await server.stop();
  };
  if (t) t.after(stop);
  else after(stop);
  await server.start();
  return server;
}

// A client of `server` with ws, closed after the test. The delays are small so
// that tests which restart the server do not wait for the defaults.
export function connectTo(t, server, options = {}) {
  const client = connect(options.url ?? server.wsUrl, {
    WebSocket,
    reconnect: { minDelay: 10, maxDelay: 50, factor: 2 },
    ...options,
  });
  t.after(() => client.close());
  return client;
}

// The next event of `type` on `target` for which `accept` holds.
export function nextEvent(target, type, accept = () => true) {
  return new Promise((resolve) => {
    const listener = (event) => {
      if (!accept(event)) return;
      target.removeEventListener(type, listener);
      resolve(event);
    };
    target.addEventListener(type, listener);
  });
}

// The next message on `path`: [data, envelope].
export function nextMessage(client, path) {
  return new Promise((resolve) => {
    const handler = (data, envelope) => {
      client.off(path, handler);
      resolve([data, envelope]);
    };
    client.on(path, handler);
  });
}

// A client that has opened.
export async function openClient(t, server, options = {}) {
  const client = connectTo(t, server, options);
  await nextEvent(client, 'open');
  return client;
}

// Records every event of the given types on `target`, in order.
export function record(target, types) {
  const events = [];
  for (const type of types) target.addEventListener(type, (event) => events.push(event));
  return events;
}
