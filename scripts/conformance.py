#!/usr/bin/env python3
"""Replay the AWS CLI v1 conformance corpora against a cpjobs binary.

    python3 scripts/conformance.py path/to/cpjobs

Corpora: ../shared/conformance (poll-for-third-party-jobs, when present beside the
checkout) and tests/conformance (every other operation: the job-worker siblings, `C*` rules
and the `P_<operation>_*` cases). The binary is run through
a link named `aws`, as AWS CLI names itself after argv[0]. Both corpora run at once on
different ports (their slow cases sit in retry back-off, not on the CPU).

A case passes when exit code, stdout, request count and requests are identical and
stderr is identical too. A case listed in tests/conformance/differences.tsv (a Python
artefact AWS CLI prints, which cpjobs replaces with a message of its own, or cpjobs's own
version line) may differ in the streams listed there, and each such stream must then
equal our recorded text in tests/conformance/differences/<corpus>/<id>.<stream>.
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPORA = [
    ("shared", os.path.join(os.path.dirname(ROOT), "shared", "conformance"), 18765),
    ("siblings", os.path.join(ROOT, "tests", "conformance"), 18767),
]


def load_differences():
    allowed = {}
    path = os.path.join(ROOT, "tests", "conformance", "differences.tsv")
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        corpus, cid, streams, _reason = line.rstrip("\n").split("\t")
        allowed[(corpus, cid)] = streams.split(",")
    return allowed


def recorded(corpus, cid, stream):
    """Our own expected bytes for a deliberate difference."""
    return open(os.path.join(ROOT, "tests", "conformance", "differences", corpus, f"{cid}.{stream}"), "rb").read()


def main():
    binary = os.path.abspath(sys.argv[1])
    only = os.environ.get("CASES")
    allowed = load_differences()
    tmp = tempfile.mkdtemp(prefix="cpjobs-conformance.")
    link = os.path.join(tmp, "aws")
    os.symlink(binary, link)
    runs = []
    for name, path, port in CORPORA:
        if not os.path.isdir(path):
            print(f"conformance: corpus {name} not found at {path}", file=sys.stderr)
            if name == "shared":
                sys.exit(1)
            continue
        env = dict(os.environ, KEEP="1", IGNORE_UA="1", PORT=str(port))
        if only:
            env["CASES"] = only
        p = subprocess.Popen(["bash", os.path.join(path, "run_cases.sh"), link], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        runs.append((name, path, p))
    passed = failed = 0
    for name, path, p in runs:
        out, _ = p.communicate()
        m = re.search(r"outputs: (\S+)", out)
        outdir = m.group(1) if m else None
        total = re.search(r"^ran (\d+) cases", out, re.M)
        total = int(total.group(1)) if total else 0
        diffs = re.findall(r"^DIFF (\S+): (.*)$", out, re.M)
        bad = 0
        for cid, problems in diffs:
            key = (name, cid)
            streams = problems.split(", ")
            if key in allowed and outdir and all(s in allowed[key] for s in streams):
                wrong = [s for s in streams if recorded(name, cid, s) != open(os.path.join(outdir, f"{cid}.{s}"), "rb").read()]
                if not wrong:
                    continue
                print(f"{name} {cid}: {', '.join(wrong)} differs from our recorded deliberate difference")
            else:
                print(f"{name} {cid}: {problems}")
            bad += 1
        if total == 0:
            print(f"{name}: no case ran\n{out}")
            bad += 1
        elif not re.search(r"^\d+/\d+ cases match", out, re.M):
            # the comparison did not finish (a crash, a corrupt expected file): nothing passed
            print(f"{name}: the comparison did not finish (exit {p.returncode})\n{out[-2000:]}")
            bad = total
        passed += total - bad
        failed += bad
        if outdir and os.environ.get("KEEP") != "1":
            subprocess.run(["rm", "-rf", outdir])
    os.unlink(link)
    os.rmdir(tmp)
    print(f"conformance: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
