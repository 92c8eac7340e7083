#!/usr/bin/python3
"""End-to-end test of the chat example, through real sockets, as its page uses it.

Usage: /usr/bin/python3 tests/e2e/chat_test.py path/to/finch_chat

Needs Debian's python3-websockets. Starts the chat on a free loopback port,
talks to it with WebSocket clients and plain HTTP: nicknames checked by the
upgrade handler, rooms with join and leave announcements, acknowledged
messages, a route guard, and a request from the server. Every wait has a
timeout; nothing is synchronised by sleeping. Prints "N passed, M failed"
last and exits 1 on any failure.
"""

import asyncio
import re
import signal

import websockets

import harness
from harness import CheckFailed, NotReceived, begin, fail, verdict, EXIT_TIMEOUT, TIMEOUT  # noqa: F401


class Client(harness.Client):
    """A chat client: requests get ids, as the page's do."""

    def __init__(self, name, ws):
        super().__init__(name, ws)
        self.next_id = 1

    async def request(self, path, data):
        """Sends a request with a fresh id; returns that id."""
        request_id = self.next_id
        self.next_id += 1
        await self.send({"path": path, "id": request_id, "data": data})
        return request_id

    async def answer_to(self, request_id):
        return await self.expect(f"the answer to {request_id}", lambda e: e.get("replyTo") == request_id)


def on_path(path):
    return lambda envelope: envelope.get("path") == path and "replyTo" not in envelope


http_get = harness.http_get


async def scenario(proc):
    begin("startup line")
    line = (await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode().rstrip("\n")
    match = re.fullmatch(r"chat listening on http://127\.0\.0\.1:(\d+)/ \(WebSocket at ws://127\.0\.0\.1:(\d+)/ws\?nick=\.\.\.\)",
                         line)
    verdict(match is not None and match[1] == match[2] and match[1] != "0", "chat listening on http://127.0.0.1:<port>/ ...",
            line)
    port = int(match[1])

    async def connect(nick):
        ws = await asyncio.wait_for(websockets.connect(f"ws://127.0.0.1:{port}/ws?nick={nick}"), TIMEOUT)
        return Client(nick, ws)

    async def refusal_status(target):
        try:
            ws = await asyncio.wait_for(websockets.connect(f"ws://127.0.0.1:{port}{target}"), TIMEOUT)
        except websockets.exceptions.InvalidStatusCode as e:
            return e.status_code
        await ws.close()
        return 101

    ann = bob = None
    try:
        begin("GET / returns the page")
        status, headers, body = await http_get(port, "/")
        verdict(status == 200 and "<html" in body and headers.get("content-type") == "text/html; charset=utf-8",
                "200 text/html with <html", (status, headers.get("content-type"), body[:40]))

        begin("GET /check judges nicknames: 200, 400")
        statuses = [(await http_get(port, target))[0] for target in
                    ("/check?nick=ann", "/check?nick=", "/check", "/check?nick=no%20spaces",
                     "/check?nick=" + "x" * 21)]
        verdict(statuses == [200, 400, 400, 400, 400], [200, 400, 400, 400, 400], statuses)

        begin("an upgrade without a valid nickname is refused with 400")
        statuses = [await refusal_status(target) for target in ("/ws", "/ws?nick=", "/ws?nick=a%2Fb")]
        verdict(statuses == [400, 400, 400], [400, 400, 400], statuses)

        begin("ann connects and is welcomed by the nickname the upgrade handler stored")
        ann = await connect("ann")
        welcome = await ann.expect("welcome", on_path("welcome"))
        verdict(welcome.get("data") == {"nick": "ann"}, {"nick": "ann"}, welcome)

        begin("a nickname in use is refused with 409, by the upgrade and by /check")
        status = await refusal_status("/ws?nick=ann")
        check_status = (await http_get(port, "/check?nick=ann"))[0]
        verdict((status, check_status) == (409, 409), (409, 409), (status, check_status))

        begin("join answers with the request's id and the room's members")
        request_id = await ann.request("join", "lobby")
        reply = await ann.answer_to(request_id)
        verdict(reply.get("id") == request_id and reply.get("path") == "join" and reply.get("status") == 200
                and reply.get("data") == {"room": "lobby", "members": ["ann"]},
                {"path": "join", "id": request_id, "replyTo": request_id, "data": {"room": "lobby", "members": ["ann"]}},
                reply)

        begin("when bob joins, ann hears it")
        bob = await connect("bob")
        await bob.expect("welcome", on_path("welcome"))
        request_id = await bob.request("join", "lobby")
        reply = await bob.answer_to(request_id)
        joined = await ann.expect("joined", on_path("joined"))
        verdict(sorted(reply["data"]["members"]) == ["ann", "bob"]
                and joined["data"] == {"room": "lobby", "nick": "bob", "count": 2},
                "members [ann, bob]; joined {room: lobby, nick: bob, count: 2}", (reply, joined))

        begin("say reaches the room's other members, and its author gets the acknowledgement")
        request_id = await ann.request("say", {"room": "lobby", "text": "hello, bob"})
        ack = await ann.answer_to(request_id)
        message = await bob.expect("message", on_path("message"))
        verdict(ack["data"]["delivered"] == 1 and message["data"]["from"] == "ann"
                and message["data"]["text"] == "hello, bob" and message["data"]["room"] == "lobby",
                "ack delivered 1; bob gets {room: lobby, from: ann, text: hello, bob}", (ack, message))

        begin("saying in a room one is not in is refused by the guard with 403 and the id")
        request_id = await bob.request("say", {"room": "secret", "text": "psst"})
        refused = await bob.answer_to(request_id)
        verdict(refused.get("path") == "error" and refused.get("status") == 403 and refused.get("id") == request_id,
                {"path": "error", "status": 403, "id": request_id}, refused)

        begin("latency: the server's own request is answered by replyTo, then it answers the round trip")
        request_id = await ann.request("latency", None)
        ping = await ann.expect("ping", on_path("ping"))
        await ann.send({"replyTo": ping["id"], "data": None})
        reply = await ann.answer_to(request_id)
        verdict(isinstance(ping.get("id"), int) and reply.get("status") == 200
                and isinstance(reply["data"].get("ms"), (int, float)),
                "a ping with a numeric id, then {ms: <number>}", (ping, reply))

        begin("rooms lists the rooms with their counts")
        request_id = await bob.request("rooms", None)
        reply = await bob.answer_to(request_id)
        verdict(reply["data"] == [{"name": "lobby", "count": 2}], [{"name": "lobby", "count": 2}], reply["data"])

        begin("when bob leaves, ann hears it")
        request_id = await bob.request("leave", "lobby")
        reply = await bob.answer_to(request_id)
        left = await ann.expect("left", on_path("left"))
        verdict(reply["data"] == {"room": "lobby"} and left["data"] == {"room": "lobby", "nick": "bob", "count": 1},
                "left {room: lobby, nick: bob, count: 1}", (reply, left))

        begin("when bob disconnects, ann hears that he left")
        request_id = await bob.request("join", "lobby")
        await bob.answer_to(request_id)
        await ann.expect("joined", on_path("joined"))
        await bob.ws.close()
        left = await ann.expect("left", on_path("left"))
        verdict(left["data"] == {"room": "lobby", "nick": "bob", "count": 1}, {"room": "lobby", "nick": "bob", "count": 1},
                left["data"])

        begin("bob's nickname is free again once his connection has ended")
        # The name is released by onDisconnect, just after the announcement:
        # ask again, a bounded number of times, without sleeping.
        status = None
        for _ in range(500):
            status = (await http_get(port, "/check?nick=bob"))[0]
            if status == 200:
                break
        verdict(status == 200, 200, status)

        begin("SIGTERM closes open connections with 1001")
        proc.send_signal(signal.SIGTERM)
        code = await ann.wait_closed()
        verdict(code == 1001, 1001, code)

        begin("SIGTERM stops the chat with exit code 0")
        try:
            rc = await asyncio.wait_for(proc.wait(), EXIT_TIMEOUT)
        except asyncio.TimeoutError:
            rc = f"still running after {EXIT_TIMEOUT} s"
        verdict(rc == 0, 0, rc)
    finally:
        for client in (ann, bob):
            if client is not None:
                await client.ws.close()
                client.reader.cancel()


async def run(binary):
    await harness.run_server("chat", [binary, "--port", "0", "--address", "127.0.0.1", "--threads", "2"], scenario)


if __name__ == "__main__":
    harness.main(__doc__, run)
