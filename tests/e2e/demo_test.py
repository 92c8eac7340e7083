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
import re
import signal

import websockets

import harness
from harness import CheckFailed, Client, NotReceived, begin, envelope_is, fail, verdict, EXIT_TIMEOUT, TIMEOUT  # noqa: F401


http_get = harness.http_get


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


async def run(binary):
    await harness.run_server("finch_demo", [binary, "--port", "0", "--address", "127.0.0.1"], scenario)


if __name__ == "__main__":
    harness.main(__doc__, run)
