#!/usr/bin/python3
"""Runs finch's benchmark: every server of the suite under every mode of the
load generator, side by side, and writes docs/benchmarks.md and
docs/benchmarks.png.

Usually started by scripts/bench.sh, which installs, builds and then runs

    /usr/bin/python3 bench/run.py --bin-dir build/bench/bench --node-modules build/bench/node/node_modules

--quick runs each point once, for one second, with fewer connections, and
writes its report into the build directory instead of docs/. --smoke is the
ctest (the `bench` suite of scripts/test.sh): a fraction of a second per mode
against bench_server (with one and two threads) and the C++ servers named by
--servers, no report; it fails only when a reply or a delivery is missing or
wrong, never on timing.

The compression mode measures permessage-deflate: finch and the raw Beast
floor, with and without it, under echo and broadcast of repetitive JSON, idle
connections with each kind of offer, and finch's zlib memory per thread
(bench/compression_memory). `--modes compression --splice` runs it alone and
puts its section into docs/benchmarks.md in place of the earlier one, leaving
the sections of the last full run as they are.

The wss mode measures TLS: finch's TlsSocketManager beside Beast's
websocket::stream<ssl_stream<tcp_stream>> (the raw echo and the chat-multi
design), under echo, broadcast and idle connections, with a self-signed P-256
certificate that the runner makes with `openssl` in the build directory.
`--modes wss --splice` puts its section alone into docs/benchmarks.md.

The cluster mode measures finch's cluster layer (issue 17): a redis-server of
its own on a free loopback port (no persistence), three bench_server nodes
joined through it (--redis), the broadcast load with its receivers spread over
the three (loadgen --ports) and the sender on the first. It reports the
deliveries per second, each node's CPU per delivery (the first node's
deliveries are local, the others' come through Redis) and Redis' CPU per
broadcast. `--modes cluster --splice` puts its section alone into
docs/benchmarks.md.

Method (docs/benchmarks.md says the same to its readers):
- each server is started fresh for each point, pinned to CPU 1, and the load
  generator to CPU 0; the thread comparison runs both unpinned;
- the load generator reads the server's CPU time (/proc/PID/stat) at the
  start and the end of the measuring window, after a warm-up, so CPU per
  operation is the server's own cost whatever the load generator manages;
- as root, both run with real-time round-robin scheduling, so other work on a
  shared machine cannot take their core; the runner also waits briefly for
  quiet before each point, and runs a pinned point again when the load
  generator still had to wait for its CPU;
- each point is repeated (3 times by default) and the median is reported.
"""

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOURCE_DIR = Path(__file__).resolve().parent.parent
NODE_SERVER = SOURCE_DIR / "bench" / "node" / "server.js"

# name, label in the report, executable (None: the Node server), and the
# note shown under the table.
SERVERS = [
    ("finch", "finch (bench_server)", "bench_server",
     "finch's SocketManager written as the README shows (a plain io_context, default Options, any target, "
     "routes reading message[\"data\"]): JSON decode, route table, envelope encode, write queue"),
    ("beast_raw", "raw Beast (floor)", "beast_raw_echo",
     "Beast's websocket::stream alone; echo writes the frame back untouched, "
     "broadcast forwards frames that start with {\"path\":\"broadcast\" (a prefix check, no JSON)"),
    ("beast_chat", "Beast chat-multi design", "beast_chat_server",
     "Beast's chat-multi design: strand per session, mutex-guarded set, "
     "shared_ptr<string const> per broadcast, one async_write per message; nlohmann/json routing"),
    ("websocketpp", "websocketpp", "websocketpp_server",
     "websocketpp 0.8 on Boost.Asio: handle set under a mutex, one server.send() per receiver; nlohmann/json routing"),
    ("node_ws", "Node.js ws", None,
     "Node.js with the ws package: JSON.parse routing, a broadcast encoded once and sent to every client"),
]
FLOOR = "beast_raw"
CHAT = "beast_chat"
FINCH = "finch"

MODES = ["echo", "broadcast", "idle", "connect", "large", "compression", "wss", "cluster"]
# The modes whose section --splice can put alone into docs/benchmarks.md.
SPLICE_MODES = ["compression", "wss", "cluster"]

# The large mode: messages of these sizes (the whole envelope), sent in turn
# in one run, once in one write and once in writes of LARGE_CHUNK bytes (a
# TCP segment of a 1500-byte MTU, with room for the headers); one connection,
# one message in flight. Only finch and the raw Beast floor answer its route.
LARGE_SIZES = [64 * 1024, 128 * 1024, 256 * 1024, 512 * 1024, 1024 * 1024]
LARGE_CHUNK = 1400
LARGE_SERVERS = {FINCH, FLOOR}
# Reading is linear in the message's size when a message 4 times as large
# costs 4 times as much; the target leaves room for noise.
LARGE_TARGET = 4.5


def largePoint(chunk):
    return f"large-{chunk if chunk else 'one'}"


def largeStyle(chunk):
    return f"{chunk}-byte writes" if chunk else "one write"


def sizeLabel(size):
    return f"{size // (1024 * 1024)} MiB" if size >= 1024 * 1024 else f"{size // 1024} KiB"


# The compression mode: finch and the raw Beast floor, each with and without
# permessage-deflate (the servers' --compression), under echo and broadcast
# of repetitive JSON (loadgen --content json) of the profile's sizes, and
# idle connections that have each exchanged a few such messages. Beast is the
# reference for the usual design, a compression context per connection.
COMPRESSION_SERVERS = {FINCH, FLOOR}
# Idle connections each send this many echoes of this size first: 32 KiB of
# history, which fills a client's largest window.
COMPRESSION_IDLE_PAYLOAD = 8192
COMPRESSION_IDLE_ECHOES = 4
# The most an idle connection with permessage-deflate may cost beyond one
# without for "no zlib state per connection": noise and finch's record of the
# agreement; the smallest zlib state (an inflater) is tens of KiB.
COMPRESSION_IDLE_TOLERANCE = 256
# The idle points: name, server flags, the load generator's offer, which
# servers, and what the server keeps of the client's context per connection.
COMPRESSION_IDLE = [
    ("plain", [], "off", {FINCH, FLOOR}, "no compression"),
    ("deflate", ["--compression"], "on", {FINCH, FLOOR}, "none (client_no_context_takeover)"),
    ("takeover", ["--compression-takeover"], "on", {FINCH},
     "512 B (client_max_window_bits offered, as browsers do)"),
    ("takeover-bare", ["--compression-takeover"], "bare", {FINCH}, "32 KiB (a bare offer)"),
]


# The wss mode: the plain modes' loads over TLS (the servers' --tls-cert and
# --tls-key, loadgen --tls), each point named wss-<mode>. finch's references
# are Beast's over TLS: the raw echo for echo, the chat-multi design for
# broadcast; idle memory beside the raw Beast server (the chat server's
# sessions are the same). The targets of the TLS work:
WSS_SERVERS = {FINCH, FLOOR, CHAT}
WSS_POINTS = [("echo", {FINCH, FLOOR, CHAT}), ("broadcast", {FINCH, FLOOR, CHAT}), ("idle", {FINCH, FLOOR})]
WSS_ECHO_TARGET = 1.0  # finch's CPU per message against Beast's raw wss echo
WSS_BROADCAST_TARGET = 0.6  # finch's CPU per delivery against Beast's chat-multi over TLS
# The certificate: what a small deployment would use (ECDSA P-256, TLS 1.3's
# usual choice), valid for a day, for the addresses the load generator uses.
WSS_CERTIFICATE = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                   "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]


# The cluster mode: this many bench_server nodes (finch only) joined through one
# redis-server, the broadcast load spread over them. Every node, Redis with
# them, runs on the server's core, so that the CPU they share is the one a
# single server had; the load generator keeps its own.
CLUSTER_NODES = 3
CLUSTER_POINT = "cluster"
CLUSTER_TARGET = 1.2  # a remote delivery's CPU against a local one
CLUSTER_TITLE = "## Cluster: three nodes through Redis"


def wssPoint(mode):
    return f"wss-{mode}"


def compressionPoint(mode, size, deflate):
    return f"z-{mode}-{size}-{'deflate' if deflate else 'plain'}"


def compressionLoad(size, offer):
    """The load generator's arguments of a compression point; they come after
    the mode's own, so their --payload wins."""
    return ["--payload", str(size), "--content", "json", "--deflate", offer]

# Per profile: the load of each mode. "connections" is the number of open
# connections (echo, broadcast, idle) or of concurrent connect loops (connect).
PROFILES = {
    "full": {
        "repeat": 3, "duration": 5.0, "warmup": 1.0, "settle": 1.0,
        "echo": 50, "broadcast": 1000, "idle": 10000, "connect": 16, "cluster": 1000,
        "large_sizes": LARGE_SIZES, "large_duration": 3.0, "large_warmup": 0.3,
        "compression_sizes": [2048, 8192], "compression_plain": True,
        "held": True, "threads": True, "perf": True, "cluster_duration": 5.0,
    },
    "quick": {
        "repeat": 1, "duration": 1.0, "warmup": 0.3, "settle": 0.5,
        "echo": 10, "broadcast": 100, "idle": 1000, "connect": 4, "cluster": 300,
        "large_sizes": LARGE_SIZES, "large_duration": 1.0, "large_warmup": 0.2,
        "compression_sizes": [2048, 8192], "compression_plain": True,
        "held": False, "threads": True, "perf": False,
        # Longer than the other points' window: /proc/PID/stat counts in
        # ticks of 10 ms, and each node's CPU is a third of the server core's.
        "cluster_duration": 3.0,
    },
    "smoke": {
        "repeat": 1, "duration": 0.5, "warmup": 0.2, "settle": 0.2,
        "echo": 4, "broadcast": 20, "idle": 100, "connect": 2, "cluster": 6,
        # The smallest and the largest (finch's default message limit).
        "large_sizes": [LARGE_SIZES[0], LARGE_SIZES[-1]], "large_duration": 0.2, "large_warmup": 0.1,
        # Compressed points only: the plain ones are the other modes' paths.
        "compression_sizes": [2048], "compression_plain": False,
        "held": False, "threads": True, "perf": False, "cluster_duration": 0.5,
    },
}

SERVER_CPU = "1"
LOADGEN_CPU = "0"
ALL_CPUS = "0,1"
SOURCES = 4  # client addresses 127.0.0.1 .. 127.0.0.4
HANDLER_US = 20  # work per echo in the thread comparison's third point (bench_server)
PAYLOAD = 64
# A pinned point is run again (at most RETRIES times) when the load generator
# spent more than this share of its window ready to run but without a CPU:
# other work on the machine took its core. Only the load generator's wait
# tells: it is one thread alone on its core, while a server's threads (Node's
# helpers, say) may wait for each other. Real-time scheduling caps a busy
# core at 95 % (kernel.sched_rt_runtime_us), hence the margin.
WAIT_LIMIT = 0.10
RETRIES = 3
# Before each point, the runner waits until the machine's processes use less
# than this many cores.
QUIET_LIMIT = 0.10


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


# How the server and the load generator are scheduled (see --scheduling).
SCHEDULING = "normal"
# Round-robin, not FIFO: threads of equal priority on one core still take turns.
REALTIME_PRIORITY = 10
NICE = -10


def prepareChild():
    """In each server and load generator, before it starts: the soft limit of
    open files up to the hard one, since each needs a descriptor per
    connection, and the scheduling asked for."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        if SCHEDULING == "realtime":
            os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(REALTIME_PRIORITY))
        elif SCHEDULING == "nice":
            os.setpriority(os.PRIO_PROCESS, 0, NICE)
    except OSError:
        pass  # not allowed here (a container without CAP_SYS_NICE): measure as we are


def fileLimit():
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


def machineBusy():
    """(user + nice + system) seconds of the whole machine so far."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return (int(fields[1]) + int(fields[2]) + int(fields[3])) / os.sysconf("SC_CLK_TCK")


def waitForQuiet(limitSeconds):
    """Waits, at most `limitSeconds`, until the machine's processes use less
    than QUIET_LIMIT of a core over half a second. Returns whether it did."""
    if limitSeconds <= 0:
        return True
    deadline = time.monotonic() + limitSeconds
    while True:
        before = machineBusy()
        time.sleep(0.5)
        busy = (machineBusy() - before) / 0.5
        if busy < QUIET_LIMIT:
            return True
        if time.monotonic() > deadline:
            log(f"  machine still busy ({busy:.2f} cores used by other processes); going on")
            return False


class Server:
    """One server process, started fresh, stopped on leaving the with-block."""

    def __init__(self, name, command, cpus, threads, env=None):
        self.name = name
        self.command = ["taskset", "-c", cpus] + command + ["--port", "0", "--threads", str(threads)]
        self.env = env
        self.process = None
        self.port = None

    def __enter__(self):
        # taskset execs the server, so the child's pid is the server's.
        # stderr goes to a file: nobody reads it while the server runs, and a
        # full pipe would block a chatty server.
        self.errors = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=self.errors,
                                        text=True, env=self.env, preexec_fn=prepareChild)
        deadline = time.monotonic() + 15
        line = ""
        while time.monotonic() < deadline and self.process.poll() is None:
            ready, _, _ = select.select([self.process.stdout], [], [], 0.2)
            if not ready:
                continue
            line = self.process.stdout.readline()
            match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
            if match:
                self.port = int(match.group(1))
                return self
        self.stop()
        self.errors.seek(0)
        raise RuntimeError(f"{self.name} did not start: {line.strip()} {self.errors.read().strip()}")

    @property
    def pid(self):
        return self.process.pid

    def openFiles(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __exit__(self, *exc):
        self.stop()
        self.errors.close()


def redisServer():
    return shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)


def redisVersion():
    """"7.0.15" of redis-server's "Redis server v=7.0.15 sha=...", or "?"."""
    match = re.search(r"v=(\S+)", command([redisServer() or "redis-server", "--version"]))
    return match.group(1) if match else "?"


def freePort():
    """A loopback port that was free a moment ago (redis-server cannot be
    told to pick one and say which, as the benchmark servers can)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """A redis-server of the cluster points' own, on 127.0.0.1 only and
    without persistence, stopped on leaving the with-block. Scheduled as the
    servers are, on their core: it is part of the cluster's cost."""

    ATTEMPTS = 3  # another process may take the free port before Redis does

    def __init__(self, cpus):
        self.cpus = cpus
        self.process = None
        self.port = None

    def __enter__(self):
        executable = redisServer()
        if not executable:
            raise RuntimeError("redis-server not found (apt-get install redis-server)")
        self.output = tempfile.TemporaryFile(mode="w+")
        self.directory = tempfile.TemporaryDirectory(prefix="finch-bench-redis-")
        for _ in range(self.ATTEMPTS):
            self.port = freePort()
            self.process = subprocess.Popen(
                ["taskset", "-c", self.cpus, executable, "--port", str(self.port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no", "--dir", self.directory.name, "--loglevel", "warning"],
                stdout=self.output, stderr=subprocess.STDOUT, preexec_fn=prepareChild)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.process.poll() is None:
                if self.answers():
                    return self
                time.sleep(0.05)
            self.stop()
        self.output.seek(0)
        error = self.output.read().strip()[-300:]
        self.close()
        raise RuntimeError(f"redis-server did not start: {error}")

    def answers(self):
        """Whether this Redis answers PING on its port (and not some other
        process that took the port)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    @property
    def pid(self):
        return self.process.pid

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def close(self):
        self.output.close()
        self.directory.cleanup()

    def __exit__(self, *exc):
        self.stop()
        self.close()


class Runner:
    def __init__(self, args):
        self.args = args
        self.profile = dict(PROFILES[args.profile])
        if args.repeat:
            self.profile["repeat"] = args.repeat
        if args.duration:
            self.profile["duration"] = args.duration
        self.binDir = Path(args.bin_dir).resolve()
        self.loadgen = self.binDir / "loadgen"
        self.servers = self.availableServers()
        self.results = []  # one dict per measured point
        self.profiles = {}  # mode: [(percent, where, function)], perf's top functions of finch

    def availableServers(self):
        wanted = set(self.args.servers.split(",")) if self.args.servers else None
        available = []
        for name, label, executable, note in SERVERS:
            if wanted is not None and name not in wanted:
                continue
            if executable is None:
                modules = Path(self.args.node_modules).resolve() if self.args.node_modules else None
                if not shutil.which("node") or not modules or not (modules / "ws").is_dir():
                    log(f"skipping {name}: needs node and the ws package (npm install, see scripts/bench.sh)")
                    continue
                command = ["node", str(NODE_SERVER)]
                env = dict(os.environ, NODE_PATH=str(modules))
            else:
                path = self.binDir / executable
                if not path.exists():
                    log(f"skipping {name}: {path} was not built")
                    continue
                command, env = [str(path)], None
            available.append({"name": name, "label": label, "note": note, "command": command, "env": env})
        return available

    def runLoad(self, server, mode, connections, cpus, large=None, extra=()):
        p = self.profile
        if large:
            sizes, chunk = large
            window = ["--duration", str(p["large_duration"]), "--warmup", str(p["large_warmup"]),
                      "--sizes", ",".join(str(size) for size in sizes), "--chunk", str(chunk)]
        else:
            window = ["--duration", str(p["duration"]), "--warmup", str(p["warmup"]), "--payload", str(PAYLOAD)]
        command = ["taskset", "-c", cpus, str(self.loadgen), "--port", str(server.port), "--mode", mode,
                   "--connections", str(connections), "--settle", str(p["settle"]), "--sources", str(SOURCES),
                   "--server-pid", str(server.pid)] + window + list(extra)
        completed = subprocess.run(command, capture_output=True, text=True, timeout=900, preexec_fn=prepareChild)
        lines = completed.stdout.strip().splitlines()
        if not lines:
            raise RuntimeError(f"loadgen printed nothing: {completed.stderr.strip()}")
        report = json.loads(lines[-1])
        report["loadgen_exit"] = completed.returncode
        return report


    def measure(self, spec, mode, connections, threads=1, pinned=True, label=None, large=None, extra=(),
                run=None):
        """One point: a fresh server and one load run; run again if other
        processes disturbed it, keeping the least disturbed attempt. `run`
        replaces runPoint (the cluster's servers)."""
        serverCpus, loadCpus = (SERVER_CPU, LOADGEN_CPU) if pinned else (ALL_CPUS, ALL_CPUS)
        retries = 0 if self.args.profile == "smoke" else RETRIES
        best = None
        for attempt in range(retries + 1):
            # A shorter wait before a retry: the machine was busy a moment ago
            # and may stay so; the retries themselves are the better chance.
            waitForQuiet(self.args.quiet_wait if attempt == 0 else min(self.args.quiet_wait, 10))
            try:
                report = (run or self.runPoint)(spec, mode, connections, serverCpus, loadCpus, threads, large,
                                                extra)
            except (RuntimeError, OSError, ValueError, subprocess.SubprocessError) as e:
                # One broken point must not cost the other measurements.
                report = {"mode": mode, "connections": connections, "errors": 1, "lost": 0,
                          "first_error": str(e)[:300]}
            # Unpinned, the load generator shares the cores with the server by
            # design, so its waits are part of the measurement.
            waited = report.get("loadgen_run_queue_wait", 0)
            report.update(server=spec["name"], point=label or mode, threads=threads, pinned=pinned,
                          waited=waited, attempt=attempt)
            if best is None or waited < best["waited"]:
                best = report
            if waited <= WAIT_LIMIT or not pinned:
                break
            if attempt < retries:
                log(f"  the load generator waited for a CPU {100 * waited:.0f} % of the window (other work "
                    "on the machine); running the point again")
        self.results.append(best)
        self.printPoint(best)
        return best

    def runPoint(self, spec, mode, connections, serverCpus, loadCpus, threads, large=None, extra=()):
        with Server(spec["name"], spec["command"], serverCpus, threads, spec["env"]) as server:
            if mode == "held":
                # As many connections as both processes' descriptor limits
                # allow: the server's own descriptors (listener, epoll,
                # standard streams ...) and a few for the load generator.
                connections = fileLimit() - max(server.openFiles(), 16) - 8
            return self.runLoad(server, "idle" if mode == "held" else mode, connections, loadCpus, large, extra)

    def runClusterPoint(self, spec, mode, connections, serverCpus, loadCpus, threads, large=None, extra=()):
        """A fresh Redis and CLUSTER_NODES fresh nodes joined through it, all on
        the server's core; the load's connections spread over the nodes."""
        with Redis(serverCpus) as redis, contextlib.ExitStack() as stack:
            nodes = [stack.enter_context(Server(f"{spec['name']}-{index + 1}",
                                                spec["command"] + ["--redis", f"127.0.0.1:{redis.port}"],
                                                serverCpus, threads, spec["env"]))
                     for index in range(CLUSTER_NODES)]
            # After the single-server arguments runLoad writes, which these replace.
            spread = ["--ports", ",".join(str(node.port) for node in nodes),
                      "--server-pid", ",".join(str(node.pid) for node in nodes),
                      "--backplane-pid", str(redis.pid),
                      "--duration", str(self.args.duration or self.profile["cluster_duration"])]
            report = self.runLoad(nodes[0], mode, connections, loadCpus, large, list(extra) + spread)
        report.update(clusterFigures(report), redis_version=redisVersion())
        return report

    @staticmethod
    def printPoint(r):
        bad = "" if r["errors"] == 0 and r["lost"] == 0 else \
            f"  ERRORS {r['errors']} lost {r['lost']}: {r.get('first_error', '')}"
        if r["mode"] == "memory":
            log(f"  {r['server']:12} {r['point']:10} deflater {r.get('deflater_15_bytes', 0) / 1024:.1f} KiB "
                f"(window 512 B: {r.get('deflater_9_bytes', 0) / 1024:.1f} KiB) "
                f"inflater {r.get('inflater_bytes', 0) / 1024:.1f} KiB per thread{bad}")
        elif "open" not in r:  # the point did not run
            log(f"  {r['server']:12} {r['point']:10} FAILED: {r.get('first_error', '')}")
        elif r["mode"] == "idle":
            log(f"  {r['server']:12} {r['point']:10} open {r['open']}/{r['connections']} alive {r.get('alive')} "
                f"anon {r.get('anon_bytes_per_connection', 0) / 1024:.2f} KiB/conn "
                f"rss {r.get('rss_bytes_per_connection', 0) / 1024:.2f} KiB/conn{bad}")
        elif r["mode"] == "large":
            log(f"  {r['server']:12} {r['point']:10} pacing {r.get('pacing')} "
                f"waited: load {100 * r.get('loadgen_run_queue_wait', 0):.0f} %{bad}")
            for size in r.get("sizes", []):
                log(f"    {sizeLabel(size['bytes']):>8} {size['messages']:5} messages "
                    f"cpu {size.get('server_cpu_ms_per_mib', float('nan')):7.2f} ms/MiB "
                    f"{size.get('server_cpu_us_median', float('nan')):9.1f} us/message (median) "
                    f"segments {size.get('server_segments_per_message', float('nan')):6.1f}/message")
        else:
            log(f"  {r['server']:12} {r['point']:10} {r['operations_per_second']:10.0f}/s "
                f"p50 {r['latency_p50_us']:8.1f} us p99 {r['latency_p99_us']:8.1f} us "
                f"cpu {r.get('server_cpu_us_per_operation', float('nan')):6.2f} us/op "
                f"server {r.get('server_cpu_utilisation', 0):.2f} load {r.get('loadgen_cpu_utilisation', 0):.2f} "
                f"waited: server {100 * r.get('server_run_queue_wait', 0):.0f} % "
                f"load {100 * r.get('loadgen_run_queue_wait', 0):.0f} %"
                + (f" wire {r['wire_bytes_from_server_per_operation']:.0f} B/op"
                   if "wire_bytes_from_server_per_operation" in r else "") + bad)
            for index, node in enumerate(r.get("nodes", [])):
                log(f"    node {index + 1} ({'local' if index == 0 else 'remote'}) {node['receivers']:5} receivers "
                    f"{node['deliveries'] / max(r.get('window_seconds', 0), 1e-9):10.0f} deliveries/s "
                    f"cpu {node.get('server_cpu_us_per_delivery', float('nan')):6.2f} us/delivery "
                    f"server {node.get('server_cpu_utilisation', 0):.2f}")
            if "remote_local_ratio" in r:
                log(f"    remote/local {r['remote_local_ratio']:.2f}x "
                    f"(worst node {r['worst_remote_local_ratio']:.2f}x); "
                    f"redis {r.get('backplane_cpu_us_per_broadcast', float('nan')):.1f} us/broadcast, "
                    f"{r.get('backplane_cpu_utilisation', 0):.2f} of a core")

    def run(self):
        p = self.profile
        modes = self.args.modes.split(",") if self.args.modes else MODES
        for repeat in range(p["repeat"]):
            for mode in modes:
                for spec in self.servers:
                    if mode == "large":
                        self.measureLarge(spec, repeat)
                        continue
                    if mode == "compression":
                        self.measureCompression(spec, repeat)
                        continue
                    if mode == "wss":
                        self.measureWss(spec, repeat)
                        continue
                    if mode == "cluster":
                        self.measureCluster(spec, repeat)
                        continue
                    log(f"[{repeat + 1}/{p['repeat']}] {mode} {spec['name']}")
                    self.measure(spec, mode, p[mode])
        finch = next((s for s in self.servers if s["name"] == FINCH), None)
        if finch and p["threads"] and not self.args.modes:
            # Unpinned, both thread counts alike: the server may use both cores,
            # and shares them with the load generator.
            # The third point loads the server more than the load generator
            # (HANDLER_US of work in each echo), so that the comparison shows
            # whether a second thread helps when there is a core for it.
            working = dict(finch, env=dict(finch["env"] or os.environ, FINCH_BENCH_HANDLER_US=str(HANDLER_US)))
            for repeat in range(p["repeat"]):
                for label, mode, spec in (("echo", "echo", finch), ("broadcast", "broadcast", finch),
                                          ("echo-work", "echo", working)):
                    for threads in (1, 2):
                        log(f"[{repeat + 1}/{p['repeat']}] {label} finch --threads {threads} (unpinned)")
                        self.measure(spec, mode, p[mode], threads=threads, pinned=False,
                                     label=f"{label}-t{threads}")
        if p["held"] and not self.args.modes:
            for spec in self.servers:
                log(f"held {spec['name']}: as many connections as the descriptor limit allows")
                self.measure(spec, "held", 0, label="held")
        if finch and p["perf"] and not self.args.modes and perfWorks():
            for mode in ("echo", "broadcast"):
                log(f"profile of finch under {mode} (perf, not counted in the measurements)")
                self.profiles[mode] = self.perfProfile(finch, mode)

    def measureLarge(self, spec, repeat):
        """One point per way of sending, each with a fresh server and one
        connection, the sizes in turn."""
        if spec["name"] not in LARGE_SERVERS:
            return
        p = self.profile
        for chunk in (0, LARGE_CHUNK):
            log(f"[{repeat + 1}/{p['repeat']}] large {spec['name']}: in {largeStyle(chunk)}")
            self.measure(spec, "large", 1, label=largePoint(chunk), large=(p["large_sizes"], chunk))

    def measureCompression(self, spec, repeat):
        """The compression points of one server: echo and broadcast of
        repetitive JSON with and without permessage-deflate, idle connections
        with each offer; and once, finch's zlib memory per thread."""
        if spec["name"] not in COMPRESSION_SERVERS:
            return
        p = self.profile
        tag = f"[{repeat + 1}/{p['repeat']}] compression {spec['name']}"
        deflates = (False, True) if p["compression_plain"] else (True,)
        for mode in ("echo", "broadcast"):
            for size in p["compression_sizes"]:
                for deflate in deflates:
                    log(f"{tag}: {mode} of {sizeLabel(size)} JSON, {'compressed' if deflate else 'plain'}")
                    server = dict(spec, command=spec["command"] + (["--compression"] if deflate else []))
                    self.measure(server, mode, p[mode], label=compressionPoint(mode, size, deflate),
                                 extra=compressionLoad(size, "on" if deflate else "off"))
        for name, flags, offer, servers, _ in COMPRESSION_IDLE:
            if spec["name"] not in servers or (name == "plain" and not p["compression_plain"]):
                continue
            log(f"{tag}: idle, {name}")
            server = dict(spec, command=spec["command"] + flags)
            self.measure(server, "idle", p["idle"], label=f"z-idle-{name}",
                         extra=compressionLoad(COMPRESSION_IDLE_PAYLOAD, offer) +
                         ["--idle-echoes", str(COMPRESSION_IDLE_ECHOES)])
        if spec["name"] == FINCH and repeat == 0:
            self.measureZlibMemory()

    def tlsFiles(self):
        """The certificate and key of the wss points, made once per run in the
        build directory: nothing secret is kept in the tree, and no point
        depends on a file that may have expired."""
        if getattr(self, "_tlsFiles", None) is None:
            directory = self.binDir / "tls"
            directory.mkdir(exist_ok=True)
            cert, key = directory / "cert.pem", directory / "key.pem"
            completed = subprocess.run(["openssl"] + WSS_CERTIFICATE + ["-keyout", str(key), "-out", str(cert)],
                                       capture_output=True, text=True, timeout=60)
            if completed.returncode != 0:
                raise RuntimeError(f"openssl req failed: {completed.stderr.strip()[:300]}")
            self._tlsFiles = (str(cert), str(key))
        return self._tlsFiles

    def measureWss(self, spec, repeat):
        """The wss points of one server: echo, broadcast and idle over TLS,
        the loads of the plain modes. The load generator verifies the
        certificate (--ca), which costs it a signature check per handshake,
        outside every measuring window."""
        if spec["name"] not in WSS_SERVERS:
            return
        p = self.profile
        try:
            cert, key = self.tlsFiles()
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            for mode, servers in WSS_POINTS:
                if spec["name"] in servers:
                    report = {"server": spec["name"], "point": wssPoint(mode), "mode": mode, "errors": 1, "lost": 0,
                              "first_error": f"no certificate: {e}"[:300]}
                    self.results.append(report)
                    self.printPoint(report)
            return
        server = dict(spec, command=spec["command"] + ["--tls-cert", cert, "--tls-key", key])
        for mode, servers in WSS_POINTS:
            if spec["name"] not in servers:
                continue
            log(f"[{repeat + 1}/{p['repeat']}] wss {mode} {spec['name']}")
            self.measure(server, mode, p[mode], label=wssPoint(mode), extra=["--tls", "--ca", cert])

    def measureCluster(self, spec, repeat):
        """The cluster point: finch only, CLUSTER_NODES nodes through a Redis
        of the runner's own, the broadcast load spread over them."""
        if spec["name"] != FINCH:
            return
        if not redisServer():
            if repeat == 0:
                log("skipping cluster: no redis-server (apt-get install redis-server, or scripts/install-deps.sh)")
            return
        p = self.profile
        log(f"[{repeat + 1}/{p['repeat']}] cluster {spec['name']}: {p['cluster']} receivers over {CLUSTER_NODES} "
            "nodes through Redis, the sender on node 1")
        self.measure(spec, "broadcast", p["cluster"], label=CLUSTER_POINT, run=self.runClusterPoint)

    def measureZlibMemory(self):
        """bench/compression_memory: the heap bytes of finch's zlib state per
        thread and of a kept client window, counted around the codec."""
        report = {"server": FINCH, "point": "z-memory", "mode": "memory", "errors": 0, "lost": 0}
        try:
            completed = subprocess.run([str(self.binDir / "compression_memory"), "--payload",
                                        str(COMPRESSION_IDLE_PAYLOAD)], capture_output=True, text=True, timeout=60)
            report.update(json.loads(completed.stdout.strip().splitlines()[-1]))
            if completed.returncode != 0 or not report.get("ok"):
                report.update(errors=1, first_error="compression_memory: a message did not come back whole")
        except (OSError, ValueError, IndexError, subprocess.SubprocessError) as e:
            report.update(errors=1, first_error=f"compression_memory: {e}"[:300])
        self.results.append(report)
        self.printPoint(report)

    def perfProfile(self, spec, mode, seconds=5, top=15):
        """perf's flat profile (self time) of one server under load: the
        functions where its CPU time goes. A run of its own, since sampling
        costs the server a little CPU."""
        waitForQuiet(self.args.quiet_wait)
        data = self.binDir / f"perf-{spec['name']}-{mode}.data"
        p = self.profile
        with Server(spec["name"], spec["command"], SERVER_CPU, 1, spec["env"]) as server:
            load = subprocess.Popen(
                ["taskset", "-c", LOADGEN_CPU, str(self.loadgen), "--port", str(server.port), "--mode", mode,
                 "--connections", str(p[mode]), "--duration", str(seconds + 1), "--warmup", str(p["warmup"]),
                 "--payload", str(PAYLOAD), "--server-pid", str(server.pid)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=prepareChild)
            try:
                time.sleep(p["warmup"] + 0.5)
                subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "2000", "-p", str(server.pid),
                                "-o", str(data), "--", "sleep", str(seconds)],
                               capture_output=True, timeout=seconds + 60)
                load.wait(timeout=120)
            finally:
                if load.poll() is None:
                    load.kill()
                    load.wait()
        report = command(["perf", "report", "-i", str(data), "--no-children", "--fields", "overhead,dso,sym",
                          "--stdio"])
        rows = []
        for line in report.splitlines():
            match = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)", line)
            if match and len(rows) < top:
                where = "kernel" if match.group(3) == "k" else Path(match.group(2)).name
                rows.append((float(match.group(1)), where, shortenSymbol(match.group(4).strip())))
        for percent, where, function in rows:
            log(f"  {percent:5.2f}%  {where:20} {function}")
        return rows

    # ---- summaries --------------------------------------------------------------

    def points(self, server, point):
        return [r for r in self.results if r["server"] == server and r["point"] == point]

    def median(self, server, point, key):
        values = [r[key] for r in self.points(server, point) if key in r]
        return statistics.median(values) if values else None

    def spread(self, server, point, key, scale=1):
        """" (lowest-highest)" of the repetitions, or nothing for a single run."""
        values = [r[key] * scale for r in self.points(server, point) if key in r]
        return f" ({fmt(min(values))}-{fmt(max(values))})" if len(values) > 1 else ""

    def sizeValues(self, server, chunk, size, key):
        """A figure of one message size in every run of a large point."""
        return [s[key] for r in self.points(server, largePoint(chunk)) for s in r.get("sizes", [])
                if s["bytes"] == size and key in s]

    def sizeMedian(self, server, chunk, size, key):
        values = self.sizeValues(server, chunk, size, key)
        return statistics.median(values) if values else None

    def largeRatios(self, server, chunk, big=1024 * 1024, small=256 * 1024):
        """The CPU of a message of `big` bytes against one of `small`, in each
        run: both sizes measured in turn in the same run."""
        ratios = []
        for r in self.points(server, largePoint(chunk)):
            cpu = {s["bytes"]: s.get("server_cpu_us_median") for s in r.get("sizes", [])}
            if cpu.get(big) and cpu.get(small):
                ratios.append(cpu[big] / cpu[small])
        return ratios

    def clean(self, server, point):
        rows = self.points(server, point)
        return bool(rows) and all(r["errors"] == 0 and r["lost"] == 0 for r in rows)

    def failures(self):
        return [r for r in self.results if r["errors"] or r["lost"]]


def clusterFigures(report):
    """A cluster point's figures by role, flat so that the repetitions'
    medians can be taken: node 1 holds the sender, its deliveries are local;
    the other nodes' deliveries came through Redis."""
    nodes = report.get("nodes", [])
    window = report.get("window_seconds", 0)
    if len(nodes) != CLUSTER_NODES or window <= 0:
        return {}
    out = {}
    for index, node in enumerate(nodes, 1):
        out[f"node{index}_receivers"] = node["receivers"]
        out[f"node{index}_deliveries_per_second"] = node["deliveries"] / window
        for key in ("server_cpu_us_per_delivery", "server_kernel_us_per_delivery", "server_cpu_utilisation",
                    "server_run_queue_wait"):
            if key in node:
                out[f"node{index}_{key}"] = node[key]
    local = nodes[0]
    remote = nodes[1:]
    if not local.get("deliveries") or "server_cpu_seconds" not in local or \
            not all(node.get("deliveries") and "server_cpu_seconds" in node for node in remote):
        return out
    localCpu = local["server_cpu_seconds"] / local["deliveries"] * 1e6
    remoteCpu = sum(node["server_cpu_seconds"] for node in remote) / sum(node["deliveries"] for node in remote) * 1e6
    out.update(local_cpu_us_per_delivery=localCpu, remote_cpu_us_per_delivery=remoteCpu)
    if localCpu > 0:
        out["remote_local_ratio"] = remoteCpu / localCpu
        out["worst_remote_local_ratio"] = max(node["server_cpu_seconds"] / node["deliveries"] * 1e6
                                              for node in remote) / localCpu
    return out


def perfWorks():
    """Whether perf can sample here (a virtual machine may offer no hardware
    counters; the cpu-clock software event is enough)."""
    if not shutil.which("perf"):
        return False
    try:
        return subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-o", "/dev/null", "--", "true"],
                              capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def shortenSymbol(symbol):
    """A C++ symbol without its template arguments and parameter lists, which
    for Asio and Beast run to hundreds of characters and hide the name."""
    out, depth = [], 0
    for c in symbol:
        if c in "<(":
            if depth == 0:
                out.append("<>" if c == "<" else "()")
            depth += 1
        elif c in ">)" and depth > 0:
            depth -= 1
        elif depth == 0:
            out.append(c)
    return "".join(out).strip()


def fmt(value, digits=2, suffix=""):
    if value is None:
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}{suffix}"
    return f"{value:.{digits}f}{suffix}"


def ratio(value, reference):
    if value is None or not reference:
        return None
    return value / reference


def twoThreadCeiling(server, load):
    """The most two server threads can do, as a multiple of what one does, on
    two cores, given CPU microseconds per operation of the server and of the
    one-thread load generator. One server thread: at most one core for each
    side. Two: the cores shared, and never more than the load generator's one
    thread can drive."""
    one = min(1 / load, 1 / server)
    two = min(1 / load, 2 / (server + load))
    return two / one


def fmtRatio(value):
    return "n/a" if value is None else f"{value:.2f}x"


def command(args):
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def buildFlags(binDir):
    """The build type and its flags, from the CMake cache of the build that
    made the servers (binDir is its bench/ directory)."""
    cache = Path(binDir).parent / "CMakeCache.txt"
    if not cache.exists():
        return "flags unknown"
    entries = dict(re.findall(r"^(CMAKE_[A-Z_]+):[A-Z]+=(.*)$", cache.read_text(), re.M))
    kind = entries.get("CMAKE_BUILD_TYPE", "")
    flags = " ".join(f for f in (entries.get("CMAKE_CXX_FLAGS", ""),
                                 entries.get(f"CMAKE_CXX_FLAGS_{kind.upper()}", "") if kind else "") if f)
    return f"CMake {kind or 'without a build type'} ({flags or 'no flags'})"


def machineInfo(runner):
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"model name\s*:\s*(.*)", cpuinfo)
    memory = re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text())
    commit = command(["git", "-C", str(SOURCE_DIR), "rev-parse", "HEAD"])
    dirty = command(["git", "-C", str(SOURCE_DIR), "status", "--porcelain", "--untracked-files=no"])
    wsPackage = Path(runner.args.node_modules or "/nonexistent") / "ws" / "package.json"
    debian = Path("/etc/debian_version").read_text().strip() if Path("/etc/debian_version").exists() else "?"
    gcc = command(["g++", "-dumpfullversion"])
    return {
        "cpu": model.group(1).strip() if model else platform.processor(),
        "cores": os.cpu_count(),
        "memory_gib": round(int(memory.group(1)) / 1024 / 1024, 1) if memory else None,
        "kernel": " ".join(platform.uname()[i] for i in (0, 2, 4)),
        "os": f"Debian {debian}",
        "compiler": f"GCC {gcc}, {buildFlags(runner.binDir)}",
        "boost": command(["dpkg-query", "-W", "-f=${Version}", "libboost1.81-dev"]),
        "nlohmann_json": command(["dpkg-query", "-W", "-f=${Version}", "nlohmann-json3-dev"]),
        "websocketpp": command(["dpkg-query", "-W", "-f=${Version}", "libwebsocketpp-dev"]),
        "node": command(["node", "--version"]),
        "ws": json.loads(wsPackage.read_text())["version"] if wsPackage.exists() else "",
        "file_limit": fileLimit(),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


class Report:
    """docs/benchmarks.md and its chart, from a Runner's results."""

    def __init__(self, runner, machine, outDir):
        self.r = runner
        self.machine = machine
        self.outDir = outDir
        self.names = [s["name"] for s in runner.servers]
        self.labels = {s["name"]: s["label"] for s in runner.servers}

    def targets(self):
        r = self.r
        rows = []

        def row(target, goal, figure, met):
            rows.append((target, goal, figure, "n/a" if met is None else ("met" if met else "**not met**")))

        finchEcho = r.median(FINCH, "echo", "server_cpu_us_per_operation")
        floorEcho = r.median(FLOOR, "echo", "server_cpu_us_per_operation")
        q = ratio(finchEcho, floorEcho)
        row(f"echo through the full JSON routing path, {r.profile['echo']} connections: server CPU per message",
            "at most 1.0x the raw Beast echo floor",
            f"{fmt(finchEcho)} us vs {fmt(floorEcho)} us: {fmtRatio(q)}",
            None if q is None else q <= 1.0 and r.clean(FINCH, "echo"))

        finchCast = r.median(FINCH, "broadcast", "server_cpu_us_per_operation")
        chatCast = r.median(CHAT, "broadcast", "server_cpu_us_per_operation")
        q = ratio(finchCast, chatCast)
        row(f"broadcast to {r.profile['broadcast']} receivers: server CPU per delivered message",
            "at most 0.55x the Beast chat-multi design",
            f"{fmt(finchCast)} us vs {fmt(chatCast)} us: {fmtRatio(q)}",
            None if q is None else q <= 0.55 and r.clean(FINCH, "broadcast"))

        ratios, parts = [], []
        for chunk in (0, LARGE_CHUNK):
            each = r.largeRatios(FINCH, chunk)
            ratios.append(statistics.median(each) if each else None)
            big = r.sizeMedian(FINCH, chunk, 1024 * 1024, "server_cpu_us_median")
            small = r.sizeMedian(FINCH, chunk, 256 * 1024, "server_cpu_us_median")
            if each and big and small:
                parts.append(f"{largeStyle(chunk)}: {fmt(big / 1000)} ms vs {fmt(small / 1000)} ms, "
                             f"{fmtRatio(ratios[-1])}")
        clean = all(r.clean(FINCH, largePoint(chunk)) for chunk in (0, LARGE_CHUNK))
        row("large messages: server CPU for a 1 MiB message against a 256 KiB one (4x when reading is linear)",
            f"at most {LARGE_TARGET}x, sent in one write and in {LARGE_CHUNK}-byte writes",
            "; ".join(parts) or "not run",
            None if None in ratios else all(q <= LARGE_TARGET for q in ratios) and clean)

        anon = r.median(FINCH, "idle", "anon_bytes_per_connection")
        row(f"user-space memory per idle connection, {r.profile['idle']:,} connections",
            "at most 3 KiB",
            "not run" if anon is None else f"{fmt(anon / 1024)} KiB (heap and stacks, RssAnon)",
            None if anon is None else anon <= 3 * 1024 and r.clean(FINCH, "idle"))

        held = r.points(FINCH, "held")
        if held:
            h = held[0]
            ok = h["errors"] == 0 and h["lost"] == 0 and h.get("alive") == h["connections"]
            files = h.get("server_files_after")
            figure = (f"{h.get('alive', 0):,} of {h['connections']:,} open and answering, server at "
                      f"{'?' if files is None else f'{files:,}'} of {self.machine['file_limit']:,} "
                      f"descriptors, {h['errors']} errors")
            row("connections held at once", f"up to the open-file limit ({self.machine['file_limit']:,}) "
                "with no error", figure, ok)
        else:
            row("connections held at once", "up to the open-file limit with no error", "not run", None)

        parts, ok = [], []
        for mode in ("echo", "broadcast"):
            one = r.median(FINCH, f"{mode}-t1", "operations_per_second")
            two = r.median(FINCH, f"{mode}-t2", "operations_per_second")
            if one is None or two is None:
                continue
            busy = r.median(FINCH, f"{mode}-t1", "loadgen_cpu_utilisation")
            parts.append(f"{mode}: {fmt(one, 0)}/s with 1, {fmt(two, 0)}/s with 2 ({fmt(two / one)}x; "
                         f"load generator at {fmt(100 * (busy or 0), 0)} % of a core with 1)")
            ok.append(two > one and r.clean(FINCH, f"{mode}-t1") and r.clean(FINCH, f"{mode}-t2"))
        # Not part of the target, but what tells whether threads help once the
        # load generator is not the bottleneck: see threadsTable.
        one = r.median(FINCH, "echo-work-t1", "operations_per_second")
        two = r.median(FINCH, "echo-work-t2", "operations_per_second")
        if parts and one is not None and two is not None:
            parts.append(f"(echo with {HANDLER_US} us of work per message: {fmt(one, 0)}/s with 1, "
                         f"{fmt(two, 0)}/s with 2, {fmt(two / one)}x)")
        row("`--threads 2`", "more total throughput than `--threads 1` on echo and broadcast",
            "; ".join(parts) or "not run", all(ok) if len(ok) == 2 else None)
        return rows

    def wssTargets(self):
        """The targets of the TLS work: finch over wss against Beast over wss."""
        r = self.r
        rows = []

        def row(target, goal, figure, met):
            rows.append((target, goal, figure, "n/a" if met is None else ("met" if met else "**not met**")))

        for mode, reference, goal, perOp in (("echo", FLOOR, WSS_ECHO_TARGET, "message"),
                                             ("broadcast", CHAT, WSS_BROADCAST_TARGET, "delivery")):
            point = wssPoint(mode)
            finch = r.median(FINCH, point, "server_cpu_us_per_operation")
            beast = r.median(reference, point, "server_cpu_us_per_operation")
            q = ratio(finch, beast)
            load = f"{r.profile['echo']} connections" if mode == "echo" else f"{r.profile['broadcast']} receivers"
            row(f"wss {mode}, {load}: server CPU per {perOp}",
                f"at most {goal:.1f}x {'the raw Beast wss echo' if mode == 'echo' else 'Beast chat-multi over TLS'}",
                "not run" if q is None else f"{fmt(finch)} us vs {fmt(beast)} us: {fmtRatio(q)}",
                None if q is None else q <= goal and r.clean(FINCH, point) and r.clean(reference, point))
        point = wssPoint("idle")
        finch = r.median(FINCH, point, "anon_bytes_per_connection")
        beast = r.median(FLOOR, point, "anon_bytes_per_connection")
        row(f"user-space memory per idle wss connection, {r.profile['idle']:,} connections",
            "lower than Beast's wss server",
            "not run" if finch is None or beast is None else
            f"{fmt(finch / 1024)} KiB vs {fmt(beast / 1024)} KiB: {fmtRatio(ratio(finch, beast))}",
            None if finch is None or beast is None else
            finch < beast and r.clean(FINCH, point) and r.clean(FLOOR, point))
        return rows

    def clusterTargets(self):
        """Issue 17's target: a delivery through Redis costs its node at most
        CLUSTER_TARGET times what a local delivery costs the sender's node."""
        r = self.r
        local = r.median(FINCH, CLUSTER_POINT, "local_cpu_us_per_delivery")
        remote = r.median(FINCH, CLUSTER_POINT, "remote_cpu_us_per_delivery")
        q = r.median(FINCH, CLUSTER_POINT, "remote_local_ratio")
        worst = r.median(FINCH, CLUSTER_POINT, "worst_remote_local_ratio")
        met = None if q is None else worst <= CLUSTER_TARGET and r.clean(FINCH, CLUSTER_POINT)
        figure = "not run" if q is None else \
            (f"{fmt(remote)} us vs {fmt(local)} us: {fmtRatio(q)} (the busier remote node: {fmtRatio(worst)})")
        return [(f"cluster of {CLUSTER_NODES} nodes, {r.profile['cluster']:,} receivers: server CPU per delivery "
                 "on the nodes that receive through Redis against the sender's node",
                 f"at most {CLUSTER_TARGET:.1f}x a local delivery", figure,
                 "n/a" if met is None else ("met" if met else "**not met**"))]

    def clusterSection(self):
        """The cluster point: deliveries per second, each node's CPU per
        delivery by role, and Redis' CPU per broadcast."""
        r = self.r
        p = r.profile
        if not r.points(FINCH, CLUSTER_POINT):
            return []
        point = CLUSTER_POINT
        versions = sorted({x["redis_version"] for x in r.points(FINCH, point) if "redis_version" in x})
        lines = [CLUSTER_TITLE, "",
                 f"{CLUSTER_NODES} bench_server processes on this machine, each with `--redis`: "
                 "`manager.joinCluster(std::make_shared<finch::RedisBackplane>(...))` with the default "
                 "`RedisOptions` and `ClusterOptions` before `listen`, as `docs/cluster.md` shows. One "
                 f"redis-server {', '.join(versions) or '?'} of the runner's own on a free loopback port "
                 "(`--save \"\" --appendonly no`). "
                 f"The broadcast load with {p['cluster']:,} receivers, connection i on node 1 + (i mod "
                 f"{CLUSTER_NODES}); the sender is connection 0, on node 1, and sends the next broadcast once "
                 "every receiver of every node has the previous one (one broadcast in flight); every delivery "
                 "is checked for its sequence number. Node 1 delivers each broadcast to its own connections "
                 "(local deliveries) and publishes it once on Redis as the envelope's JSON text; nodes 2 and 3 "
                 "receive it from Redis and frame it once for their connections (remote deliveries). Node 1's "
                 "CPU also holds reading the sender's message and publishing it, and its own copy coming "
                 "back from Redis (a node subscribes to the channel it publishes on). Redis' CPU is "
                 "redis-server's process CPU clock (`clock_getcpuclockid`, to the nanosecond; its utime + stime "
                 "in `/proc/PID/stat`, in ticks of 10 ms, are in the raw results) over the same window, per "
                 "broadcast. "
                 f"All {CLUSTER_NODES} nodes and Redis run on CPU {SERVER_CPU}, the server's core of the other "
                 f"points, scheduled as the servers are; the load generator on CPU {LOADGEN_CPU}. Warm-up "
                 f"{p['warmup']} s, window {self.r.args.duration or p.get('cluster_duration', p['duration'])} s, "
                 f"{PAYLOAD}-byte payloads.", "",
                 "| target | goal | measured | |", "|---|---|---|---|"]
        lines += [f"| {t} | {g} | {f} | {s} |" for t, g, f, s in self.clusterTargets()]
        # One server under the same load, when this run measured it (not in a
        # run of the cluster alone).
        single = r.median(FINCH, "broadcast", "server_cpu_us_per_operation") \
            if p["broadcast"] == p["cluster"] else None
        lines += ["", "| deliveries/s | latency p50 | latency p99 | server CPU per delivery, all nodes "
                  + ("" if single is None else "| the same load on one server (broadcast above) ") +
                  "| Redis CPU per broadcast | Redis CPU use | load generator CPU use | waited |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|" + ("" if single is None else "---:|"),
                  f"| {fmt(r.median(FINCH, point, 'operations_per_second'), 0)} "
                  f"| {fmt(r.median(FINCH, point, 'latency_p50_us'), 0)} us "
                  f"| {fmt(r.median(FINCH, point, 'latency_p99_us'), 0)} us "
                  f"| {fmt(r.median(FINCH, point, 'server_cpu_us_per_operation'))} us"
                  f"{r.spread(FINCH, point, 'server_cpu_us_per_operation')} "
                  + ("" if single is None else f"| {fmt(single)} us ") +
                  f"| {fmt(r.median(FINCH, point, 'backplane_cpu_us_per_broadcast'))} us"
                  f"{r.spread(FINCH, point, 'backplane_cpu_us_per_broadcast')} "
                  f"| {fmt(100 * (r.median(FINCH, point, 'backplane_cpu_utilisation') or 0), 0)} % "
                  f"| {fmt(100 * (r.median(FINCH, point, 'loadgen_cpu_utilisation') or 0), 0)} % "
                  f"| {fmt(100 * (r.median(FINCH, point, 'waited') or 0), 0)} % |{self.flag(FINCH, point)}",
                  "", "| node | its deliveries | receivers | deliveries/s | server CPU per delivery "
                  "| of it in the kernel | vs node 1 | server CPU use |",
                  "|---|---|---:|---:|---:|---:|---:|---:|"]
        local = r.median(FINCH, point, "node1_server_cpu_us_per_delivery")
        for index in range(1, CLUSTER_NODES + 1):
            key = f"node{index}_"
            cpu = r.median(FINCH, point, key + "server_cpu_us_per_delivery")
            role = "local (the sender's node)" if index == 1 else "remote, through Redis"
            lines.append(
                f"| {index} | {role} "
                f"| {fmt(r.median(FINCH, point, key + 'receivers'), 0)} "
                f"| {fmt(r.median(FINCH, point, key + 'deliveries_per_second'), 0)} "
                f"| {fmt(cpu)} us{r.spread(FINCH, point, key + 'server_cpu_us_per_delivery')} "
                f"| {fmt(r.median(FINCH, point, key + 'server_kernel_us_per_delivery'))} us "
                f"| {'' if index == 1 else fmtRatio(ratio(cpu, local))} "
                f"| {fmt(100 * (r.median(FINCH, point, key + 'server_cpu_utilisation') or 0), 0)} % |")
        lines += ["", "CPU times are read in ticks of 10 ms (`/proc/PID/stat`): with each node using a fraction "
                  "of the core, a short window moves a node's figure by a few per cent.", ""]
        return lines

    def wssSection(self):
        """TLS: the echo, broadcast and idle points over wss://, finch beside
        Beast's SSL streams, and each against the same server over ws://."""
        r = self.r
        p = r.profile
        names = [name for name in self.names if name in WSS_SERVERS]
        if not any(r.points(name, wssPoint(mode)) for name in names for mode, _ in WSS_POINTS):
            return []
        negotiated = sorted({x["tls"] for x in r.results if x["point"].startswith("wss-") and "tls" in x})
        # A wss run of its own (--modes wss --splice) has no plain points to
        # set beside: those columns are left out rather than shown empty.
        withPlain = any(r.points(name, mode) for name in names for mode, _ in WSS_POINTS)
        lines = ["## wss: the same loads over TLS", "",
                 "finch's `TlsSocketManager` (`listen(endpoint, target, std::make_shared<finch::TlsContext>(...))`, "
                 "OpenSSL on the non-blocking socket, idle connections giving their record buffers back) beside "
                 "Beast's `websocket::stream<ssl_stream<tcp_stream>>` in the servers above (the raw echo and the "
                 "chat-multi design), written as Beast's SSL examples are: an `ssl::context` loaded with the "
                 "certificate, the TLS handshake before the WebSocket one, nothing else tuned; it accepts TLS "
                 "1.2 and later, as finch's context does. The certificate is self-signed, ECDSA P-256, made "
                 "with `openssl req` at the start of the run; the load generator (Asio's `ssl::stream`, OpenSSL's "
                 "defaults, no SNI since it connects to an address) verifies it during the handshakes, outside "
                 "every measuring window. Negotiated: "
                 + (", ".join(f"`{t}`" for t in negotiated) or "n/a") +
                 f". Echo: {p['echo']} connections, one message in flight each; broadcast: {p['broadcast']} "
                 f"receivers, one broadcast in flight; idle: {p['idle']:,} connections after a first one; "
                 f"{PAYLOAD}-byte payloads, pinning, warm-up and window as in the plain modes. Bytes on the wire "
                 "are TLS records, as TCP carried them. The reference of each mode is Beast's: the raw echo for "
                 "echo, the chat-multi design for broadcast, the raw server for memory (the chat server's "
                 "sessions are the same)." + ("" if withPlain else " This run measured the wss points alone, so "
                                              "no column sets them beside the same servers over ws://."), "",
                 "| target | goal | measured | |", "|---|---|---|---|"]
        lines += [f"| {t} | {g} | {f} | {s} |" for t, g, f, s in self.wssTargets()]
        lines += ["", "| mode | server | operations/s | latency p50 | latency p99 | server CPU per operation "
                  "| of it in the kernel | CPU vs Beast's " + ("| CPU vs the same server over ws " if withPlain else "")
                  + "| bytes from the server per operation | server CPU use | load generator CPU use | waited |",
                  "|---|---|---:|---:|---:|---:|---:|---:|" + ("---:|" if withPlain else "") + "---:|---:|---:|---:|"]
        for mode, reference, perOp in (("echo", FLOOR, "message"), ("broadcast", CHAT, "delivery")):
            point = wssPoint(mode)
            referenceCpu = r.median(reference, point, "server_cpu_us_per_operation")
            for name in names:
                rate = r.median(name, point, "operations_per_second")
                if rate is None:
                    continue
                cpu = r.median(name, point, "server_cpu_us_per_operation")
                lines.append(
                    f"| {mode} (per {perOp}) | {self.labels[name]} | {fmt(rate, 0)} "
                    f"| {fmt(r.median(name, point, 'latency_p50_us'), 0)} us "
                    f"| {fmt(r.median(name, point, 'latency_p99_us'), 0)} us "
                    f"| {fmt(cpu)} us{r.spread(name, point, 'server_cpu_us_per_operation')} "
                    f"| {fmt(r.median(name, point, 'server_kernel_us_per_operation'))} us "
                    f"| {fmtRatio(ratio(cpu, referenceCpu))} "
                    + (f"| {fmtRatio(ratio(cpu, r.median(name, mode, 'server_cpu_us_per_operation')))} "
                       if withPlain else "") +
                    f"| {fmt(r.median(name, point, 'wire_bytes_from_server_per_operation'), 0)} "
                    f"| {fmt(100 * (r.median(name, point, 'server_cpu_utilisation') or 0), 0)} % "
                    f"| {fmt(100 * (r.median(name, point, 'loadgen_cpu_utilisation') or 0), 0)} % "
                    f"| {fmt(100 * (r.median(name, point, 'waited') or 0), 0)} % |{self.flag(name, point)}")
        point = wssPoint("idle")
        idle = [name for name in names if r.points(name, point)]
        if idle:
            referenceAnon = r.median(FLOOR, point, "anon_bytes_per_connection")
            lines += ["", "| idle | server | open | answering | user-space memory per connection (RssAnon) "
                      "| resident memory per connection (VmRSS) | vs Beast's |"
                      + (" the same server over ws |" if withPlain else ""),
                      "|---|---|---:|---:|---:|---:|---:|" + ("---:|" if withPlain else "")]
            for name in idle:
                anon = r.median(name, point, "anon_bytes_per_connection")
                rss = r.median(name, point, "rss_bytes_per_connection")
                plain = r.median(name, "idle", "anon_bytes_per_connection")
                lines.append(
                    f"| {p['idle']:,} connections | {self.labels[name]} | {fmt(r.median(name, point, 'open'), 0)} "
                    f"| {fmt(r.median(name, point, 'alive'), 0)} "
                    f"| {fmt(None if anon is None else anon / 1024)} KiB"
                    f"{r.spread(name, point, 'anon_bytes_per_connection', 1 / 1024)} "
                    f"| {fmt(None if rss is None else rss / 1024)} KiB | {fmtRatio(ratio(anon, referenceAnon))} |"
                    + (f" {fmt(None if plain is None else plain / 1024)} KiB |" if withPlain else "")
                    + self.flag(name, point))
        lines += [""]
        return lines

    def modeTable(self, mode):
        r = self.r
        out = []
        if mode == "idle":
            out.append("| server | open | answering | user-space memory per connection (RssAnon) "
                       "| resident memory per connection (VmRSS) | vs floor |")
            out.append("|---|---:|---:|---:|---:|---:|")
            floor = r.median(FLOOR, mode, "anon_bytes_per_connection")
            for name in self.names:
                anon = r.median(name, mode, "anon_bytes_per_connection")
                if anon is None:
                    continue
                rss = r.median(name, mode, "rss_bytes_per_connection")
                out.append(f"| {self.labels[name]} | {fmt(r.median(name, mode, 'open'), 0)} "
                           f"| {fmt(r.median(name, mode, 'alive'), 0)} "
                           f"| {fmt(anon / 1024)} KiB{r.spread(name, mode, 'anon_bytes_per_connection', 1 / 1024)} "
                           f"| {fmt(rss / 1024 if rss is not None else None)} KiB "
                           f"| {fmtRatio(ratio(anon, floor))} |{self.flag(name, mode)}")
            return out
        unit = {"echo": "messages/s", "broadcast": "deliveries/s", "connect": "connections/s"}[mode]
        perOp = {"echo": "message", "broadcast": "delivery", "connect": "connection"}[mode]
        latency = "connect + upgrade" if mode == "connect" else "latency"
        out.append(f"| server | {unit} | {latency} p50 | {latency} p99 | server CPU per {perOp} "
                   f"| of it in the kernel | CPU vs floor | throughput vs floor | server CPU use "
                   f"| load generator CPU use | waited |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        floorCpu = r.median(FLOOR, mode, "server_cpu_us_per_operation")
        floorRate = r.median(FLOOR, mode, "operations_per_second")
        for name in self.names:
            rate = r.median(name, mode, "operations_per_second")
            if rate is None:
                continue
            cpu = r.median(name, mode, "server_cpu_us_per_operation")
            p50 = r.median(name, mode, "latency_p50_us")
            p99 = r.median(name, mode, "latency_p99_us")
            out.append(f"| {self.labels[name]} | {fmt(rate, 0)} | {fmt(p50, 0)} us | {fmt(p99, 0)} us "
                       f"| {fmt(cpu)} us{r.spread(name, mode, 'server_cpu_us_per_operation')} "
                       f"| {fmt(r.median(name, mode, 'server_kernel_us_per_operation'))} us "
                       f"| {fmtRatio(ratio(cpu, floorCpu))} | {fmtRatio(ratio(rate, floorRate))} "
                       f"| {fmt(100 * (r.median(name, mode, 'server_cpu_utilisation') or 0), 0)} % "
                       f"| {fmt(100 * (r.median(name, mode, 'loadgen_cpu_utilisation') or 0), 0)} % "
                       f"| {fmt(100 * (r.median(name, mode, 'waited') or 0), 0)} % |{self.flag(name, mode)}")
        return out

    def largeTables(self):
        """Server CPU per MiB received by message size, and the details of
        each size: what the server received and how fast."""
        r = self.r
        chunks = (0, LARGE_CHUNK)
        sizes = [size for size in LARGE_SIZES
                 if any(r.sizeValues(name, chunk, size, "bytes") for name in self.names for chunk in chunks)]
        if not sizes:
            return [], []
        summary = ["| server | sent in | " + " | ".join(sizeLabel(size) for size in sizes) +
                   " | 1 MiB against 256 KiB, per message |",
                   "|---|---|" + "---:|" * (len(sizes) + 1)]
        details = ["| server | sent in | message | messages measured | server CPU per message, median (mean) "
                   "| data segments the server received per message | latency p50 |",
                   "|---|---|---:|---:|---:|---:|---:|"]
        for name in self.names:
            for chunk in chunks:
                if not r.points(name, largePoint(chunk)):
                    continue
                cells = []
                for size in sizes:
                    values = r.sizeValues(name, chunk, size, "server_cpu_ms_per_mib")
                    spread = f" ({fmt(min(values))}-{fmt(max(values))})" if len(values) > 1 else ""
                    cells.append(f"{fmt(statistics.median(values) if values else None)} ms{spread}")
                each = r.largeRatios(name, chunk)
                spread = f" ({fmt(min(each))}-{fmt(max(each))})" if len(each) > 1 else ""
                summary.append(f"| {self.labels[name]} | {largeStyle(chunk)} | " + " | ".join(cells) +
                               f" | {fmtRatio(statistics.median(each) if each else None)}{spread} |"
                               f"{self.flag(name, largePoint(chunk))}")
                for size in sizes:
                    def value(key, scale=1.0):
                        v = r.sizeMedian(name, chunk, size, key)
                        return None if v is None else v * scale
                    details.append(
                        f"| {self.labels[name]} | {largeStyle(chunk)} | {sizeLabel(size)} "
                        f"| {fmt(value('messages'), 0)} "
                        f"| {fmt(value('server_cpu_us_median', 1e-3))} ms ({fmt(value('server_cpu_us_mean', 1e-3))}) "
                        f"| {fmt(value('server_segments_per_message'), 1)} "
                        f"| {fmt(value('latency_p50_us', 1e-3))} ms |")
        return summary, details

    def flag(self, name, point):
        return "" if self.r.clean(name, point) else " **errors: see below**"

    def compressionSection(self):
        """permessage-deflate: its memory (idle connections, zlib per
        thread) and what compressing repetitive JSON costs and saves under
        echo and broadcast, finch beside Beast's per-connection design."""
        r = self.r
        p = r.profile
        names = [name for name in self.names if name in COMPRESSION_SERVERS]
        sizes = sorted({int(x["point"].split("-")[2]) for x in r.results
                        if x["point"].startswith(("z-echo-", "z-broadcast-"))})
        memory = r.points(FINCH, "z-memory")
        memory = memory[0] if memory and not memory[0]["errors"] else None
        if not sizes and not memory and not any(r.points(name, "z-idle-deflate") for name in names):
            return []
        finchLabel = self.labels.get(FINCH, FINCH)
        floorLabel = self.labels.get(FLOOR, FLOOR)
        lines = ["## permessage-deflate: repetitive JSON, compressed and not", "",
                 "finch with `--compression` (`Options::compression = finch::permessageDeflate()`, its "
                 "defaults: zlib level 6, memLevel 8, a window of 32 KiB, messages of 1 KiB and more; the "
                 "server never keeps its compression context, and asks the client not to keep its own), beside "
                 "the raw Beast floor with Beast's permessage-deflate at the same level, memLevel, window and "
                 "threshold, in Beast's design: each connection has its own deflater and inflater and keeps "
                 "its compression context between messages, so it compresses every message once per receiver "
                 "(it also asks the client not to keep its context). The load generator offers "
                 "permessage-deflate as Beast's client does (with `client_max_window_bits`, as browsers do) "
                 "and compresses what it sends at level 6. Messages carry repetitive JSON: `data` is "
                 "`{\"seq\":S,\"t\":T,\"items\":[...]}`, records of an application's state (ids, names, "
                 "statuses, scores, tags from short lists; the same keys in every record), about "
                 + " and ".join(sizeLabel(size) for size in sizes) +
                 f" in all, 64 different arrays in turn. Echo: {p['echo']} connections, one message in flight each; "
                 f"broadcast: {p['broadcast']} receivers, one broadcast in flight; pinning, warm-up and window as "
                 "in the other modes.", ""]
        if sizes:
            lines += ["Bytes on the wire are what TCP carried in the window as the kernel counts it "
                      "(`tcpi_bytes_received` and `tcpi_bytes_acked` of every connection: frames and their "
                      "headers, no TCP/IP headers), per reply or delivery from the server and per message to "
                      "it. The ratio is the plain run's bytes over the compressed run's. finch's replies are "
                      "its envelope (`path`, `status`, `timestamp`, `data`), a little longer than the raw "
                      "echo's. The raw floor answers without parsing, where finch decodes the JSON and encodes "
                      "its envelope, most of its plain echo's cost at these sizes: compare each server's "
                      "compressed row with its own plain row.", "",
                      "| mode | message | server | compressed | operations/s | server CPU per operation "
                      "| CPU vs plain | bytes from the server per operation | ratio | bytes to the server per "
                      "message | latency p50 | load generator CPU use |",
                      "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
            for mode, perOp in (("echo", "message"), ("broadcast", "delivery")):
                for size in sizes:
                    for name in names:
                        plainPoint = compressionPoint(mode, size, False)
                        plainCpu = r.median(name, plainPoint, "server_cpu_us_per_operation")
                        plainWire = r.median(name, plainPoint, "wire_bytes_from_server_per_operation")
                        for deflate in (False, True):
                            point = compressionPoint(mode, size, deflate)
                            rate = r.median(name, point, "operations_per_second")
                            if rate is None:
                                continue
                            cpu = r.median(name, point, "server_cpu_us_per_operation")
                            wire = r.median(name, point, "wire_bytes_from_server_per_operation")
                            lines.append(
                                f"| {mode} | {sizeLabel(size)} | {self.labels[name]} | {'yes' if deflate else 'no'} "
                                f"| {fmt(rate, 0)} | {fmt(cpu)} us{r.spread(name, point, 'server_cpu_us_per_operation')} "
                                f"| {fmtRatio(ratio(cpu, plainCpu)) if deflate else ''} "
                                f"| {fmt(wire, 0)} | {fmtRatio(ratio(plainWire, wire)) if deflate else ''} "
                                f"| {fmt(r.median(name, point, 'wire_bytes_to_server_per_message'), 0)} "
                                f"| {fmt(r.median(name, point, 'latency_p50_us'), 0)} us "
                                f"| {fmt(100 * (r.median(name, point, 'loadgen_cpu_utilisation') or 0), 0)} % "
                                f"|{self.flag(name, point)}")
            lines += [""]
        idle = [(name, kind, offer, servers, kept) for kind, _, offer, servers, kept in COMPRESSION_IDLE
                for name in names if name in servers and r.points(name, f"z-idle-{kind}")]
        if idle:
            plainAnon = {name: r.median(name, "z-idle-plain", "anon_bytes_per_connection") for name in names}
            lines += [f"Idle connections: as in the idle mode above, {p['idle']:,} connections opened after a "
                      "first one, but each of them first sends "
                      f"{COMPRESSION_IDLE_ECHOES} echoes of {sizeLabel(COMPRESSION_IDLE_PAYLOAD)} of this JSON "
                      "(one connection and one message at a time), compressed both ways when negotiated, so "
                      "that what a connection keeps after traffic is counted: "
                      f"{COMPRESSION_IDLE_ECHOES * COMPRESSION_IDLE_PAYLOAD // 1024} KiB of history, enough to "
                      "fill a client's window of 32 KiB. The first connection's echo comes before the first "
                      "reading, so what a thread makes once (zlib's state) is not counted per connection; the "
                      "last column is what that first message took. finch's figures include the 4 KiB receive "
                      "block that a connection which has just had traffic keeps until a keepalive interval "
                      "passes without a message (`Options::pingInterval`), with or without compression: compare "
                      "the rows, not these with the idle mode above, whose connections never sent anything.", "",
                      "| server | compression | client's window kept per connection | open | answering "
                      "| user-space memory per connection (RssAnon) | vs no compression | the first message's "
                      "memory |",
                      "|---|---|---|---:|---:|---:|---:|---:|"]
            for name, kind, offer, servers, kept in idle:
                point = f"z-idle-{kind}"
                anon = r.median(name, point, "anon_bytes_per_connection")
                first = [x["anon_before_kib"] - x["anon_opened_kib"] for x in r.points(name, point)
                         if "anon_before_kib" in x and "anon_opened_kib" in x]
                difference = "" if kind == "plain" or anon is None or plainAnon[name] is None else \
                    f"{'+' if anon >= plainAnon[name] else ''}" + (
                        f"{fmt((anon - plainAnon[name]) / 1024)} KiB" if abs(anon - plainAnon[name]) >= 1024
                        else f"{fmt(anon - plainAnon[name], 0)} B")
                lines.append(f"| {self.labels[name]} | {'no' if kind == 'plain' else offer + ' offer'} "
                             f"| {kept if name == FINCH or kind == 'plain' else 'its own context (Beast)'} "
                             f"| {fmt(r.median(name, point, 'open'), 0)} | {fmt(r.median(name, point, 'alive'), 0)} "
                             f"| {fmt(None if anon is None else anon / 1024)} KiB"
                             f"{r.spread(name, point, 'anon_bytes_per_connection', 1 / 1024)} | {difference} "
                             f"| {fmt(statistics.median(first) if first else None, 0)} KiB |{self.flag(name, point)}")
            lines += [""]
        if memory:
            lines += ["zlib's memory in finch, per thread (`bench/compression_memory`: heap bytes in use "
                      "around finch's codec, glibc's `mallinfo2`). A thread makes a deflater for the first "
                      "message it compresses with a window size, and an inflater for the first it inflates, "
                      "and keeps them for its life, whatever the number of connections: with `--threads N`, N "
                      "times these at most, and as many again for each thread of the application's own that "
                      "sends messages (`send` and `sendToAll` compress on the calling thread). Every message "
                      "resets them; none adds memory.", "",
                      "| | bytes per thread | after 100 more messages |", "|---|---:|---:|",
                      f"| deflater, window 32 KiB (every client but those that ask for less) "
                      f"| {memory['deflater_15_bytes'] / 1024:.1f} KiB "
                      f"| +{memory['deflater_15_growth_after_100_messages_bytes']} B |",
                      f"| deflater, window 512 B (only if some client asks for `server_max_window_bits=9`) "
                      f"| {memory['deflater_9_bytes'] / 1024:.1f} KiB | |",
                      f"| inflater (any window) | {memory['inflater_bytes'] / 1024:.1f} KiB "
                      f"| +{memory['inflater_growth_after_100_messages_bytes']} B |",
                      f"| a connection's kept client window, with `clientContextTakeover`: client offered "
                      f"`client_max_window_bits` | {memory['takeover_window_9_bytes']} B | |",
                      f"| the same, client did not | {memory['takeover_window_15_bytes'] / 1024:.0f} KiB | |", "",
                      "Besides, the frame parser keeps on each thread the buffer it inflates into, up to 64 KiB "
                      "(a larger one is freed after its message).", ""]
        meaning = self.compressionMeaning(names, sizes, memory)
        if meaning:
            lines += ["What these say:", ""] + meaning + [""]
        return lines

    def compressionMeaning(self, names, sizes, memory):
        """The section's figures in sentences, from the medians."""
        r = self.r
        out = []
        plain = r.median(FINCH, "z-idle-plain", "anon_bytes_per_connection")
        deflate = r.median(FINCH, "z-idle-deflate", "anon_bytes_per_connection")
        if plain is not None and deflate is not None:
            met = deflate - plain <= COMPRESSION_IDLE_TOLERANCE
            out.append(
                f"- Target: an idle connection that negotiated permessage-deflate costs what one without does "
                f"(no zlib state per connection): {fmt(deflate / 1024)} KiB against {fmt(plain / 1024)} KiB, "
                f"{'+' if deflate >= plain else ''}{fmt(deflate - plain, 0)} B: "
                f"{'met' if met else '**not met**'} (within {COMPRESSION_IDLE_TOLERANCE} B, less than any zlib "
                "state; what a connection adds is the record of its agreement, a few dozen bytes).")
        for kind, window in (("takeover", "512 B"), ("takeover-bare", "32 KiB")):
            kept = r.median(FINCH, f"z-idle-{kind}", "anon_bytes_per_connection")
            if kept is not None and deflate is not None:
                out.append(f"- With `clientContextTakeover`, a connection keeps its client's window ({window}): "
                           f"+{fmt((kept - deflate) / 1024)} KiB per connection against compression without it.")
        beastPlain = r.median(FLOOR, "z-idle-plain", "anon_bytes_per_connection")
        beastDeflate = r.median(FLOOR, "z-idle-deflate", "anon_bytes_per_connection")
        if beastPlain is not None and beastDeflate is not None:
            out.append(f"- Beast's design keeps zlib state in every connection that has compressed: "
                       f"{fmt(beastDeflate / 1024)} KiB per idle connection against {fmt(beastPlain / 1024)} KiB "
                       f"without compression (+{fmt((beastDeflate - beastPlain) / 1024)} KiB).")
        if memory:
            perThread = (memory["deflater_15_bytes"] + memory["inflater_bytes"]) / 1024
            firsts = {}
            for kind in ("plain", "deflate"):
                values = [x["anon_before_kib"] - x["anon_opened_kib"] for x in r.points(FINCH, f"z-idle-{kind}")
                          if "anon_before_kib" in x and "anon_opened_kib" in x]
                firsts[kind] = statistics.median(values) if values else None
            resident = "" if None in firsts.values() else \
                (f" (of which the first compressed message made about {firsts['deflate'] - firsts['plain']:.0f} KiB "
                 "resident: zlib's tables are touched as they are used)")
            out.append(f"- finch pays for zlib per thread instead: {perThread:.0f} KiB allocated for a thread that "
                       f"compresses and inflates, once{resident}.")
        for mode, perOp in (("echo", "message"), ("broadcast", "delivery")):
            for size in sizes:
                parts = []
                for name in names:
                    before = r.median(name, compressionPoint(mode, size, False), "server_cpu_us_per_operation")
                    after = r.median(name, compressionPoint(mode, size, True), "server_cpu_us_per_operation")
                    wirePlain = r.median(name, compressionPoint(mode, size, False),
                                         "wire_bytes_from_server_per_operation")
                    wire = r.median(name, compressionPoint(mode, size, True), "wire_bytes_from_server_per_operation")
                    if None in (before, after, wirePlain, wire) or not wire:
                        continue
                    parts.append(f"{self.labels[name]} {fmt(before)} us plain and {fmt(after)} us compressed "
                                 f"({'+' if after >= before else ''}{fmt(after - before)} us, "
                                 f"{fmtRatio(after / before)}), {fmt(wirePlain, 0)} B against {fmt(wire, 0)} B "
                                 f"on the wire ({fmtRatio(wirePlain / wire)} smaller)")
                if parts:
                    out.append(f"- {mode} of {sizeLabel(size)}, server CPU per {perOp}: " + "; ".join(parts) + ".")
        if sizes:
            out.append("- An echo inflates the message and deflates the reply, both in proportion to the "
                       "message. A broadcast is deflated once for all its receivers in finch (the frame is the "
                       "same for every one of them, since no context is kept): per delivery, that one "
                       f"compression divided by the {r.profile['broadcast']:,} receivers, and smaller frames to "
                       "send. Beast deflates it again for every receiver, with that receiver's context: it "
                       "compresses better, since a message may refer to the ones before it, and it costs a "
                       "whole compression per delivery, and a deflater per connection.")
        return out

    def threadsTable(self):
        r = self.r
        out = ["| mode | threads | operations/s | server CPU per operation (in the kernel) | server CPU use "
               "| load generator CPU per operation (in the kernel) | load generator CPU use | waited |",
               "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for mode, name in (("echo", "echo"), ("broadcast", "broadcast"),
                           ("echo-work", f"echo, {HANDLER_US} us of work per message")):
            for threads in (1, 2):
                point = f"{mode}-t{threads}"
                rate = r.median(FINCH, point, "operations_per_second")
                if rate is None:
                    continue
                out.append(f"| {name} | {threads} | {fmt(rate, 0)} "
                           f"| {fmt(r.median(FINCH, point, 'server_cpu_us_per_operation'))} us "
                           f"({fmt(r.median(FINCH, point, 'server_kernel_us_per_operation'))}) "
                           f"| {fmt(100 * (r.median(FINCH, point, 'server_cpu_utilisation') or 0), 0)} % "
                           f"| {fmt(r.median(FINCH, point, 'loadgen_cpu_us_per_operation'))} us "
                           f"({fmt(r.median(FINCH, point, 'loadgen_kernel_us_per_operation'))}) "
                           f"| {fmt(100 * (r.median(FINCH, point, 'loadgen_cpu_utilisation') or 0), 0)} % "
                           f"| {fmt(100 * (r.median(FINCH, point, 'waited') or 0), 0)} % |{self.flag(FINCH, point)}")
        return out if len(out) > 2 else []

    def threadsBound(self):
        """What the one-thread points say about the most a second server thread
        could add: the load generator is one thread, so it completes at most one
        operation per `l` microseconds of its CPU, whatever the server does."""
        r = self.r
        out = []
        for mode, perOp in (("echo", "message"), ("broadcast", "delivery")):
            point = f"{mode}-t1"
            server = r.median(FINCH, point, "server_cpu_us_per_operation")
            load = r.median(FINCH, point, "loadgen_cpu_us_per_operation")
            loadKernel = r.median(FINCH, point, "loadgen_kernel_us_per_operation")
            if not server or not load or not loadKernel:
                continue
            now = twoThreadCeiling(server, load)
            leanest = twoThreadCeiling(server, loadKernel)
            out.append(
                f"- {mode}: the load generator spends {fmt(load)} us per {perOp}, {fmt(loadKernel)} us of it in "
                f"the kernel; one finch thread spends {fmt(server)} us. With this load generator two server "
                f"threads could do at most {fmt(now)}x what one does; with one that spent no time at all in "
                f"user space, at most {fmt(leanest)}x.")
        return out

    def heldTable(self):
        out = ["| server | connections asked | open | answering an echo afterwards | server descriptors | errors |",
               "|---|---:|---:|---:|---:|---:|"]
        for name in self.names:
            for h in self.r.points(name, "held"):
                out.append(f"| {self.labels[name]} | {h['connections']:,} | {h['open']:,} | {h.get('alive', 0):,} "
                           f"| {fmt(h.get('server_files_after'), 0)} | {h['errors']} |")
        return out if len(out) > 2 else []

    def chart(self):
        """docs/benchmarks.png: one panel per figure, a bar per server."""
        if not shutil.which("gnuplot"):
            log("gnuplot not found: no chart")
            return False
        panels = [
            ("echo", "server_cpu_us_per_operation", 1, "echo: server CPU per message (us)"),
            ("broadcast", "server_cpu_us_per_operation", 1, "broadcast: server CPU per delivery (us)"),
            ("connect", "server_cpu_us_per_operation", 1, "connect: server CPU per connection (us)"),
            ("echo", "operations_per_second", 1e-3, "echo: thousand messages/s"),
            ("broadcast", "operations_per_second", 1e-3, "broadcast: thousand deliveries/s"),
            ("idle", "anon_bytes_per_connection", 1 / 1024, "idle: user-space KiB per connection"),
        ]
        work = Path(self.r.binDir) / "chart"
        work.mkdir(exist_ok=True)
        script = [
            'set terminal pngcairo noenhanced size 1500,900 font "DejaVu Sans,11"',
            f'set output "{self.outDir / "benchmarks.png"}"',
            f'set multiplot layout 2,3 title "finch benchmark of {self.machine["date"]}, commit '
            f'{self.machine["commit"][:10]}: server on one core, {PAYLOAD}-byte payloads, medians of '
            f'{self.r.profile["repeat"]} run{"s" if self.r.profile["repeat"] != 1 else ""}\\nlower CPU and memory are better, higher rates are better" font ",13"',
            "set style fill solid 0.85 border -1", "set boxwidth 0.7", "unset key", "set grid ytics",
            "set yrange [0:*]", "set xtics rotate by -25 scale 0 font ',10'", "set offsets 0.5, 0.5, graph 0.12, 0",
            "set lmargin 9", "set bmargin 5",
        ]
        for index, (mode, key, scale, title) in enumerate(panels):
            values = [(position, name, self.r.median(name, mode, key)) for position, name in enumerate(self.names)]
            values = [v for v in values if v[2] is not None]
            if not values:
                script.append("set multiplot next")
                continue
            data = work / f"panel{index}.dat"
            with open(data, "w") as f:
                for position, name, value in values:
                    # Color 1 is finch, 2 the floor, 3 the others.
                    color = 1 if name == FINCH else 2 if name == FLOOR else 3
                    f.write(f'{position} "{self.labels[name]}" {value * scale:.4f} {color}\n')
            script += [
                f'set title "{title}"',
                f'plot "{data}" using 1:3:4:xtic(2) with boxes lc variable, '
                f'"" using 1:3:(sprintf("%.3g", $3)) with labels offset 0,0.7 font ",10"',
            ]
        script.append("unset multiplot")
        # lc variable picks from these colors by index.
        script.insert(1, "set linetype 1 lc rgb '#d95f02'; set linetype 2 lc rgb '#7f7f7f'; "
                         "set linetype 3 lc rgb '#1b9e77'")
        completed = subprocess.run(["gnuplot"], input="\n".join(script), capture_output=True, text=True,
                                   timeout=60)
        if completed.returncode != 0:
            log("gnuplot failed: " + completed.stderr)
            return False
        return True

    def splice(self, mode):
        """--splice: this run's section of `mode` (compression: the
        permessage-deflate section; wss; cluster), and nothing else, goes into the
        benchmarks.md already in outDir, in place of its earlier version or
        else before "## Servers"; the rest of the file, from another run,
        stays as it was. The section says when it was measured."""
        path = self.outDir / "benchmarks.md"
        section = {"compression": self.compressionSection, "wss": self.wssSection, "cluster": self.clusterSection}[mode]()
        if not section or not path.exists():
            log(f"nothing to splice: {f'no {mode} points in this run' if not section else f'no {path}'}")
            return False
        m = self.machine
        section[2:2] = [f"Measured in a run of its own, {m['date']} on commit `{m['commit']}`, on the machine "
                        "described at the end, with the method described there; the other sections come from the "
                        "run named at the top.", ""]
        lines = path.read_text().split("\n")
        title = section[0]
        if title in lines:
            start = lines.index(title)
            end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        else:
            start = end = lines.index("## Servers") if "## Servers" in lines else len(lines)
        path.write_text("\n".join(lines[:start] + section + lines[end:]))
        log(f"wrote the {mode} section into {path}")
        return True

    def write(self):
        r, m = self.r, self.machine
        self.outDir.mkdir(parents=True, exist_ok=True)
        hasChart = self.chart()
        p = r.profile
        lines = [
            "# finch benchmarks",
            "",
            "Written by `bash scripts/bench.sh` (the numbers and the chart are generated; "
            "edit `bench/run.py` rather than this file).",
            "",
            f"Run of {m['date']} on commit `{m['commit']}`.",
            "",
        ]
        if hasChart:
            lines += ["![finch benchmark chart](benchmarks.png)", ""]
        lines += ["## Targets (issue 4)", "", "| target | goal | measured | |", "|---|---|---|---|"]
        lines += [f"| {t} | {g} | {f} | {s} |" for t, g, f, s in self.targets()]
        lines += [""]
        sections = [
            ("echo", f"## echo: {p['echo']} connections, one message in flight each",
             "Messages are `{\"path\":\"echo\",\"data\":{...64 bytes...}}`; each reply is checked for its "
             "sequence number. Latency is the round trip seen by the load generator."),
            ("broadcast", f"## broadcast: {p['broadcast']} receivers",
             "The first connection sends `{\"path\":\"broadcast\",...}` and sends the next one when every "
             "connection, itself included, has received the previous one (one broadcast in flight). A "
             "delivery is one message arriving at one receiver; every delivery is checked for its sequence "
             "number. Latency runs from the send to each delivery."),
            ("idle", f"## idle: {p['idle']:,} connections held",
             "Growth of the server's memory from one open connection (after one echo on it) to "
             f"{p['idle']:,} more, divided by {p['idle']:,}, read one settling period after the last "
             "connection opened. RssAnon is the anonymous memory (heap, stacks): the user-space memory a "
             "connection costs. VmRSS adds file-backed pages. Kernel socket buffers are in neither. Every "
             "connection must then answer an echo."),
            ("connect", f"## connect: {p['connect']} concurrent connect loops",
             "Each loop opens a TCP connection, upgrades it, closes it with the closing handshake, and "
             "starts again. Latency is connect plus upgrade."),
        ]
        for mode, title, text in sections:
            table = self.modeTable(mode)
            if len(table) > 2:
                lines += [title, "", text, ""] + table + [""]
        summary, details = self.largeTables()
        if summary:
            lines += ["## large messages: server CPU per MiB received", "",
                      f"One connection sends messages of {sizeLabel(LARGE_SIZES[0])} to {sizeLabel(LARGE_SIZES[-1])} "
                      "in turn (the whole envelope `{\"path\":\"size\",\"data\":\"xx..\"}`), each once the server "
                      "has answered the one before with the length of its data, a small answer, so that what "
                      "costs is receiving the message. A message's cost is the server's CPU time from before its "
                      "first byte to after its answer, once the server waits again; each size shows the median "
                      "of its messages, and the ratio is taken within each run, where both sizes were measured "
                      "in turn. In one write, the whole frame is handed to the kernel at once "
                      "(loopback carries it in segments of tens of KiB). In "
                      f"{LARGE_CHUNK}-byte writes, one `send()` per {LARGE_CHUNK} bytes (a segment of a 1500-byte "
                      "MTU), with TCP_NODELAY, each only once the server has read the one before out of its "
                      "socket: every chunk is a segment and a read of its own, as from a client on a link slower "
                      "than the server. Linear reading costs the same per MiB at every size, and 4x as much for "
                      "a message of 1 MiB as for one of 256 KiB. Only finch and the raw Beast floor (which "
                      "answers without parsing: a prefix check and the frame's length) have this route.", ""]
            lines += summary + ["", "Each size:", ""] + details + [""]
        lines += self.wssSection()
        lines += self.clusterSection()
        threads = self.threadsTable()
        if threads:
            lines += ["## finch with 1 and 2 threads", "",
                      "Neither the server nor the load generator is pinned here, for both thread counts: "
                      "the server may use both cores, and shares them with the load generator, which "
                      "needs most of one. Same loads as above. In the third point the echo route does a fixed "
                      f"computation before it answers, calibrated at start to take {HANDLER_US} us on an idle "
                      f"machine (bench_server with FINCH_BENCH_HANDLER_US={HANDLER_US}; under load it takes "
                      "longer, as its CPU per operation shows), like an application whose handlers do real "
                      "work: the server then needs more CPU than the load generator, and a second thread can "
                      "take the share of the cores the load generator leaves.", ""] + threads + [""]
            bound = self.threadsBound()
            if bound:
                lines += ["What a second server thread could add at most, from the one-thread points: the load "
                          "generator is one thread, so it cannot send faster than its own CPU per operation "
                          "allows; its kernel time (the system calls and, on loopback, the TCP work of what "
                          "it sends and acknowledges) would remain however lean its user-space code were. "
                          "These are ceilings from CPU time alone; wake-ups and the scheduler take more.", ""]
                lines += bound + [""]
        held = self.heldTable()
        if held:
            lines += ["## Connections held at once", "",
                      "As many connections as the open-file limit of the server allows, minus its own "
                      "descriptors and a small margin; after they are all open, each one must answer an "
                      "echo.", ""] + held + [""]
        if r.profiles:
            lines += ["## Where finch's time goes", "",
                      "perf's flat profile of bench_server (self time, `perf record -e cpu-clock` for "
                      "5 s under the loads above, in a run of its own), its top functions; template "
                      "arguments are cut. `kernel` is the system calls and the TCP stack; in a virtual "
                      "machine the timer that samples cannot fire while the kernel has interrupts off, so "
                      "that time lands on `_raw_spin_unlock_irqrestore`, where they come back on (wake-ups, "
                      "the loopback's packet hand-over).", ""]
            for mode, rows in r.profiles.items():
                lines += [f"{mode}:", "", "| share of server CPU | where | function |", "|---:|---|---|"]
                lines += [f"| {percent:.1f} % | {where} | `{function}` |" for percent, where, function in rows]
                lines += [""]
        lines += self.compressionSection()
        failures = r.failures()
        if failures:
            lines += ["## Errors", ""]
            for f in failures:
                lines.append(f"- {self.labels.get(f['server'], f['server'])}, {f['point']}: {f['errors']} errors, "
                             f"{f['lost']} lost; first: `{f.get('first_error', '')}`")
            lines += [""]
        lines += [
            "## Servers", "",
            "Every server answers the same two routes on 127.0.0.1: `echo` sends `{\"path\":\"echo\","
            "\"data\":<data>}` back to the sender, `broadcast` sends `{\"path\":\"broadcast\",\"data\":<data>}` "
            "to every connection. finch answers in its envelope (`path`, `status`, `timestamp`, `data`); the "
            "load generator accepts both forms. finch and the raw Beast floor also answer `size`, the large "
            "messages' route, with `{\"path\":\"size\",\"data\":<length of the data>}`.", "",
        ]
        lines += [f"- **{s['label']}**: {s['note']}." for s in r.servers]
        lines += [
            "",
            "## Method", "",
            "- One load generator (`bench/loadgen.cpp`): a Beast client, one io_context on one thread, "
            f"{PAYLOAD}-byte `data` holding a sequence number and a send time, connections spread over "
            f"{SOURCES} source addresses 127.0.0.1 to 127.0.0.{SOURCES}, at most 128 handshakes at once.",
            f"- Each point starts a fresh server pinned to CPU {SERVER_CPU}; the load generator runs on "
            f"CPU {LOADGEN_CPU}. A warm-up of {p['warmup']} s, then a measuring window of {p['duration']} s.",
            "- Server CPU is utime + stime of all its threads from `/proc/PID/stat`, read by the load "
            "generator at the exact start and end of the window, divided by the operations completed in "
            "the window. It is the figure that tells two servers apart: on two cores the load generator "
            "is often the bottleneck (see its CPU use), and then operations/s mostly measure the load "
            "generator. Packet handling the kernel does in softirq context is not charged to any process "
            "and so not in these figures. \"Of it in the kernel\" is stime alone: the system calls and "
            "the TCP work done for them. The load generator's own CPU (`getrusage`) is split the same way "
            "in the thread comparison.",
            f"- Each point is run {p['repeat']} times; tables show medians, and for CPU and memory the lowest "
            "and the highest run in brackets. Ratios are to the raw Beast floor measured in the same run.",
            "- " + {"realtime": f"The server and the load generator run with real-time round-robin "
                                f"scheduling (SCHED_RR, priority {REALTIME_PRIORITY}), so that other work on "
                                "this shared machine cannot take their core while they have work. ",
                    "nice": f"The server and the load generator run at nice {NICE}. ",
                    "normal": ""}[SCHEDULING] +
            "Before each point the runner waits a little for other processes to go quiet, "
            f"and runs a pinned point again (up to {RETRIES} times, keeping the best) if the load generator "
            f"spent more than {100 * WAIT_LIMIT:.0f} % of its window ready to run but without a CPU "
            "(`/proc/self/schedstat`): other work took its core. The tables show that share as *waited*. "
            "Real-time scheduling caps a busy core at 95 % (`kernel.sched_rt_runtime_us`), the same for "
            "every server.",
            f"- Large messages: a fresh server per way of sending, the sizes in turn, a warm-up of "
            f"{p['large_warmup']} s and a window of at least {p['large_duration']} s that ends with a whole turn "
            "of sizes. The server's CPU for each message is read from its process CPU clock "
            "(`clock_getcpuclockid`, to the nanosecond) before the message's first byte is sent and after its "
            "answer, once none of the server's threads is running (`/proc/PID/task/*/stat`): a server still "
            "freeing a message after it has answered it is charged for it, not for the next one. The "
            f"{LARGE_CHUNK}-byte writes wait for the server's read by asking the kernel (sock_diag, what `ss` "
            "shows as Recv-Q) how much of its socket's data the server has not read yet; the load "
            "generator also reads from it how many data segments the server's socket received.",
            f"- Raw results: `build/bench/bench/bench-results-{{full,quick}}.json`; "
            "`bench/run.py --from-results FILE` writes this report again from one.",
            "",
            "## Machine", "",
            f"- CPU: {m['cpu']}, {m['cores']} cores; memory {m['memory_gib']} GiB",
            f"- {m['os']}, {m['kernel']}",
            f"- {m['compiler']}",
            f"- Boost {m['boost']}, nlohmann/json {m['nlohmann_json']}, websocketpp {m['websocketpp']}, "
            f"Node.js {m['node']}, ws {m['ws']}",
            f"- open-file limit {m['file_limit']:,}",
            "",
        ]
        (self.outDir / "benchmarks.md").write_text("\n".join(lines))
        log(f"wrote {self.outDir / 'benchmarks.md'}" + (" and benchmarks.png" if hasChart else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin-dir", default=str(SOURCE_DIR / "build" / "bench" / "bench"),
                        help="where loadgen and the C++ servers are")
    parser.add_argument("--node-modules", help="node_modules holding ws, for the Node server")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", dest="profile", action="store_const", const="quick",
                       help="one short run per point, fewer connections; report in the build directory")
    group.add_argument("--smoke", dest="profile", action="store_const", const="smoke",
                       help="checks correctness only, writes nothing; bench_server alone unless --servers names others")
    parser.set_defaults(profile="full")
    parser.add_argument("--repeat", type=int, help="runs per point (default 3, 1 with --quick)")
    parser.add_argument("--duration", type=float, help="seconds of measuring window per point")
    parser.add_argument("--servers", help="comma-separated subset: " + ",".join(s[0] for s in SERVERS))
    parser.add_argument("--modes", help="comma-separated subset of " + ",".join(MODES) +
                        " (skips the thread and held runs)")
    parser.add_argument("--docs-dir", help="where to write benchmarks.md and .png "
                        "(default docs/, or the build directory with --quick)")
    parser.add_argument("--splice", action="store_true",
                        help="with --modes compression or --modes cluster: put only that mode's section into the "
                        "benchmarks.md already there, in place of its earlier version, and keep the rest; raw "
                        "results in bench-results-<profile>-<mode>.json")
    parser.add_argument("--from-results", metavar="JSON",
                        help="write the report from the bench-results-*.json of an earlier run, without running")
    parser.add_argument("--scheduling", choices=["realtime", "nice", "normal"],
                        help="how the server and the load generator are scheduled: realtime (SCHED_RR, the "
                        "default for root: other work on a shared machine cannot take their core during a "
                        f"window), nice ({NICE}) or normal")
    parser.add_argument("--quiet-wait", type=float, default=20,
                        help="seconds to wait at most for the machine to be quiet before a point")
    args = parser.parse_args()
    if args.profile == "smoke":
        args.servers = args.servers or FINCH
        args.quiet_wait = 0
    if args.splice and (args.profile == "smoke" or (not args.from_results and args.modes not in SPLICE_MODES)):
        parser.error("--splice goes with --modes " + " or --modes ".join(SPLICE_MODES) +
                     " (or --from-results), and not with --smoke")

    global SCHEDULING
    # The smoke run checks correctness only: it needs no priority over anyone.
    SCHEDULING = args.scheduling or ("realtime" if os.geteuid() == 0 and args.profile != "smoke" else "normal")
    runner = Runner(args)
    if args.from_results:
        saved = json.loads(Path(args.from_results).read_text())
        machine, runner.results, runner.profiles = saved["machine"], saved["results"], saved["profiles"]
        runner.profile.update(saved["settings"])
        SCHEDULING = saved["scheduling"]
        # The report covers every server that was measured, whether or not it
        # could run here and now.
        measured = {r["server"] for r in runner.results}
        runner.servers = [{"name": name, "label": label, "note": note}
                          for name, label, _, note in SERVERS if name in measured]
    elif not runner.loadgen.exists() or not runner.servers:
        log(f"nothing to run: build loadgen and the servers into {runner.binDir} first (scripts/bench.sh)")
        return 2
    else:
        # Read before the run: the commit and the date are those of the measurement.
        machine = machineInfo(runner)
        log(f"servers: {', '.join(s['name'] for s in runner.servers)}; profile {args.profile}")
        runner.run()
        saved = {"machine": machine, "settings": runner.profile, "scheduling": SCHEDULING,
                 "results": runner.results, "profiles": runner.profiles}
        # One file per profile: a smoke run must not overwrite the full run's
        # results, nor a spliced run those of the run it is spliced into.
        suffix = f"-{args.modes}" if args.splice else ""
        (runner.binDir / f"bench-results-{args.profile}{suffix}.json").write_text(json.dumps(saved, indent=1))
    failures = runner.failures()
    for f in failures:
        log(f"FAILED: {f['server']} {f['point']}: {f['errors']} errors, {f['lost']} lost: {f.get('first_error', '')}")
    if args.profile != "smoke":
        outDir = Path(args.docs_dir) if args.docs_dir else \
            (runner.binDir if args.profile == "quick" else SOURCE_DIR / "docs")
        report = Report(runner, machine, outDir.resolve())
        if args.splice:
            # --from-results without --modes: the compression section, as before the cluster's existed.
            mode = args.modes if args.modes in SPLICE_MODES else "compression"
            if not report.splice(mode):
                return 1
        else:
            report.write()
        for mode in ("echo", "broadcast", "idle", "connect"):
            table = report.modeTable(mode)
            if len(table) > 2:
                log(f"\n{mode} (medians; ratios to the raw Beast floor):\n" + "\n".join(table))
        wss = report.wssSection()
        if wss:
            log("\nwss (medians; ratios to Beast's wss servers):\n" + "\n".join(line for line in wss if line.startswith("|")))
        compression = report.compressionSection()
        if compression:
            log("\n" + "\n".join(line for line in compression if line.startswith(("|", "- "))))
        summary, _ = report.largeTables()
        if summary:
            log("\nlarge (medians; server CPU per MiB received):\n" + "\n".join(summary))
        cluster = report.clusterSection()
        if cluster:
            log("\ncluster (medians):\n" + "\n".join(line for line in cluster if line.startswith("|")))
        log("")
        for target, goal, figure, status in report.targets() + report.wssTargets() + report.clusterTargets():
            log(f"target: {target}: {figure}: {status.replace('*', '')}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
