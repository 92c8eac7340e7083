// wss:// with Node's ws against finch_demo --tls-cert --tls-key, with
// certificate verification on: ws trusts only the test CA (its `ca` option;
// rejectUnauthorized is ws's default, true). finch's client rides on a ws
// subclass that passes the CA. Also what a client sees when TLS fails (an
// untrusted CA, another name, plain ws:// on the TLS port), and that the
// server goes on serving afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { get } from 'node:https';

import { WebSocket } from 'ws';

import { connect } from '../../../clients/js/finch.js';
import { makeCertificates, tlsArguments } from '../support/certificates.mjs';
import { FinchServer, binaryFrom } from '../support/server.mjs';
import { nextEvent, nextMessage } from './helpers.mjs';

const TIMEOUT = 20_000;
const files = makeCertificates();

// A started finch_demo serving TLS, stopped after the test.
async function startDemo(t) {
  const server = new FinchServer(binaryFrom('FINCH_DEMO'), tlsArguments(files));
  t.after(() => server.stop());
  await server.start();
  assert.equal(server.secure, true, `the startup line says https://: ${server.output}`);
  return server;
}

// ws, trusting the test CA only: what finch's client gets as its WebSocket.
class TrustingWebSocket extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols, { ca: files.caPem });
  }
}

// A finch client over wss, closed after the test.
function finchClient(t, url, WebSocketClass = TrustingWebSocket) {
  const client = connect(url, { WebSocket: WebSocketClass, reconnect: { minDelay: 10, maxDelay: 50, factor: 2 } });
  t.after(() => client.close());
  return client;
}

// The error a ws socket with `options` ends with, before it ever opens.
async function failure(t, url, options) {
  const ws = new WebSocket(url, options);
  t.after(() => ws.terminate());
  // (events.once would reject on 'error' for the 'open' it waits for.)
  const outcome = await new Promise((resolve) => {
    ws.once('open', () => resolve('opened'));
    ws.once('error', resolve);
  });
  assert.notEqual(outcome, 'opened', `${url} opened with ${JSON.stringify(Object.keys(options))}`);
  return outcome;
}

test('ws verifies the certificate against the test CA; the upgrade is TLS, for 127.0.0.1', { timeout: TIMEOUT }, async (t) => {
  const server = await startDemo(t);
  assert.match(server.wsUrl, /^wss:\/\/127\.0\.0\.1:\d+\/ws$/);
  const ws = new WebSocket(server.wsUrl, { ca: files.caPem });
  t.after(() => ws.terminate());
  const welcome = new Promise((resolve) => ws.on('message', (text) => {
    const envelope = JSON.parse(text);
    if (envelope.path === 'connected') resolve(envelope);
  }));
  const [[response]] = await Promise.all([once(ws, 'upgrade'), once(ws, 'open')]);
  const socket = response.socket;
  assert.equal(socket.encrypted, true);
  assert.equal(socket.authorized, true, `verified: ${socket.authorizationError}`);
  assert.match(socket.getProtocol(), /^TLSv1\.[23]$/);
  const certificate = socket.getPeerCertificate();
  assert.equal(certificate.issuer.CN, 'finch test CA');
  assert.match(certificate.subjectaltname, /IP Address:127\.0\.0\.1/);
  assert.equal((await welcome).data.message, 'Welcome to the finch demo!');

  // The name localhost verifies too (SNI and the DNS name in the certificate).
  const byName = new WebSocket(server.wsUrl, { ca: files.caPem, servername: 'localhost' });
  t.after(() => byName.terminate());
  await once(byName, 'open');
});

test("finch's client over wss: routes, a message to itself, reconnection after the server closes", { timeout: TIMEOUT }, async (t) => {
  const server = await startDemo(t);
  const client = finchClient(t, server.wsUrl);
  const [welcome] = await nextMessage(client, 'connected');
  assert.equal(client.state, 'open');

  const time = nextMessage(client, 'output');
  client.send('time');
  // The first "output" may be the "New user connected" broadcast.
  let [output] = await time;
  while (!/Z$/.test(output)) [output] = await nextMessage(client, 'output');
  assert.ok(Math.abs(Date.parse(output) - Date.now()) < 60_000, output);

  const note = 'x'.repeat(200_000);  // many TLS records
  const delivered = new Promise((resolve) => {
    const handler = (data) => { if (data === note) { client.off('output', handler); resolve(); } };
    client.on('output', handler);
  });
  client.send('toclient', { id: welcome.id, message: note });
  await delivered;

  // The "close" route: the server closes (1000); the client reconnects, over TLS again.
  const closed = nextEvent(client, 'close');
  const reopened = nextMessage(client, 'connected');
  client.send('close');
  assert.equal((await closed).code, 1000);
  const [again] = await reopened;
  assert.notEqual(again.id, welcome.id);
  assert.equal(client.state, 'open');
});

test('https:// GET / with the CA: the page, verified', { timeout: TIMEOUT }, async (t) => {
  const server = await startDemo(t);
  const response = await new Promise((resolve, reject) => {
    const request = get(`${server.url}/`, { ca: files.caPem, timeout: 5_000 }, resolve);
    request.on('timeout', () => request.destroy(new Error('no answer within 5 s')));
    request.on('error', reject);
  });
  assert.equal(response.statusCode, 200);
  assert.equal(response.socket.authorized, true);
  let body = '';
  response.setEncoding('utf8');
  for await (const chunk of response) body += chunk;
  assert.match(body, /location\.protocol === "https:" \? "wss:\/\/" : "ws:\/\/"/);
});

test('what a client sees when TLS fails; the server goes on serving', { timeout: TIMEOUT }, async (t) => {
  const server = await startDemo(t);

  // No CA given: Node trusts its bundled authorities only.
  const untrusted = await failure(t, server.wsUrl, {});
  assert.equal(untrusted.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', untrusted.message);
  t.diagnostic(`without the CA, ws reports: ${untrusted.code}: ${untrusted.message}`);

  // The certificate is for localhost and 127.0.0.1, not other.localhost.
  const mismatch = await failure(t, server.wsUrl, { ca: files.caPem, servername: 'other.localhost' });
  assert.equal(mismatch.code, 'ERR_TLS_CERT_ALTNAME_INVALID', mismatch.message);

  // Plain ws:// on the TLS port: the server answers no HTTP and closes.
  const plain = await failure(t, server.wsUrl.replace('wss://', 'ws://'), {});
  assert.ok(plain instanceof Error);
  t.diagnostic(`plain ws:// on the TLS port: ${plain.code ?? ''} ${plain.message}`);

  // finch's client without the CA: an error event with ws's error, and it
  // keeps trying (an attempt that never opened emits no close).
  const client = finchClient(t, server.wsUrl, WebSocket);
  const [error, reconnecting] = await Promise.all([nextEvent(client, 'error'), nextEvent(client, 'reconnecting')]);
  assert.equal(error.error.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  assert.equal(reconnecting.attempt, 1);
  assert.equal(client.state, 'reconnecting');
  client.close();

  // And a client that trusts the CA still gets in.
  const trusting = finchClient(t, server.wsUrl);
  await nextMessage(trusting, 'connected');
});

test('SIGINT stops the server: an open wss connection gets 1001', { timeout: TIMEOUT }, async (t) => {
  const server = await startDemo(t);
  const ws = new WebSocket(server.wsUrl, { ca: files.caPem });
  t.after(() => ws.terminate());
  await once(ws, 'open');
  const closed = once(ws, 'close');
  await server.stop('SIGINT');
  const [code] = await closed;
  assert.equal(code, 1001);
});
