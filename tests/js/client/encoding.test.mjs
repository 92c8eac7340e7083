// Binary envelopes (--encodings json,msgpack,cbor) with Node: raw ws sockets
// offering finch.msgpack and finch.cbor, encoded with @msgpack/msgpack and
// cbor-x; a broadcast reaching a JSON, a MessagePack and a CBOR receiver with
// the same data; and finch's client with its `encoding` option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';

import { WebSocket } from 'ws';
import * as msgpack from '@msgpack/msgpack';
import * as cborx from 'cbor-x';

import { connect } from '../../../clients/js/finch.js';
import { nextEvent, openClient, startServer } from './helpers.mjs';

const server = await startServer(undefined, ['--encodings', 'json,msgpack,cbor']);

const cborDecoder = new cborx.Decoder({ int64AsNumber: true, mapsAsObjects: true });

const codecs = {
  'finch.json': { encode: (value) => JSON.stringify(value), decode: (data) => JSON.parse(data.toString()) },
  'finch.msgpack': { encode: msgpack.encode, decode: (data) => msgpack.decode(data) },
  // int64AsNumber: the timestamp (milliseconds, past 2^32) comes as a CBOR
  // 64-bit integer, which cbor-x otherwise decodes as a BigInt.
  'finch.cbor': { encode: cborx.encode, decode: (data) => cborDecoder.decode(data) },
};

// An open ws socket offering `protocol` (none when undefined), terminated after the test.
async function rawSocket(t, protocol) {
  const ws = protocol === undefined ? new WebSocket(server.wsUrl) : new WebSocket(server.wsUrl, protocol);
  t.after(() => ws.terminate());
  await once(ws, 'open');
  return ws;
}

// The next message on `ws`, which must come in the frame kind of `name`.
async function receive(ws, name) {
  const [data, isBinary] = await once(ws, 'message');
  assert.equal(isBinary, name !== 'finch.json', `${name}: the frame kind`);
  return codecs[name].decode(data);
}

for (const name of ['finch.msgpack', 'finch.cbor']) {
  test(`${name}: a request with bytes comes back as bytes, and bad input gets 400 in ${name}`, { timeout: 10000 }, async (t) => {
    const ws = await rawSocket(t, name);
    assert.equal(ws.protocol, name);
    const { encode } = codecs[name];
    const blob = Uint8Array.from([0, 1, 2, 127, 128, 255]);
    ws.send(encode({ path: 'echo', id: 1, data: { blob, n: 3 } }));
    const answer = await receive(ws, name);
    assert.equal(answer.replyTo, 1);
    assert.equal(answer.status, 200);
    assert.deepEqual(Uint8Array.from(answer.data.blob), blob);
    assert.equal(answer.data.n, 3);

    ws.send(Buffer.from([name === 'finch.cbor' ? 0xff : 0xc1]));
    const refused = await receive(ws, name);
    assert.equal(refused.path, 'error');
    assert.equal(refused.status, 400);
  });
}

test('a broadcast reaches JSON, MessagePack and CBOR receivers with the same data', { timeout: 10000 }, async (t) => {
  const plain = await rawSocket(t);
  const packed = await rawSocket(t, 'finch.msgpack');
  const concise = await rawSocket(t, 'finch.cbor');
  const data = { text: 'héllo', n: -5, x: 1.5, list: [true, null, 'z'] };
  const got = [receive(plain, 'finch.json'), receive(packed, 'finch.msgpack'), receive(concise, 'finch.cbor')];
  plain.send(JSON.stringify({ path: 'broadcast', data: { path: 'news', data } }));
  const [fromPlain, fromPacked, fromConcise] = await Promise.all(got);
  assert.deepEqual(fromPlain.data, data);
  assert.equal(fromPlain.path, 'news');
  assert.deepEqual(fromPacked, fromPlain);
  assert.deepEqual(fromConcise, fromPlain);
});

for (const [name, codec] of [['msgpack', msgpack], ['cbor', cborx]]) {
  test(`finch's client with encoding ${name}: requests, bytes and broadcasts`, { timeout: 10000 }, async (t) => {
    const client = await openClient(t, server, { encoding: { name, encode: codec.encode, decode: codec.decode } });
    assert.equal(client.protocol, `finch.${name}`);
    assert.equal(await client.request('encoding'), `finch.${name}`);
    const blob = Uint8Array.from([9, 8, 7, 0]);
    const echoed = await client.request('echo', { blob });
    assert.deepEqual(Uint8Array.from(echoed.blob), blob);
    const news = new Promise((resolve) => client.on('news', resolve));
    assert.equal(await client.request('broadcast', { path: 'news', data: { hello: 'all' } }), 1);
    assert.deepEqual(await news, { hello: 'all' });
    await assert.rejects(client.request('nowhere'), (error) => error.status === 404);
  });
}

test('the encoding option refuses what is not json nor a codec', () => {
  for (const encoding of ['msgpack', { name: 'bson', encode() {}, decode() {} }, { name: 'cbor' }])
    assert.throws(() => connect(server.wsUrl, { WebSocket, encoding }), RangeError);
});

test('a server that does not choose the asked encoding: an error, and the client ends for good', { timeout: 10000 }, async (t) => {
  // It speaks "other", not finch.msgpack; the client offers both, so the
  // handshake succeeds (ws fails one that names no subprotocol at all).
  const other = await startServer(t, ['--subprotocols', 'other']);
  const client = connect(other.wsUrl, {
    WebSocket, protocols: ['other'], encoding: { name: 'msgpack', encode: msgpack.encode, decode: msgpack.decode },
  });
  t.after(() => client.close());
  const errors = [];
  client.addEventListener('error', (event) => errors.push(event.error));
  const closed = await nextEvent(client, 'close');
  assert.equal(closed.willReconnect, false);
  assert.equal(client.state, 'closed');
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /did not choose finch\.msgpack/);
  assert.equal(client.send('x', 1), false);
});
