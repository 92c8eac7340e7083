"""What finch's end-to-end scripts share: counted checks, a WebSocket client
that keeps what it receives until a check asks for it, a plain HTTP GET, and
running an example server binary for one scenario.

Every wait has a timeout; nothing is synchronised by sleeping.
"""

import asyncio
import json
import re
import sys
import tempfile
import time

import websockets

TIMEOUT = 5.0
EXIT_TIMEOUT = 15.0

passed = 0
failed = 0
current = None


class CheckFailed(Exception):
    """A check failed and was counted; the checks after it depend on it."""


class NotReceived(Exception):
    """A message did not come in time."""


def begin(name):
    global current
    current = name


def verdict(condition, expected, got=None):
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


def envelope_is(path, status=200, data=None):
    """A predicate for Client.expect(): an envelope of `path` with `status`,
    and `data` when given."""
    def predicate(envelope):
        return (envelope.get("path") == path and envelope.get("status") == status
                and (data is None or envelope.get("data") == data))
    return predicate


class Client:
    """JSON messages are read in the background and kept until a check asks
    for them with expect()."""

    def __init__(self, name, ws):
        self.name = name
        self.ws = ws
        self.queue = asyncio.Queue()
        self.backlog = []
        self.closed = False
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, name, url):
        return cls(name, await asyncio.wait_for(websockets.connect(url), TIMEOUT))

    async def _read(self):
        try:
            async for text in self.ws:
                self.queue.put_nowait(json.loads(text))
        except websockets.ConnectionClosed:
            pass
        finally:
            self.queue.put_nowait(None)

    async def send(self, message):
        await self.ws.send(json.dumps(message))

    async def expect(self, what, predicate):
        """The first message, received or still to come, that `predicate` accepts."""
        for index, message in enumerate(self.backlog):
            if predicate(message):
                return self.backlog.pop(index)
        deadline = time.monotonic() + TIMEOUT
        while True:
            if self.closed:
                raise NotReceived(f"{self.name} closed before receiving {what}; received {self.backlog}")
            try:
                message = await asyncio.wait_for(self.queue.get(), max(deadline - time.monotonic(), 0))
            except asyncio.TimeoutError:
                raise NotReceived(f"{self.name}: no {what} within {TIMEOUT}s; received {self.backlog}") from None
            if message is None:
                self.closed = True
                continue
            if predicate(message):
                return message
            self.backlog.append(message)

    async def next(self, what):
        """The next message in order, whatever it is."""
        return await self.expect(what, lambda message: True)

    async def wait_closed(self):
        """The close code, once the connection has closed."""
        await asyncio.wait_for(self.ws.wait_closed(), TIMEOUT)
        return self.ws.close_code

    async def close(self):
        await self.ws.close()
        self.reader.cancel()


async def http_get(port, target):
    """Status, headers (lower-case names) and body of a GET on 127.0.0.1."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), TIMEOUT)
    try:
        writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), TIMEOUT)
    finally:
        writer.close()
    status, headers, body = parse_response_head(raw)
    return status, headers, body.decode("utf-8", "replace")


def parse_response_head(raw):
    """An HTTP response's status, its headers (names in lower case) and the
    bytes after its head."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, rest


async def js_test_server_url(proc):
    """The WebSocket URL of a finch_js_test_server, read from its startup line."""
    begin("startup line")
    line = (await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode().rstrip("\n")
    match = re.fullmatch(r"finch_js_test_server listening on http://127\.0\.0\.1:(\d+)/", line)
    verdict(match is not None and match[1] != "0", "finch_js_test_server listening on http://127.0.0.1:<port>/", line)
    return f"ws://127.0.0.1:{match[1]}/ws"


async def stop_with(proc, sig):
    """Sends `sig` and returns the exit code, or a description if it does not exit."""
    proc.send_signal(sig)
    try:
        return await asyncio.wait_for(proc.wait(), EXIT_TIMEOUT)
    except asyncio.TimeoutError:
        return f"still running after {EXIT_TIMEOUT} s"


async def run_server(name, command, scenario):
    """Starts `command`, runs `scenario(proc)`, kills what is left, and prints
    the server's stderr if a check failed."""
    with tempfile.TemporaryFile() as stderr:
        proc = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=stderr)
        try:
            await scenario(proc)
        except CheckFailed:
            pass
        except Exception as e:  # noqa: BLE001 - any surprise fails the check under way
            fail(f"the {name} to answer as specified", repr(e))
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        if failed:
            stderr.seek(0)
            log = stderr.read().decode(errors="replace")
            if log:
                print(f"--- {name} stderr ---\n" + log.rstrip())


def main(doc, scenario_main, binaries=1):
    """Runs `scenario_main(*binaries)` for the binaries named on the command
    line, prints the tally and exits 1 on any failure."""
    if len(sys.argv) != binaries + 1:
        print(doc.strip().splitlines()[2], file=sys.stderr)
        sys.exit(2)
    asyncio.run(scenario_main(*sys.argv[1:]))
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
