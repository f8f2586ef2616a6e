#!/usr/bin/env python3
"""One `poll-for-third-party-jobs` call: cpjobs against AWS CLI v1, same mock, same machine.

    cargo build --release && python3 bench/cli_startup.py [--runs 30] [--cpjobs target/release/cpjobs] [--aws aws]

Starts the conformance mock server (tests/conformance/server.py) on a free loopback
port, then runs each CLI alternately (after one warm-up each), measuring wall time
with a monotonic clock and peak memory (max RSS) from the kernel's rusage of each
finished child. Prints medians and the ratios. Only 127.0.0.1 is contacted.
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
CORPUS = os.path.join(ROOT, "tests", "conformance")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_once(argv, env):
    start = time.perf_counter()
    p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    err = p.stderr.read()
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{argv[0]} failed: {err.decode(errors='replace')}")
    return wall, usage.ru_maxrss / 1024.0  # KiB -> MiB


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--cpjobs", default=os.path.join(ROOT, "target", "release", "cpjobs"))
    ap.add_argument("--aws", default="aws")
    a = ap.parse_args()
    aws = shutil.which(a.aws) or a.aws
    if "/shims/" in aws and shutil.which("pyenv"):
        aws = subprocess.run(["pyenv", "which", "aws"], capture_output=True, text=True).stdout.strip()
    port = free_port()
    srv = subprocess.Popen([sys.executable, os.path.join(CORPUS, "server.py"), str(port), os.path.join(CORPUS, "responses")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/__control/set?name=poll_jobs_0", timeout=2).read()
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
