"""Copies the conformance corpus's output cases (O_*, and the Q_* cases whose
query result the tests spell out) into conformance/: the exact response body
the mock server sends (bodies/<case>.body), the real CLI's stdout/stderr, and
conformance.tsv (id, operation, body, output, color, exit, and for Q_* the
--query result as JSON, computed with the jmespath AWS CLI uses).

usage: python3 import_conformance.py /path/to/shared/conformance
"""
import json

import jmespath
import os
import shlex
import shutil
import sys

src = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
dst = os.path.join(here, "conformance")
os.makedirs(os.path.join(dst, "bodies"), exist_ok=True)
rows = []
for line in open(os.path.join(src, "cases.tsv"), encoding="utf-8"):
    f = line.rstrip("\n").split("\t")
    case, argv, response, rc, _out, _err, _n, env = f[:8]
    if not case.startswith(("O_", "Q_")) or rc != "0" and case != "O_jobs_not_list":
        continue
    words = shlex.split(argv)
    if "--query" in words and not case.startswith("Q_"):
        continue
    fmt = "table" if "AWS_DEFAULT_OUTPUT=table" in env else "json"
    color = "off"
    for i, w in enumerate(words):
        if w == "--output":
            fmt = words[i + 1]
        if w == "--color":
            color = "on" if words[i + 1] == "on" else "off"
    spec = json.load(open(os.path.join(src, "responses", response + ".json"), encoding="utf-8"))
    if "body_json" in spec:  # as server.py sends it
        body = json.dumps(spec["body_json"], separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    else:
        body = spec.get("body", "").encode("utf-8")
    open(os.path.join(dst, "bodies", response + ".body"), "wb").write(body)
    for ext in ("stdout", "stderr"):
        shutil.copyfile(os.path.join(src, "expected", f"{case}.{ext}"), os.path.join(dst, f"{case}.{ext}"))
    result = "-"
    if "--query" in words:
        parsed = json.loads(body)  # member order = model order for these bodies
        result = json.dumps(jmespath.search(words[words.index("--query") + 1], parsed), ensure_ascii=False)
    rows.append((case, "PollForThirdPartyJobs", response, fmt, color, rc, result))
with open(os.path.join(dst, "conformance.tsv"), "w") as f:
    f.write("# id\toperation\tresponse body (bodies/<name>.body)\toutput\tcolor\texit\tquery result  -- from shared/conformance\n")
    for r in rows:
        f.write("\t".join(r) + "\n")
print(len(rows))
