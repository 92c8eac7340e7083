// request() and onRequest(): answers in both directions, and every way a
// request of the client can fail (status, timeout, disconnected, closed).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { FinchError } from '../../../clients/js/finch.js';
import { connectTo, nextEvent, nextMessage, openClient, startServer } from './helpers.mjs';

const server = await startServer();

test('request() resolves with the data of the reply', { timeout: 10000 }, async (t) => {
  const client = await openClient(t, server);
  assert.deepEqual(await client.request('echo', { sum: [1, 2] }), { sum: [1, 2] });
  // Several at once, answered in any order, each matched by its id.
  const answers = await Promise.all([1, 2, 3].map((n) => client.request('echo', n)));
  assert.deepEqual(answers, [1, 2, 3]);
});

test("a reply with status 422 rejects with code 'status', the status, the message and the envelope", { timeout: 10000 }, async (t) => {
  const client = await openClient(t, server);
  const error = await client.request('fail', 'anything').then(
    () => assert.fail('a failed request resolved'), (e) => e);
  assert.ok(error instanceof FinchError);
  assert.equal(error.code, 'status');
  assert.equal(error.status, 422);
  assert.equal(error.message, 'refused');
  assert.equal(error.envelope.path, 'fail');
  assert.deepEqual(error.envelope.data, { message: 'refused' });
});

// The server's "ask" route asks this client "question" and sends back, on
// "answered", the whole answer object the client sent.
async function ask(client, data) {
  const answered = nextMessage(client, 'answered');
  client.send('ask', data);
  return (await answered)[0];
}

test('onRequest answers the server with a value', { timeout: 10000 }, async (t) => {
  const client = await openClient(t, server);
  const seen = [];
  assert.equal(client.onRequest('question', (data, envelope) => {
    seen.push(envelope);
    return { doubled: data * 2 };
  }), client, 'onRequest() is chainable');
  const answer = await ask(client, 21);
  assert.deepEqual(answer.data, { doubled: 42 });
  assert.equal(answer.status, undefined);
  assert.equal(seen.length, 1);
  assert.equal(answer.replyTo, seen[0].id, 'the answer carries the id of the server\'s request');
  assert.equal(seen[0].path, 'question');
});

test('onRequest answers the server with what a Promise resolves to', { timeout: 10000 }, async (t) => {
  const client = await openClient(t, server);
  client.onRequest('question', async (data) => {
    await new Promise((resolve) => setImmediate(resolve));
    return `later: ${data}`;
  });
  const answer = await ask(client, 'hi');
  assert.equal(answer.data, 'later: hi');
});

test('a throwing or rejecting onRequest handler answers status 500 with its message', { timeout: 10000 }, async (t) => {
  const client = await openClient(t, server);
  client.onRequest('question', () => { throw new Error('cannot answer'); });
  let answer = await ask(client, null);
  assert.equal(answer.status, 500);
  assert.deepEqual(answer.data, { message: 'cannot answer' });

  client.onRequest('question', () => Promise.reject(new Error('cannot answer later')));
  answer = await ask(client, null);
  assert.equal(answer.status, 500);
  assert.deepEqual(answer.data, { message: 'cannot answer later' });
});

test('a server request on a path without onRequest handler is answered with 404', { timeout: 10000 }, async (t) => {
  const client = await openClient(t, server);
  const answer = await ask(client, null);
  assert.equal(answer.status, 404);
  assert.match(answer.data.message, /question/);
  // onRequest(path, null) removes a handler again.
  client.onRequest('question', () => 'yes').onRequest('question', null);
  assert.equal((await ask(client, null)).status, 404);
});

test("a request nobody answers rejects with code 'timeout'", { timeout: 10000 }, async (t) => {
  const client = await openClient(t, server);
  await assert.rejects(client.request('silent', null, { timeout: 100 }), { name: 'FinchError', code: 'timeout' });
  // The option sets the default of every request.
  const impatient = await openClient(t, server, { requestTimeout: 100 });
  await assert.rejects(impatient.request('silent'), { code: 'timeout' });
});

test("a request waiting when the connection drops rejects with code 'disconnected'", { timeout: 10000 }, async (t) => {
  const client = await openClient(t, server);
  const waiting = client.request('silent', null, { timeout: 60000 });
  client.send('bye');  // the server closes this connection (1000)
  await assert.rejects(waiting, { name: 'FinchError', code: 'disconnected' });
  // The client comes back, and its requests work again.
  await nextEvent(client, 'open');
  assert.equal(await client.request('echo', 'again'), 'again');
});

test("close() rejects waiting requests with code 'closed', and later ones at once", { timeout: 10000 }, async (t) => {
  const client = await openClient(t, server);
  const waiting = client.request('silent', null, { timeout: 60000 });
  const closed = nextEvent(client, 'close');
  client.close();
  await assert.rejects(waiting, { name: 'FinchError', code: 'closed' });
  const event = await closed;
  assert.equal(event.code, 1000);
  assert.equal(event.willReconnect, false);
  assert.equal(client.state, 'closed');
  await assert.rejects(client.request('echo', 1), { code: 'closed' });
  assert.equal(client.send('echo', 1), false);
});

test('close() before the connection opened ends the client too', { timeout: 10000 }, async (t) => {
  const client = connectTo(t, server);
  const waiting = client.request('echo', 'never sent');
  client.close();
  assert.equal(client.state, 'closed');
  await assert.rejects(waiting, { code: 'closed' });
});
