#!/usr/bin/python3
"""End-to-end test of wss:// and https://: finch_demo and the chat with --tls-cert and --tls-key.

Usage: /usr/bin/python3 tests/e2e/tls_test.py path/to/finch_demo path/to/finch_chat

Needs Debian's python3-websockets and openssl. Makes a test CA and a server
certificate for localhost and 127.0.0.1 in a temporary directory
(certificates.py), starts the servers on free loopback ports with them, and
talks to them with clients that verify the certificate against that CA
(Python's ssl with CERT_REQUIRED and check_hostname, as browsers do). Also
shows what a client sees when TLS fails: a client that does not trust the CA,
a certificate for another name, plain ws:// and http:// on the TLS port (the
server must end those at once and keep serving). Every wait has a timeout;
nothing is synchronised by sleeping. Prints "N passed, M failed" last and
exits 1 on any failure.
"""

import asyncio
import re
import signal
import ssl
import tempfile
import urllib.error
import urllib.request

import websockets

import certificates
import harness
from harness import CheckFailed, Client, NotReceived, begin, envelope_is, fail, verdict, EXIT_TIMEOUT, TIMEOUT  # noqa: F401


def trusting(ca):
    """A client context that verifies the server against `ca` only, and its
    name (what every ssl.create_default_context() does, with the system's
    authorities instead)."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    return context


async def startup_port(proc, program, suffix):
    """The port of a server started with TLS, read from its startup line."""
    begin(f"{program}: startup line names https:// and wss://")
    line = (await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode().rstrip("\n")
    match = re.fullmatch(rf"{program} listening on https://127\.0\.0\.1:(\d+)/ "
                         rf"\(WebSocket at wss://127\.0\.0\.1:(\d+)/ws{re.escape(suffix)}\)", line)
    verdict(match is not None and match[1] == match[2] and match[1] != "0",
            f"{program} listening on https://127.0.0.1:<port>/ (WebSocket at wss://127.0.0.1:<port>/ws{suffix})", line)
    return int(match[1])


def https_get(url, context):
    """Status, headers and body of a GET with urllib (blocking: run it in a thread)."""
    try:
        with urllib.request.urlopen(url, context=context, timeout=TIMEOUT) as response:
            return response.status, response.headers, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode("utf-8", "replace")


async def raw_exchange(port, request):
    """Sends `request` on a plain TCP connection and returns every byte that
    comes back until the server closes (bounded by TIMEOUT)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), TIMEOUT)
    try:
        writer.write(request)
        await writer.drain()
        received = b""
        while True:
            try:
                chunk = await asyncio.wait_for(reader.read(65536), TIMEOUT)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
        return received
    finally:
        writer.close()


async def exits(command, stdout_too=False):
    """Runs a server that must refuse to start: exit code and stderr (and stdout)."""
    proc = await asyncio.create_subprocess_exec(*command, stdin=asyncio.subprocess.DEVNULL,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), EXIT_TIMEOUT)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        return f"still running after {EXIT_TIMEOUT} s", "", ""
    return proc.returncode, err.decode(errors="replace"), out.decode(errors="replace")


async def bad_configurations(demo, files):
    """The command line's TLS mistakes: reported, and the server does not start."""
    base = [demo, "--port", "0", "--address", "127.0.0.1"]
    try:
        begin("--tls-cert without --tls-key: usage error, exit 2")
        rc, err, _ = await exits(base + ["--tls-cert", files["cert"]])
        verdict(rc == 2 and "--tls-cert needs --tls-key" in err and "usage:" in err,
                "exit 2, '--tls-cert needs --tls-key' and the usage on stderr", (rc, err))

        begin("--tls-key without --tls-cert: usage error, exit 2")
        rc, err, _ = await exits(base + ["--tls-key", files["key"]])
        verdict(rc == 2 and "--tls-key needs --tls-cert" in err, "exit 2, '--tls-key needs --tls-cert'", (rc, err))

        begin("a certificate file that does not exist: exit 1, its name on stderr, no listening line")
        missing = files["cert"] + ".missing"
        rc, err, out = await exits(base + ["--tls-cert", missing, "--tls-key", files["key"]])
        verdict(rc == 1 and f"cannot load the certificate chain {missing}" in err and "listening" not in out,
                f"exit 1, 'finch_demo: finch: cannot load the certificate chain {missing}: ...'", (rc, err, out))

        begin("a key that does not belong to the certificate: exit 1, the key's name on stderr")
        rc, err, out = await exits(base + ["--tls-cert", files["cert"], "--tls-key", files["caKey"]])
        verdict(rc == 1 and files["caKey"] in err and "listening" not in out,
                f"exit 1, a message naming {files['caKey']}", (rc, err, out))
    except CheckFailed:
        pass


async def demo_scenario(proc, files):
    port = await startup_port(proc, "finch_demo", "")
    url = f"wss://127.0.0.1:{port}/ws"
    ca = trusting(files["ca"])

    async def connect(name, server_hostname=None, **kwargs):
        ws = await asyncio.wait_for(websockets.connect(url, ssl=ca, server_hostname=server_hostname, **kwargs), TIMEOUT)
        return Client(name, ws)

    ids = {}
    clients = []
    try:
        begin("wss:// with verification against the test CA: A gets the connected envelope")
        a = await connect("A")
        clients.append(a)
        welcome = await a.expect("connected envelope", envelope_is("connected"))
        ids["A"] = welcome["data"]["id"]
        ssl_object = a.ws.transport.get_extra_info("ssl_object")
        alt_names = ssl_object.getpeercert().get("subjectAltName", ())
        verdict(ssl_object.version() in ("TLSv1.2", "TLSv1.3") and ("IP Address", "127.0.0.1") in alt_names,
                "TLS 1.2 or 1.3, a verified certificate for IP 127.0.0.1", (ssl_object.version(), alt_names))

        begin("the name 'localhost' verifies too: B connects, A and B see count 2")
        b = await connect("B", server_hostname="localhost", extra_headers={"X-Demo": "tls"})
        clients.append(b)
        ids["B"] = (await b.expect("connected envelope", envelope_is("connected")))["data"]["id"]
        await b.expect('"count: 2"', envelope_is("output", data="New user connected! count: 2"))
        await a.expect('"count: 2"', envelope_is("output", data="New user connected! count: 2"))
        verdict(ids["A"] != ids["B"], "two distinct ids", ids)

        begin("time over wss")
        await a.send({"path": "time"})
        reply = await a.expect("time on output", lambda e: e.get("path") == "output" and str(e.get("data")).endswith("Z"))
        verdict(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", reply["data"]) is not None,
                "ISO-8601 UTC time", reply["data"])

        begin("test echoes the upgrade request's headers over wss")
        await b.send({"path": "test"})
        reply = await b.expect("test reply", envelope_is("test"))
        headers = {k.lower(): v for k, v in reply["data"].items()}
        verdict(headers.get("x-demo") == "tls" and headers.get("upgrade", "").lower() == "websocket",
                '{"X-Demo": "tls", "Upgrade": "websocket", ...}', reply["data"])

        begin("clients lists both ids")
        await a.send({"path": "clients"})
        reply = await a.expect("clients reply", envelope_is("clients"))
        verdict(sorted(reply["data"]) == sorted(ids.values()), sorted(ids.values()), reply["data"])

        begin("toclient: 200 messages from A arrive at B in order")
        for n in range(200):
            await a.send({"path": "toclient", "data": {"id": ids["B"], "message": n}})
        got = []
        for n in range(200):
            got.append((await b.expect(f"message {n}", lambda e: e.get("path") == "output"
                                       and isinstance(e.get("data"), int)))["data"])
        verdict(got == list(range(200)), "0 .. 199 in order", got)

        begin("toclient: a 900 KiB message (many TLS records) arrives whole")
        # Under the default Options::maxMessageSize (1 MiB) with its envelope.
        big = "".join(chr(ord("a") + n % 26) for n in range(900 * 1024))
        await a.send({"path": "toclient", "data": {"id": ids["B"], "message": big}})
        reply = await b.expect("the 900 KiB message", lambda e: e.get("path") == "output"
                               and isinstance(e.get("data"), str) and len(e["data"]) > 1000)
        verdict(reply["data"] == big, f"{len(big)} characters, as sent", len(reply["data"]))

        begin("https:// GET / with verification: the page, which derives wss:// from location")
        status, headers, body = await asyncio.to_thread(https_get, f"https://127.0.0.1:{port}/", ca)
        verdict(status == 200 and headers.get("content-type") == "text/html; charset=utf-8"
                and 'location.protocol === "https:" ? "wss://" : "ws://"' in body,
                "200, text/html, the page", (status, headers.get("content-type"), body[:60]))

        begin("https:// GET /finch.js and /nope")
        script = await asyncio.to_thread(https_get, f"https://localhost:{port}/finch.js", ca)
        missing = await asyncio.to_thread(https_get, f"https://127.0.0.1:{port}/nope", ca)
        verdict(script[0] == 200 and "export function connect" in script[2] and missing[0] == 404,
                "200 with the client, then 404", (script[0], missing[0]))

        # What a client sees when TLS fails: the handshake ends with an
        # exception from Python's ssl, before any HTTP, and the server goes on.
        begin("a client that does not trust the test CA: ssl.SSLCertVerificationError "
              "(unable to get local issuer certificate)")
        system_trust = ssl.create_default_context()
        try:
            ws = await asyncio.wait_for(websockets.connect(url, ssl=system_trust), TIMEOUT)
            await ws.close()
            outcome = "connected"
        except ssl.SSLCertVerificationError as error:
            outcome = error
        verdict(isinstance(outcome, ssl.SSLCertVerificationError) and outcome.verify_code == 20,
                "SSLCertVerificationError, verify_code 20 (unable to get local issuer certificate)", repr(outcome))
        print(f"     (the client saw: {outcome!r})")

        begin("https:// with the system's authorities only: urllib raises URLError(SSLCertVerificationError)")
        try:
            outcome = await asyncio.to_thread(https_get, f"https://127.0.0.1:{port}/", system_trust)
        except urllib.error.URLError as error:
            outcome = error
        verdict(isinstance(outcome, urllib.error.URLError) and isinstance(outcome.reason, ssl.SSLCertVerificationError),
                "URLError whose reason is SSLCertVerificationError", repr(outcome))

        begin("a name the certificate does not hold: SSLCertVerificationError (hostname mismatch)")
        try:
            ws = await asyncio.wait_for(websockets.connect(url, ssl=ca, server_hostname="other.localhost"), TIMEOUT)
            await ws.close()
            outcome = "connected"
        except ssl.SSLCertVerificationError as error:
            outcome = error
        verdict(isinstance(outcome, ssl.SSLCertVerificationError) and outcome.verify_code == 62,
                "SSLCertVerificationError, verify_code 62 (hostname mismatch)", repr(outcome))
        print(f"     (the client saw: {outcome!r})")

        begin("plain ws:// to the TLS port fails at once (no HTTP answer), within the timeout")
        try:
            ws = await asyncio.wait_for(websockets.connect(f"ws://127.0.0.1:{port}/ws"), TIMEOUT)
            await ws.close()
            outcome = "connected"
        except asyncio.TimeoutError:
            outcome = f"no answer within {TIMEOUT} s"
        except (websockets.InvalidHandshake, OSError, EOFError) as error:
            outcome = error
        verdict(isinstance(outcome, (websockets.InvalidHandshake, OSError, EOFError)),
                "the handshake fails (InvalidMessage or a reset)", repr(outcome))
        print(f"     (the client saw: {outcome!r})")

        begin("plain http:// GET on the TLS port: no HTTP response, the server closes")
        raw = await raw_exchange(port, f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        verdict(not raw.startswith(b"HTTP/"), "no HTTP response (nothing, or a TLS alert)", raw[:40])

        begin("a ClientHello record of garbage: the server ends the connection at once")
        raw = await raw_exchange(port, b"\x16\x03\x01\x00\x08" + b"\x01\x00\x00\x04garb")
        verdict(raw == b"" or raw.startswith(b"\x15\x03"), "nothing, or a TLS alert record, then the close", raw[:40])

        begin("the server still serves: A's requests are answered, and a new wss client C connects")
        await a.send({"path": "clients"})
        reply = await a.expect("clients reply", envelope_is("clients"))
        c = await connect("C", server_hostname="localhost")
        clients.append(c)
        await c.expect("connected envelope", envelope_is("connected"))
        verdict(sorted(reply["data"]) == sorted(ids.values()), sorted(ids.values()), reply["data"])

        begin("SIGTERM closes the wss connections with 1001")
        proc.send_signal(signal.SIGTERM)
        codes = [await client.wait_closed() for client in (a, b, c)]
        verdict(codes == [1001, 1001, 1001], "close code 1001 (going away) on A, B and C", codes)

        begin("SIGTERM stops the demo with exit code 0")
        try:
            rc = await asyncio.wait_for(proc.wait(), EXIT_TIMEOUT)
        except asyncio.TimeoutError:
            rc = f"still running after {EXIT_TIMEOUT} s"
        verdict(rc == 0, "exit code 0", rc)
    finally:
        for client in clients:
            await client.ws.close()
            client.reader.cancel()


async def compression_scenario(proc, files):
    """--compression still works with --tls-cert: permessage-deflate inside TLS."""
    port = await startup_port(proc, "finch_demo", "")
    a = None
    try:
        begin("--compression with TLS: permessage-deflate is agreed over wss")
        ws = await asyncio.wait_for(
            websockets.connect(f"wss://127.0.0.1:{port}/ws", ssl=trusting(files["ca"])), TIMEOUT)
        a = Client("A", ws)
        welcome = await a.expect("connected envelope", envelope_is("connected"))
        names = [extension.name for extension in ws.extensions]
        verdict(names == ["permessage-deflate"], ["permessage-deflate"], names)

        begin("--compression with TLS: a 64 KiB message to itself arrives whole")
        text = "finch over TLS, compressed. " * 2400
        await a.send({"path": "toclient", "data": {"id": welcome["data"]["id"], "message": text}})
        reply = await a.expect("the message", envelope_is("output", data=text))
        verdict(reply["data"] == text, len(text), len(reply["data"]))
    finally:
        if a is not None:
            await a.close()


async def chat_scenario(proc, files):
    """The chat's page and WebSockets over TLS, with its upgrade handler."""
    port = await startup_port(proc, "chat", "?nick=...")
    ca = trusting(files["ca"])
    clients = []
    try:
        begin("chat: https:// GET /check?nick=ann answers 200")
        status, _, body = await asyncio.to_thread(https_get, f"https://localhost:{port}/check?nick=ann", ca)
        verdict(status == 200 and body == "ok\n", "200 ok", (status, body))

        begin("chat: ann and bob join lobby over wss; bob's message reaches ann")
        for nick in ("ann", "bob"):
            ws = await asyncio.wait_for(
                websockets.connect(f"wss://127.0.0.1:{port}/ws?nick={nick}", ssl=ca), TIMEOUT)
            client = Client(nick, ws)
            clients.append(client)
            await client.expect("welcome", lambda e: e.get("path") == "welcome")
            await client.send({"path": "join", "id": 1, "data": "lobby"})
            await client.expect("the join's answer", lambda e: e.get("replyTo") == 1 and e.get("status") == 200)
        ann, bob = clients
        await bob.send({"path": "say", "id": 2, "data": {"room": "lobby", "text": "hello over TLS"}})
        answer = await bob.expect("the say's answer", lambda e: e.get("replyTo") == 2)
        message = await ann.expect("bob's message", lambda e: e.get("path") == "message")
        verdict(answer["data"].get("delivered") == 1 and message["data"].get("text") == "hello over TLS"
                and message["data"].get("from") == "bob", "delivered 1, ann gets it", (answer, message))

        begin("chat: a taken nickname is refused with 409 over wss too")
        try:
            ws = await asyncio.wait_for(
                websockets.connect(f"wss://127.0.0.1:{port}/ws?nick=ann", ssl=ca), TIMEOUT)
            await ws.close()
            outcome = "accepted"
        except websockets.InvalidStatusCode as error:
            outcome = error.status_code
        verdict(outcome == 409, 409, outcome)

        begin("chat: SIGTERM closes the wss connections with 1001")
        proc.send_signal(signal.SIGTERM)
        codes = [await client.wait_closed() for client in clients]
        rc = await asyncio.wait_for(proc.wait(), EXIT_TIMEOUT)
        verdict(codes == [1001, 1001] and rc == 0, "1001 on both, exit code 0", (codes, rc))
    finally:
        for client in clients:
            await client.ws.close()
            client.reader.cancel()


async def run(demo, chat):
    with tempfile.TemporaryDirectory(prefix="finch-tls-test-") as directory:
        files = certificates.make_certificates(directory)
        tls = ["--port", "0", "--address", "127.0.0.1", "--tls-cert", files["cert"], "--tls-key", files["key"]]
        await bad_configurations(demo, files)
        await harness.run_server("finch_demo", [demo, *tls], lambda proc: demo_scenario(proc, files))
        await harness.run_server("finch_demo --compression", [demo, *tls, "--compression"],
                                 lambda proc: compression_scenario(proc, files))
        await harness.run_server("chat", [chat, *tls], lambda proc: chat_scenario(proc, files))


if __name__ == "__main__":
    harness.main(__doc__, run, binaries=2)
