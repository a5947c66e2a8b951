#!/usr/bin/env python3
"""Write WebAssembly modules whose names carry C payloads.

    hostile_names.py OUTDIR MARKER

Each payload, if it ever became C in an artifact, would define a constructor
that creates the file MARKER when the artifact is loaded.  Every module is
otherwise valid: a memory, an exported _start, and the hostile name in one
place: an import module, an import field, an export, or the name section
(module, function and local names).  Writes one OUTDIR/<place>-<payload>.wasm
per combination and prints their names.
"""
import os
import sys


def leb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def vec(items):
    return leb(len(items)) + b"".join(items)


def name(b):
    return leb(len(b)) + b


def section(sid, body):
    return bytes([sid]) + leb(len(body)) + body


def module(imp_mod=None, imp_field=None, export=None, names=None):
    types = section(1, vec([b"\x60\x00\x00"]))  # () -> ()
    imports = b""
    nimp = 0
    if imp_mod is not None:
        imports = section(2, vec([name(imp_mod) + name(imp_field) + b"\x00" + leb(0)]))
        nimp = 1
    funcs = section(3, vec([leb(0), leb(0)]))  # _start and one more
    memory = section(5, vec([b"\x00\x01"]))
    exps = [name(b"memory") + b"\x02" + leb(0), name(b"_start") + b"\x00" + leb(nimp)]
    if export is not None:
        exps.append(name(export) + b"\x00" + leb(nimp + 1))
    exports = section(7, vec(exps))
    body = vec([]) + b"\x0b"  # no locals, end
    code = section(10, vec([leb(len(body)) + body, leb(len(body)) + body]))
    custom = b""
    if names is not None:
        sub0 = name(names)  # module name
        sub1 = vec([leb(nimp) + name(names)])  # function names
        sub2 = vec([leb(nimp) + vec([leb(0) + name(names)])])  # local names
        payload = (bytes([0]) + leb(len(sub0)) + sub0 + bytes([1]) + leb(len(sub1)) + sub1 +
                   bytes([2]) + leb(len(sub2)) + sub2)
        custom = section(0, name(b"name") + payload)
    return b"\0asm\x01\0\0\0" + types + imports + funcs + memory + exports + code + custom


def payloads(marker):
    code = ('__attribute__((constructor)) static void pwn(void) { '
            'extern int system(const char *); system("touch %s"); }' % marker).encode()
    return {
        "comment-close": b"x */ " + code + b" /* y",
        "line-comment": b"x\n" + code + b"\n// y",
        "backslash-newline": b"x \\\n" + code + b"\n",
        "quotes": b'x"); ' + code + b' static const char *q = ("',
        "trigraph": b"x ??/\n" + code + b"\n",
        "directive": b"x\n#include \"/etc/passwd\"\n" + code + b"\n",
        "long": b"A" * 100000 + b" */ " + code + b" /*",
        "non-ascii": "\u00e9\u2028\u202e */ ".encode() + code + b" /* \xf0\x9f\x92\xa3",
    }


def main():
    out, marker = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for pname, p in payloads(marker).items():
        mods = {
            "import-module": module(imp_mod=p, imp_field=b"f"),
            "import-field": module(imp_mod=b"env", imp_field=p),
            "export": module(export=p),
            "name-section": module(names=p),
        }
        for place, data in mods.items():
            fn = "%s-%s.wasm" % (place, pname)
            with open(os.path.join(out, fn), "wb") as f:
                f.write(data)
            print(fn)


if __name__ == "__main__":
    main()
