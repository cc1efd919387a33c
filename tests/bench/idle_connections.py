#!/usr/bin/env python3
"""Holds N idle keep-alive connections to cork (and, for comparison, nginx) and reports the
server's resident memory before and after, per connection, and whether a new request is still
answered while they are held. Loopback only; bounded in count and time.

usage: tests/bench/idle_connections.py [--connections 10000] [--cork build/cork] [--no-nginx]
"""
import argparse
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# The benchmark's own helpers (compare.py runs nothing when imported): RSS/PSS of a set of
# processes, and a process with all its descendants.
from compare import process_tree, rss_kib  # noqa: E402


def wait_port(port, deadline=10.0):
    end = time.time() + deadline
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def get(port, keep=False):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /1k.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    ok = head.startswith(b"HTTP/1.1 200") and len(body) == length
    if keep:
        return ok, s
    s.close()
    return ok, None


def measure(name, port, pids_of, n):
    time.sleep(0.5)
    before, _ = rss_kib(pids_of())
    held = []
    failures = 0
    started = time.time()
    for i in range(n):
        try:
            ok, s = get(port, keep=True)
            if ok:
                held.append(s)
            else:
                failures += 1
                s.close()
        except OSError:
            failures += 1
        if time.time() - started > 120:
            print(f"  {name}: stopped after 120 s at {i} connections", file=sys.stderr)
            break
    time.sleep(1.0)
    after, _ = rss_kib(pids_of())
    t0 = time.time()
    ok, _ = get(port)
    latency_ms = (time.time() - t0) * 1000
    still_open = 0
    for s in held:
        try:
            s.setblocking(False)
            try:
                if s.recv(1) == b"":
                    continue  # closed by the server
            except BlockingIOError:
                pass
            still_open += 1
        except OSError:
            pass
    for s in held:
        s.close()
    per_conn = (after - before) * 1024 / max(len(held), 1)
    return {
        "server": name, "held": len(held), "failures": failures, "still_open": still_open,
        "rss_before_kib": before, "rss_after_kib": after, "bytes_per_connection": per_conn,
        "new_request_ok": ok, "new_request_ms": latency_ms,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--cork", default=os.path.join(REPO, "build", "cork"))
    ap.add_argument("--no-nginx", action="store_true")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, args.connections + 1000)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    n = min(args.connections, want - 500)

    work = tempfile.mkdtemp(prefix="cork-idle-")
    os.chmod(work, 0o755)
    root = os.path.join(work, "root")
    os.makedirs(root)
    with open(os.path.join(root, "1k.bin"), "wb") as f:
        f.write(bytes(i % 251 for i in range(1024)))
    procs = []
    results = []
    try:
        conf = os.path.join(work, "cork.ini")
        with open(conf, "w") as f:
            f.write(f"[server]\nhost = 127.0.0.1\nport = 18290\nroot = {root}\nthreads = 2\n"
                    f"max_connections = {n + 100}\n[http]\nkeepalive_timeout = 300\n"
                    "[log]\naccess_log = off\nlevel = warn\n")
        cork = subprocess.Popen([args.cork, "-c", conf])
        procs.append(cork)
        if not wait_port(18290):
            sys.exit("cork did not start")
        results.append(measure("cork", 18290, lambda: [cork.pid], n))
        cork.send_signal(signal.SIGTERM)
        cork.wait(timeout=20)

        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not args.no_nginx and os.path.exists(nginx):
            nd = os.path.join(work, "nginx")
            os.makedirs(nd)
            with open(os.path.join(nd, "nginx.conf"), "w") as f:
                f.write(f"""worker_processes 2;
worker_rlimit_nofile {n + 1000};
daemon off;
pid {nd}/nginx.pid;
error_log {nd}/error.log warn;
events {{ worker_connections {n + 500}; }}
http {{
  access_log off; sendfile on; tcp_nopush on; keepalive_timeout 300s;
  keepalive_requests 1000000;
  client_body_temp_path {nd};
  server {{ listen 127.0.0.1:18291 backlog=4096; root {root}; }}
}}
""")
            ng = subprocess.Popen([nginx, "-c", os.path.join(nd, "nginx.conf"), "-p", nd,
                                   "-e", os.path.join(nd, "error.log")])
            procs.append(ng)
            if wait_port(18291):
                results.append(measure("nginx", 18291, lambda: process_tree(ng.pid), n))
            ng.send_signal(signal.SIGQUIT)
            ng.wait(timeout=20)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)

    print(f"| server | idle keep-alive connections held | still open | RSS before | RSS after "
          f"| per connection | new request while held |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in results:
        print(f"| {r['server']} | {r['held']} | {r['still_open']} | {r['rss_before_kib'] / 1024:.1f} MiB "
              f"| {r['rss_after_kib'] / 1024:.1f} MiB | {r['bytes_per_connection']:.0f} B "
              f"| {'200' if r['new_request_ok'] else 'FAILED'} in {r['new_request_ms']:.1f} ms |")
    return 0 if all(r["new_request_ok"] and r["held"] == n for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
