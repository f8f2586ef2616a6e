"""Differential test of parse_response + write_output on generated bodies.

Generates response bodies shaped after CodePipeline output shapes (with
unknown members, nulls, and containers of the wrong type), runs them through
botocore's JSONParser configured as AWS CLI configures it (identity timestamp
and blob parsers, an x-amzn-requestid header) and awscli's formatters, and
writes OUTDIR/e2e.tsv, OUTDIR/bodies/ and OUTDIR/expected/ in the layout of
e2e.tsv, for the ignored Rust test:

    python3 fuzz_parser.py SEED COUNT /tmp/pfuzz [iso8601]
    CPJOBS_RESPONSE_CASES=/tmp/pfuzz cargo test -p cpjobs-cli generated_responses -- --ignored

With `iso8601`, timestamps go through `cli_timestamp_format = iso8601`'s parser
in the zone TZ names (run the Rust test with the same TZ), and
OUTDIR/cli_timestamp_format says so to the test.
"""
import io
import json
import os
import random
import sys
import types

import botocore.session
import colorama
from botocore.parsers import JSONParser
from awscli import formatter
from awscli.utils import write_exception

seed, count, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
iso = len(sys.argv) > 4 and sys.argv[4] == "iso8601"
random.seed(seed)
model = botocore.session.get_session().get_service_model("codepipeline")
OPS = ["GetJobDetails", "PollForJobs", "GetThirdPartyJobDetails", "GetPipelineState", "GetPipeline",
       "GetPipelineExecution", "ListActionExecutions", "GetActionType", "AcknowledgeJob", "PutJobSuccessResult"]
STRS = ["", "s", "日本", "ëñ±", "😀", "a b", "x" * 50, "1.5"]


def junk(depth=0):
    r = random.random()
    if r < 0.3:
        return random.choice(STRS)
    if r < 0.45:
        return random.choice([0, 7, -1, 10**25, 1.5, 1e300, True, False])
    if r < 0.55 or depth > 2:
        return None
    if r < 0.8:
        return {random.choice(["k", "id", "name", "z"]): junk(depth + 1) for _ in range(random.randint(0, 3))}
    return [junk(depth + 1) for _ in range(random.randint(0, 3))]


def gen(shape, depth=0):
    if random.random() < 0.04:
        return junk()
    t = shape.type_name
    if t == "structure":
        v = {}
        for name, member in shape.members.items():
            if random.random() < 0.6 and depth < 7:
                v[name] = gen(member, depth + 1)
        if random.random() < 0.2:
            v["unknownMember"] = junk()
        items = list(v.items())
        random.shuffle(items)
        return dict(items)
    if t == "list":
        return [None if random.random() < 0.05 else gen(shape.member, depth + 1)
                for _ in range(random.randint(0, 3 if depth < 5 else 0))]
    if t == "map":
        return {random.choice(["K", "Alpha", "ß", "日本"]) + str(i): gen(shape.value, depth + 1)
                for i in range(random.randint(0, 3))}
    if t == "timestamp":
        return random.choice([1764438867.123, 1764438867, "2026-11-29T17:54:27Z", 0, -1.5, 1e12, 1e20, "1764438867.5",
                              "2026-11-29", "2026-11-29T17:54:27.5+05:30", "Sun, 29 Nov 2026 17:54:27 GMT", "junk",
                              True, 253402300799, 1751328000.0000005, "", [1], {"a": 1}])
    if t in ("integer", "long"):
        return random.choice([0, 1, 42, -3])
    if t == "boolean":
        return random.choice([True, False])
    return random.choice(STRS)


os.makedirs(os.path.join(out, "bodies"), exist_ok=True)
os.makedirs(os.path.join(out, "expected"), exist_ok=True)
if iso:
    from awscli.customizations.scalarparse import iso_format
    parser = JSONParser(timestamp_parser=iso_format, blob_parser=lambda x: x)
    open(os.path.join(out, "cli_timestamp_format"), "w").write("iso8601\n")
else:
    parser = JSONParser(timestamp_parser=lambda x: x, blob_parser=lambda x: x)
rows = []
for i in range(count):
    op = model.operation_model(random.choice(OPS))
    shape = op.output_shape
    v = gen(shape) if shape is not None else junk()
    body = json.dumps(v, ensure_ascii=False).encode()
    if random.random() < 0.03:
        body = body[: random.randint(0, len(body))]
    name = f"r{i}"
    open(os.path.join(out, "bodies", name + ".json"), "wb").write(body)
    for fmt, color in [("json", "off"), ("text", "off"), ("table", random.choice(["on", "off"]))]:
        case = f"{name}.{fmt}"
        o, e = io.StringIO(), io.StringIO()
        so, se = o, e
        rc = 0
        try:
            parsed = parser.parse({"status_code": 200, "headers": {"x-amzn-requestid": "r"}, "body": body}, shape)
            if fmt == "table" and color == "on":
                so = colorama.AnsiToWin32(o, convert=False, strip=False, autoreset=True).stream
                se = colorama.AnsiToWin32(e, convert=False, strip=False, autoreset=True).stream
            formatter.get_formatter(fmt, types.SimpleNamespace(query=None, color=color))(op.name, parsed, so)
        except Exception as ex:
            write_exception(ex, outfile=se)
            rc = 255
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        base = os.path.join(out, "expected", case)
        open(base + ".stdout", "w", encoding="utf-8", newline="").write(o.getvalue())
        open(base + ".stderr", "w", encoding="utf-8", newline="").write(e.getvalue())
        open(base + ".rc", "w").write(f"{rc}\n")
        rows.append((case, op.name, name, fmt, color))
with open(os.path.join(out, "e2e.tsv"), "w") as f:
    for r in rows:
        f.write("\t".join(r) + "\n")
