#!/usr/bin/python3
"""End-to-end test of binary envelopes with Python's MessagePack and CBOR.

Usage: /usr/bin/python3 tests/e2e/encoding_test.py path/to/finch_js_test_server

Needs Debian's python3-websockets, python3-msgpack and python3-cbor2. Starts
the server on a free loopback port speaking every encoding (--encodings
json,msgpack,cbor) and checks, with clients offering finch.msgpack and
finch.cbor: the subprotocol and the server's Socket::encoding(); a request
with bytes (MessagePack bin, a CBOR byte string) echoed as bytes in a binary
frame; the 400 error envelope, in the connection's encoding, for truncated,
invalid and too deeply nested input; and a broadcast reaching a plain JSON, a
MessagePack and a CBOR receiver, each decoding the same envelope. Prints
"N passed, M failed" last and exits 1 on any failure.
"""

import asyncio
import json
import signal

import cbor2
import msgpack
import websockets

from harness import begin, js_test_server_url, main, run_server, stop_with, verdict, TIMEOUT

CODECS = {
    "finch.msgpack": (lambda value: msgpack.packb(value, use_bin_type=True), lambda data: msgpack.unpackb(data, raw=False)),
    "finch.cbor": (cbor2.dumps, cbor2.loads),
    "finch.json": (lambda value: json.dumps(value), json.loads),
}


async def connect(url, subprotocols=None):
    return await asyncio.wait_for(websockets.connect(url, subprotocols=subprotocols), TIMEOUT)


async def receive(ws, name):
    """The next message, which must come in the frame kind of encoding `name`."""
    frame = await asyncio.wait_for(ws.recv(), TIMEOUT)
    binary = isinstance(frame, bytes)
    if binary != (name != "finch.json"):
        raise AssertionError(f"{name}: got a {'binary' if binary else 'text'} frame")
    return CODECS[name][1](frame)


async def scenario(proc):
    url = await js_test_server_url(proc)

    for name in ("finch.msgpack", "finch.cbor"):
        encode, _ = CODECS[name]
        ws = await connect(url, [name])
        try:
            begin(f"{name}: the server picks it, and Socket::encoding() says so")
            await ws.send(encode({"path": "encoding", "id": 1}))
            said = await receive(ws, name)
            verdict(ws.subprotocol == name and said["data"] == name, name, (ws.subprotocol, said["data"]))

            begin(f"{name}: bytes go and come back as bytes, without base64")
            blob = bytes(range(256))
            await ws.send(encode({"path": "echo", "id": 2, "data": {"blob": blob, "n": 3}}))
            answer = await receive(ws, name)
            verdict(answer["data"] == {"blob": blob, "n": 3} and answer["replyTo"] == 2 and answer["status"] == 200,
                    "the same bytes, replyTo 2, status 200", answer)

            begin(f"{name}: a text frame is still read as JSON, answered in {name}")
            await ws.send(json.dumps({"path": "echo", "id": 3, "data": "text"}))
            answer = await receive(ws, name)
            verdict(answer["data"] == "text", "text", answer["data"])

            whole = encode({"path": "echo", "data": "hello"})
            opener = b"\x81" if name == "finch.cbor" else b"\x91"
            for what, data in (("truncated", whole[:-3]),
                               ("invalid", b"\xff" if name == "finch.cbor" else b"\xc1"),
                               ("too deep", opener * 100000 + (b"\x80" if name == "finch.cbor" else b"\x90"))):
                begin(f"{name}: {what} input gets the 400 error envelope in {name}")
                await ws.send(data)
                answer = await receive(ws, name)
                verdict(answer["path"] == "error" and answer["status"] == 400, "error 400", answer)
        finally:
            await ws.close()

    begin("a broadcast reaches JSON, MessagePack and CBOR receivers with the same data")
    plain = await connect(url)
    packed = await connect(url, ["finch.msgpack"])
    concise = await connect(url, ["finch.cbor"])
    try:
        data = {"text": "héllo", "n": -5, "x": 1.5, "list": [True, None, "z"]}
        await packed.send(CODECS["finch.msgpack"][0]({"path": "broadcast", "id": 7,
                                                      "data": {"path": "news", "data": data}}))
        got = [await receive(plain, "finch.json"), await receive(packed, "finch.msgpack"),
               await receive(concise, "finch.cbor")]
        # The sender also gets its answer (3 reached), after the broadcast.
        reached = await receive(packed, "finch.msgpack")
        verdict(all(envelope == got[0] for envelope in got) and got[0]["data"] == data and reached["data"] == 3,
                "three equal envelopes with the data, 3 reached", (got, reached))
    finally:
        for ws in (plain, packed, concise):
            await ws.close()

    begin("SIGINT stops the server")
    rc = await stop_with(proc, signal.SIGINT)
    verdict(rc == 0, 0, rc)


async def run(binary):
    await run_server("finch_js_test_server",
                     [binary, "--address", "127.0.0.1", "--port", "0", "--encodings", "json,msgpack,cbor"], scenario)


if __name__ == "__main__":
    main(__doc__, run)
