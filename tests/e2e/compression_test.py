#!/usr/bin/python3
"""End-to-end test of permessage-deflate (RFC 7692) with real clients.

Usage: /usr/bin/python3 tests/e2e/compression_test.py path/to/finch_js_test_server

Needs Debian's python3-websockets, python3-msgpack and python3-cbor2. Starts
the server on a free loopback port with --compression and every encoding, and
checks: python3-websockets, which offers permessage-deflate by default, gets
finch's answer (and Socket::compressed() says so) and round-trips messages
below and above the threshold; one with compression=None gets no extension; a
broadcast reaches compressed and plain JSON, MessagePack and CBOR receivers
with the same data, once each. A client of its own on a plain socket
(handshake and masked frames written here) shows what is on the wire: RSV1
clear on a reply below 1 KiB and set on one from 1 KiB, whose payload
inflates with zlib; the window a client asks for honoured, also in a
broadcast; a compressed message, whole or in fragments, read; a compression
bomb closed with 1009, data that does not inflate with 1007, RSV1 without the
extension with 1002; offers finch must decline answered without the
extension, and the first acceptable one of several taken. Prints "N passed, M
failed" last and exits 1 on any failure.
"""

import asyncio
import base64
import hashlib
import json
import os
import signal
import socket
import struct
import zlib

import cbor2
import msgpack
import websockets

from harness import begin, js_test_server_url, main, parse_response_head, run_server, stop_with, verdict, TIMEOUT

# What finch answers to every offer it accepts without server_max_window_bits.
ANSWER = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
THRESHOLD = 1024  # PerMessageDeflate::threshold's default, which --compression keeps
MAX_MESSAGE = 1024 * 1024  # Options::maxMessageSize's default
TAIL = b"\x00\x00\xff\xff"  # what a sender leaves off each compressed message (RFC 7692 7.2.1)

# JSON of about 20 KiB that deflate shrinks, as real messages are: repeated
# field names, varied values.
LARGE = [{"id": i, "name": f"user-{i}", "tags": ["a", "b", str(i % 7)], "score": i * 1.5} for i in range(300)]
SMALL = "x" * 100


def inflate(payload, window_bits=15):
    """A permessage-deflate payload inflated with a window of 2**window_bits
    bytes. Read 256 bytes at a time, so that zlib refuses a back-reference
    farther than the window, which it lets through from one big output buffer."""
    inflater = zlib.decompressobj(-window_bits)
    out = bytearray()
    rest = payload + TAIL
    for _ in range(len(payload) * 1100 // 256 + 2):  # deflate expands at most 1032:1
        chunk = inflater.decompress(rest, 256)
        out += chunk
        rest = inflater.unconsumed_tail
        if not rest and len(chunk) < 256:
            return bytes(out)
    raise AssertionError("inflating did not end")


def inflates(payload, window_bits, data):
    """Whether `payload` inflates with 2**window_bits bytes of window to an envelope of `data`."""
    try:
        return json.loads(inflate(payload, window_bits))["data"] == data
    except zlib.error:
        return False


def deflate(data):
    """`data` compressed as a client sends it: a fresh raw stream, sync-flushed, without TAIL."""
    deflater = zlib.compressobj(wbits=-15)
    out = deflater.compress(data) + deflater.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(TAIL)
    return out[:-4]


class RawClient:
    """A WebSocket client on a plain socket: the handshake and the frames are
    written here, so that a check sees RSV1 and the bytes as they came.
    Every read has the socket's timeout."""

    def __init__(self, sock, status, headers, rest):
        self.sock = sock
        self.status = status
        self.headers = headers
        self.buffer = rest

    @classmethod
    def connect(cls, port, extensions=None):
        """Sends the upgrade request, offering `extensions` (a header value)
        when given, and reads the response's head."""
        sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n")
        if extensions is not None:
            request += f"Sec-WebSocket-Extensions: {extensions}\r\n"
        sock.sendall((request + "\r\n").encode())
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = sock.recv(4096)
            if not chunk or len(raw) > 65536:
                raise AssertionError(f"no complete response head: {raw!r}")
            raw += chunk
        status, headers, rest = parse_response_head(raw)
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        if headers.get("sec-websocket-accept") != accept.decode():
            raise AssertionError(f"wrong Sec-WebSocket-Accept in {headers}")
        return cls(sock, status, headers, rest)

    def send_frame(self, opcode, payload, rsv1=False, fin=True):
        """One masked frame, as a client must send it."""
        first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
        length = len(payload)
        if length < 126:
            head = struct.pack("!BB", first, 0x80 | length)
        elif length < 65536:
            head = struct.pack("!BBH", first, 0x80 | 126, length)
        else:
            head = struct.pack("!BBQ", first, 0x80 | 127, length)
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def send_json(self, message, compressed=False):
        payload = json.dumps(message).encode()
        self.send_frame(0x1, deflate(payload) if compressed else payload, rsv1=compressed)

    def _read(self, count):
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError("the server closed the TCP connection mid-frame")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def read_frame(self):
        """The next frame: (fin, rsv1, opcode, payload). A server's frames are not masked."""
        first, second = self._read(2)
        length = second & 0x7F
        if second & 0x80:
            raise AssertionError("the server masked a frame")
        if length == 126:
            (length,) = struct.unpack("!H", self._read(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read(8))
        return bool(first & 0x80), bool(first & 0x40), first & 0x0F, self._read(length)

    def read_message(self):
        """The next data frame, which finch sends unfragmented: (rsv1, opcode, payload)."""
        fin, rsv1, opcode, payload = self.read_frame()
        if not fin or opcode not in (0x1, 0x2):
            raise AssertionError(f"expected a whole data frame, got opcode {opcode} fin {fin}: {payload[:80]!r}")
        return rsv1, opcode, payload

    def read_json(self):
        """The next message as JSON, inflated when it came compressed, and whether it did."""
        rsv1, _, payload = self.read_message()
        return json.loads(inflate(payload) if rsv1 else payload), rsv1

    def close_code(self):
        """The code of the close frame the server sends next (data frames before it are skipped, up to 100)."""
        for _ in range(100):
            _, _, opcode, payload = self.read_frame()
            if opcode == 0x8:
                return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
        raise AssertionError("no close frame within 100 frames")

    def close(self):
        """Closes cleanly (1000) and waits for the server's close frame, when the connection is still up."""
        try:
            self.send_frame(0x8, struct.pack("!H", 1000))
            self.close_code()
        except (OSError, AssertionError):
            pass
        finally:
            self.sock.close()


async def connect(url, **options):
    return await asyncio.wait_for(websockets.connect(url, **options), TIMEOUT)


async def echo(ws, data, request_id):
    """What the "echo" route sends back for `data`, over a python3-websockets client."""
    await ws.send(json.dumps({"path": "echo", "id": request_id, "data": data}))
    return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))


async def ask_compressed(ws):
    """What the server's "compressed" route says: Socket::compressed()."""
    await ws.send(json.dumps({"path": "compressed", "id": 9}))
    return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))["data"]


def raw_echo(client, data, request_id=1):
    """Whether the "echo" route's reply came compressed, and its data."""
    client.send_json({"path": "echo", "id": request_id, "data": data})
    reply, rsv1 = client.read_json()
    if reply.get("replyTo") != request_id:
        raise AssertionError(f"expected the reply to {request_id}, got {reply}")
    return rsv1, reply["data"]


async def python_websockets(url):
    begin("python3-websockets offers permessage-deflate and gets finch's answer; Socket::compressed() is true")
    ws = await connect(url)
    try:
        header = ws.response_headers.get("Sec-WebSocket-Extensions")
        said = await ask_compressed(ws)
        verdict(header == ANSWER and len(ws.extensions) == 1 and said is True, (ANSWER, True),
                (header, ws.extensions, said))

        for what, data in (("100 B", SMALL), ("20 KiB of JSON", LARGE)):
            begin(f"python3-websockets with compression: {what} round-trip through echo")
            answer = await echo(ws, data, 2)
            verdict(answer["data"] == data and answer["replyTo"] == 2 and answer["status"] == 200,
                    "the same data, replyTo 2, status 200", answer)
    finally:
        await ws.close()

    begin("python3-websockets with compression=None: no extension, Socket::compressed() false, 20 KiB round-trip")
    ws = await connect(url, compression=None)
    try:
        # python3-websockets fails the connection (1002) on an RSV1 it did not agree to.
        answer = await echo(ws, LARGE, 3)
        header = ws.response_headers.get("Sec-WebSocket-Extensions")
        said = await ask_compressed(ws)
        verdict(header is None and said is False and answer["data"] == LARGE, "no header, false, the same data",
                (header, said, answer))
    finally:
        await ws.close()


async def broadcast(url, port):
    begin("broadcast receivers: msgpack and cbor chosen, compression where offered")
    deflating = await connect(url)
    plain = await connect(url, compression=None)
    packed = await connect(url, subprotocols=["finch.msgpack"])
    concise = await connect(url, subprotocols=["finch.cbor"], compression=None)
    receivers = [deflating, plain, packed, concise]
    wire = None
    try:
        wire = RawClient.connect(port, "permessage-deflate")
        verdict(packed.subprotocol == "finch.msgpack" and concise.subprotocol == "finch.cbor"
                and [len(ws.extensions) for ws in receivers] == [1, 0, 1, 0]
                and wire.headers.get("sec-websocket-extensions") == ANSWER,
                "finch.msgpack, finch.cbor; compression on the 1st, 3rd and raw client",
                ([ws.subprotocol for ws in receivers], [ws.extensions for ws in receivers], wire.headers))

        begin("a broadcast reaches compressed and plain JSON, MessagePack and CBOR receivers once each")
        await deflating.send(json.dumps({"path": "broadcast", "id": 1, "data": {"path": "news", "data": LARGE}}))
        # A second, small broadcast after it: the next message after the news
        # must be this one, so the news came exactly once.
        await deflating.send(json.dumps({"path": "broadcast", "id": 2, "data": {"path": "done", "data": 0}}))
        decoders = [json.loads, json.loads, lambda data: msgpack.unpackb(data, raw=False), cbor2.loads]
        # The sender also gets its two answers, each after its broadcast.
        counts = [4, 2, 2, 2]
        got = []
        for ws, decode, count in zip(receivers, decoders, counts):
            got.append([decode(await asyncio.wait_for(ws.recv(), TIMEOUT)) for _ in range(count)])
        got.append([wire.read_json() for _ in range(2)])
        sender = got[0]
        verdict([message["path"] for message in sender] == ["news", "broadcast", "done", "broadcast"]
                and sender[0]["data"] == LARGE and sender[1]["data"] == 5 and sender[3]["data"] == 5,
                "news, 5 reached, done, 5 reached", sender)
        news = sender[0]
        for name, (first, second) in zip(["plain JSON", "compressed MessagePack", "CBOR"], got[1:4]):
            begin(f"the {name} receiver: the same news envelope, then done")
            verdict(first == news and second["path"] == "done", "news then done", (first, second))

        begin("on the wire: the news came compressed and inflates to the same envelope; done came plain")
        (raw_news, news_compressed), (raw_done, done_compressed) = got[4]
        verdict(news_compressed and not done_compressed and raw_news == news and raw_done["path"] == "done",
                "RSV1 on the news only, the same envelope", (news_compressed, done_compressed, raw_news, raw_done))
    finally:
        if wire:
            wire.close()
        for ws in receivers:
            await ws.close()


def on_the_wire(port):
    begin("raw client offering permessage-deflate: finch's answer in the 101")
    client = RawClient.connect(port, "permessage-deflate")
    try:
        header = client.headers.get("sec-websocket-extensions")
        verdict(client.status == 101 and header == ANSWER, (101, ANSWER), (client.status, header))

        begin("a 100 B reply comes plain (RSV1 clear)")
        rsv1, data = raw_echo(client, SMALL)
        verdict(not rsv1 and data == SMALL, "plain, the same data", (rsv1, data))

        begin("a 20 KiB reply comes compressed (RSV1 set), smaller, and inflates to the same data")
        client.send_json({"path": "echo", "id": 2, "data": LARGE})
        rsv1, _, payload = client.read_message()
        reply = json.loads(inflate(payload))
        verdict(rsv1 and len(payload) < len(json.dumps(LARGE)) // 2 and reply["data"] == LARGE,
                "RSV1, less than half the JSON, the same data", (rsv1, len(payload), reply))

        # The echo of "x" * n is a fixed envelope plus n bytes: measure it, then
        # ask for replies of THRESHOLD - 1 and THRESHOLD bytes.
        client.send_json({"path": "echo", "id": 3, "data": "x"})
        _, _, payload = client.read_message()
        envelope = len(payload) - 1
        for size, expected in ((THRESHOLD - 1, False), (THRESHOLD, True)):
            begin(f"a reply of {size} B comes {'compressed' if expected else 'plain'} (threshold {THRESHOLD})")
            client.send_json({"path": "echo", "id": 4, "data": "x" * (size - envelope)})
            rsv1, _, payload = client.read_message()
            length = len(inflate(payload)) if rsv1 else len(payload)
            verdict(rsv1 == expected and length == size, (expected, size), (rsv1, length))

        begin("a compressed message from the client is inflated and answered")
        client.send_json({"path": "echo", "id": 5, "data": LARGE}, compressed=True)
        reply, _ = client.read_json()
        verdict(reply["replyTo"] == 5 and reply["data"] == LARGE, "the same data", reply)

        begin("a compressed message in three fragments (RSV1 on the first only) is inflated and answered")
        payload = deflate(json.dumps({"path": "echo", "id": 6, "data": LARGE}).encode())
        third = len(payload) // 3
        client.send_frame(0x1, payload[:third], rsv1=True, fin=False)
        client.send_frame(0x0, payload[third:2 * third], fin=False)
        client.send_frame(0x0, payload[2 * third:])
        reply, _ = client.read_json()
        verdict(reply["replyTo"] == 6 and reply["data"] == LARGE, "the same data", reply)
    finally:
        client.close()

    begin("raw client asking server_max_window_bits=10: granted in the answer")
    narrow = RawClient.connect(port, "permessage-deflate; server_max_window_bits=10")
    wide = RawClient.connect(port, "permessage-deflate")
    try:
        header = narrow.headers.get("sec-websocket-extensions")
        verdict(header == "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; "
                          "client_no_context_takeover", "server_max_window_bits=10 in the answer", header)

        # A 2000-byte block repeated: deflate with a 32 KiB window refers
        # 2000 bytes back, which an inflater with a 1 KiB window rejects.
        block = os.urandom(1000).hex() * 10
        begin("an echo to the 1 KiB client comes compressed and inflates with its window")
        narrow.send_json({"path": "echo", "id": 1, "data": block})
        rsv1, _, payload = narrow.read_message()
        fits = [inflates(payload, bits, block) for bits in (10, 15)]
        verdict(rsv1 and fits == [True, True], "RSV1, inflates with 1 KiB and with 32 KiB", (rsv1, fits))

        begin("a broadcast to a 1 KiB and a 32 KiB client: each gets a frame made for its window")
        narrow.send_json({"path": "broadcast", "id": 2, "data": {"path": "news", "data": block}})
        frames = [narrow.read_message(), wide.read_message()]
        fits = [[inflates(payload, bits, block) for bits in (10, 15)] for _, _, payload in frames]
        verdict([rsv1 for rsv1, _, _ in frames] == [True, True] and fits == [[True, True], [False, True]],
                "both RSV1; the 1 KiB one inflates with 1 KiB, the 32 KiB one only with 32 KiB", fits)
    finally:
        narrow.close()
        wide.close()

    begin("raw client offering nothing: no extension, and a 20 KiB reply comes plain")
    client = RawClient.connect(port)
    try:
        rsv1, data = raw_echo(client, LARGE)
        verdict("sec-websocket-extensions" not in client.headers and not rsv1 and data == LARGE,
                "no header, RSV1 clear, the same data", (client.headers, rsv1))
        begin("...and a frame with RSV1 there closes with 1002 (protocol error)")
        client.send_frame(0x1, deflate(b'{"path": "echo"}'), rsv1=True)
        code = client.close_code()
        verdict(code == 1002, 1002, code)
    finally:
        client.sock.close()


def offers(port):
    # (offer, the answer expected: None for no extension)
    for offer, answer in (("permessage-deflate; foo=1", None),
                          ("permessage-deflate; server_max_window_bits=8", None),
                          ("permessage-deflate; server_max_window_bits=8, permessage-deflate; client_max_window_bits",
                           ANSWER),
                          ("permessage-deflate; client_max_window_bits", ANSWER)):
        begin(f"offer '{offer}': 101, {'no extension' if answer is None else 'accepted'}, and a 20 KiB echo works")
        client = RawClient.connect(port, offer)
        try:
            rsv1, data = raw_echo(client, LARGE)
            header = client.headers.get("sec-websocket-extensions")
            verdict(client.status == 101 and header == answer and rsv1 == (answer is not None) and data == LARGE,
                    (101, answer, "RSV1" if answer else "no RSV1"), (client.status, header, rsv1))
        finally:
            client.close()


def limits(port):
    begin("a compression bomb (8 MiB of zeros in a small frame) closes with 1009")
    client = RawClient.connect(port, "permessage-deflate")
    try:
        bomb = deflate(bytes(8 * MAX_MESSAGE))
        client.send_frame(0x1, bomb, rsv1=True)
        code = client.close_code()
        verdict(len(bomb) < 64 * 1024 and code == 1009, "a frame under 64 KiB, 1009", (len(bomb), code))
    finally:
        client.sock.close()

    begin("a compressed frame that does not inflate closes with 1007")
    client = RawClient.connect(port, "permessage-deflate")
    try:
        client.send_frame(0x1, b"\xff\xff\xff\xff", rsv1=True)  # block type 3: not DEFLATE
        code = client.close_code()
        verdict(code == 1007, 1007, code)
    finally:
        client.sock.close()


async def scenario(proc):
    url = await js_test_server_url(proc)
    port = int(url.split(":")[2].split("/")[0])

    await python_websockets(url)
    # Before the raw clients that the server closes: the count of receivers is exact.
    await broadcast(url, port)
    # The raw client blocks the event loop, where nothing else runs meanwhile.
    on_the_wire(port)
    offers(port)
    limits(port)

    begin("SIGINT stops the server")
    rc = await stop_with(proc, signal.SIGINT)
    verdict(rc == 0, 0, rc)


async def run(binary):
    await run_server("finch_js_test_server", [binary, "--address", "127.0.0.1", "--port", "0", "--compression",
                                              "--encodings", "json,msgpack,cbor"], scenario)


if __name__ == "__main__":
    main(__doc__, run)
