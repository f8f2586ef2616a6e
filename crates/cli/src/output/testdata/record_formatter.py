"""Records AWS CLI v1's formatters (awscli/formatter.py, table.py, text.py) on
values that a --query can produce but a response cannot, and at terminal widths
other than 80. Each line of formatter.tsv is: id, format, color (on/off),
terminal width, operation name, value as JSON. Outputs go to
expected_fmt/<id>.{stdout,stderr,rc}; the formatter is called the way
awscli's clidriver calls it (the value standing for a --query result), with exceptions reported as write_exception does.

usage: python3 record_formatter.py [TSV OUTDIR]   (with awscli 1.45.11 importable)
(default: formatter.tsv and this directory; see fuzz_formatter.py for the other use)
"""
import io
import json
import os
import sys
import types

import colorama
import awscli.table
from awscli import formatter
from awscli.utils import write_exception

HERE = os.path.dirname(os.path.abspath(__file__))
TSV = sys.argv[1] if len(sys.argv) > 2 else os.path.join(HERE, "formatter.tsv")
OUT = sys.argv[2] if len(sys.argv) > 2 else HERE
os.makedirs(os.path.join(OUT, "expected_fmt"), exist_ok=True)
for line in open(TSV, encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    case_id, fmt, color, width, op, value = line.rstrip("\n").split("\t")
    value = json.loads(value)
    awscli.table.determine_terminal_width = lambda default_width=80, w=int(width): w
    out, err = io.StringIO(), io.StringIO()
    stdout, stderr = out, err
    if fmt == "table" and color == "on":
        # What colorama.init(autoreset=True, strip=False) does to sys.stdout/sys.stderr.
        stdout = colorama.AnsiToWin32(out, convert=False, strip=False, autoreset=True).stream
        stderr = colorama.AnsiToWin32(err, convert=False, strip=False, autoreset=True).stream
    # The value stands for a --query result: the formatter removes ResponseMetadata
    # from the whole response, then applies the query.
    query = types.SimpleNamespace(search=lambda response: response["value"])
    args = types.SimpleNamespace(query=query, color=color)
    rc = 0
    try:
        formatter.get_formatter(fmt, args)(op, {"value": value}, stdout)
    except Exception as e:  # clidriver's catch-all
        write_exception(e, outfile=stderr)
        rc = 255
    # ColorizedStyler calls colorama.init, which wraps sys.stdout/stderr again
    # on every call; unwrap so thousands of cases do not nest wrappers.
    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    base = os.path.join(OUT, "expected_fmt", case_id)
    open(base + ".stdout", "w", encoding="utf-8", newline="").write(out.getvalue())
    open(base + ".stderr", "w", encoding="utf-8", newline="").write(err.getvalue())
    open(base + ".rc", "w").write(f"{rc}\n")
