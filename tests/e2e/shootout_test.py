#!/usr/bin/python3
"""End-to-end test of the shootout example: Hashrocket's websocket-shootout protocol.

Usage: /usr/bin/python3 tests/e2e/shootout_test.py path/to/finch_shootout

Needs Debian's python3-websockets. Starts the server on a free loopback port
and checks echo, broadcast (every client, the sender included, then
broadcastResult to the sender), the error for an unknown type, upgrades on
any target path, and a clean stop on SIGINT. Prints "N passed, M failed" last
and exits 1 on any failure.
"""

import asyncio
import re
import signal

from harness import Client, begin, main, run_server, verdict, TIMEOUT


async def scenario(proc):
    begin("startup line")
    line = (await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode().rstrip("\n")
    match = re.fullmatch(r"shootout listening on ws://127\.0\.0\.1:(\d+)/", line)
    verdict(match is not None and match[1] != "0", "shootout listening on ws://127.0.0.1:<port>/", line)
    port = int(match[1])

    clients = []
    try:
        for target in ("/", "/ws", "/any/path?x=1"):
            clients.append(await Client.connect(target, f"ws://127.0.0.1:{port}{target}"))
        sender, *others = clients

        begin("echo answers the payload as received")
        payload = {"sendTime": 1764090000123456, "text": "caf\u00e9 \"quoted\"", "list": [1, 2.5, None, True]}
        await sender.send({"type": "echo", "payload": payload})
        got = await sender.next("the echo")
        verdict(got == {"type": "echo", "payload": payload}, {"type": "echo", "payload": payload}, got)

        begin("broadcast reaches every client, the sender included")
        await sender.send({"type": "broadcast", "payload": {"seq": 1}})
        received = [await client.next("the broadcast") for client in clients]
        expected = {"type": "broadcast", "payload": {"seq": 1}}
        verdict(all(message == expected for message in received), expected, received)

        begin("then broadcastResult goes to the sender")
        got = await sender.next("the broadcastResult")
        verdict(got == {"type": "broadcastResult", "payload": {"seq": 1}},
                {"type": "broadcastResult", "payload": {"seq": 1}}, got)

        begin("an unknown type is an error")
        await others[0].send({"type": "shout", "payload": 1})
        got = await others[0].next("the error")
        verdict(got.get("type") == "error" and got.get("payload", {}).get("type") == "shout"
                and isinstance(got["payload"].get("message"), str), '{"type": "error", "payload": {"message", "type"}}', got)

        begin("a burst of echoes comes back complete and in order")
        for i in range(200):
            await sender.send({"type": "echo", "payload": {"i": i}})
        got = [(await sender.next(f"echo {i}"))["payload"]["i"] for i in range(200)]
        verdict(got == list(range(200)), "0..199", got[:5])

        begin("SIGINT closes the connections with 1001")
        proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(sender.ws.wait_closed(), TIMEOUT)
        verdict(sender.ws.close_code == 1001, 1001, sender.ws.close_code)

        begin("and the server exits with 0")
        rc = await asyncio.wait_for(proc.wait(), TIMEOUT * 3)
        verdict(rc == 0, 0, rc)
    finally:
        for client in clients:
            await client.close()


async def run(binary):
    await run_server("shootout", [binary, "--port", "0", "--threads", "2"], scenario)


if __name__ == "__main__":
    main(__doc__, run)
