#!/usr/bin/env python3
"""cork against nginx, lighttpd and h2o: static files over HTTP/1.1 on loopback, measured with wrk.

    make bench                                  # builds cork (Release), then runs this
    python3 tests/bench/compare.py [--cork PATH] [--baseline PATH] [--syscalls | --report-only]

What it does (everything on 127.0.0.1, every process it starts is stopped by PID at the end, also
on Ctrl-C, SIGTERM or failure):
  * uses a document root with 1k.bin, 64k.bin, 1m.bin, 100m.bin, many/ (at least 20,000 files of
    2 KiB in 100 folders, and at least 5x cork's file_cache_entries) and list/ (100 entries), all
    deterministic, world-readable (nginx's workers run as an unprivileged user); it is generated
    once under BENCH_CACHE and reused by later runs;
  * installs what is missing with apt-get (nginx-light, lighttpd, h2o, wrk, gnuplot-nox, procps,
    strace for --syscalls; through sudo when not root);
  * gives every peer its best documented configuration, and runs a peer in both plausible
    configurations where in doubt, as two servers (lighttpd: one process, its default and its
    documentation's advice; lighttpd-mw: one worker process per core); see PEER_NOTES;
  * checks that every server answers every file with 200, the right Content-Length and body, a
    random sample of many/ likewise, 404 for a missing file (small body, keep-alive kept) and 200
    with an HTML listing naming every entry of list/, and stops with its log otherwise;
  * runs each scenario (wrk -t2 --latency) in interleaved rounds (cork, nginx, lighttpd, ...,
    cork, ...), after a short unrecorded warm-up per server and scenario;
  * reports per scenario and server the medians and spreads of req/s and p99 latency, the transfer
    rate, the socket errors and wrong statuses summed over the rounds, the server's CPU time per
    request, and its memory (RSS summed over all its processes) while and right after the
    1000-connection runs; then cork / best peer (the best variant of any peer that answered
    without errors) and cork / each peer (its best variant), with the range of each ratio;
  * writes tests/bench/results/latest.md (+ latest.json with every run) and latest.png (req/s per
    scenario, normalised to nginx = 1.0), and prints the Markdown to stdout.

--syscalls: instead, runs `strace -c -f` attached to each server (cork and nginx unless BENCH_SERVERS
says otherwise) during a short wrk run (1 KiB, keep-alive, 64 connections) and prints the syscalls
per request, also written to tests/bench/results/syscalls.md. With BENCH_SCENARIOS, the first
scenario named is counted instead.

Environment:
  BENCH_SECONDS    seconds per recorded run (default 5; the 100 MiB scenario runs twice as long)
  BENCH_ROUNDS     interleaved rounds (default 5)
  BENCH_WARMUP     seconds of unrecorded warm-up per server and scenario (default 1; 0 = none)
  BENCH_SERVERS    subset/order of: cork nginx lighttpd lighttpd-mw h2o (comma or space separated)
  BENCH_SCENARIOS  subset of the scenario names below (comma or space separated)
  BENCH_PORT       first of five consecutive loopback ports, six with --baseline (default 18180)
  BENCH_OUT        output folder (default tests/bench/results)
  BENCH_CACHE      where the generated document root is kept between runs (default
                   /var/tmp/cork-bench; about 190 MiB on disk; delete it to regenerate)
  BENCH_KEEP       1: keep the temporary folder with the configurations and server logs
  BENCH_SYSCALL_SECONDS  length of the --syscalls run (default 5)
  CORK             the cork binary (default build/cork; built with `make build` when missing)

The load generator shares the cores with the server under test, as in any single-machine
benchmark: absolute numbers are those of this box, the ratios are what to compare.
"""

import argparse
import collections
import datetime
import gzip
import hashlib
import http.client
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))

SERVERS = ["cork", "nginx", "lighttpd", "lighttpd-mw", "h2o"]
# --baseline BINARY: an earlier cork build, run as one more peer in the same interleaved rounds, so
# that a change is measured as cork/cork-base in one session (not across two noisy sessions).
BASELINE = "cork-base"
# The peer each server is a configuration of. A peer's figure in a scenario is that of its best
# variant there; the best peer is the best of all the peers' variants (cork-base is no peer).
PEER_OF = {"cork": "cork", "nginx": "nginx", "lighttpd": "lighttpd", "lighttpd-mw": "lighttpd",
           "h2o": "h2o", BASELINE: BASELINE}
# Cores the servers may use: one worker (process or thread) per core is each one's documented
# choice (nginx `worker_processes auto`, h2o's default num-threads, cork `threads = 0`).
CORES = len(os.sched_getaffinity(0))
# Why each server is configured the way it is (in the report's Method section; the files
# themselves are written by configure() and copied into the report).
PEER_NOTES = {
    "cork": f"`threads = {CORES}` (one worker per core, as `threads = 0` would choose), "
            "`access_log = off`, `autoindex = on` for the listing; otherwise its defaults "
            "(open-file cache of `file_cache_entries` files; compression on the fly at br 9, "
            "zstd 12, gzip 6, each file compressed once and kept in memory).",
    "nginx": "`worker_processes auto` (one per core), `sendfile on`, `tcp_nopush on`, "
             "`open_file_cache` with as many entries as cork's file cache and "
             "`open_file_cache_errors on` (the nginx documentation's example; it caches the "
             "404's failed lookup too), `autoindex on`, no access log, keep-alive without a "
             "practical request limit. nginx docs: ngx_core_module worker_processes, "
             "ngx_http_core_module sendfile/tcp_nopush/open_file_cache. Compression: `gzip on` "
             "(level 1, its default) and Debian's brotli filter module, `brotli on` (level 6, "
             "its default), for HTML, CSS, JavaScript and SVG; both compress per request.",
    "lighttpd": "one process (`server.max-worker = 0`, the default, which lighttpd's "
                "documentation strongly recommends on systems with sendfile(): wiki "
                "Server_max-workerDetails), its default network backend (sendfile) and stat "
                "cache (`simple`, default and recommended: Server_stat-cache-engineDetails), "
                "`dir-listing.activate`, no access log, keep-alive without a practical request "
                "limit. Compression: `mod_deflate` with `deflate.cache-dir` (each file compressed "
                "once and kept on disk), `deflate.allowed-encodings` br, zstd, gzip at its "
                "default levels, for HTML, CSS, JavaScript and SVG.",
    "lighttpd-mw": f"the same with `server.max-worker = {CORES}` (one worker process per core, "
                   "which the same page suggests trying when lighttpd is CPU-bound).",
    "h2o": f"`num-threads: {CORES}` (its default: the number of online processors), "
           "`file.dirlisting: ON`, no access log; h2o 2.2 reads files with pread() (no "
           "sendfile) and has no option for it. Compression: `compress: ON` (gzip and br at "
           "its default levels, per request).",
    BASELINE: "the --baseline build, configured like cork.",
}

FILES = [("1k.bin", 1024), ("64k.bin", 64 * 1024), ("1m.bin", 1024 * 1024),
         ("100m.bin", 100 * 1024 * 1024)]
# many/: files of MANY_SIZE bytes, file i at /many/<i % 100>/<i>.bin, at least MANY_MIN of them
# and at least 5x cork's file_cache_entries (see many_files_count), requested at random.
MANY_DIR, MANY_FOLDERS, MANY_SIZE, MANY_MIN = "many", 100, 2048, 20000
MANY_SEED = 20240612
# list/: a folder of LIST_ENTRIES small files, listed by every server.
LIST_DIR, LIST_ENTRIES = "list", 100
MISSING = "no-such-file.bin"
# text/: what the compressed scenario requests in turn, with Accept-Encoding: a 100 KiB
# JavaScript file (generated) and the bundled site's text files (copied from www/).
TEXT_DIR, TEXT_JS, TEXT_JS_SIZE = "text", "bundle.js", 100 * 1024
TEXT_SITE = ["index.html", "style.css", "app.js", "cork.svg"]
ACCEPT_ENCODING = "gzip, deflate, br, zstd"  # what Chromium sends


class Scenario(collections.namedtuple("Scenario", "name path conns extra factor desc kind",
                                      defaults=["file"])):
    """A wrk run: URL path, connections, extra wrk arguments, duration factor, description, and
    kind: 'file' (one URL), 'many' (a random file of many/ per request), '404' (every answer must
    be a 404) or 'listing'."""
    __slots__ = ()

    @property
    def expected(self):
        return 404 if self.kind == "404" else 200


SCENARIOS = [
    Scenario("1k-ka-64", "1k.bin", 64, [], 1, "1 KiB, keep-alive, 64 conns"),
    Scenario("1k-close-32", "1k.bin", 32, ["-H", "Connection: close"], 1,
             "1 KiB, Connection: close, 32 conns"),
    Scenario("1k-ka-1000", "1k.bin", 1000, [], 1, "1 KiB, keep-alive, 1000 conns"),
    Scenario("64k-ka-16", "64k.bin", 16, [], 1, "64 KiB, keep-alive, 16 conns"),
    Scenario("1m-ka-16", "1m.bin", 16, [], 1, "1 MiB, keep-alive, 16 conns"),
    Scenario("100m-ka-4", "100m.bin", 4, [], 2, "100 MiB, keep-alive, 4 conns"),
    Scenario("many-files", MANY_DIR + "/", 64, [], 1,
             "2 KiB, random of many files, keep-alive, 64 conns", "many"),
    Scenario("404", MISSING, 64, [], 1, "404 (missing file), keep-alive, 64 conns", "404"),
    Scenario("listing", LIST_DIR + "/", 64, [], 1,
             f"listing of {LIST_ENTRIES} entries, keep-alive, 64 conns", "listing"),
    Scenario("compressed", f"{TEXT_DIR}/{TEXT_JS}", 64, ["-H", f"Accept-Encoding: {ACCEPT_ENCODING}"],
             1, "100 KiB JS and the site's text files in turn, compressed, 64 conns",
             "compressed"),
]
MEMORY_SCENARIO = "1k-ka-1000"

# wrk prints one JSON line from its `done` hook: exact counters instead of rounded text.
# `unexpected` counts the answers whose status a response() hook found wrong (the 404 scenario
# only: wrk's own `status` counter counts every status above 399, 404 included).
WRK_LUA_DONE = r"""
local threads = {}
setup = function(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end
done = function(summary, latency, requests)
  local e = summary.errors
  local unexpected = 0
  for _, t in ipairs(threads) do unexpected = unexpected + (t:get("unexpected") or 0) end
  io.write(string.format(
    'WRKJSON {"requests":%d,"bytes":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d,"status":%d,"unexpected":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write, e.timeout,
    e.status, unexpected, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.mean, latency.max))
end
"""
# The 404 scenario: count every answer that is not a 404 (costs wrk a Lua call per response).
WRK_LUA_404 = r"""
unexpected = 0
response = function(status, headers, body)
  if status ~= 404 then unexpected = unexpected + 1 end
end
"""
# compressed: each wrk thread requests the text files in turn (Accept-Encoding from -H).
WRK_LUA_TEXT = r"""
local reqs = {}
local n = 0
init = function(args)
  for _, name in ipairs({%(names)s}) do
    table.insert(reqs, wrk.format("GET", "/%(dir)s/" .. name))
  end
end
request = function()
  n = n %% #reqs + 1
  return reqs[n]
end
"""
# many-files: each wrk thread requests files of many/ at random, from its own reproducible
# sequence (seed + thread number); the requests are formatted once, in init().
WRK_LUA_MANY = r"""
local reqs = {}
init = function(args)
  math.randomseed(%(seed)d + id)
  for i = 0, %(count)d - 1 do
    reqs[i + 1] = wrk.format("GET", string.format("/%(dir)s/%%02d/%%05d.bin", i %% %(folders)d, i))
  end
end
request = function()
  return reqs[math.random(%(count)d)]
end
"""

APT_PACKAGES = {"nginx": "nginx-light", "lighttpd": "lighttpd", "h2o": "h2o", "wrk": "wrk",
                "gnuplot": "gnuplot-nox", "ps": "procps", "strace": "strace",
                "brotli": "brotli", "zstd": "zstd",
                "nginx-brotli": "libnginx-mod-http-brotli-filter",
                "lighttpd-deflate": "lighttpd-mod-deflate"}
# The peers' compression modules (Debian packages), checked by file.
MODULE_FILES = {"nginx-brotli": "/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so",
                "lighttpd-deflate": "/usr/lib/lighttpd/mod_deflate.so"}
BINARIES = {"nginx": "/usr/sbin/nginx", "lighttpd": "/usr/sbin/lighttpd", "h2o": "/usr/bin/h2o"}


def log(msg=""):
    print(msg, flush=True)


def die(msg):
    raise SystemExit(f"bench: {msg}")


def env_list(name, default, allowed):
    raw = os.environ.get(name, "").replace(",", " ").split()
    if not raw:
        return list(default)
    for item in raw:
        if item not in allowed:
            die(f"{name}: unknown '{item}' (choose from {', '.join(allowed)})")
    return raw


def env_num(name, default, kind=float):
    try:
        value = kind(os.environ.get(name, default))
    except ValueError:
        die(f"{name} must be a number")
    if value < 0:
        die(f"{name} must not be negative")
    return value


# ---------------------------------------------------------------- processes and /proc

def process_tree(root_pid):
    """root_pid and all its descendants (nginx master + workers, lighttpd master + workers)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def rss_kib(pids):
    """(RSS, PSS) in KiB summed over pids. PSS shares pages fairly between master and workers."""
    rss = pss = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            pass
    return rss, pss


def rss_breakdown(pids):
    """'name RSS' per process, e.g. 'nginx 12.1, nginx 8.0, nginx 8.0' (MiB)."""
    parts = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        parts.append(f"{comm} {rss_kib([pid])[0] / 1024:.1f}")
    return ", ".join(parts)


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (all threads)
        except (OSError, IndexError, ValueError):
            pass
    return total / CLK_TCK


def process_ticks():
    """{pid: (command name, user+system clock ticks)} of every process on the machine."""
    ticks = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            fields = stat[stat.rindex(")") + 2:].split()
            ticks[int(entry)] = (stat[stat.index("(") + 1:stat.rindex(")")],
                                 int(fields[11]) + int(fields[12]))
        except (OSError, ValueError, IndexError):
            pass
    return ticks


def cpu_busy_seconds():
    """(process time, interrupt time, steal) of the whole machine (all cores) from /proc/stat.
    Interrupt time (mostly the loopback network's softirqs) is charged to no process, and steal
    is time the hypervisor gave to other machines."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = v[:8]
    return ((user + nice + system) / CLK_TCK, (irq + softirq) / CLK_TCK, steal / CLK_TCK)


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


class Server:
    def __init__(self, name, port, argv, logfile, version, config):
        self.name, self.port, self.argv, self.logfile, self.version = name, port, argv, logfile, version
        self.config = config  # path of its configuration file
        self.proc = None
        self.crashed = None  # description once it died

    def start(self):
        out = open(self.logfile, "ab")
        # Own session: Ctrl-C reaches only this script, which then stops the servers itself.
        self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def pids(self):
        return process_tree(self.proc.pid) if self.alive() else []

    def log_tail(self, lines=30):
        try:
            with open(self.logfile, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def stop(self):
        if not self.alive():
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=12)
        except subprocess.TimeoutExpired:
            for pid in reversed(self.pids()):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            self.proc.wait(timeout=5)


# ---------------------------------------------------------------- set-up

def ensure_packages(servers, syscalls):
    peers = dict.fromkeys(PEER_OF[s] for s in servers if PEER_OF[s] not in ("cork", BASELINE))
    need = ["wrk", "ps", "brotli", "zstd"] + list(peers) + (["strace"] if syscalls else ["gnuplot"])
    need += [m for m, peer in (("nginx-brotli", "nginx"), ("lighttpd-deflate", "lighttpd"))
             if peer in peers]
    missing = [APT_PACKAGES[t] for t in need
               if not shutil.which(t) and not os.path.exists(BINARIES.get(t, "/nonexistent"))
               and not os.path.exists(MODULE_FILES.get(t, "/nonexistent"))]
    if not missing:
        return
    log(f"installing: {' '.join(missing)}")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing,
                   check=True, env=env)


def ensure_cork(path):
    if path is None:
        path = os.path.join(REPO, "build", "cork")
        if not os.access(path, os.X_OK):
            log("building cork (make build)")
            subprocess.run(["make", "-C", REPO, "build"], check=True)
    if not os.access(path, os.X_OK):
        die(f"no cork binary at {path}")
    cache = os.path.join(os.path.dirname(os.path.abspath(path)), "CMakeCache.txt")
    build_type = "?"
    if os.path.exists(cache):
        with open(cache) as f:
            m = re.search(r"^CMAKE_BUILD_TYPE:STRING=(.*)$", f.read(), re.M)
            build_type = m.group(1) if m else "?"
    if build_type != "Release":
        log(f"warning: {path} is a '{build_type}' build, not Release")
    return os.path.abspath(path), build_type


def cork_cache_entries():
    """cork's default file_cache_entries, from conf/cork.ini (which lists the defaults)."""
    try:
        with open(os.path.join(REPO, "conf", "cork.ini")) as f:
            m = re.search(r"^file_cache_entries\s*=\s*(\d+)", f.read(), re.M)
        if m:
            return int(m.group(1))
    except OSError:
        pass
    return 4096


def many_files_count(cache_entries):
    """Enough files that most requests miss cork's cache (and nginx's, which has as many entries)
    whatever its size: at least MANY_MIN and at least 5x the entries."""
    return max(MANY_MIN, 5 * cache_entries)


def many_path(i):
    return f"{MANY_DIR}/{i % MANY_FOLDERS:02d}/{i:05d}.bin"  # the same as WRK_LUA_MANY's


def file_body(name, size):
    return random.Random(f"cork-bench-{name}").randbytes(size)


def many_body(i):
    return random.Random(f"cork-bench-many-{i}").randbytes(MANY_SIZE)


def list_name(i):
    return f"entry-{i:03d}.txt"


def text_js():
    """A JavaScript file of TEXT_JS_SIZE bytes that compresses like real code: functions with
    varied names, numbers and strings from a fixed seed."""
    r = random.Random("cork-bench-text")
    words = ["render", "state", "props", "update", "value", "index", "event", "handler", "node",
             "list", "item", "count", "error", "result", "options", "config", "request", "data"]
    out = []
    size = 0
    i = 0
    while size < TEXT_JS_SIZE:
        a, b, c = (r.choice(words) for _ in range(3))
        line = (f"export function {a}{b.title()}{i}({c}, {b}) {{\n"
                f"  const {a}_{i} = {c}.{b} ?? {r.randint(0, 99999)};\n"
                f"  if ({a}_{i} > {r.randint(0, 999)}) return \"{a}-{c}-{r.randint(0, 9999)}\";\n"
                f"  return {b}.map(({a}) => {a} * {r.randint(2, 97)} + {a}_{i});\n}}\n")
        out.append(line)
        size += len(line)
        i += 1
    return "".join(out).encode()[:TEXT_JS_SIZE]


def text_files():
    """name -> bytes of the compressed scenario's files."""
    files = {TEXT_JS: text_js()}
    for name in TEXT_SITE:
        with open(os.path.join(REPO, "www", name), "rb") as f:
            files[name] = f.read()
    return files


ROOT_LAYOUT = 3  # raise when what ensure_root writes changes


def ensure_root(cache, many_count):
    """The document root, generated once under cache as root-<key>, where key names the layout:
    a later run reuses it, a changed layout gets a new folder (and the old one is removed). It is
    built in a temporary folder and renamed into place, so a folder of that name is complete."""
    layout = [ROOT_LAYOUT, FILES, MANY_FOLDERS, MANY_SIZE, many_count, LIST_ENTRIES,
              {k: hashlib.sha256(v).hexdigest() for k, v in text_files().items()}]
    key = hashlib.sha256(json.dumps(layout).encode()).hexdigest()[:12]
    root = os.path.join(cache, f"root-{key}")
    if os.path.isdir(root):
        log(f"bench: document root {root} (generated by an earlier run)")
        return root
    os.makedirs(cache, exist_ok=True)
    try:
        os.chmod(cache, 0o755)  # nginx's workers run as an unprivileged user and must read it
    except OSError:
        pass
    log(f"bench: generating the document root in {root} ({many_count:,} files in {MANY_DIR}/, "
        "once)")
    tmp = tempfile.mkdtemp(prefix="tmp-root-", dir=cache)
    try:
        def write(rel, data):
            path = os.path.join(tmp, rel)
            with open(path, "wb") as f:
                f.write(data)
            os.chmod(path, 0o644)

        def mkdir(rel):
            os.mkdir(os.path.join(tmp, rel))
            os.chmod(os.path.join(tmp, rel), 0o755)
        os.chmod(tmp, 0o755)
        for name, size in FILES:
            write(name, file_body(name, size))
        mkdir(MANY_DIR)
        for d in range(MANY_FOLDERS):
            mkdir(f"{MANY_DIR}/{d:02d}")
        for i in range(many_count):
            write(many_path(i), many_body(i))
        mkdir(LIST_DIR)
        for i in range(LIST_ENTRIES):
            write(f"{LIST_DIR}/{list_name(i)}", f"entry {i}\n".encode())
        mkdir(TEXT_DIR)
        for name, data in text_files().items():
            write(f"{TEXT_DIR}/{name}", data)
        try:
            os.rename(tmp, root)
        except OSError:
            if not os.path.isdir(root):  # else another run renamed its copy first
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for entry in os.listdir(cache):
        old = os.path.join(cache, entry)
        if entry.startswith("root-") and old != root and os.path.isdir(old):
            log(f"bench: removing {old} (an earlier layout)")
            shutil.rmtree(old, ignore_errors=True)
    return root


def file_digests():
    return {name: hashlib.sha256(file_body(name, size)).hexdigest() for name, size in FILES}


def version_of(argv, pattern):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        text = out.stdout + out.stderr
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    m = re.search(pattern, text)
    return m.group(1) if m else text.strip().splitlines()[0] if text.strip() else "?"


def configure(name, port, work, root, cork_bin, cache_entries, baseline_bin=None):
    """Writes the configuration of server name (see PEER_NOTES for the reasons) and returns its
    Server. Every server: the same root, loopback, no access log, keep-alive without a practical
    request limit, directory listings on, enough descriptors for the 1000-connection scenario."""
    d = os.path.join(work, name)
    os.makedirs(d)
    os.chmod(d, 0o755)
    logfile = os.path.join(d, "server.log")
    if name in ("cork", BASELINE):
        if name == BASELINE:
            cork_bin = baseline_bin
        conf = os.path.join(d, "cork.ini")
        with open(conf, "w") as f:
            f.write(f"""[server]
host = 127.0.0.1
port = {port}
root = {root}
threads = {CORES}
[http]
autoindex = on
file_cache_entries = {cache_entries}
[log]
access_log = off
level = warn
""")
        version = version_of([cork_bin, "--version"], r"cork (\S+)")
        return Server(name, port, [cork_bin, "-c", conf], logfile, version, conf)
    if name == "nginx":
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            brotli = (f"load_module {MODULE_FILES['nginx-brotli']};\n"
                      if os.path.exists(MODULE_FILES["nginx-brotli"]) else "")
            f.write(f"""{brotli}worker_processes auto;
worker_rlimit_nofile {NOFILE};
daemon off;
master_process on;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections {NOFILE // 2}; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  open_file_cache max={cache_entries} inactive=60s;
  open_file_cache_errors on;
  keepalive_requests 100000000;
  keepalive_timeout 65s;
  autoindex on;
  types {{ application/octet-stream bin; text/plain txt; text/html html; text/css css;
          application/javascript js; image/svg+xml svg; }}
  default_type application/octet-stream;
  gzip on;
  gzip_types text/css application/javascript image/svg+xml;
  {"brotli on; brotli_types text/css application/javascript image/svg+xml;" if brotli else ""}
  client_body_temp_path {d}/tmp;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    root {root};
  }}
}}
""")
        version = version_of([BINARIES["nginx"], "-v"], r"nginx/(\S+)")
        return Server(name, port, [BINARIES["nginx"], "-c", conf, "-p", d, "-e", f"{d}/error.log"],
                      logfile, version, conf)
    if name in ("lighttpd", "lighttpd-mw"):
        conf = os.path.join(d, "lighttpd.conf")
        # No mod_accesslog loaded: no access log. lighttpd is single-threaded: "lighttpd" is one
        # process (its default), "lighttpd-mw" one worker process per core.
        workers = f"server.max-worker = {CORES}\n" if name == "lighttpd-mw" else ""
        with open(conf, "w") as f:
            os.makedirs(os.path.join(d, "deflate-cache"))
            f.write(f"""server.modules = ("mod_dirlisting", "mod_deflate")
server.document-root = "{root}"
server.bind = "127.0.0.1"
server.port = {port}
{workers}server.max-fds = {NOFILE}
server.max-connections = {NOFILE // 2 - 64}
server.listen-backlog = 4096
server.max-keep-alive-requests = 65535
server.max-keep-alive-idle = 65
server.errorlog = "{d}/error.log"
dir-listing.activate = "enable"
mimetype.assign = (".bin" => "application/octet-stream", ".txt" => "text/plain",
                   ".html" => "text/html", ".css" => "text/css",
                   ".js" => "text/javascript", ".svg" => "image/svg+xml")
deflate.cache-dir = "{d}/deflate-cache"
deflate.mimetypes = ("text/html", "text/css", "text/javascript", "image/svg+xml")
deflate.allowed-encodings = ("br", "zstd", "gzip")
""")
        version = version_of([BINARIES["lighttpd"], "-v"], r"lighttpd/(\S+)")
        return Server(name, port, [BINARIES["lighttpd"], "-D", "-f", conf], logfile, version, conf)
    if name == "h2o":
        conf = os.path.join(d, "h2o.conf")
        user = "user: root\n" if os.geteuid() == 0 else ""
        with open(conf, "w") as f:
            # No access-log directive: no access log.
            f.write(f"""{user}num-threads: {CORES}
max-connections: {NOFILE // 2}
error-log: {d}/error.log
pid-file: {d}/h2o.pid
listen:
  host: 127.0.0.1
  port: {port}
hosts:
  default:
    paths:
      /:
        file.dir: {root}
        file.dirlisting: ON
        compress: ON
""")
        version = version_of([BINARIES["h2o"], "-v"], r"h2o version (\S+)")
        return Server(name, port, [BINARIES["h2o"], "-c", conf], logfile, version, conf)
    raise ValueError(name)


def wait_ready(server, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not server.alive():
            die(f"{server.name} exited at start-up (status {server.proc.returncode}); its log:\n"
                f"{server.log_tail()}{extra_logs(server)}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    die(f"{server.name} does not accept connections on port {server.port}; its log:\n"
        f"{server.log_tail()}{extra_logs(server)}")


def extra_logs(server):
    path = os.path.join(os.path.dirname(server.logfile), "error.log")
    if os.path.exists(path):
        with open(path, errors="replace") as f:
            return f"--- {path}:\n" + "".join(f.readlines()[-30:])
    return ""


VERIFY_MANY = 32  # random files of many/ that every server must serve right before the runs


def verify(server, digests, many_count):
    """What the scenarios request, each twice on one keep-alive connection: every file (200, the
    right Content-Length and bytes), VERIFY_MANY random files of many/ likewise, the missing file
    (404 with a small body, the connection kept) and list/ (200, HTML naming every entry).
    Returns the sizes of the 404 and the listing answers, for the report."""
    def fail(msg):
        die(f"{server.name}: {msg}\n{server.log_tail()}{extra_logs(server)}")

    def get(conn, path):
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        if resp.will_close:
            fail(f"GET {path} -> {resp.status} closed a keep-alive connection")
        return resp, body

    def sizes(resp, body):  # the head as sent, near enough (http.client keeps no raw copy)
        head = len(f"HTTP/1.1 {resp.status} {resp.reason}\r\n\r\n") + sum(
            len(f"{k}: {v}\r\n") for k, v in resp.getheaders())
        return {"status": resp.status, "head": head, "body": len(body),
                "chunked": (resp.getheader("Transfer-Encoding") or "").lower() == "chunked"}

    checks = [(f"/{name}", size, digests[name]) for name, size in FILES]
    for i in random.Random("cork-bench-verify").sample(range(many_count), VERIFY_MANY):
        checks.append((f"/{many_path(i)}", MANY_SIZE, hashlib.sha256(many_body(i)).hexdigest()))
    facts = {}
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        for path, size, digest in checks:
            for _ in range(2):  # the second request checks that keep-alive works
                resp, body = get(conn, path)
                length = resp.getheader("Content-Length")
                if resp.status != 200 or length != str(size) or len(body) != size:
                    fail(f"GET {path} -> {resp.status}, Content-Length {length}, {len(body)} bytes "
                         f"(expected 200, {size})")
                if hashlib.sha256(body).hexdigest() != digest:
                    fail(f"GET {path}: body differs from the file")
        for _ in range(2):
            resp, body = get(conn, f"/{MISSING}")
            if resp.status != 404:
                fail(f"GET /{MISSING} -> {resp.status} (expected 404)")
            if len(body) > 4096:
                fail(f"GET /{MISSING}: a {len(body)}-byte body, not a small 404")
        facts["404"] = sizes(resp, body)
        for _ in range(2):
            resp, body = get(conn, f"/{LIST_DIR}/")
            ctype = resp.getheader("Content-Type") or ""
            missing = [list_name(i) for i in range(LIST_ENTRIES)
                       if list_name(i).encode() not in body]
            if resp.status != 200 or "text/html" not in ctype or missing:
                fail(f"GET /{LIST_DIR}/ -> {resp.status}, Content-Type {ctype!r}, "
                     f"{len(missing)} of {LIST_ENTRIES} entries missing (expected 200, an HTML "
                     "listing naming them all)")
        facts["listing"] = sizes(resp, body)
        facts["compressed"] = verify_compressed(server, conn, get, sizes, fail)
    except (OSError, http.client.HTTPException) as e:
        fail(f"GET failed: {e!r}")
    finally:
        conn.close()
    return facts


def decode(coding, body):
    """The body decoded by a real decoder: Python's gzip, the brotli and zstd tools."""
    if coding == "gzip":
        return gzip.decompress(body)
    tool = {"br": ["brotli", "-d", "-c"], "zstd": ["zstd", "-d", "-c"]}.get(coding)
    if tool is None:
        return None
    return subprocess.run(tool, input=body, capture_output=True, check=True).stdout


def verify_compressed(server, conn, get, sizes, fail):
    """Every text file with Accept-Encoding: the right bytes once decoded; the JavaScript file
    compressed (cork makes its copy after the first request: asked again for up to 10 s).
    Returns the JavaScript answer's coding and sizes, for the report."""
    files = text_files()
    result = None
    for name in [TEXT_JS] + TEXT_SITE:
        deadline = time.time() + 10
        while True:
            conn.request("GET", f"/{TEXT_DIR}/{name}", headers={"Accept-Encoding": ACCEPT_ENCODING})
            resp = conn.getresponse()
            body = resp.read()
            coding = (resp.getheader("Content-Encoding") or "").lower()
            if resp.status != 200:
                fail(f"GET /{TEXT_DIR}/{name} -> {resp.status}")
            if coding or name != TEXT_JS or time.time() > deadline:
                break
            time.sleep(0.05)
        try:
            decoded = decode(coding, body) if coding else body
        except (OSError, subprocess.CalledProcessError, EOFError, zlib.error) as e:
            fail(f"GET /{TEXT_DIR}/{name}: {coding} body does not decode: {e!r}")
        if decoded != files[name]:
            fail(f"GET /{TEXT_DIR}/{name}: {coding or 'identity'} body differs from the file")
        if name == TEXT_JS:
            # A --baseline build from before compression existed sends the file as it is.
            if not coding and server.name != BASELINE:
                fail(f"GET /{TEXT_DIR}/{name} with Accept-Encoding: never compressed")
            result = dict(sizes(resp, body), coding=coding or "identity")
    return result


# ---------------------------------------------------------------- running wrk

class Runner:
    def __init__(self, lua_paths, timeout_s):
        self.lua_paths = lua_paths  # scenario name -> its wrk script
        self.timeout_s = timeout_s
        self.current = None
        self.others = {}  # command name -> CPU seconds of other processes during the runs
        self.measured_s = 0.0  # wall time of the runs

    def wrk(self, server, scenario, seconds, sample=None, peers=()):
        """Runs wrk against server; sample(), if given, is called about every 0.25 s."""
        argv = (["wrk", "-t2", f"-c{scenario.conns}", f"-d{seconds}s",
                 f"--timeout={self.timeout_s}s", "--latency", "-s", self.lua_paths[scenario.name]]
                + scenario.extra + [f"http://127.0.0.1:{server.port}/{scenario.path}"])
        pids = server.pids()
        cpu0 = cpu_seconds(pids)
        peer_pids = [p for peer in peers for p in peer.pids()]
        peers0 = cpu_seconds(peer_pids)
        procs0 = process_ticks()
        busy0 = cpu_busy_seconds()
        kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.time()
        self.current = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True)
        wrk_pid = self.current.pid
        try:
            if sample:
                while self.current.poll() is None:
                    sample()
                    time.sleep(0.25)
            out, _ = self.current.communicate(timeout=seconds + self.timeout_s + 30)
        finally:
            if self.current.poll() is None:
                self.current.kill()
                self.current.wait()
        rc = self.current.returncode
        self.current = None
        cpu = cpu_seconds(server.pids() or pids) - cpu0
        kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        wrk_cpu = (kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime)
        wall = time.time() - t0
        busy1 = cpu_busy_seconds()
        procs1 = process_ticks()
        busy, irq, steal = (b - a for a, b in zip(busy0, busy1))
        peers_cpu = cpu_seconds(peer_pids) - peers0
        # Process CPU that neither the server, wrk nor the other (idle) benchmarked servers used,
        # plus steal: other work on the machine (or the host), in cores.
        other = (max(0.0, busy - cpu - wrk_cpu - peers_cpu) + steal) / wall
        # Which processes that was: those alive at the end of the run (one that started and ended
        # within it counts in `other` only).
        ours = set(pids) | set(peer_pids) | set(server.pids()) | {os.getpid(), wrk_pid}
        for pid, (comm, ticks) in procs1.items():
            if pid not in ours:
                used = (ticks - procs0[pid][1] if pid in procs0 else ticks) / CLK_TCK
                if used > 0:
                    self.others[comm] = self.others.get(comm, 0.0) + used
        self.measured_s += wall
        m = re.search(r"^WRKJSON (\{.*\})$", out, re.M)
        if rc != 0 or not m:
            return {"error": f"wrk exited {rc}: {out.strip()[-400:]}"}
        r = json.loads(m.group(1))
        secs = r["duration_us"] / 1e6
        r["rps"] = r["requests"] / secs if secs else 0.0
        r["mbps"] = r["bytes"] / secs / 2**20 if secs else 0.0
        r["socket_errors"] = r["connect"] + r["read"] + r["write"] + r["timeout"]
        # Answers with another status than the scenario's: wrk counts every status above 399;
        # the 404 scenario's script counts every status but 404.
        r["bad_status"] = r["unexpected"] if scenario.expected == 404 else r["status"]
        r["server_cpu_s"] = cpu
        r["cpu_us_per_req"] = cpu / r["requests"] * 1e6 if r["requests"] else None
        r["wall_s"] = wall
        r["wrk_cpu_s"] = wrk_cpu
        r["other_cores"] = other
        r["peers_cores"] = peers_cpu / wall
        r["irq_cores"] = irq / wall
        r["steal_cores"] = steal / wall
        return r


# ---------------------------------------------------------------- reporting

def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt_num(v, digits=0):
    if v is None:
        return "–"
    if digits == 0 and abs(v) < 100:
        digits = 1
    return f"{v:,.{digits}f}"


def fmt_lat(us):
    if us is None:
        return "–"
    if us >= 1e6:
        return f"{us / 1e6:.2f} s"
    if us >= 1e3:
        return f"{us / 1e3:.2f} ms"
    return f"{us:.0f} µs"


def fmt_rate(mib):
    if mib is None:
        return "–"
    return f"{mib / 1024:.2f} GiB/s" if mib >= 1024 else f"{mib:.1f} MiB/s"


def summarize(runs, scenarios, servers):
    summary = {}
    for sc in scenarios:
        expected = sc.expected
        for s in servers:
            rs = [r for r in runs.get((sc[0], s), []) if "error" not in r]
            errs = [r["error"] for r in runs.get((sc[0], s), []) if "error" in r]
            rps = [r["rps"] for r in rs]
            p99 = [r["p99_us"] for r in rs]
            x = {
                "rounds": len(rs),
                "wrk_failures": errs,
                "rps": median(rps),
                "rps_all": rps,
                "rps_min": min(rps) if rps else None,
                "rps_max": max(rps) if rps else None,
                "p99_us": median(p99),
                "p99_min": min(p99) if p99 else None,
                "p99_max": max(p99) if p99 else None,
                "other_cores": median([r["other_cores"] for r in rs]),
                "mbps": median([r["mbps"] for r in rs]),
                "p50_us": median([r["p50_us"] for r in rs]),
                "cpu_us_per_req": median([r["cpu_us_per_req"] for r in rs]),
                "connect": sum(r["connect"] for r in rs), "read": sum(r["read"] for r in rs),
                "write": sum(r["write"] for r in rs), "timeout": sum(r["timeout"] for r in rs),
                "socket_errors": sum(r["socket_errors"] for r in rs),
                # Older latest.json files have no bad_status: wrk's count of statuses above 399.
                "bad_status": sum(r.get("bad_status", r["status"]) for r in rs),
                "expected": expected,
                "requests": sum(r["requests"] for r in rs),
            }
            x["rps_spread"] = spread(x["rps"], x["rps_min"], x["rps_max"])
            x["p99_spread"] = spread(x["p99_us"], x["p99_min"], x["p99_max"])
            x["excluded"] = exclusion(x)
            summary[(sc[0], s)] = x
    return summary


def spread(mid, lo, hi):
    """Half the range over the rounds, relative to the median (0.05 = ±5%)."""
    return (hi - lo) / 2 / mid if mid else None


def exclusion(x):
    """Why a server's figure in a scenario cannot count (None if it can): it answered errors."""
    why = []
    if x["rounds"] == 0:
        why.append("no run finished")
    if x["wrk_failures"]:
        why.append(f"wrk failed in {len(x['wrk_failures'])} round(s)")
    if x["socket_errors"]:
        why.append(f"{x['socket_errors']:,} socket errors (connect {x['connect']}, read "
                   f"{x['read']}, write {x['write']}, timeout {x['timeout']})")
    if x["bad_status"]:
        what = "non-404" if x["expected"] == 404 else "non-2xx/3xx"
        why.append(f"{x['bad_status']:,} {what} answers in {x['requests']:,}")
    return "; ".join(why) or None


def peer_figures(summary, scenario, servers):
    """{peer: (its best variant or None, [(variant, why excluded)])} for the peers (not cork, not
    cork-base) in servers: the variant with the highest median req/s among those that answered
    without errors."""
    figures = {}
    for s in servers:
        peer = PEER_OF.get(s, s)
        if peer in ("cork", BASELINE):
            continue
        best, excluded = figures.setdefault(peer, (None, []))
        x = summary[(scenario, s)]
        if x["excluded"]:
            excluded.append((s, x["excluded"]))
        elif best is None or x["rps"] > summary[(scenario, best)]["rps"]:
            best = s
        figures[peer] = (best, excluded)
    return figures


def best_peer(summary, scenario, servers):
    """The variant of any peer with the highest median req/s among those without errors."""
    bests = [b for b, _ in peer_figures(summary, scenario, servers).values() if b]
    return max(bests, key=lambda s: summary[(scenario, s)]["rps"]) if bests else None


def ratio(c, x):
    """cork/x of the median req/s, and its range over the rounds (cork's slowest round against
    x's fastest, and the other way round); the spreads overlap when that range includes 1."""
    if not c["rps"] or not x["rps"]:
        return None
    return c["rps"] / x["rps"], c["rps_min"] / x["rps_max"], c["rps_max"] / x["rps_min"]


def fmt_ratio(rt):
    if rt is None:
        return "–"
    mid, lo, hi = rt
    return f"{mid:.2f} ({lo:.2f}–{hi:.2f}{', overlap' if lo <= 1 <= hi else ''})"


def fmt_spread(v):
    return f"±{v * 100:.0f}%" if v is not None else "–"


def fmt_rps(x):
    return f"{fmt_num(x['rps'])} {fmt_spread(x['rps_spread'])}" if x["rps"] else "–"


def fmt_p99(x):
    return f"{fmt_lat(x['p99_us'])} {fmt_spread(x['p99_spread'])}" if x["p99_us"] else "–"


def render_markdown(meta, scenarios, servers, summary, memory, crashes, notes):
    L = []
    peers = [s for s in servers if PEER_OF.get(s, s) not in ("cork", BASELINE)]
    groups = list(dict.fromkeys(PEER_OF.get(s, s) for s in peers))
    L.append("# cork benchmark: static files over HTTP/1.1 on loopback\n")
    L.append(f"Generated by `make bench` (tests/bench/compare.py) on {meta['date']}.\n")
    L.append("## Machine and versions\n")
    L.append(f"- CPU: {meta['cpu']} — {meta['cores']} cores (online), "
             f"{meta['mem_gib']:.0f} GiB RAM")
    L.append(f"- Kernel: {meta['kernel']} ({meta['os']})")
    for s in servers:
        L.append(f"- {s}: {meta['versions'][s]}")
    L.append(f"- wrk: {meta['wrk']}; cork build: {meta['cork_build']}, {meta['git']}")
    L.append(f"- Other load (CPU used by neither the server nor wrk, in cores): median "
             f"{meta['other_median']:.2f}, max {meta['other_max']:.2f} over the runs; load "
             f"average (1 min) before the runs: median {meta['load_median']:.2f}, max "
             f"{meta['load_max']:.2f}"
             + (" — **other work was running on the machine: the numbers are noisy**"
                if meta["other_median"] > 0.2 else ""))
    if meta.get("other_processes"):
        L.append("- Other processes that used the CPU during the runs (cores, averaged over "
                 f"{meta['measured_s']:.0f} s of runs; processes that started and ended within "
                 "a run count in other load only): "
                 + ", ".join(f"{comm} {cores:.2f}" for comm, cores in meta["other_processes"]))
    L.append("")
    L.append("## Method\n")
    order = " → ".join(servers)
    L.append(f"`wrk -t2 -cN -d{meta['seconds']}s --latency` (the 100 MiB scenario "
             f"{meta['seconds'] * 2}s) against 127.0.0.1, {meta['rounds']} interleaved rounds "
             f"({order} → …), after {meta['warmup']} s of unrecorded warm-up per server and "
             f"scenario; wrk shares the {meta['cores']} cores with the server under test. "
             "Every figure is the median over the rounds; *±* beside it is its spread: half the "
             "range over the rounds, relative to the median. Ratios are of the medians, with "
             "their range in brackets (cork's slowest round against the peer's fastest, and the "
             "other way round); *overlap* marks a ratio whose range includes 1, that is, whose "
             "req/s spreads overlap: a lead there is within the noise. Socket errors (connect/"
             "read/write/timeout) and wrong statuses (for the 404 scenario anything but 404, for "
             "the others anything above 399) are summed over the rounds; a server with either in "
             "a scenario is left out of that scenario's best, and *Problems seen* says why. CPU "
             "µs/req is the server's own user+system time (all its processes) per request "
             "served. *other load* is the CPU that neither the server nor wrk used during the "
             "runs (other programs, plus time stolen by the hypervisor), in cores, median over "
             "the rounds: above ~0.2 the run competed for the cores and its numbers are less "
             "trustworthy. Interrupt time (the loopback network's softirqs, charged to no "
             "process) is in neither column.\n")
    L.append("Each peer runs in its best documented configuration; where two are plausible "
             "both run, as separate servers in the same rounds, and the peer's figure in a "
             "scenario is its better variant there. The best peer of a scenario is the best "
             "variant of any peer. Every server serves the same document root, with no access "
             "log and keep-alive without a practical request limit:\n")
    for s in servers:
        L.append(f"- **{s}**: {meta.get('peer_notes', PEER_NOTES).get(s, '')}")
    L.append("")
    if meta.get("many_files"):
        L.append(f"*many-files* requests {meta['many_files']:,} files of {MANY_SIZE} bytes in "
                 f"{MANY_FOLDERS} folders at random (each wrk thread its own sequence, seeded "
                 f"with {MANY_SEED} + its number): at least {MANY_MIN:,} and 5 × cork's "
                 f"`file_cache_entries` ({meta['cache_entries']:,}; nginx's `open_file_cache` "
                 "has as many), so most requests miss the open-file caches. Before the runs "
                 f"every server answered {VERIFY_MANY} random files of them with the right "
                 f"bytes, 404 for `/{MISSING}` and an HTML listing of every entry for "
                 f"`/{LIST_DIR}/`, each twice on one keep-alive connection.\n")
    answers = meta.get("answers")
    if answers:
        L.append("What the 404 and listing scenarios get from each server (head size as parsed, "
                 "near enough):\n")
        L.append("| server | 404: head + body | listing: head + body | compressed 100 KiB JS: "
                 "coding, head + body |")
        L.append("|---|---:|---:|---:|")
        for s in servers:
            a = answers.get(s)
            if not a:
                continue

            def size(k):
                return (f"{a[k]['head']} + {a[k]['body']:,} B"
                        + (" (chunked)" if a[k].get("chunked") else "")) if k in a else "–"
            comp = a.get("compressed")
            comp_text = f"{comp['coding']}, {size('compressed')}" if comp else "–"
            L.append(f"| {s} | {size('404')} | {size('listing')} | {comp_text} |")
        L.append("")

    if "cork" in servers and peers:
        L.append("## cork / best peer\n")
        L.append("The best peer of each scenario: the variant of any peer with the highest median "
                 "req/s among those that answered without errors. Targets are judged on the "
                 "median ratio; a lead is only a lead where the spreads do not overlap. The "
                 "lowest p99 of any peer without errors is in the last column.\n")
        L.append("| scenario | cork req/s | best peer | its req/s | cork / best peer | "
                 "p99 cork | p99 best peer | lowest peer p99 |")
        L.append("|---|---:|---|---:|---:|---:|---:|---:|")
        for sc in scenarios:
            c = summary[(sc[0], "cork")]
            b = best_peer(summary, sc[0], servers)
            clean = [s for s in peers if not summary[(sc[0], s)]["excluded"]]
            low = min(clean, key=lambda s: summary[(sc[0], s)]["p99_us"]) if clean else None
            if b is None:
                L.append(f"| {sc[5]} | {fmt_rps(c)} | none without errors | | | {fmt_p99(c)} | | |")
                continue
            x = summary[(sc[0], b)]
            lowest = f"{fmt_p99(summary[(sc[0], low)])} ({low})"
            L.append(f"| {sc[5]} | {fmt_rps(c)} | {b} | {fmt_rps(x)} | {fmt_ratio(ratio(c, x))} "
                     f"| {fmt_p99(c)} | {fmt_p99(x)} | {lowest} |")
        if any(summary[(sc[0], "cork")]["excluded"] for sc in scenarios):
            L.append("")
            L.append("**cork answered errors in some scenario (see Problems seen): its figure "
                     "there does not count.**")
        L.append("")
        L.append("## cork / each peer\n")
        L.append("req/s ratio (above 1: cork serves more) against the peer's best variant (named "
                 "when the peer ran in more than one), and p99 latency, cork vs that variant.\n")
        cols = groups + ([BASELINE] if BASELINE in servers else [])
        L.append("| scenario | " + " | ".join(f"cork/{g} | p99 cork vs {g}" for g in cols) + " |")
        L.append("|---|" + "---:|---:|" * len(cols))
        for sc in scenarios:
            c = summary[(sc[0], "cork")]
            figures = peer_figures(summary, sc[0], servers)
            cells = []
            for g in cols:
                if g == BASELINE:
                    v, several = BASELINE, False
                else:
                    v = figures[g][0]
                    several = sum(1 for s in servers if PEER_OF.get(s, s) == g) > 1
                x = summary[(sc[0], v)] if v else None
                if x is None or not x["rps"]:
                    cells += ["– (errors)", "–"]
                    continue
                cells.append(fmt_ratio(ratio(c, x)) + (f" [{v}]" if several else ""))
                cells.append(f"{fmt_p99(c)} vs {fmt_p99(x)}")
            L.append(f"| {sc[5]} | " + " | ".join(cells) + " |")
        L.append("")

    L.append("## Results\n")
    L.append("Every server and variant. **Bold**: the variant that is its peer's figure in that "
             "scenario; *excluded*: answered errors (see Problems seen).\n")
    L.append("| scenario | server | req/s | transfer | p50 | p99 | CPU µs/req | "
             "socket errors (c/r/w/t) | wrong status | req/s vs nginx | other load |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for sc in scenarios:
        base = summary.get((sc[0], "nginx"), {}).get("rps")
        figures = peer_figures(summary, sc[0], servers)
        chosen = {b for b, _ in figures.values() if b}
        for s in servers:
            x = summary[(sc[0], s)]
            if x["rounds"] == 0:
                L.append(f"| {sc[5]} | {s} | no run | | | | | | | | |")
                continue
            several = sum(1 for t in servers if PEER_OF.get(t, t) == PEER_OF.get(s, s)) > 1
            name = f"**{s}**" if s in chosen and several else s
            if x["excluded"]:
                name += " (*excluded*)"
            rel = f"{x['rps'] / base:.2f}" if base and x["rps"] else "–"
            errs = (f"{x['socket_errors']:,} ({x['connect']}/{x['read']}/{x['write']}/"
                    f"{x['timeout']})")
            L.append(f"| {sc[5]} | {name} | {fmt_rps(x)} | {fmt_rate(x['mbps'])} | "
                     f"{fmt_lat(x['p50_us'])} | {fmt_p99(x)} | "
                     f"{fmt_num(x['cpu_us_per_req'], 1)} | {errs} | {x['bad_status']:,} | {rel} | "
                     f"{x['other_cores']:.2f} |")
    L.append("")
    if memory:
        L.append("## Memory\n")
        L.append("Resident memory summed over all of the server's processes (/proc/PID/status "
                 "VmRSS; PSS from smaps_rollup counts pages shared between an nginx or lighttpd "
                 "master and its workers once): idle after start-up, the peak sampled every 0.25 s "
                 "during the 1 KiB 1000-connection runs, and right after those runs (largest over "
                 "the rounds).\n")
        L.append("| server | processes | RSS idle | RSS peak, 1000 conns | RSS right after | "
                 "PSS right after | RSS per process right after (MiB) |")
        L.append("|---|---:|---:|---:|---:|---:|---|")
        for s in servers:
            m = memory.get(s)
            if not m:
                continue

            def mib(k):
                return f"{k / 1024:.1f} MiB" if k is not None else "–"
            L.append(f"| {s} | {m['processes']} | {mib(m['idle_rss'])} | {mib(m.get('peak_rss'))} | "
                     f"{mib(m.get('after_rss'))} | {mib(m.get('after_pss'))} | "
                     f"{m.get('breakdown', '')} |")
        L.append("")
    L.append("## Problems seen\n")
    excluded = [f"{sc[5]}, {s}: left out of the best: {summary[(sc[0], s)]['excluded']}"
                + (" (cork's own figure: not valid)" if s == "cork" else "")
                for sc in scenarios for s in servers if summary[(sc[0], s)]["excluded"]]
    if crashes or notes or excluded:
        for c in crashes:
            L.append(f"- **{c}**")
        for n in excluded + notes:
            L.append(f"- {n}")
    else:
        L.append("- none: every server stayed up, every run finished, and no server answered an "
                 "error.")
    L.append("")
    configs = meta.get("configs")
    if configs:
        L.append("## Configurations\n")
        L.append("The files the servers ran with, as written (`$ROOT`: the document root, "
                 "`$WORK`: the run's temporary folder).\n")
        for s in servers:
            if s in configs:
                L.append(f"<details><summary>{s}</summary>\n\n```\n{configs[s].rstrip()}\n```\n"
                         "</details>\n")
    L.append("![req/s normalised to nginx](latest.png)\n")
    return "\n".join(L)


def plot(path, scenarios, servers, summary, base_server, workdir, cores):
    """Grouped bars: req/s of each server per scenario, divided by base_server's."""
    data = os.path.join(workdir, "plot.dat")
    n = len(servers)
    width = 0.8 / n
    colors = {"cork": "#d62728", "nginx": "#2ca02c", "lighttpd": "#1f77b4",
              "lighttpd-mw": "#9ecae1", "h2o": "#ff7f0e", BASELINE: "#9467bd"}
    ymax = 1.0
    with open(data, "w") as f:
        for j, s in enumerate(servers):
            f.write(f"# {s}\n")
            for i, sc in enumerate(scenarios):
                base = summary[(sc[0], base_server)]["rps"]
                v = summary[(sc[0], s)]["rps"]
                rel = v / base if base and v else 0.0
                ymax = max(ymax, rel)
                x = i + (j - (n - 1) / 2) * width
                f.write(f"{x:.4f} {rel:.4f} {int(round(v or 0))}\n")
            f.write("\n\n")
    def xtic(sc):
        base = summary[(sc[0], base_server)]["rps"]
        return f"{sc[0]}\\n({base_server} {base:,.0f}/s)" if base else sc[0]
    xtics = ", ".join(f'"{xtic(sc)}" {i}' for i, sc in enumerate(scenarios))
    plots = []
    for j, s in enumerate(servers):
        plots.append(f"'{data}' index {j} using 1:2 with boxes lc rgb '{colors.get(s, '#777777')}' "
                     f"title '{s}'")
        plots.append(f"'{data}' index {j} using 1:2:(sprintf('%.2f', $2)) with labels "
                     "offset 0,0.6 font ',8' notitle")
    script = f"""set terminal pngcairo size 1400,600 font 'DejaVu Sans,10'
set output '{path}'
set title 'req/s per scenario, normalised to {base_server} = 1.0 (median of the rounds; wrk -t2, loopback, {cores} cores)'
set style fill solid 0.85 border -1
set boxwidth {width * 0.95:.4f}
set xtics ({xtics}) nomirror
set xrange [-0.6:{len(scenarios) - 0.4}]
set bmargin 4
set yrange [0:{ymax * 1.15:.3f}]
set ylabel 'req/s relative to {base_server}'
set grid ytics
set key outside right top
set arrow from -0.6,1 to {len(scenarios) - 0.4},1 nohead dt 2 lc rgb '#555555'
plot {', '.join(plots)}
"""
    result = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if result.returncode != 0:
        log(f"warning: gnuplot failed: {result.stderr.strip()}")
        return False
    return True


def out_dir_ready(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    return out_dir


def write_report(out_dir, meta, scenarios, servers, summary, memory, crashes, notes, workdir):
    md = render_markdown(meta, scenarios, servers, summary, memory, crashes, notes)
    with open(os.path.join(out_dir_ready(out_dir), "latest.md"), "w") as f:
        f.write(md)
    base = "nginx" if "nginx" in servers else servers[0]
    plotted = plot(os.path.join(out_dir, "latest.png"), scenarios, servers, summary, base, workdir,
                   meta["cores"])
    print()
    print(md)
    log(f"bench: wrote {out_dir}/latest.md, latest.json" + (", latest.png" if plotted else ""))


def report_only(out_dir):
    """Rewrites latest.md and latest.png from latest.json (after a change to the report)."""
    with open(os.path.join(out_dir, "latest.json")) as f:
        data = json.load(f)
    runs = {}
    for r in data["runs"]:
        runs.setdefault((r["scenario"], r["server"]), []).append(r)
    servers = data.get("servers") or list(dict.fromkeys(r["server"] for r in data["runs"]))
    names = data.get("scenarios") or list(dict.fromkeys(r["scenario"] for r in data["runs"]))
    scenarios = [sc for sc in SCENARIOS if sc[0] in names]
    summary = summarize(runs, scenarios, servers)
    with tempfile.TemporaryDirectory(prefix="cork-bench-") as work:
        write_report(out_dir, data["meta"], scenarios, servers, summary, data["memory_kib"],
                     data.get("crashes", []), data.get("notes", []), work)
    return 0


def machine_meta(servers, server_objs, cork_build):
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) / 2**20
    os_name = "Linux"
    try:
        with open("/etc/os-release") as f:
            m = re.search(r'^PRETTY_NAME="?([^"\n]*)', f.read(), re.M)
            os_name = m.group(1) if m else os_name
    except OSError:
        pass
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu, "cores": os.cpu_count(), "mem_gib": mem, "kernel": platform.release(),
        "os": os_name,
        "versions": {s: server_objs[s].version for s in servers},
        "wrk": version_of(["wrk", "-v"], r"wrk (\S+)"),
        "cork_build": cork_build,
        "git": git_state(),
    }


def git_state():
    """HEAD and whether the sources cork is built from had uncommitted changes."""
    try:
        head = subprocess.run(["git", "-C", REPO, "log", "-1", "--format=%h %s"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--", "server", "http",
                                "pool", "CMakeLists.txt"],
                               capture_output=True, text=True, timeout=10).stdout.split("\n")
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    dirty = [line[3:] for line in dirty if line.strip()]
    state = f"commit {head[:80]}"
    if dirty:
        state += (f"; the work tree had uncommitted changes in {len(dirty)} source file(s) "
                  f"({', '.join(dirty[:6])}{', …' if len(dirty) > 6 else ''})")
    return state


# ---------------------------------------------------------------- --syscalls

def parse_strace_c(text):
    calls = {}
    for line in text.splitlines():
        parts = line.split()
        # % time  seconds  usecs/call  calls  [errors]  syscall
        if len(parts) >= 5 and re.match(r"^[\d.]+$", parts[0]) and parts[-1] != "total":
            try:
                calls[parts[-1]] = int(parts[3])
            except ValueError:
                pass
    return calls


def syscalls_mode(servers, runner, seconds, out_dir, scenario):
    conns, desc = scenario.conns, scenario.desc
    results = {}
    for s in servers:
        log(f"syscalls: {s}: warm-up")
        runner.wrk(s_objs[s], scenario, 1)
        pids = s_objs[s].pids()
        tids = []
        for pid in pids:
            tids.extend(int(t) for t in os.listdir(f"/proc/{pid}/task"))
        out = os.path.join(WORK, f"strace-{s}.txt")
        argv = ["strace", "-c", "-f", "-o", out]
        for t in tids:
            argv += ["-p", str(t)]
        strace = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  start_new_session=True)
        CHILDREN.append(strace)
        time.sleep(1.0)  # let strace attach to every thread
        log(f"syscalls: {s}: wrk -t2 -c{conns} -d{seconds}s under strace ({len(tids)} threads)")
        r = runner.wrk(s_objs[s], scenario, seconds)
        strace.send_signal(signal.SIGINT)
        try:
            strace.wait(timeout=30)
        except subprocess.TimeoutExpired:
            strace.kill()
            strace.wait()
        with open(out) as f:
            text = f.read()
        calls = parse_strace_c(text)
        if "error" in r or not r["requests"]:
            die(f"syscalls: {s}: wrk failed: {r.get('error')}")
        results[s] = (r["requests"], r["rps"], calls, text)
    lines = [f"# Syscalls per request (strace -c -f, {desc}, wrk -t2 -c{conns}, "
             f"{seconds} s under strace)\n"]
    allnames = sorted({n for _, _, c, _ in results.values() for n in c},
                      key=lambda n: -max(results[s][2].get(n, 0) / results[s][0] for s in results))
    lines.append("| syscall | " + " | ".join(servers) + " |")
    lines.append("|---|" + "---:|" * len(servers))
    lines.append("| **total per request** | " + " | ".join(
        f"**{sum(results[s][2].values()) / results[s][0]:.2f}**" for s in servers) + " |")
    for n in allnames:
        row = [results[s][2].get(n, 0) / results[s][0] for s in servers]
        if max(row) < 0.005:
            continue
        lines.append(f"| {n} | " + " | ".join(f"{v:.3f}" for v in row) + " |")
    lines.append("")
    lines.append("Requests served under strace: " + ", ".join(
        f"{s} {results[s][0]:,} ({results[s][1]:,.0f} req/s, slowed down by ptrace)"
        for s in servers) + ".\n")
    text = "\n".join(lines)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "syscalls.md"), "w") as f:
        f.write(text)
    print(text)


# ---------------------------------------------------------------- main

NOFILE = 1024   # the descriptor limit the servers inherit (set in main)
RUN_OVERHEAD_S = 0.2  # per wrk run beyond its duration (start, connections, /proc): the estimate
CHILDREN = []   # strace processes started by --syscalls
WORK = None
s_objs = {}


def main():
    global WORK
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cork", help="cork binary (default build/cork, built if missing)")
    ap.add_argument("--baseline", metavar="BINARY",
                    help=f"an earlier cork build, run as the peer '{BASELINE}' in the same rounds")
    ap.add_argument("--syscalls", action="store_true",
                    help="count syscalls per request under strace instead of benchmarking")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite latest.md and latest.png from latest.json, run nothing")
    args = ap.parse_args()
    if args.report_only:
        return report_only(os.path.abspath(os.environ.get("BENCH_OUT", os.path.join(HERE, "results"))))

    servers = env_list("BENCH_SERVERS", ["cork", "nginx"] if args.syscalls else SERVERS, SERVERS)
    baseline_path = None
    if args.baseline:
        if not os.access(args.baseline, os.X_OK):
            die(f"no cork binary at {args.baseline}")
        servers.append(BASELINE)
    names = [s[0] for s in SCENARIOS]
    wanted = env_list("BENCH_SCENARIOS", names, names)
    scenarios = [s for s in SCENARIOS if s[0] in wanted]
    seconds = env_num("BENCH_SECONDS", 5, int) or 1
    rounds = env_num("BENCH_ROUNDS", 5, int) or 1
    warmup = env_num("BENCH_WARMUP", 1, int)
    port0 = env_num("BENCH_PORT", 18180, int)
    out_dir = os.path.abspath(os.environ.get("BENCH_OUT", os.path.join(HERE, "results")))
    cache = os.path.abspath(os.environ.get("BENCH_CACHE", "/var/tmp/cork-bench"))

    ensure_packages(servers, args.syscalls)
    cork_path, cork_build = (ensure_cork(args.cork or os.environ.get("CORK")) if "cork" in servers
                             else (None, "-"))

    # Enough descriptors for wrk's and the servers' 1000+ connections (inherited by children).
    global NOFILE
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (65536, max(hard, 65536)))
    except (ValueError, OSError):  # no CAP_SYS_RESOURCE (a container): up to the hard limit
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    NOFILE = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if NOFILE < 2200:
        die(f"the 1000-connection scenario needs more than {NOFILE} file descriptors (ulimit -n)")

    cache_entries = cork_cache_entries()
    many_count = many_files_count(cache_entries)
    root = ensure_root(cache, many_count)
    digests = file_digests()
    WORK = tempfile.mkdtemp(prefix="cork-bench-")
    os.chmod(WORK, 0o755)  # nginx's workers run as an unprivileged user and must read it
    log(f"bench: work folder {WORK}")
    if cork_path:
        # A private copy: another build may replace build/cork while the benchmark runs.
        os.makedirs(os.path.join(WORK, "bin"))
        shutil.copy2(cork_path, os.path.join(WORK, "bin", "cork"))
        cork_path = os.path.join(WORK, "bin", "cork")
    if args.baseline:
        baseline_path = os.path.join(WORK, "bin", "cork-base")
        os.makedirs(os.path.dirname(baseline_path), exist_ok=True)
        shutil.copy2(args.baseline, baseline_path)

    for i, s in enumerate(servers):
        port = port0 + (SERVERS + [BASELINE]).index(s)
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                die(f"port {port} for {s} is in use (set BENCH_PORT)")
        s_objs[s] = configure(s, port, WORK, root, cork_path, cache_entries, baseline_path)
    for s in servers:
        s_objs[s].start()
    answers = {}
    for s in servers:
        wait_ready(s_objs[s])
        answers[s] = verify(s_objs[s], digests, many_count)
        log(f"bench: {s} {s_objs[s].version} on 127.0.0.1:{s_objs[s].port}: 200 with the right "
            f"Content-Length and body for every file and {VERIFY_MANY} of {MANY_DIR}/, 404 "
            f"({answers[s]['404']['body']} B body), a listing of {LIST_ENTRIES} entries "
            f"({answers[s]['listing']['body']:,} B)")

    lua_paths = {}
    for sc in SCENARIOS:
        lua_paths[sc.name] = os.path.join(WORK, f"{sc.name}.lua")
        with open(lua_paths[sc.name], "w") as f:
            f.write(WRK_LUA_DONE)
            if sc.kind == "404":
                f.write(WRK_LUA_404)
            if sc.kind == "many":
                f.write(WRK_LUA_MANY % {"seed": MANY_SEED, "count": many_count, "dir": MANY_DIR,
                                        "folders": MANY_FOLDERS})
            if sc.kind == "compressed":
                names = ", ".join(f'"{n}"' for n in [TEXT_JS] + TEXT_SITE)
                f.write(WRK_LUA_TEXT % {"names": names, "dir": TEXT_DIR})
    runner = Runner(lua_paths, timeout_s=10)

    if args.syscalls:
        syscalls_mode(servers, runner, env_num("BENCH_SYSCALL_SECONDS", 5, int) or 1, out_dir,
                      scenarios[0] if scenarios else SCENARIOS[0])
        return 0

    memory = {}
    for s in servers:
        pids = s_objs[s].pids()
        rss, _ = rss_kib(pids)
        memory[s] = {"processes": len(pids), "idle_rss": rss}

    runs, crashes, notes, loads = {}, [], [], []
    total = sum(len(servers) * rounds for _ in scenarios)
    est = sum(((sc.factor * seconds + RUN_OVERHEAD_S) * rounds + warmup + RUN_OVERHEAD_S)
              * len(servers) for sc in scenarios)
    log(f"bench: {len(scenarios)} scenarios x {len(servers)} servers x {rounds} rounds, "
        f"{seconds} s each (~{est / 60:.1f} min)")
    done = 0
    started = time.time()
    for sc in scenarios:
        name, factor, desc = sc.name, sc.factor, sc.desc
        log(f"\n== {desc} ({name})")
        for s in servers:
            if warmup and s_objs[s].alive():
                runner.wrk(s_objs[s], sc, warmup)
        for rnd in range(1, rounds + 1):
            for s in servers:
                srv = s_objs[s]
                done += 1
                if not srv.alive():
                    if srv.crashed is None:
                        srv.crashed = f"{s} died (exit status {srv.proc.returncode})"
                    continue
                loads.append(loadavg())
                sample = None
                if name == MEMORY_SCENARIO:
                    mem = memory[s]

                    def sample(srv=srv, mem=mem):
                        rss, _ = rss_kib(srv.pids())
                        mem["peak_rss"] = max(mem.get("peak_rss", 0), rss)
                peers = [s_objs[p] for p in servers if p != s]
                r = runner.wrk(srv, sc, seconds * factor, sample, peers)
                if name == MEMORY_SCENARIO and srv.alive():
                    pids = srv.pids()
                    rss, pss = rss_kib(pids)
                    memory[s]["after_rss"] = max(memory[s].get("after_rss", 0), rss)
                    memory[s]["after_pss"] = max(memory[s].get("after_pss", 0), pss)
                    memory[s]["processes"] = len(pids)
                    memory[s]["breakdown"] = rss_breakdown(pids)
                r["round"] = rnd
                runs.setdefault((name, s), []).append(r)
                elapsed = time.time() - started
                eta = elapsed / done * (total - done)
                if "error" in r:
                    line = f"wrk FAILED: {r['error']}"
                    notes.append(f"{desc}, {s}, round {rnd}: {r['error']}")
                else:
                    line = (f"{r['rps']:>11,.0f} req/s {fmt_rate(r['mbps']):>12}  p99 "
                            f"{fmt_lat(r['p99_us']):>9}  errors {r['socket_errors']}  "
                            f"wrong status {r['bad_status']}  other load {r['other_cores']:.2f}"
                            + (f" (idle peers {r['peers_cores']:.2f})"
                               if r["peers_cores"] >= 0.05 else ""))
                log(f"[{done:>3}/{total}] round {rnd} {s:<11} {line}   (ETA {eta / 60:.1f} min)")
                if not srv.alive():
                    srv.crashed = (f"{s} DIED during {desc} round {rnd} (exit status "
                                   f"{srv.proc.returncode}); last log lines: "
                                   f"{srv.log_tail(10).strip()!r}")
                    log(f"!!! {srv.crashed}")

    for s in servers:
        if s_objs[s].crashed:
            crashes.append(s_objs[s].crashed)
    summary = summarize(runs, scenarios, servers)
    # What cork (level = warn) wrote on its log during the runs.
    if "cork" in servers:
        tail = s_objs["cork"].log_tail(5).strip()
        if tail:
            with open(s_objs["cork"].logfile, errors="replace") as f:
                count = sum(1 for _ in f)
            notes.append(f"cork logged {count} line(s) at level warn or above; the last: "
                         f"`{tail.splitlines()[-1][:300]}`")

    meta = machine_meta(servers, s_objs, cork_build)
    others = [r["other_cores"] for v in runs.values() for r in v if "other_cores" in r]
    meta.update(other_median=statistics.median(others) if others else 0,
                other_max=max(others) if others else 0)
    meta.update(seconds=seconds, rounds=rounds, warmup=warmup,
                load_min=min(loads) if loads else 0, load_max=max(loads) if loads else 0,
                load_median=statistics.median(loads) if loads else 0)
    busiest = sorted(runner.others.items(), key=lambda kv: -kv[1])[:8]
    meta.update(measured_s=runner.measured_s,
                other_processes=[(comm, used / runner.measured_s) for comm, used in busiest
                                 if runner.measured_s and used / runner.measured_s >= 0.005])
    configs = {}
    for s in servers:
        with open(s_objs[s].config) as f:
            configs[s] = f.read().replace(root, "$ROOT").replace(WORK, "$WORK")
    meta.update(configs=configs, peer_notes={s: PEER_NOTES.get(s, "") for s in servers},
                answers=answers, many_files=many_count, cache_entries=cache_entries)
    with open(os.path.join(out_dir_ready(out_dir), "latest.json"), "w") as f:
        json.dump({"meta": meta, "servers": servers, "scenarios": [sc[0] for sc in scenarios],
                   "memory_kib": memory, "crashes": crashes, "notes": notes,
                   "runs": [dict(r, scenario=k[0], server=k[1]) for k, v in runs.items() for r in v]},
                  f, indent=1)
    write_report(out_dir, meta, scenarios, servers, summary, memory, crashes, notes, WORK)
    return 1 if crashes else 0


def cleanup():
    for p in CHILDREN:
        if p.poll() is None:
            p.kill()
            p.wait()
    for s in s_objs.values():
        try:
            s.stop()
        except Exception as e:  # keep stopping the others
            log(f"bench: stopping {s.name}: {e!r}")
    if WORK and os.environ.get("BENCH_KEEP") != "1":
        shutil.rmtree(WORK, ignore_errors=True)


def on_signal(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        status = main()
    except KeyboardInterrupt:
        log("\nbench: interrupted; stopping the servers")
        status = 130
    finally:
        cleanup()
    sys.exit(status)
