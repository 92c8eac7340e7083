#!/usr/bin/python3
"""End-to-end test of finch_demo, through real sockets, as a browser would use it.

Usage: /usr/bin/python3 tests/e2e/demo_test.py path/to/finch_demo

Needs Debian's python3-websockets (apt-get install python3-websockets).
Starts the demo on a free loopback port, talks to it with two WebSocket
clients and plain HTTP, then stops it with SIGTERM. Every wait has a timeout;
nothing is synchronised by sleeping. Prints "N passed, M failed" last and
exits 1 on any failure.
"""

import asyncio
import datetime
import json
import re
import signal
import sys
import tempfile
import time

import websockets

TIMEOUT = 5.0  # seconds for any one reply; generous, a reply takes milliseconds
EXIT_TIMEOUT = 15.0  # seconds for the demo to exit after SIGTERM

passed = 0
failed = 0
current = None  # the name of the check under way


class CheckFailed(Exception):
    """A check failed and was counted; the checks after it depend on it."""


class NotReceived(Exception):
    """A reply did not come in time; the check under way fails with it."""


def begin(name):
    """Starts a check: an exception before its verdict is reported under this name."""
    global current
    current = name


def verdict(condition, expected, got=None):
    """Ends the check under way; on failure raises, skipping the checks that depend on it."""
    global passed
    if condition:
        passed += 1
        print(f"ok   {current}")
        return
    fail(expected, got)
    raise CheckFailed(current)


def fail(expected, got):
    global failed
    failed += 1
    print(f"FAIL {current}\n     expected: {expected}\n     got:      {got}")


class Client:
    """A WebSocket client whose incoming envelopes are read in the background,
    so that a test can wait for the one it wants and keep the others."""

    def __init__(self, name, ws):
        self.name = name
        self.ws = ws
        self.queue = asyncio.Queue()
        self.backlog = []
        self.closed = False
        self.reader = asyncio.create_task(self._read())

    async def _read(self):
        try:
            async for text in self.ws:
                self.queue.put_nowait(json.loads(text))
        except websockets.ConnectionClosed:
            pass
        finally:
            self.queue.put_nowait(None)  # end of stream

    async def send(self, message):
        await self.ws.send(json.dumps(message))

    async def expect(self, what, predicate):
        """The first envelope, old or new, that satisfies `predicate`."""
        for index, envelope in enumerate(self.backlog):
            if predicate(envelope):
                return self.backlog.pop(index)
        deadline = time.monotonic() + TIMEOUT
        while True:
            if self.closed:
                raise NotReceived(f"{self.name} closed before receiving {what}; received {self.backlog}")
            remaining = deadline - time.monotonic()
            try:
                envelope = await asyncio.wait_for(self.queue.get(), max(remaining, 0))
            except asyncio.TimeoutError:
                raise NotReceived(
                    f"{self.name}: no {what} within {TIMEOUT}s; received {self.backlog}") from None
            if envelope is None:
                self.closed = True
                continue
            if predicate(envelope):
                return envelope
            self.backlog.append(envelope)

    async def wait_closed(self):
        await asyncio.wait_for(self.ws.wait_closed(), TIMEOUT)
        return self.ws.close_code


def envelope_is(path, status=200, data=None):
    def predicate(envelope):
        return (envelope.get("path") == path and envelope.get("status") == status
                and (data is None or envelope.get("data") == data))
    return predicate


async def http_get(port, target):
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), TIMEOUT)
    try:
        writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     "Connection: close\r\n\r\n".encode())
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), TIMEOUT)  # the server closes after answering
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body.decode("utf-8", "replace")


async def scenario(proc):
    begin("startup line")
    line = await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)
    line = line.decode().rstrip("\n")
    match = re.fullmatch(r"finch_demo listening on http://127\.0\.0\.1:(\d+)/ "
                         r"\(WebSocket at ws://127\.0\.0\.1:(\d+)/ws\)", line)
    verdict(match is not None and match[1] == match[2] and match[1] != "0",
            "finch_demo listening on http://127.0.0.1:<port>/ (WebSocket at ws://127.0.0.1:<port>/ws)", line)
    port = int(match[1])
    url = f"ws://127.0.0.1:{port}/ws"

    async def connect(name, **kwargs):
        ws = await asyncio.wait_for(websockets.connect(url, **kwargs), TIMEOUT)
        return Client(name, ws)

    ids = {}
    a = b = None
    try:
        begin("A gets the connected envelope")
        a = await connect("A")
        welcome = await a.expect("connected envelope", envelope_is("connected"))
        data = welcome.get("data")
        verdict(isinstance(data, dict) and isinstance(data.get("message"), str) and isinstance(data.get("id"), str),
                '{"message": <string>, "id": <string>}', data)
        ids["A"] = data["id"]

        begin("A sees 'New user connected! count: 1'")
        await a.expect('"count: 1"', envelope_is("output", data="New user connected! count: 1"))
        verdict(True, "")

        begin("A and B see 'New user connected! count: 2'")
        b = await connect("B", extra_headers={"X-Demo": "42"})
        welcome = await b.expect("connected envelope", envelope_is("connected"))
        ids["B"] = welcome["data"]["id"]
        await b.expect('"count: 2"', envelope_is("output", data="New user connected! count: 2"))
        await a.expect('"count: 2"', envelope_is("output", data="New user connected! count: 2"))
        verdict(ids["A"] != ids["B"], "two distinct ids", ids)

        begin("time replies the current UTC time")
        await a.send({"path": "time"})
        reply = await a.expect("time on output", lambda e: e.get("path") == "output"
                               and isinstance(e.get("data"), str) and e["data"].endswith("Z"))
        try:
            moment = datetime.datetime.fromisoformat(reply["data"].replace("Z", "+00:00"))
            skew = abs((moment - datetime.datetime.now(datetime.timezone.utc)).total_seconds())
        except ValueError:
            skew = None
        verdict(skew is not None and skew < 60, "ISO-8601 UTC within 60 s of now", reply["data"])

        begin("test echoes the upgrade request's headers")
        await b.send({"path": "test"})
        reply = await b.expect("test reply", envelope_is("test"))
        headers = {k.lower(): v for k, v in reply["data"].items()} if isinstance(reply["data"], dict) else {}
        verdict(headers.get("x-demo") == "42" and headers.get("upgrade", "").lower() == "websocket",
                '{"X-Demo": "42", "Upgrade": "websocket", ...}', reply["data"])

        begin("clients lists both ids")
        await a.send({"path": "clients"})
        reply = await a.expect("clients reply", envelope_is("clients"))
        verdict(isinstance(reply["data"], list) and sorted(reply["data"]) == sorted(ids.values()),
                sorted(ids.values()), reply["data"])

        begin("toclient delivers to the other client")
        await a.send({"path": "toclient", "data": {"id": ids["B"], "message": "hello B"}})
        await b.expect('"hello B" on output', envelope_is("output", data="hello B"))
        verdict(True, "")

        begin("toclient to an unknown id replies 404")
        await a.send({"path": "toclient", "data": {"id": "0" * 32, "message": "lost"}})
        reply = await a.expect("an error on output", lambda e: e.get("path") == "output" and e.get("status") != 200)
        verdict(reply["status"] == 404 and reply["data"] == {"message": "no such client"},
                '{"path": "output", "status": 404, "data": {"message": "no such client"}}', reply)

        begin("toclient with malformed data replies 400")
        await a.send({"path": "toclient", "data": "not an object"})
        reply = await a.expect("an error on output", lambda e: e.get("path") == "output" and e.get("status") != 200)
        verdict(reply["status"] == 400, '{"path": "output", "status": 400, ...}', reply)

        begin("unknown path gets path 'error', status 404")
        await a.send({"path": "nowhere", "data": 1})
        reply = await a.expect("error envelope", lambda e: e.get("path") == "error")
        verdict(reply["status"] == 404 and isinstance(reply["data"], dict) and reply["data"].get("path") == "nowhere",
                '{"path": "error", "status": 404, "data": {"message": ..., "path": "nowhere"}}', reply)

        begin("close closes the sender's socket with 1000")
        await b.send({"path": "close"})
        code = await b.wait_closed()
        verdict(code == 1000, "close code 1000", code)

        begin("A sees 'User disconnected! count: 1'")
        await a.expect('"User disconnected! count: 1"', envelope_is("output", data="User disconnected! count: 1"))
        verdict(True, "")

        begin("clients lists only A after B left")
        await a.send({"path": "clients"})
        reply = await a.expect("clients reply", envelope_is("clients"))
        verdict(reply["data"] == [ids["A"]], [ids["A"]], reply["data"])

        begin("GET / returns the page")
        status, headers, body = await http_get(port, "/")
        verdict(status == 200 and "<html" in body and headers.get("content-type") == "text/html; charset=utf-8",
                "200, text/html; charset=utf-8, a body containing <html",
                (status, headers.get("content-type"), body[:60]))

        begin("GET /nope returns 404")
        status, _, _ = await http_get(port, "/nope")
        verdict(status == 404, 404, status)

        # A is still connected: stopping must say goodbye to it, then exit.
        begin("SIGTERM closes open connections with 1001")
        proc.send_signal(signal.SIGTERM)
        code = await a.wait_closed()
        verdict(code == 1001, "close code 1001 (going away)", code)

        begin("SIGTERM stops the demo with exit code 0")
        try:
            rc = await asyncio.wait_for(proc.wait(), EXIT_TIMEOUT)
        except asyncio.TimeoutError:
            rc = f"still running after {EXIT_TIMEOUT} s"
        verdict(rc == 0, "exit code 0", rc)
    finally:
        for client in (a, b):
            if client is not None:
                await client.ws.close()
                client.reader.cancel()


async def main(binary):
    with tempfile.TemporaryFile() as stderr:
        proc = await asyncio.create_subprocess_exec(
            binary, "--port", "0", "--address", "127.0.0.1",
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=stderr)
        try:
            await scenario(proc)
        except CheckFailed:
            pass  # counted and reported already
        except Exception as e:  # noqa: BLE001 - any surprise fails the check under way
            fail("the demo to answer as specified", repr(e))
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        if failed:
            stderr.seek(0)
            log = stderr.read().decode(errors="replace")
            if log:
                print("--- finch_demo stderr ---\n" + log.rstrip())


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        sys.exit(2)
    asyncio.run(main(sys.argv[1]))
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
