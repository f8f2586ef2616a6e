#!/usr/bin/env python3
"""One `poll-for-third-party-jobs` call: cpjobs against AWS CLI v1, same mock, same machine.

    cargo build --release && python3 bench/cli_startup.py [--runs 30] [--cpjobs target/release/cpjobs] [--aws aws]

Starts a minimal canned-response HTTP server (this script with --serve: one thread, no
per-request logging or signature checks, so the mock's own latency stays far below
either CLI's; the full conformance mock spends several milliseconds per request) on a
free loopback port, then runs each CLI alternately (after one warm-up each), measuring wall time
with a monotonic clock and peak memory (max RSS) with GNU time (`apt-get install time`):
a child forked from Python would count Python's own pages in its max RSS, since the
kernel keeps the pre-exec peak. Prints medians and the ratios. Only 127.0.0.1 is contacted.
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


CANNED = b'{"jobs": []}'


def serve(port):
    """Answer every request on 127.0.0.1:port with CANNED, as fast as Python can."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(64)
    reply = (b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n"
             b"x-amzn-RequestId: 00000000-0000-4000-8000-000000000000\r\n"
             b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(CANNED), CANNED))
    while True:
        conn, _ = srv.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                body += chunk
            conn.sendall(reply)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


GNU_TIME = "/usr/bin/time"


def run_once(argv, env):
    """(wall seconds, peak RSS MiB) of one call: the wall time of a direct run, and the
    peak memory of a second run under GNU time (whose own fork and exec stay out of the
    wall time)."""
    start = time.perf_counter()
    p = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"{argv[0]} failed: {p.stderr.decode(errors='replace')}")
    p = subprocess.run([GNU_TIME, "-f", "%M"] + argv, env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return wall, int(p.stderr.decode(errors="replace").strip().splitlines()[-1]) / 1024.0  # KiB -> MiB


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--cpjobs", default=os.path.join(ROOT, "target", "release", "cpjobs"))
    ap.add_argument("--aws", default="aws")
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.serve:
        serve(a.serve)
        return
    if not os.path.exists(GNU_TIME):
        sys.exit("needs GNU time: apt-get install time")
    aws = shutil.which(a.aws) or a.aws
    if "/shims/" in aws and shutil.which("pyenv"):
        aws = subprocess.run(["pyenv", "which", "aws"], capture_output=True, text=True).stdout.strip()
    port = free_port()
    srv = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/", data=b"{}"), timeout=2).read()
                break
            except OSError:
                time.sleep(0.05)
        env = {"PATH": os.environ["PATH"], "HOME": "/nonexistent", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
               "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS_DEFAULT_REGION": "us-east-1",
               "AWS_EC2_METADATA_DISABLED": "true"}
        args = ["codepipeline", "poll-for-third-party-jobs", "--endpoint-url", f"http://127.0.0.1:{port}",
                "--action-type-id", "category=Build,owner=ThirdParty,provider=AcmeCI,version=1"]
        cmds = {"cpjobs": [a.cpjobs] + args, "aws": [aws] + args}
        res = {k: [] for k in cmds}
        for k, c in cmds.items():
            run_once(c, env)  # warm-up: page cache, Python bytecode
        for _ in range(a.runs):
            for k, c in cmds.items():
                res[k].append(run_once(c, env))
    finally:
        srv.terminate()
        srv.wait()
    med = {k: (statistics.median(w for w, _ in v), statistics.median(m for _, m in v)) for k, v in res.items()}
    print(f"{a.runs} runs each, medians:")
    for k, (w, m) in med.items():
        print(f"  {k:7} wall {w * 1000:8.2f} ms   peak RSS {m:7.1f} MiB")
    print(f"  cpjobs/aws: wall {med['cpjobs'][0] / med['aws'][0]:.4f} (1/{med['aws'][0] / med['cpjobs'][0]:.0f}), "
          f"memory {med['cpjobs'][1] / med['aws'][1]:.3f} (1/{med['aws'][1] / med['cpjobs'][1]:.1f})")


if __name__ == "__main__":
    main()
