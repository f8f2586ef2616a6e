"""Differential test of the formatters on generated values.

Writes OUTDIR/fuzz.tsv (random nested dicts/lists/scalars, with shared keys,
wide characters, falsy values, and the odd shapes that make awscli's formatters
crash), records awscli's output for each with record_formatter.py, and the
ignored Rust test compares:

    python3 fuzz_formatter.py SEED COUNT /tmp/fuzz
    CPJOBS_FORMATTER_CASES=/tmp/fuzz cargo test -p cpjobs-cli generated_formatter_runs -- --ignored

A few table crashes name operand types in Python set order (hash-randomized),
so an occasional `'<' not supported between instances of ...` mismatch is noise.
"""
import json
import os
import random
import subprocess
import sys

seed, count, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
random.seed(seed)
KEYS = ["a", "b", "id", "name", "Zeta", "日本", "x_y", "é", "data", "list", "n"]
STRS = ["", "v", "value", "a longer value with spaces", "日本語", "ëñ±", "x" * 60, "tab\there", "😀", "ＡＢＣ", "0", "None",
        "line1\nline2", "end\n", "\x1b[1mbold", "é" * 45, "ｱ" * 30]


def scalar():
    r = random.random()
    if r < 0.5:
        return random.choice(STRS)
    if r < 0.65:
        return random.choice([0, 1, -5, 123456789012345678901234567890])
    if r < 0.75:
        return random.choice([0.0, 1.5, 1e16, -2.25, 3.0, 1e-7])
    if r < 0.88:
        return random.choice([True, False])
    return None


def value(depth):
    r = random.random()
    if depth >= 4 or r < 0.3:
        return scalar()
    if r < 0.7:
        return {random.choice(KEYS): value(depth + 1) for _ in range(random.randint(0, 4))}
    if random.random() < 0.6:
        keys = random.sample(KEYS, random.randint(1, 4))
        return [{k: value(depth + 2) for k in keys if random.random() < 0.8} for _ in range(random.randint(0, 3))]
    return [value(depth + 1) for _ in range(random.randint(0, 4))]


os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "fuzz.tsv"), "w", encoding="utf-8") as f:
    for i in range(count):
        v = value(0)
        if random.random() < 0.7 and not isinstance(v, dict):
            v = {"k": v}
        fmt = random.choice(["json", "text", "table", "table"])
        color = random.choice(["on", "off"])
        width = random.choice([80, 80, 40, 120, 20, 0, -3, 300])
        op = random.choice(["Op", "GetJobDetails"])
        f.write("\t".join([f"c{i}.{fmt}", fmt, color, str(width), op, json.dumps(v, ensure_ascii=False)]) + "\n")
here = os.path.dirname(os.path.abspath(__file__))
subprocess.run([sys.executable, os.path.join(here, "record_formatter.py"), os.path.join(out, "fuzz.tsv"), out], check=True)
