#!/usr/bin/python3
"""End-to-end test of a cluster: example servers in separate processes on one real redis-server.

Usage: /usr/bin/python3 tests/e2e/cluster_test.py path/to/finch_demo path/to/finch_chat path/to/finch_js_test_server

Needs Debian's python3-websockets and redis-server. Starts redis-server on a
free loopback port without persistence, then two finch_demo processes, two
chat processes and three finch_js_test_server processes with --redis, and
talks to each with WebSocket clients: every send kind from one node reaching
exactly its clients on all three, once each;
announcements and "toclient" across nodes, the cluster's client list, rooms,
whispers (sendToUser) and counts shared by two chat servers, a node that dies
leaving the counts, and Redis stopped and restarted under running servers
(local delivery goes on, subscriptions come back). Every wait has a timeout;
where a condition has no event to wait on (the nodes' periodic reports), it
is polled at a fixed pace until a deadline. Prints "N passed, M failed" last
and exits 1 on any failure.
"""

import asyncio
import re
import signal
import socket
import tempfile
import time

import websockets

import harness
from harness import CheckFailed, NotReceived, begin, fail, verdict, TIMEOUT  # noqa: F401

REDIS = "/usr/bin/redis-server"
# A node's report comes every 2 s; a dead node leaves the counts after 6 s.
CONVERGE = 15.0


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Redis:
    """A redis-server of this test's own, on a fixed loopback port, that can be stopped and started again."""

    def __init__(self, port):
        self.port = port
        self.proc = None

    async def start(self):
        self.proc = await asyncio.create_subprocess_exec(
            REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--daemonize", "no", "--logfile", "", stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        # Its log says when it accepts connections: no polling needed.
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            line = await asyncio.wait_for(self.proc.stdout.readline(), TIMEOUT)
            if not line:
                break
            if b"Ready to accept connections" in line:
                asyncio.create_task(self._drain(self.proc))
                return
        raise RuntimeError("redis-server did not become ready")

    @staticmethod
    async def _drain(proc):
        while await proc.stdout.readline():
            pass

    async def subscribers(self, channel):
        """How many connections subscribe to `channel`: PUBSUB NUMSUB through redis-cli."""
        cli = await asyncio.create_subprocess_exec(
            "redis-cli", "-h", "127.0.0.1", "-p", str(self.port), "PUBSUB", "NUMSUB", channel,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        out, _ = await asyncio.wait_for(cli.communicate(), TIMEOUT)
        lines = out.decode().split()
        return int(lines[1]) if len(lines) == 2 else None

    async def stop(self):
        if self.proc and self.proc.returncode is None:
            self.proc.terminate()
            await asyncio.wait_for(self.proc.wait(), TIMEOUT)
        self.proc = None


class Server:
    """An example server process: its startup lines, its log of the link to Redis."""

    def __init__(self, name, proc):
        self.name = name
        self.proc = proc
        self.log = []
        self.log_changed = asyncio.Event()
        self.port = None
        self.node = None
        self.reader = asyncio.create_task(self._read_log())

    @classmethod
    async def start(cls, name, binary, redis_port):
        proc = await asyncio.create_subprocess_exec(
            binary, "--port", "0", "--address", "127.0.0.1", "--threads", "2", "--redis", f"127.0.0.1:{redis_port}",
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        server = cls(name, proc)
        line = (await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode().rstrip("\n")
        match = re.fullmatch(r"\S+ node ([0-9a-f]{8}) in the cluster of redis 127\.0\.0\.1:(\d+)", line)
        if not match:
            raise RuntimeError(f"{name}: unexpected first line {line!r}")
        server.node = match[1]
        line = (await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode().rstrip("\n")
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
        if not match:
            raise RuntimeError(f"{name}: unexpected second line {line!r}")
        server.port = int(match[1])
        return server

    async def _read_log(self):
        while True:
            line = await self.proc.stderr.readline()
            if not line:
                return
            self.log.append(line.decode(errors="replace").rstrip("\n"))
            self.log_changed.set()

    async def wait_log(self, what, predicate, since=0):
        """Waits until a line of the server's log from line `since` on satisfies `predicate`; returns it."""
        deadline = time.monotonic() + CONVERGE
        seen = since
        while True:
            for line in self.log[seen:]:
                if predicate(line):
                    return line
            seen = len(self.log)
            self.log_changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NotReceived(f"{self.name}: no log line {what} within {CONVERGE}s; log {self.log}")
            try:
                await asyncio.wait_for(self.log_changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def kill(self):
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


async def poll_until(what, probe, accept):
    """Calls `probe()` every 100 ms until `accept(result)`, for at most CONVERGE seconds; returns the last result.
    For the figures the nodes' periodic reports bring, which no message announces."""
    deadline = time.monotonic() + CONVERGE
    result = None
    while time.monotonic() < deadline:
        result = await probe()
        if accept(result):
            return result
        await asyncio.sleep(0.1)
    raise NotReceived(f"{what} within {CONVERGE}s; last {result!r}")


async def shut_down(clients, servers):
    for client in clients:
        await client.ws.close()
        client.reader.cancel()
    for server in servers:
        await server.kill()


def on_path(path):
    return lambda envelope: envelope.get("path") == path and "replyTo" not in envelope


async def demo_scenario(demo, redis):
    a = await Server.start("finch_demo A", demo, redis.port)
    b = await Server.start("finch_demo B", demo, redis.port)
    clients = []
    try:
        async def connect(server, name):
            client = await harness.Client.connect(name, f"ws://127.0.0.1:{server.port}/ws")
            clients.append(client)
            welcome = await client.expect("connected", on_path("connected"))
            return client, welcome["data"]["id"]

        begin("connection ids start with their node's id")
        a1, a1_id = await connect(a, "a1")
        b1, b1_id = await connect(b, "b1")
        verdict(a1_id.startswith(a.node) and b1_id.startswith(b.node) and len(a1_id) == 40 and a.node != b.node,
                "40 hex digits after each node's 8", (a.node, a1_id, b.node, b1_id))

        begin("a connection to B is announced to A's client (sendToAll across processes)")
        announced = await a1.expect("B's announcement",
                                    lambda e: e.get("path") == "output" and "New user connected" in str(e.get("data")))
        verdict(True, "announced", announced)

        begin("clients lists the connections of both nodes")

        async def listed():
            await a1.send({"path": "clients"})
            return sorted((await a1.expect("clients", on_path("clients")))["data"])
        ids = await poll_until("both ids", listed, lambda got: got == sorted([a1_id, b1_id]))
        verdict(ids == sorted([a1_id, b1_id]), sorted([a1_id, b1_id]), ids)

        begin("toclient reaches a client of the other node, and only it")
        await a1.send({"path": "toclient", "data": {"id": b1_id, "message": "hello from A"}})
        got = await b1.expect("the message from A", lambda e: e.get("path") == "output" and e.get("data") == "hello from A")
        await a1.send({"path": "time"})
        await a1.expect("a1's time", lambda e: e.get("path") == "output" and "T" in str(e.get("data")))
        verdict(not any(e.get("data") == "hello from A" for e in a1.backlog), "b1 only", got)

        begin("toclient to an id of no live node is answered 404")
        await a1.send({"path": "toclient", "data": {"id": "ffffffff" + b1_id[8:], "message": "nobody"}})
        refused = await a1.expect("404", lambda e: e.get("path") == "output" and e.get("status") == 404)
        verdict(refused["data"] == {"message": "no such client"}, "no such client", refused)

        begin("Redis stops: both servers say so, and local delivery goes on")
        mark_a, mark_b = len(a.log), len(b.log)
        await redis.stop()
        await a.wait_log("disconnected", lambda line: "redis disconnected" in line)
        await b.wait_log("disconnected", lambda line: "redis disconnected" in line)
        a2, a2_id = await connect(a, "a2")
        await a1.send({"path": "toclient", "data": {"id": a2_id, "message": "local while redis is down"}})
        got = await a2.expect("the local message", lambda e: e.get("data") == "local while redis is down")
        verdict(True, "delivered locally", got)

        begin("Redis restarts: both reconnect, and sends cross the nodes again")
        await redis.start()
        await a.wait_log("connected again", lambda line: line.endswith("redis connected"), mark_a)
        await b.wait_log("connected again", lambda line: line.endswith("redis connected"), mark_b)
        # Subscriptions are re-sent before "connected"; a probe confirms them end to end.
        attempt = 0

        async def probe():
            nonlocal attempt
            attempt += 1
            text = f"after the restart {attempt}"
            await a2.send({"path": "toclient", "data": {"id": b1_id, "message": text}})
            try:
                await b1.expect("a probe", lambda e: str(e.get("data", "")).startswith("after the restart"))
                return True
            except NotReceived:
                return False
        ok = await poll_until("a probe across the nodes after Redis restarted", probe, bool)
        verdict(ok, "received", ok)

        begin("SIGTERM stops a node of the cluster: 1001 to its clients, exit code 0")
        rc = await harness.stop_with(a.proc, signal.SIGTERM)
        code = await a1.wait_closed()
        verdict((rc, code) == (0, 1001), (0, 1001), (rc, code))
    finally:
        await shut_down(clients, (a, b))


async def chat_scenario(chat, redis):
    a = await Server.start("chat A", chat, redis.port)
    b = await Server.start("chat B", chat, redis.port)
    clients = []
    try:
        next_id = [1]

        async def connect(server, nick):
            client = await harness.Client.connect(nick, f"ws://127.0.0.1:{server.port}/ws?nick={nick}")
            clients.append(client)
            await client.expect("welcome", on_path("welcome"))
            return client

        async def ask(client, path, data):
            request_id = next_id[0]
            next_id[0] += 1
            await client.send({"path": path, "id": request_id, "data": data})
            return await client.expect(f"the answer to {request_id}", lambda e: e.get("replyTo") == request_id)

        ann = await connect(a, "ann")
        bob = await connect(b, "bob")
        await ask(ann, "join", "lobby")

        begin("bob joins the lobby on the other server, and ann hears it")
        await ask(bob, "join", "lobby")
        joined = await ann.expect("joined", on_path("joined"))
        verdict(joined["data"]["nick"] == "bob" and joined["data"]["room"] == "lobby", "joined by bob", joined)

        begin("say crosses the servers, once")
        ack = await ask(ann, "say", {"room": "lobby", "text": "hello, bob"})
        message = await bob.expect("message", on_path("message"))
        verdict(message["data"]["from"] == "ann" and message["data"]["text"] == "hello, bob"
                and ack["data"]["delivered"] == 0, "bob gets it; ann's server delivered to nobody locally",
                (ack, message))

        begin("a room on one server only is subscribed by that server only")
        carol = await connect(b, "carol")
        await ask(carol, "join", "b-only")
        await ask(bob, "join", "b-only")
        ack = await ask(bob, "say", {"room": "b-only", "text": "just us"})
        got = await carol.expect("message", on_path("message"))
        subscribers = (await redis.subscribers("finch:room:b-only"), await redis.subscribers("finch:room:lobby"))
        verdict(ack["data"]["delivered"] == 1 and got["data"]["text"] == "just us" and subscribers == (1, 2),
                "carol gets it; b-only has 1 subscribing node, lobby 2", (ack, got, subscribers))

        begin("whisper reaches a nickname's connections on both servers (sendToUser)")
        bob_on_a = await harness.Client.connect("bob on A", f"ws://127.0.0.1:{a.port}/ws?nick=bob")
        clients.append(bob_on_a)
        await bob_on_a.expect("welcome", on_path("welcome"))
        ack = await ask(carol, "whisper", {"to": "bob", "text": "psst"})
        first = await bob.expect("whisper", on_path("whisper"))
        second = await bob_on_a.expect("whisper", on_path("whisper"))
        verdict(ack["data"]["delivered"] == 1 and first["data"]["text"] == second["data"]["text"] == "psst"
                and first["data"]["from"] == "carol", "both of bob's connections", (ack, first, second))

        begin("the rooms' counts converge on the cluster's")

        async def lobby_count():
            rooms = (await ask(ann, "rooms", None))["data"]
            return next((room["count"] for room in rooms if room["name"] == "lobby"), None)
        count = await poll_until("lobby count 2 on A", lobby_count, lambda got: got == 2)
        verdict(count == 2, 2, count)

        begin("a server that dies leaves the counts after its timeout")
        await b.kill()
        count = await poll_until("lobby count 1 on A", lobby_count, lambda got: got == 1)
        verdict(count == 1, 1, count)
    finally:
        await shut_down(clients, (a, b))


async def sends_scenario(test_server, redis):
    nodes = [await Server.start(f"finch_js_test_server {n}", test_server, redis.port) for n in (1, 2, 3)]
    clients = []
    try:
        next_id = [1]

        async def ask(client, path, data=None):
            request_id = next_id[0]
            next_id[0] += 1
            await client.send({"path": path, "id": request_id, "data": data})
            answer = await client.expect(f"the answer to {request_id}", lambda e: e.get("replyTo") == request_id)
            return answer["data"]

        # Two clients on each node; ann has one on node 1 and one on node 2;
        # the room r has a member on every node.
        layout = [("ann", 0, True), ("bob", 0, False), ("ann", 1, True), ("cat", 1, False), ("dan", 2, True),
                  ("eve", 2, False)]
        ids = []
        for user, node, in_room in layout:
            client = await harness.Client.connect(f"{user}@{node + 1}",
                                                  f"ws://127.0.0.1:{nodes[node].port}/ws?user={user}")
            clients.append(client)
            me = await ask(client, "whoami")
            ids.append(me["id"])
            if in_room:
                await ask(client, "join", "r")
        sender, marker_sender = clients[0], clients[1]

        begin("each node subscribes to a room and a user while it has someone in them (PUBSUB NUMSUB)")

        async def numsub():
            return [await redis.subscribers(channel) for channel in
                    ("finch:room:r", "finch:user:ann", "finch:user:eve", "finch:all")]
        got = await poll_until("the subscriptions", numsub, lambda counts: counts == [3, 2, 1, 3])
        verdict(got == [3, 2, 1, 3], "room r 3 nodes, ann 2, eve 1, all 3", got)

        # Node 1 learns the others from their reports: until then a send to
        # one of their connections is refused (false), and nothing is sent.
        async def reaches_node_3():
            return await ask(sender, "send", {"kind": "client", "to": ids[5], "path": "hello", "data": "hi"})
        await poll_until("node 1 knowing node 3", reaches_node_3, bool)
        await clients[5].expect("the hello", on_path("hello"))
        await poll_until("node 1 knowing node 2", lambda: ask(
            sender, "send", {"kind": "client", "to": ids[3], "path": "hello", "data": "hi"}), bool)
        await clients[3].expect("the hello", on_path("hello"))

        async def received_until_marker(client, n):
            """What `client` got on "sent" before marker n: every message, in order."""
            got = []
            while True:
                message = await client.expect(f"marker {n}", lambda e: "replyTo" not in e)
                if message.get("path") == "marker" and message.get("data") == n:
                    return got
                got.append((message.get("path"), message.get("data")))

        cases = [
            ("sendToAll", {"kind": "all"}, [0, 1, 2, 3, 4, 5], 2),
            ("sendToAllExcept", {"kind": "allExcept"}, [1, 2, 3, 4, 5], 1),
            ("sendToRoom", {"kind": "room", "to": "r"}, [0, 2, 4], 1),
            ("sendToRoomExcept", {"kind": "roomExcept", "to": "r"}, [2, 4], 0),
            ("sendToUser", {"kind": "user", "to": "ann"}, [0, 2], 1),
            ("sendToUser of another node's user", {"kind": "user", "to": "eve"}, [5], 0),
            ("sendToClient", {"kind": "client", "to": ids[4]}, [4], True),
        ]
        for n, (name, request, expected, returned) in enumerate(cases):
            begin(f"{name} from node 1 reaches exactly its clients on every node, once each")
            answer = await ask(sender, "send", {**request, "path": "sent", "data": n})
            await ask(marker_sender, "send", {"kind": "all", "path": "marker", "data": n})
            received = [await received_until_marker(client, n) for client in clients]
            wanted = [[("sent", n)] if index in expected else [] for index in range(len(clients))]
            verdict(received == wanted and answer == returned,
                    f"{wanted}, the call returning {returned}", (received, answer))

        begin("closeClient from node 1 closes a connection of node 3 with its code")
        closed = await ask(sender, "send", {"kind": "close", "to": ids[5]})
        code = await clients[5].wait_closed()
        verdict(closed is True and code == 4000, (True, 4000), (closed, code))
    finally:
        await shut_down(clients, nodes)


async def run(demo, chat, test_server):
    redis = Redis(free_port())
    await redis.start()
    try:
        for name, scenario in (("finch_js_test_server", lambda: sends_scenario(test_server, redis)),
                               ("finch_demo", lambda: demo_scenario(demo, redis)),
                               ("chat", lambda: chat_scenario(chat, redis))):
            try:
                await scenario()
            except CheckFailed:
                pass
            except Exception as e:  # noqa: BLE001 - any surprise fails the check under way
                fail(f"the {name} cluster to answer as specified", repr(e))
    finally:
        await redis.stop()


if __name__ == "__main__":
    harness.main(__doc__, run, binaries=3)
