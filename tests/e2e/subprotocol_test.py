#!/usr/bin/python3
"""End-to-end test of subprotocol negotiation with python3-websockets.

Usage: /usr/bin/python3 tests/e2e/subprotocol_test.py path/to/finch_js_test_server

Needs Debian's python3-websockets. Starts the server on a free loopback port
speaking the subprotocols "a" and "b" (--subprotocols a,b) and checks that a
client offering ["x", "b", "a"] gets "b" (the first it offers that the server
speaks), which the server's Socket::subprotocol() reports too; that a client
offering none gets none; and that a client offering only unknown ones is
refused with HTTP 400. Prints "N passed, M failed" last and exits 1 on any
failure.
"""

import asyncio
import json
import signal

import websockets

from harness import begin, js_test_server_url, main, run_server, stop_with, verdict, TIMEOUT


async def connect(url, subprotocols=None):
    return await asyncio.wait_for(websockets.connect(url, subprotocols=subprotocols), TIMEOUT)


async def ask_subprotocol(ws):
    """What the server's "subprotocol" route says the connection's is."""
    await ws.send(json.dumps({"path": "subprotocol", "id": 1}))
    return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))["data"]


async def scenario(proc):
    url = await js_test_server_url(proc)

    begin("offering x, b, a gets b, the first the server speaks, in the client's order")
    ws = await connect(url, ["x", "b", "a"])
    try:
        verdict(ws.subprotocol == "b", "b", ws.subprotocol)
        begin("the server's Socket::subprotocol() says b")
        said = await ask_subprotocol(ws)
        verdict(said == "b", "b", said)
    finally:
        await ws.close()

    begin("offering nothing gets no subprotocol")
    ws = await connect(url)
    try:
        verdict(ws.subprotocol is None, None, ws.subprotocol)
        said = await ask_subprotocol(ws)
        verdict(said == "", "", said)
    finally:
        await ws.close()

    begin("offering only unknown subprotocols is refused with HTTP 400")
    try:
        ws = await connect(url, ["x", "y"])
        await ws.close()
        verdict(False, "HTTP 400", f"accepted with {ws.subprotocol!r}")
    except websockets.InvalidStatusCode as e:
        verdict(e.status_code == 400, 400, e.status_code)

    begin("SIGINT stops the server")
    rc = await stop_with(proc, signal.SIGINT)
    verdict(rc == 0, 0, rc)


async def run(binary):
    await run_server("finch_js_test_server", [binary, "--address", "127.0.0.1", "--port", "0", "--subprotocols", "a,b"],
                     scenario)


if __name__ == "__main__":
    main(__doc__, run)
