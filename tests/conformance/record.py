#!/usr/bin/env python3
"""Record the expected behaviour of the real AWS CLI v1 for every case in cases.spec.

    python3 record.py [AWS_BINARY]      # default: `aws` on PATH (awscli 1.45.11)
    CASES=REGEX python3 record.py       # re-record only the case ids REGEX matches (re.search)

For each line of cases.spec (id, argv, response, env, flags, description) it starts
server.py on 127.0.0.1:18765 with responses/, runs the CLI exactly as run_cases.sh
will (env -i, HOME=homes/empty, stdin /dev/null, cwd = this folder), and writes
expected/<id>.{stdout,stderr,req.json} plus cases.tsv, the file run_cases.sh replays.
Only loopback is ever contacted.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
from common import expand_env_words, normalize_requests  # noqa: E402

CORPUS_PORT = 18765
# The server may run on another port (PORT=...), as run_cases.sh allows: argv and environment
# are moved to it and every recorded byte is moved back, so a run beside another corpus's
# server on 18765 records the same files.
PORT = int(os.environ.get("PORT", CORPUS_PORT))


def to_run(s):
    return s.replace(f"127.0.0.1:{CORPUS_PORT}", f"127.0.0.1:{PORT}")


def to_corpus(b):
    return b.replace(f"127.0.0.1:{PORT}".encode(), f"127.0.0.1:{CORPUS_PORT}".encode())


def ctl(path):
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/__control/{path}", timeout=10) as r:
        return r.read().decode()


def main():
    os.chdir(HERE)
    aws = sys.argv[1] if len(sys.argv) > 1 else "aws"
    aws = shutil.which(aws) or aws
    if "/shims/" in aws and shutil.which("pyenv"):
        aws = subprocess.run(["pyenv", "which", os.path.basename(aws)], capture_output=True, text=True).stdout.strip()
    srv = subprocess.Popen([sys.executable, "server.py", str(PORT), "responses"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            try:
                ctl("ping")
                break
            except OSError:
                time.sleep(0.1)
        if srv.poll() is not None:
            sys.exit(f"the mock server could not listen on 127.0.0.1:{PORT} (another one is there?): set PORT")
        os.makedirs("expected", exist_ok=True)
        only = os.environ.get("CASES")
        # rows of cases not re-recorded this time are kept as they are
        kept = {}
        if only and os.path.exists("cases.tsv"):
            for row in open("cases.tsv", encoding="utf-8"):
                if not row.startswith("#") and row.strip():
                    kept[row.split("\t", 1)[0]] = row.rstrip("\n")
        rows = ["#id\targv\tresponse\texit\tstdout\tstderr\tn_requests\tenv\tflags\trequests\tdescription"]
        for line in open("cases.spec", encoding="utf-8"):
            if line.startswith("#") or not line.strip():
                continue
            cid, argv, resp, envspec, flags, desc = line.rstrip("\n").split("\t")
            if only and not re.search(only, cid) and cid in kept:
                rows.append(kept[cid])
                continue
            words = [to_run(w) for w in shlex.split(argv)]
            env = {k: to_run(v) for k, v in expand_env_words([] if envspec == "-" else shlex.split(envspec)).items()}
            env["PATH"] = os.environ["PATH"]
            ctl(f"set?name={resp}")
            p = subprocess.run([aws] + words, env=env, stdin=subprocess.DEVNULL, capture_output=True)
            log = json.loads(ctl("log"))
            open(f"expected/{cid}.stdout", "wb").write(to_corpus(p.stdout))
            open(f"expected/{cid}.stderr", "wb").write(to_corpus(p.stderr))
            json.dump(normalize_requests(log, PORT), open(f"expected/{cid}.req.json", "w", encoding="utf-8"), indent=1, ensure_ascii=False)
            rows.append("\t".join([cid, argv, resp, str(p.returncode), f"expected/{cid}.stdout", f"expected/{cid}.stderr",
                                   str(len(log)), envspec, flags, f"expected/{cid}.req.json", desc]))
            print(f"{cid}: exit {p.returncode}, {len(log)} requests", file=sys.stderr)
        open("cases.tsv", "w", encoding="utf-8").write("\n".join(rows) + "\n")
    finally:
        srv.terminate()
        srv.wait()


if __name__ == "__main__":
    main()
