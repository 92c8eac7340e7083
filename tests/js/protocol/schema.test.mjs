// Every kind of message a real finch server sends, checked against the
// protocol's JSON Schema (docs/protocol.schema.json), and the members the
// schema cannot relate (replyTo equals id; an answer carries the request's id).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import Ajv2020 from 'ajv/dist/2020.js';
import { WebSocket } from 'ws';
import { FinchServer, binaryFrom } from '../support/server.mjs';

const schema = JSON.parse(readFileSync(new URL('../../../docs/protocol.schema.json', import.meta.url)));
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
ajv.addSchema(schema);
const validateServer = ajv.getSchema('urn:finch:protocol:1#/$defs/serverMessage');
const validateClient = ajv.getSchema('urn:finch:protocol:1#/$defs/clientMessage');

// A raw WebSocket that queues what arrives, so a test can wait for the next
// message without racing its arrival.
class RawClient {
  constructor(url) {
    this.socket = new WebSocket(url);
    this.waiting = [];
    this.arrived = [];
    this.socket.on('message', (data, isBinary) => {
      assert.equal(isBinary, false, 'finch sends envelopes as text');
      const message = JSON.parse(data.toString('utf8'));
      const next = this.waiting.shift();
      if (next) next(message); else this.arrived.push(message);
    });
  }
  async open() { await once(this.socket, 'open'); }
  send(value) { this.socket.send(typeof value === 'string' ? value : JSON.stringify(value)); }
  next() {
    if (this.arrived.length) return Promise.resolve(this.arrived.shift());
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  // The next message on `path`, the others before it set aside for later.
  async nextOn(path) {
    const early = this.arrived.findIndex((message) => message.path === path);
    if (early >= 0) return this.arrived.splice(early, 1)[0];
    for (;;) {
      const message = await new Promise((resolve) => this.waiting.push(resolve));
      if (message.path === path) return message;
      this.arrived.push(message);
    }
  }
  close() { this.socket.close(); }
}

function assertServerMessage(message, kind) {
  const valid = validateServer(message);
  assert.ok(valid, `${kind}: ${JSON.stringify(message)} breaks the schema: ${ajv.errorsText(validateServer.errors)}`);
  if ('replyTo' in message) assert.deepEqual(message.replyTo, message.id, `${kind}: replyTo equals id`);
}

let server;
let client;

before(async () => {
  server = new FinchServer(binaryFrom('FINCH_JS_TEST_SERVER'));
  await server.start();
  client = new RawClient(server.wsUrl);
  await client.open();
});

after(async () => {
  client?.close();
  await server?.stop();
});

test('a message the application sends', { timeout: 20000 }, async () => {
  client.send({ path: 'push', data: { path: 'news', data: { headline: 'x', n: [1, 2] } } });
  const message = await client.nextOn('news');
  assertServerMessage(message, 'message');
  assert.deepEqual(message.data, { headline: 'x', n: [1, 2] });
  assert.equal(message.status, 200);
});

test('answers to requests, with a number id and with a string id, and a failed one', { timeout: 20000 }, async () => {
  client.send({ path: 'echo', id: 5, data: 'a' });
  const byNumber = await client.nextOn('echo');
  assertServerMessage(byNumber, 'answer');
  assert.equal(byNumber.id, 5);
  client.send({ path: 'echo', id: 'x-1', data: null });
  const byString = await client.nextOn('echo');
  assertServerMessage(byString, 'answer');
  assert.equal(byString.replyTo, 'x-1');
  client.send({ path: 'fail', id: 6 });
  const failed = await client.nextOn('fail');
  assertServerMessage(failed, 'failed answer');
  assert.equal(failed.replyTo, 6);
  assert.ok(failed.status >= 400);
});

test('a request of the server, and the client answer the schema allows', { timeout: 20000 }, async () => {
  client.send({ path: 'ask', data: 'how are you?' });
  const question = await client.nextOn('question');
  assertServerMessage(question, 'request of the server');
  assert.ok(Number.isInteger(question.id) && question.id >= 1);
  assert.equal('replyTo' in question, false);
  const answer = { replyTo: question.id, data: 'fine' };
  assert.ok(validateClient(answer), ajv.errorsText(validateClient.errors));
  client.send(answer);
  const answered = await client.nextOn('answered');
  assertServerMessage(answered, 'message');
  assert.equal(answered.data.data, 'fine');
});

test('error envelopes: every status finch answers a bad message with', { timeout: 20000 }, async () => {
  const bad = [
    ['not JSON', '{"path": ', 400],
    ['not an object', '[1, 2]', 400],
    ['no path', { data: 1, id: 1 }, 400],
    ['a bad id', { path: 'echo', id: { no: 1 } }, 400],
    ['unknown path', { path: 'nowhere', id: 2 }, 404],
    ['a guard refused it', { path: 'guarded', id: 3 }, 403],
    ['the handler threw', { path: 'throw', id: 4 }, 500],
  ];
  for (const [kind, text, status] of bad) {
    client.send(text);
    const error = await client.nextOn('error');
    assertServerMessage(error, kind);
    assert.equal(error.status, status, kind);
  }
  client.send({ path: 'nowhere', id: 30 });
  const unknown = await client.nextOn('error');
  assert.equal(unknown.replyTo, 30, 'a refused request is answered with its id');
  assert.equal(unknown.data.path, 'nowhere');
  client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
  const binary = await client.nextOn('error');
  assertServerMessage(binary, 'binary message');
  assert.equal(binary.status, 415);
});

test('the heartbeat, with and without an id', { timeout: 20000 }, async () => {
  const ping = { path: '$ping', id: 9 };
  assert.ok(validateClient(ping), ajv.errorsText(validateClient.errors));
  client.send(ping);
  const pong = await client.nextOn('$ping');
  assertServerMessage(pong, 'heartbeat answer');
  assert.equal(pong.replyTo, 9);
  assert.equal(pong.data, null);
  client.send({ path: '$ping' });
  const plain = await client.nextOn('$ping');
  assertServerMessage(plain, 'heartbeat answer');
  assert.equal('id' in plain, false);
});

test('the schema refuses what finch never sends', () => {
  const wellFormed = { path: 'x', status: 200, timestamp: 1, data: null };
  assert.ok(validateServer(wellFormed));
  assert.equal(validateServer({ path: 'x', status: 200, data: null }), false, 'no timestamp');
  assert.equal(validateServer({ ...wellFormed, extra: 1 }), false, 'a member finch does not send');
  assert.equal(validateServer({ ...wellFormed, replyTo: 1 }), false, 'replyTo without id');
  assert.equal(validateServer({ path: 'error', status: 404, timestamp: 1, data: 'no' }), false, 'error data not an object');
  assert.equal(validateServer({ path: '$ping', status: 200, timestamp: 1, data: 1 }), false, 'heartbeat with data');
  assert.equal(validateClient({ data: 1 }), false, 'neither path nor replyTo');
});
