"""The reference for cpjobs' JMESPath: runs each case through Python's jmespath.

stdin:  {"docs": {name: [ordered, json_text]}, "cases": [[doc_name, expression], ...]}
stdout: one result per case, in order:
        {"compile": str(e)} | {"ok": tagged value} | {"err": str(e)}
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


def main():
    req = json.load(sys.stdin)
    docs = {}
    for name, (ordered, text) in req["docs"].items():
        hook = OrderedDict if ordered else None
        docs[name] = json.loads(text, object_pairs_hook=hook)
    out = []
    for doc, expr in req["cases"]:
        try:
            compiled = jmespath.compile(expr)
        except Exception as e:
            out.append({"compile": norm(str(e))})
            continue
        try:
            out.append({"ok": tag(compiled.search(docs[doc]))})
        except Exception as e:
            out.append({"err": norm(str(e))})
    json.dump(out, sys.stdout)


main()
