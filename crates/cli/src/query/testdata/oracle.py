"""The reference for cpjobs' JMESPath: runs each case through Python's jmespath.

stdin:  {"docs": {name: [ordered, json_text]}, "cases": [[doc_name, expression], ...]}
stdout: one result per case, in order:
        {"compile": str(e)} | {"ok": tagged value as compact JSON text} | {"err": str(e)}
        (the value travels as text because deep results would nest past what
        the reader accepts)
Values are tagged so that int/float, dict/OrderedDict and key order survive:
["null"] ["bool", b] ["int", "123"] ["float", repr] ["str", s] ["bytes", hex]
["list", [...]] ["dict", [[k, v], ...]] ["odict", [[k, v], ...]] ["expref"]
"""
import json
import re
import sys
from collections import OrderedDict

import jmespath
from jmespath import visitor

ADDRESS = re.compile(r"object at 0x[0-9a-fA-F]+")


def norm(s):
    # An _Expression's repr holds its memory address; the Rust side prints a fixed one.
    return ADDRESS.sub("object at 0x7f0000000000", s)


def tag(v):
    if v is None:
        return ["null"]
    if isinstance(v, bool):
        return ["bool", v]
    if isinstance(v, int):
        return ["int", str(v)]
    if isinstance(v, float):
        return ["float", repr(v)]
    if isinstance(v, str):
        return ["str", norm(v)]
    if isinstance(v, bytes):
        return ["bytes", v.hex()]
    if isinstance(v, list):
        return ["list", [tag(x) for x in v]]
    if isinstance(v, OrderedDict):
        return ["odict", [[k, tag(x)] for k, x in v.items()]]
    if isinstance(v, dict):
        return ["dict", [[k, tag(x)] for k, x in v.items()]]
    if isinstance(v, visitor._Expression):
        return ["expref"]
    return ["unknown", repr(v)]


# AWS CLI calls jmespath.compile 12 frames deeper than module level (measured:
# aws-cli 1.45.11 accepts 490 nested parentheses, not 491); main() is one frame,
# at_depth(9, f) adds ten, the lambda one more. Compiling there makes Python's
# RecursionError strike at the nesting depth where AWS CLI's does.
COMPILE_EXTRA_FRAMES = 9
# Likewise AWS CLI searches 20 frames below module level (486 nested `!` evaluate, 487 do not).
SEARCH_EXTRA_FRAMES = 17


def tagged_text(result):
    # Deep results are fine for jmespath; only this script's own recursion needs room.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(100000)
    try:
        return json.dumps(tag(result), separators=(",", ":"), ensure_ascii=False)
    finally:
        sys.setrecursionlimit(limit)


def at_depth(k, f):
    if k == 0:
        return f()
    return at_depth(k - 1, f)


def main():
    req = json.load(sys.stdin)
    docs = {}
    for name, (ordered, text) in req["docs"].items():
        hook = OrderedDict if ordered else None
        docs[name] = json.loads(text, object_pairs_hook=hook)
    out = []
    for doc, expr in req["cases"]:
        try:
            jmespath.parser.Parser.purge()
            compiled = at_depth(COMPILE_EXTRA_FRAMES, lambda: jmespath.compile(expr))
        except RecursionError:
            out.append({"compile": "maximum recursion depth exceeded"})
            continue
        except Exception as e:
            out.append({"compile": norm(str(e))})
            continue
        try:
            result = at_depth(SEARCH_EXTRA_FRAMES, lambda: compiled.search(docs[doc]))
            out.append({"ok": tagged_text(result)})
        except RecursionError:
            # Its wording depends on which C call hit the limit, which differs between
            # AWS CLI and this script; the depth at which it strikes is what is tested.
            out.append({"err": "maximum recursion depth exceeded"})
        except Exception as e:
            out.append({"err": norm(str(e))})
    json.dump(out, sys.stdout)


main()
