#!/usr/bin/env python3
"""witgen: the ELASTIC TEE HAL's IDL compiler.

Reads the WIT packages under wit/ (the single source of truth) and writes:

  ehal_bindings.h   host-side C types and the prototype of every host
                    implementation function (ehal_impl_<iface>_<func>)
  ehal_glue.c       canonical-ABI glue: lifts core arguments out of guest
                    memory, calls the implementation, lowers results back;
                    the interface catalog and the add-to-linker functions
  elastic_hal.h     (public) the add_to_linker prototypes that exist
  guest/elastic_hal_guest.h, guest/elastic_hal_guest.c
                    guest bindings for C workloads built for wasm32-wasi
  guest/elastic_hal.rs
                    guest bindings for Rust workloads (tools/witgen_rust.py)
  guest/elastic_hal.ts
                    guest bindings for AssemblyScript workloads
                    (tools/witgen_as.py)

Which functions the host implements is listed in a manifest (one line per
interface: `<iface> <func>...` or `<iface> *`).  Only those get glue and are
linked; every other function of the catalog stays unresolvable, and the
capabilities interface reports it unsupported.

Interface ids and per-instance state.  Every interface gets an id,
EHAL_IFACE_ID_<IFACE> (ehal_bindings.h): its index in the catalog, the
packages of wit/ first (sorted by name), then any test-only ones.  An
interface that keeps state per instance (handle tables, an open store) says
so with `+state` on its manifest line (`clock * +state`) and defines, in its
implementation file, the two hooks ehal_bindings.h declares for every
interface:

  void *ehal_state_create_<iface>(ehal_instance *inst);  NULL: out of memory
  void ehal_state_destroy_<iface>(ehal_instance *inst, void *state);

The glue's table ehal_iface_state_hooks[] holds them for exactly the `+state`
interfaces (the others' entries are NULL).  The runtime knows nothing of any
interface: ehal_iface_state(inst, EHAL_IFACE_ID_X) (src/interfaces/
interfaces.h) creates the state on first use and returns it; every state
created is destroyed, in reverse order of creation, when the instance is
freed, whether the guest finished or trapped.  A table filled from the
manifest, rather than weak default hooks: a hook the manifest promises and
the file lacks is a link error, never a state silently not freed, and no
static-archive link order decides which definition wins.  So adding an
interface is its WIT, its manifest line, its implementation file and its
tests; nothing in src/runtime/.

Test-only packages (--wit-test DIR).  The packages in DIR/*.wit (the tests'
tests/wit/unimplemented.wit: an interface no HAL will ever implement) join
the catalog and the worlds after wit/'s, with no public add_to_linker
function (elastic_hal_world_add_to_linker_by_name reaches their worlds).  The
build runs witgen twice: without --wit-test for the library and the
elastic-hal command that are installed, and with it for the test build
(elastic-hal-test-static, BUILD/tests/elastic-hal-test), so tests have a
permanent example of an unimplemented interface while an installed HAL never
lists one.  The ids of wit/'s interfaces are the same in both: one build of
the implementation files serves both glues.

The Canonical ABI rules used here (flattening, sizes, alignment, return
areas) follow the Component Model's CanonicalABI.md.  Only the type shapes
the HAL's WIT uses are supported; anything else is a generator error, never
silently wrong code.
"""
import argparse
import os
import re
import sys

MAX_FLAT_PARAMS = 16
MAX_FLAT_RESULTS = 1

# ----------------------------------------------------------------------------
# WIT parsing (the subset the HAL uses)
# ----------------------------------------------------------------------------

TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<doc>///[^\n]*)
  | (?P<comment>//[^\n]*)
  | (?P<arrow>->)
  | (?P<ident>%?[a-z][a-z0-9]*(?:-[a-z0-9]+)*)
  | (?P<version>@[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?)
  | (?P<punct>[{}()<>:;,=*/_.])
""", re.X)


class WitError(Exception):
    pass


def tokenize(text, path):
    pos, out, line = 0, [], 1
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m:
            raise WitError(f"{path}:{line}: unexpected character {text[pos]!r}")
        kind = m.lastgroup
        val = m.group(kind)
        if kind == "doc":
            out.append(("doc", val[3:].strip(), line))
        elif kind not in ("ws", "comment"):
            out.append((kind, val, line))
        line += val.count("\n")
        pos = m.end()
    out.append(("eof", "", line))
    return out


class Type:
    """A WIT type. kind: prim | string | list | option | result | record |
    enum | alias (named reference resolved later)."""

    def __init__(self, kind, name=None, args=(), fields=(), cases=()):
        self.kind, self.name, self.args = kind, name, list(args)
        self.fields, self.cases = list(fields), list(cases)
        self.iface = None  # owning interface for named types

    def __repr__(self):
        return f"Type({self.kind},{self.name},{self.args})"


PRIMS = {"bool", "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64",
         "f32", "f64", "char"}


class Func:
    def __init__(self, name, params, result, doc):
        self.name, self.params, self.result, self.doc = name, params, result, doc


class Interface:
    def __init__(self, pkg, name):
        self.pkg, self.name = pkg, name
        self.types = {}   # name -> Type (record/enum/alias target)
        self.order = []   # type names in declaration order
        self.funcs = []

    @property
    def qualified(self):
        return f"{self.pkg.namespace}:{self.pkg.name}/{self.name}@{self.pkg.version}"


class Package:
    def __init__(self, namespace, name, version):
        self.namespace, self.name, self.version = namespace, name, version
        self.test_only = False  # from --wit-test: in the test build only
        self.interfaces = {}
        self.worlds = {}  # name -> list of (direction, qualified iface name)


class Parser:
    def __init__(self, toks, path):
        self.toks, self.i, self.path = toks, 0, path
        self.docs = []

    def peek(self, k=0):
        return self.toks[self.i + k]

    def next(self):
        t = self.toks[self.i]
        self.i += 1
        return t

    def skip_docs(self):
        docs = []
        while self.peek()[0] == "doc":
            docs.append(self.next()[1])
        return docs

    def expect(self, val=None, kind=None):
        t = self.next()
        if (val is not None and t[1] != val) or (kind is not None and t[0] != kind):
            raise WitError(f"{self.path}:{t[2]}: expected {val or kind}, got {t[1]!r}")
        return t[1]

    def ident(self):
        return self.expect(kind="ident").lstrip("%")

    def parse_package(self):
        self.skip_docs()
        self.expect("package")
        ns = self.ident()
        self.expect(":")
        name = self.ident()
        ver = self.expect(kind="version")[1:]
        self.expect(";")
        pkg = Package(ns, name, ver)
        while True:
            self.skip_docs()
            t = self.peek()
            if t[0] == "eof":
                return pkg
            if t[1] == "interface":
                self.next()
                iface = Interface(pkg, self.ident())
                self.parse_interface(iface)
                pkg.interfaces[iface.name] = iface
            elif t[1] == "world":
                self.next()
                wname = self.ident()
                pkg.worlds[wname] = self.parse_world()
            else:
                raise WitError(f"{self.path}:{t[2]}: unexpected {t[1]!r}")

    def parse_world(self):
        items = []
        self.expect("{")
        while True:
            self.skip_docs()
            t = self.next()
            if t[1] == "}":
                return items
            if t[1] not in ("import", "export"):
                raise WitError(f"{self.path}:{t[2]}: only import/export in worlds")
            # a path: ns:pkg/iface@ver or a local interface name
            parts = []
            while self.peek()[1] != ";":
                parts.append(self.next()[1])
            self.expect(";")
            items.append((t[1], "".join(parts)))

    def parse_interface(self, iface):
        self.expect("{")
        while True:
            docs = self.skip_docs()
            t = self.next()
            if t[1] == "}":
                return
            if t[1] == "type":
                name = self.ident()
                self.expect("=")
                ty = self.parse_type()
                self.expect(";")
                self.add_type(iface, name, Type("alias", name, [ty]))
            elif t[1] == "record":
                name = self.ident()
                self.expect("{")
                fields = []
                while True:
                    self.skip_docs()
                    if self.peek()[1] == "}":
                        self.next()
                        break
                    fname = self.ident()
                    self.expect(":")
                    fields.append((fname, self.parse_type()))
                    if self.peek()[1] == ",":
                        self.next()
                self.add_type(iface, name, Type("record", name, fields=fields))
            elif t[1] == "enum":
                name = self.ident()
                self.expect("{")
                cases = []
                while True:
                    self.skip_docs()
                    if self.peek()[1] == "}":
                        self.next()
                        break
                    cases.append(self.ident())
                    if self.peek()[1] == ",":
                        self.next()
                self.add_type(iface, name, Type("enum", name, cases=cases))
            elif t[0] == "ident" and self.peek()[1] == ":":
                self.next()
                self.expect("func")
                self.expect("(")
                params = []
                while self.peek()[1] != ")":
                    pname = self.ident()
                    self.expect(":")
                    params.append((pname, self.parse_type()))
                    if self.peek()[1] == ",":
                        self.next()
                self.expect(")")
                result = None
                if self.peek()[1] == "->":
                    self.next()
                    result = self.parse_type()
                self.expect(";")
                iface.funcs.append(Func(t[1].lstrip("%"), params, result, docs))
            else:
                raise WitError(f"{self.path}:{t[2]}: unsupported item {t[1]!r}")

    def add_type(self, iface, name, ty):
        if name in iface.types:
            raise WitError(f"{self.path}: duplicate type {name}")
        ty.iface = iface
        iface.types[name] = ty
        iface.order.append(name)

    def parse_type(self):
        name = self.ident() if self.peek()[1] != "_" else self.next()[1]
        if name in PRIMS:
            return Type("prim", name)
        if name == "string":
            return Type("string")
        if name in ("list", "option"):
            self.expect("<")
            inner = self.parse_type()
            self.expect(">")
            return Type(name, args=[inner])
        if name == "result":
            ok = err = None
            if self.peek()[1] == "<":
                self.next()
                if self.peek()[1] == "_":
                    self.next()
                else:
                    ok = self.parse_type()
                if self.peek()[1] == ",":
                    self.next()
                    err = self.parse_type()
                self.expect(">")
            return Type("result", args=[ok, err])
        return Type("ref", name)


def load_packages(wit_dir, test_dir=None):
    files = [os.path.join(wit_dir, f) for f in sorted(os.listdir(wit_dir)) if f.endswith(".wit")]
    deps = os.path.join(wit_dir, "deps")
    if os.path.isdir(deps):
        files += [os.path.join(deps, f) for f in sorted(os.listdir(deps)) if f.endswith(".wit")]
    test_files = []
    if test_dir is not None:
        test_files = [os.path.join(test_dir, f) for f in sorted(os.listdir(test_dir))
                      if f.endswith(".wit")]
        if not test_files:
            raise WitError(f"--wit-test {test_dir}: no .wit files")
    pkgs = []
    for path in files + test_files:
        with open(path, encoding="utf-8") as fh:
            pkg = Parser(tokenize(fh.read(), path), path).parse_package()
        pkg.test_only = path in test_files
        pkgs.append(pkg)
    names = {}
    for pkg in pkgs:
        # C names use the package name alone (ehal_iface_<name>)
        if pkg.interfaces and pkg.name in names:
            raise WitError(f"packages {names[pkg.name]} and {pkg.namespace}:{pkg.name} share a name")
        if pkg.interfaces:
            names[pkg.name] = f"{pkg.namespace}:{pkg.name}"
    # resolve named references inside each interface
    for pkg in pkgs:
        for iface in pkg.interfaces.values():
            def res(ty):
                if ty is None:
                    return None
                if ty.kind == "ref":
                    if ty.name not in iface.types:
                        raise WitError(f"{iface.qualified}: unknown type {ty.name}")
                    return iface.types[ty.name]
                ty.args = [res(a) for a in ty.args]
                ty.fields = [(n, res(t)) for n, t in ty.fields]
                return ty
            for t in iface.types.values():
                res(t)
            for f in iface.funcs:
                f.params = [(n, res(t)) for n, t in f.params]
                f.result = res(f.result)
    return pkgs


# ----------------------------------------------------------------------------
# Canonical ABI: size, alignment, flattening (CanonicalABI.md)
# ----------------------------------------------------------------------------

PRIM_SIZE = {"bool": 1, "u8": 1, "s8": 1, "u16": 2, "s16": 2, "u32": 4,
             "s32": 4, "char": 4, "u64": 8, "s64": 8, "f32": 4, "f64": 8}
PRIM_FLAT = {"u64": "i64", "s64": "i64", "f32": "f32", "f64": "f64"}


def strip(t):
    while t is not None and t.kind == "alias":
        t = t.args[0]
    return t


def align_to(n, a):
    return (n + a - 1) // a * a


def disc_size(n):
    return 1 if n <= 256 else 2 if n <= 65536 else 4


def alignment(t):
    t = strip(t)
    if t.kind == "prim":
        return PRIM_SIZE[t.name]
    if t.kind in ("string", "list"):
        return 4
    if t.kind == "record":
        return max([alignment(ft) for _, ft in t.fields] or [1])
    if t.kind == "enum":
        return disc_size(len(t.cases))
    if t.kind in ("option", "result"):
        return max([1] + [alignment(c) for c in t.args if c is not None])
    raise WitError(f"no alignment for {t}")


def size(t):
    t = strip(t)
    if t.kind == "prim":
        return PRIM_SIZE[t.name]
    if t.kind in ("string", "list"):
        return 8
    if t.kind == "record":
        s = 0
        for _, ft in t.fields:
            s = align_to(s, alignment(ft)) + size(ft)
        return align_to(s, alignment(t))
    if t.kind == "enum":
        return disc_size(len(t.cases))
    if t.kind in ("option", "result"):
        return align_to(payload_offset(t) + max([0] + [size(c) for c in t.args if c is not None]),
                        alignment(t))
    raise WitError(f"no size for {t}")


def payload_offset(t):
    """Offset of an option's or result's payload (discriminant is one byte)."""
    return align_to(1, max([1] + [alignment(c) for c in t.args if c is not None]))


def field_offsets(t):
    offs, s = [], 0
    for _, ft in t.fields:
        s = align_to(s, alignment(ft))
        offs.append(s)
        s += size(ft)
    return offs


def join(a, b):
    if a == b:
        return a
    if {a, b} == {"i32", "f32"}:
        return "i32"
    return "i64"


def flatten(t):
    t = strip(t)
    if t.kind == "prim":
        return [PRIM_FLAT.get(t.name, "i32")]
    if t.kind in ("string", "list"):
        return ["i32", "i32"]
    if t.kind == "record":
        return [x for _, ft in t.fields for x in flatten(ft)]
    if t.kind == "enum":
        return ["i32"]
    if t.kind in ("option", "result"):
        flat = []
        for c in t.args:
            if c is None:
                continue
            for i, ft in enumerate(flatten(c)):
                if i < len(flat):
                    flat[i] = join(flat[i], ft)
                else:
                    flat.append(ft)
        return ["i32"] + flat
    raise WitError(f"cannot flatten {t}")


def core_signature(func):
    """(params, results) as core types for an *imported* function (lower)."""
    params = [x for _, t in func.params for x in flatten(t)]
    results = flatten(func.result) if func.result is not None else []
    if len(params) > MAX_FLAT_PARAMS:
        raise WitError(f"{func.name}: more than {MAX_FLAT_PARAMS} flat params is not supported")
    if len(results) > MAX_FLAT_RESULTS:
        params = params + ["i32"]  # return area pointer supplied by the caller
        results = []
    return params, results


SIG_CHAR = {"i32": "i", "i64": "I", "f32": "f", "f64": "F"}
C_CORE = {"i32": "uint32_t", "i64": "uint64_t", "f32": "float", "f64": "double"}


def sig_string(params, results):
    return "".join(SIG_CHAR[p] for p in params) + ":" + "".join(SIG_CHAR[r] for r in results)


# ----------------------------------------------------------------------------
# C naming
# ----------------------------------------------------------------------------

def cid(name):
    return name.replace("-", "_")


C_PRIM = {"bool": "bool", "u8": "uint8_t", "s8": "int8_t", "u16": "uint16_t",
          "s16": "int16_t", "u32": "uint32_t", "s32": "int32_t", "u64": "uint64_t",
          "s64": "int64_t", "f32": "float", "f64": "double", "char": "uint32_t"}


class Namer:
    """Names C types for one side (host: prefix 'ehal', guest: 'elastic')."""

    def __init__(self, prefix, string_t, bytes_t):
        self.prefix, self.string_t, self.bytes_t = prefix, string_t, bytes_t
        self.anon = {}  # key -> (cname, Type) for anonymous types per iface, ordered

    def tid(self, t):
        """Short identifier for a type, used to name anonymous aggregates."""
        if t is None:
            return "void"
        if t.kind == "prim":
            return t.name
        if t.kind == "string":
            return "string"
        if t.kind in ("record", "enum", "alias"):
            return cid(t.name)
        if t.kind == "list":
            return "list_" + self.tid(t.args[0])
        if t.kind == "option":
            return "option_" + self.tid(t.args[0])
        if t.kind == "result":
            return "result_" + self.tid(t.args[0]) + "_" + self.tid(t.args[1])
        raise WitError(f"no id for {t}")

    def ctype(self, t, iface):
        if t.kind == "prim":
            return C_PRIM[t.name]
        if t.kind == "string":
            return self.string_t
        if t.kind in ("record", "enum", "alias"):
            return f"{self.prefix}_{cid(t.iface.pkg.name)}_{cid(t.name)}_t"
        if t.kind == "list" and strip(t.args[0]).kind == "prim" and strip(t.args[0]).name == "u8":
            return self.bytes_t
        if t.kind in ("list", "option", "result"):
            name = f"{self.prefix}_{cid(iface.pkg.name)}_{self.tid(t)}_t"
            self.anon.setdefault((iface.qualified, name), (name, t, iface))
            return name
        raise WitError(f"no C type for {t}")


def collect_anon(namer, iface):
    """Visit every type of an interface so anonymous aggregates get names,
    in dependency order (inner types first)."""
    seen = []

    def visit(t):
        if t is None:
            return
        for a in t.args:
            visit(a)
        if t.kind == "record":
            return
        if t.kind in ("list", "option", "result"):
            name = namer.ctype(t, iface)
            if name not in [n for n, _ in seen] and not name.endswith(("bytes_t", "_str")):
                if not (t.kind == "list" and namer.ctype(t, iface) == namer.bytes_t):
                    seen.append((name, t))
    for tn in iface.order:
        t = iface.types[tn]
        if t.kind == "record":
            for _, ft in t.fields:
                visit(ft)
        elif t.kind == "alias":
            visit(t.args[0])
    for f in iface.funcs:
        for _, pt in f.params:
            visit(pt)
        visit(f.result)
    return seen


def emit_types(namer, iface, out, list_const):
    """Emit C declarations for an interface's named and anonymous types, in
    an order where every type is defined before use."""
    anon = collect_anon(namer, iface)
    emitted = set()

    def emit_anon(name, t):
        if name in emitted:
            return
        for a in t.args:
            ensure(a)
        emitted.add(name)
        if t.kind == "list":
            el = namer.ctype(t.args[0], iface)
            out.append(f"typedef struct {{ {list_const}{el} *ptr; size_t len; }} {name};")
        elif t.kind == "option":
            out.append(f"typedef struct {{ bool is_some; {namer.ctype(t.args[0], iface)} val; }} {name};")
        elif t.kind == "result":
            ok, err = t.args
            body = "bool is_err; "
            if ok is not None:
                body += f"{namer.ctype(ok, iface)} val; "
            if err is not None:
                body += f"{namer.ctype(err, iface)} err; "
            out.append(f"typedef struct {{ {body}}} {name};")

    def ensure(t):
        if t is None:
            return
        if t.kind in ("record", "enum", "alias"):
            emit_named(t)
        elif t.kind in ("list", "option", "result"):
            for a in t.args:
                ensure(a)
            name = namer.ctype(t, iface)
            if name != namer.bytes_t:
                emit_anon(name, t)

    def emit_named(t):
        name = namer.ctype(t, iface)
        if name in emitted:
            return
        if t.kind == "alias":
            ensure(t.args[0])
            emitted.add(name)
            out.append(f"typedef {namer.ctype(t.args[0], iface)} {name};")
        elif t.kind == "enum":
            emitted.add(name)
            base = C_PRIM[{1: "u8", 2: "u16", 4: "u32"}[disc_size(len(t.cases))]]
            out.append(f"typedef {base} {name};")
            up = name[:-2].upper()
            for i, c in enumerate(t.cases):
                out.append(f"#define {up}_{cid(c).upper()} {i}")
            out.append(f"#define {up}_COUNT {len(t.cases)}")
        elif t.kind == "record":
            for _, ft in t.fields:
                ensure(ft)
            emitted.add(name)
            out.append(f"typedef struct {{")
            for fname, ft in t.fields:
                out.append(f"  {namer.ctype(ft, iface)} {cid(fname)};")
            out.append(f"}} {name};")

    for tn in iface.order:
        emit_named(iface.types[tn])
    for name, t in anon:
        emit_anon(name, t)


# ----------------------------------------------------------------------------
# Host side
# ----------------------------------------------------------------------------

def is_bytes(t):
    t = strip(t)
    return t.kind == "list" and strip(t.args[0]).kind == "prim" and strip(t.args[0]).name == "u8"


class HostGen:
    def __init__(self, pkgs, manifest):
        self.pkgs = pkgs
        self.manifest = manifest
        self.n = Namer("ehal", "ehal_str", "ehal_bytes")
        self.helpers = []      # C helper function definitions
        self.helper_names = set()

    def implemented(self, iface, func):
        names = self.manifest.get(iface.name)
        return names is not None and ("*" in names or func.name in names)

    def has_state(self, iface):
        return "+state" in self.manifest.get(iface.name, ())

    # -- lowering into a host staging buffer (memory layout), strings/lists allocated in the guest
    def store_fn(self, t, iface):
        """Name of a helper `void f(ehal_instance*, const C *v, uint8_t *dst)`."""
        t0 = t
        t = strip(t)
        ct = self.n.ctype(t, iface)
        name = f"store_{cid(iface.pkg.name)}_{self.n.tid(t)}"
        if name in self.helper_names:
            return name
        self.helper_names.add(name)
        body = []
        if t.kind == "prim":
            sz = PRIM_SIZE[t.name]
            if t.name == "bool":
                body.append("  dst[0] = *v ? 1 : 0;")
            elif t.name in ("f32", "f64"):
                body.append(f"  memcpy(dst, v, {sz});")
            else:
                body.append(f"  ehal_put_u{sz*8}(dst, (uint{sz*8}_t)*v);")
        elif t.kind == "enum":
            sz = disc_size(len(t.cases))
            body.append(f"  ehal_put_u{sz*8}(dst, (uint{sz*8}_t)*v);")
        elif t.kind == "string":
            body.append("  uint32_t p = ehal_lower_bytes(inst, v->ptr, v->len, 1);")
            body.append("  ehal_put_u32(dst, p);")
            body.append("  ehal_put_u32(dst + 4, (uint32_t)v->len);")
        elif is_bytes(t):
            body.append("  uint32_t p = ehal_lower_bytes(inst, v->ptr, v->len, 1);")
            body.append("  ehal_put_u32(dst, p);")
            body.append("  ehal_put_u32(dst + 4, (uint32_t)v->len);")
        elif t.kind == "list":
            el = t.args[0]
            es, ea = size(el), alignment(el)
            sf = self.store_fn(el, iface)
            body.append(f"  uint8_t *tmp = ehal_stage(inst, v->len, {es});")
            body.append("  if (!tmp) return; /* the call traps */")
            body.append("  for (size_t i = 0; i < v->len; i++)")
            body.append(f"    {sf}(inst, &v->ptr[i], tmp + i * {es});")
            body.append(f"  uint32_t p = ehal_lower_bytes(inst, tmp, v->len * {es}, {ea});")
            body.append("  ehal_put_u32(dst, p);")
            body.append("  ehal_put_u32(dst + 4, (uint32_t)v->len);")
        elif t.kind == "record":
            for (fname, ft), off in zip(t.fields, field_offsets(t)):
                body.append(f"  {self.store_fn(ft, iface)}(inst, &v->{cid(fname)}, dst + {off});")
        elif t.kind == "option":
            off = payload_offset(t)
            body.append("  dst[0] = v->is_some ? 1 : 0;")
            body.append(f"  if (v->is_some) {self.store_fn(t.args[0], iface)}(inst, &v->val, dst + {off});")
        elif t.kind == "result":
            ok, err = t.args
            off = payload_offset(t)
            body.append("  dst[0] = v->is_err ? 1 : 0;")
            if ok is not None:
                body.append(f"  if (!v->is_err) {self.store_fn(ok, iface)}(inst, &v->val, dst + {off});")
            if err is not None:
                body.append(f"  if (v->is_err) {self.store_fn(err, iface)}(inst, &v->err, dst + {off});")
        else:
            raise WitError(f"cannot store {t}")
        uses_inst = any("inst" in line for line in body)
        self.helpers.append(
            f"static void {name}(ehal_instance *inst, const {ct} *v, uint8_t *dst) {{\n"
            + ("" if uses_inst else "  (void)inst;\n") + "\n".join(body) + "\n}\n")
        return name

    def load_fn(self, t, iface):
        """Helper `void f(ehal_instance*, const uint8_t *src, C *out)` lifting
        a value already bounds-checked in guest memory."""
        t = strip(t)
        ct = self.n.ctype(t, iface)
        name = f"load_{cid(iface.pkg.name)}_{self.n.tid(t)}"
        if name in self.helper_names:
            return name
        self.helper_names.add(name)
        body = []
        if t.kind == "prim":
            sz = PRIM_SIZE[t.name]
            if t.name == "bool":
                body.append("  *out = src[0] != 0;")
            else:
                body.append(f"  *out = ({ct})ehal_get_u{sz*8}(src);")
        elif t.kind == "enum":
            sz = disc_size(len(t.cases))
            body.append(f"  uint{sz*8}_t d = ehal_get_u{sz*8}(src);")
            body.append(f"  if (d >= {len(t.cases)}) ehal_abi_trap(inst, \"invalid enum discriminant %u for {t.name}\", (unsigned)d);")
            body.append(f"  *out = ({ct})d;")
        elif t.kind == "string":
            body.append("  *out = ehal_lift_string(inst, ehal_get_u32(src), ehal_get_u32(src + 4));")
        elif is_bytes(t):
            body.append("  *out = ehal_lift_bytes(inst, ehal_get_u32(src), ehal_get_u32(src + 4));")
        elif t.kind == "list":
            body.append(f"  *out = {self.lift_list_fn(t, iface)}(inst, ehal_get_u32(src), ehal_get_u32(src + 4));")
        elif t.kind == "record":
            for (fname, ft), off in zip(t.fields, field_offsets(t)):
                body.append(f"  {self.load_fn(ft, iface)}(inst, src + {off}, &out->{cid(fname)});")
        else:
            raise WitError(f"cannot lift {t} from memory")
        uses_inst = any("inst" in line for line in body)
        self.helpers.append(
            f"static void {name}(ehal_instance *inst, const uint8_t *src, {ct} *out) {{\n"
            + ("" if uses_inst else "  (void)inst;\n") + "\n".join(body) + "\n}\n")
        return name

    def lift_list_fn(self, t, iface):
        ct = self.n.ctype(t, iface)
        el = t.args[0]
        name = f"lift_{cid(iface.pkg.name)}_{self.n.tid(t)}"
        if name in self.helper_names:
            return name
        self.helper_names.add(name)
        es, ea = size(el), alignment(el)
        ect = self.n.ctype(strip(el) if strip(el).kind not in ("record", "enum") else el, iface)
        lf = self.load_fn(el, iface)
        self.helpers.append(
            f"static {ct} {name}(ehal_instance *inst, uint32_t ptr, uint32_t len) {{\n"
            f"  {ct} out;\n"
            f"  const uint8_t *src = ehal_lift_area(inst, ptr, (uint64_t)len * {es}, {ea});\n"
            f"  {ect} *items = src ? ehal_stage(inst, len, sizeof(*items)) : NULL;\n"
            f"  out.ptr = items;\n  out.len = items ? len : 0; /* empty when the call traps */\n"
            f"  for (uint32_t i = 0; i < out.len && !inst->trapped; i++)\n"
            f"    {lf}(inst, src + (size_t)i * {es}, &items[i]);\n"
            f"  return out;\n}}\n")
        return name

    def lift_flat(self, t, iface, args, target):
        """Statements assigning `target` from flat core args (consumed from list)."""
        t = strip(t)
        if t.kind == "prim":
            a = args.pop(0)
            if t.name == "bool":
                return [f"{target} = {a} != 0;"]
            return [f"{target} = ({C_PRIM[t.name]}){a};"]
        if t.kind == "enum":
            a = args.pop(0)
            return [f"if ({a} >= {len(t.cases)}) ehal_abi_trap(inst, \"invalid enum discriminant %u for {t.name}\", (unsigned){a});",
                    f"{target} = ({self.n.ctype(t, iface)}){a};"]
        if t.kind == "string":
            p, l = args.pop(0), args.pop(0)
            return [f"{target} = ehal_lift_string(inst, {p}, {l});"]
        if is_bytes(t):
            p, l = args.pop(0), args.pop(0)
            return [f"{target} = ehal_lift_bytes(inst, {p}, {l});"]
        if t.kind == "list":
            p, l = args.pop(0), args.pop(0)
            return [f"{target} = {self.lift_list_fn(t, iface)}(inst, {p}, {l});"]
        if t.kind == "record":
            out = []
            for fname, ft in t.fields:
                out += self.lift_flat(ft, iface, args, f"{target}.{cid(fname)}")
            return out
        raise WitError(f"parameter type {t} is not supported by the generator")

    def glue(self, iface, func):
        params, results = core_signature(func)
        cparams = ["void *env"] + [f"{C_CORE[p]} a{i}" for i, p in enumerate(params)]
        ret_c = C_CORE[results[0]] if results else "void"
        fn = f"glue_{cid(iface.pkg.name)}_{cid(func.name)}"
        lines = [f"static {ret_c} {fn}({', '.join(cparams)}) {{",
                 "  ehal_instance *inst = env;",
                 "  ehal_call_begin(inst);"]
        args = [f"a{i}" for i in range(len(params))]
        call = ["inst"]
        for pname, pt in func.params:
            v = f"p_{cid(pname)}"
            lines.append(f"  {self.n.ctype(strip(pt) if strip(pt).kind in ('prim','string') else pt, iface)} {v};")
            lines += ["  " + s for s in self.lift_flat(pt, iface, args, v)]
            call.append(v)
        rt = func.result
        if rt is not None:
            lines.append(f"  {self.n.ctype(rt, iface)} ret;")
            lines.append("  memset(&ret, 0, sizeof ret);")
            call.append("&ret")
        # A trap recorded while lifting (or by ehal_call_begin) ends the call
        # here: the implementation never sees what was lifted.  The engine
        # raises the trap once this function has returned.
        bail = "return 0;" if results else "return;"
        lines.append(f"  if (inst->trapped) {bail}")
        lines.append(f"  ehal_impl_{cid(iface.pkg.name)}_{cid(func.name)}({', '.join(call)});")
        if rt is not None:
            srt = strip(rt)
            if len(flatten(rt)) <= MAX_FLAT_RESULTS:
                if srt.kind == "prim" and srt.name == "bool":
                    lines.append("  return ret ? 1 : 0;")
                elif srt.kind in ("prim", "enum"):
                    lines.append(f"  return ({ret_c})ret;")
                else:
                    raise WitError(f"{func.name}: single flat result of kind {srt.kind}")
            else:
                retptr = args.pop(0)
                sz, al = size(rt), alignment(rt)
                lines.append("  if (inst->trapped) return;")
                lines.append(f"  uint8_t area[{sz}];")
                lines.append("  memset(area, 0, sizeof area);")
                lines.append(f"  {self.store_fn(rt, iface)}(inst, &ret, area);")
                lines.append(f"  ehal_store_area(inst, {retptr}, area, {sz}, {al});")
        lines.append("}")
        return fn, "\n".join(lines) + "\n", sig_string(params, results)

    @staticmethod
    def iface_id(iface):
        return f"EHAL_IFACE_ID_{cid(iface.pkg.name).upper()}"

    def impl_proto(self, iface, func):
        ps = ["ehal_instance *inst"]
        for pname, pt in func.params:
            ps.append(f"{self.n.ctype(strip(pt) if strip(pt).kind in ('prim','string') else pt, iface)} {cid(pname)}")
        if func.result is not None:
            ps.append(f"{self.n.ctype(func.result, iface)} *ret")
        return f"void ehal_impl_{cid(iface.pkg.name)}_{cid(func.name)}({', '.join(ps)})"

    def generate(self, outdir):
        ifaces = [i for p in self.pkgs for i in p.interfaces.values()]
        # wit/'s interfaces first: their ids do not depend on --wit-test
        ifaces.sort(key=lambda i: (i.pkg.test_only, i.pkg.name))
        hdr = ["/* Generated by tools/witgen.py from wit/. Do not edit. */",
               "#ifndef EHAL_BINDINGS_H", "#define EHAL_BINDINGS_H", "",
               "#include <stdbool.h>", "#include <stddef.h>", "#include <stdint.h>", "",
               '#include "cabi.h"', "",
               "/* Interface ids: the index of each interface in ehal_catalog and in",
               " * ehal_iface_state_hooks (ehal_iface_state, src/interfaces/interfaces.h).",
               " * Test-only interfaces (witgen --wit-test) come after wit/'s. */",
               "typedef enum {"]
        for k, iface in enumerate(ifaces):
            note = ", test-only" if iface.pkg.test_only else ""
            hdr.append(f"  {self.iface_id(iface)} = {k}, /* {iface.pkg.namespace}:{iface.pkg.name}/{iface.name}{note} */")
        hdr += ["} ehal_iface_id;", "",
                "/* Per-instance state hooks of one interface: create returns the new",
                " * state (NULL: out of memory); destroy releases it when the instance is",
                " * freed.  NULL for an interface without `+state` in the manifest. */",
                "typedef struct {",
                "  void *(*create)(ehal_instance *inst);",
                "  void (*destroy)(ehal_instance *inst, void *state);",
                "} ehal_iface_state_hooks_t;", "",
                "/* ehal_iface_count entries, indexed by ehal_iface_id (a test build's glue",
                " * has more interfaces than wit/ alone). */",
                "extern const ehal_iface_state_hooks_t ehal_iface_state_hooks[];",
                "extern const size_t ehal_iface_count;", ""]
        for iface in ifaces:
            hdr.append(f"/* ---- {iface.qualified} ---- */")
            emit_types(self.n, iface, hdr, "const ")
            for f in iface.funcs:
                if self.implemented(iface, f):
                    hdr.append(self.impl_proto(iface, f) + ";")
            n = cid(iface.pkg.name)
            hdr.append(f"/* per-instance state: defined where the manifest says `{iface.name} ... +state` */")
            hdr.append(f"void *ehal_state_create_{n}(ehal_instance *inst);")
            hdr.append(f"void ehal_state_destroy_{n}(ehal_instance *inst, void *state);")
            hdr.append("")
        hdr += ["#endif", ""]

        src = ["/* Generated by tools/witgen.py from wit/. Do not edit. */",
               "#include <string.h>", "", '#include "ehal_bindings.h"',
               '#include "instance.h"', '#include "linker.h"',
               '#include "elastic-hal/elastic_hal.h"', ""]
        glue_src, tables = [], []
        implemented_ifaces = []
        for iface in ifaces:
            entries = []
            any_impl = False
            for f in iface.funcs:
                params, results = core_signature(f)
                sig = sig_string(params, results)
                if self.implemented(iface, f):
                    fn, code, _ = self.glue(iface, f)
                    glue_src.append(code)
                    entries.append(f'  {{"{f.name}", "{sig}", (ehal_hostfn){fn}}},')
                    any_impl = True
                else:
                    entries.append(f'  {{"{f.name}", "{sig}", NULL}},')
            v = iface.pkg.version.split(".")
            if iface.pkg.test_only and any_impl:
                raise WitError(f"{iface.qualified} is test-only: the manifest cannot implement it")
            tables.append(f"static const ehal_func_def funcs_{cid(iface.pkg.name)}[] = {{\n" + "\n".join(entries) + "\n};\n")
            tables.append(
                f"const ehal_iface_def ehal_iface_{cid(iface.pkg.name)} = {{\n"
                f'  "{iface.pkg.namespace}:{iface.pkg.name}", "{iface.name}", {v[0]}, {v[1]}, {v[2]},\n'
                f"  funcs_{cid(iface.pkg.name)}, {len(iface.funcs)}}};\n")
            if any_impl:
                implemented_ifaces.append(iface)
                tables.append(
                    f"int elastic_hal_{cid(iface.pkg.name)}_add_to_linker(elastic_hal_linker *linker) {{\n"
                    f"  return ehal_linker_add_iface(linker, &ehal_iface_{cid(iface.pkg.name)});\n}}\n")
        tables.append("const ehal_iface_def *const ehal_catalog[] = {\n" +
                      "".join(f"  &ehal_iface_{cid(i.pkg.name)},\n" for i in ifaces) + "  NULL};\n")
        hooks = []
        for i in ifaces:
            n = cid(i.pkg.name)
            fns = f"ehal_state_create_{n}, ehal_state_destroy_{n}" if self.has_state(i) else "NULL, NULL"
            hooks.append(f"  [{self.iface_id(i)}] = {{{fns}}},\n")
        tables.append("const ehal_iface_state_hooks_t ehal_iface_state_hooks[] = {\n" + "".join(hooks) + "};\n")
        tables.append(f"const size_t ehal_iface_count = {len(ifaces)};\n")
        # worlds
        worlds = []
        guest_worlds = []  # (name, set of member packages), checked below
        for p in self.pkgs:
            for wname, items in p.worlds.items():
                if len(items) <= 1 and wname.endswith("-world"):
                    continue  # the per-package single-interface worlds
                if all(d == "import" for d, _ in items):
                    # the guest side of a world (wit/guest.wit): the same
                    # interfaces, imported; a name --world takes for its
                    # host-side world (ehal_world_aliases), never a world of
                    # its own (a linker's identity names the host side)
                    guest_worlds.append((wname, {path for _, path in items}))
                    continue
                if any(d != "export" for d, _ in items):
                    raise WitError(f"world {wname}: mixes imports and exports")
                members = []
                for _, path in items:
                    # ns:pkg/iface@ver, or an interface of this package
                    pkgname = path.split(":")[1].split("/")[0] if ":" in path else p.name
                    if cid(pkgname) not in {cid(i.pkg.name) for i in ifaces}:
                        raise WitError(f"world {wname}: no interface of package {pkgname}")
                    members.append(pkgname)
                worlds.append((wname, members, p.test_only))
        worlds.sort(key=lambda w: w[2])  # wit/'s worlds first
        # what each host-side world exports, as written (package, interface
        # and version), for the guest side to match exactly
        host_worlds = {w: {path for _, path in items}
                       for p in self.pkgs for w, items in p.worlds.items()}
        aliases = []
        for gname, paths in guest_worlds:
            host = gname[:-len("-guest")] if gname.endswith("-guest") else None
            if host not in {w for w, _, _ in worlds}:
                raise WitError(f"world {gname}: a guest-side world is named after a host-side "
                               "world, NAME-guest")
            if paths != host_worlds[host]:
                raise WitError(f"world {gname} does not import exactly what {host} exports: "
                               f"{', '.join(sorted(paths ^ host_worlds[host]))}")
            aliases.append((gname, host))
        iface_names = {cid(i.pkg.name) for i in ifaces}
        world_fns = []  # (function name, world name)
        for wname, members, test_only in worlds:
            lst = "".join(f"  &ehal_iface_{cid(m)},\n" for m in members)
            tables.append(f"static const ehal_iface_def *const world_{cid(wname)}[] = {{\n{lst}  NULL}};\n")
            if test_only:
                continue  # no public grain: elastic_hal_world_add_to_linker_by_name only
            if wname == "elastic-tee-hal":
                names = ["elastic_hal_add_to_linker", "elastic_hal_hal_world_add_to_linker"]
            else:
                short = cid(wname.replace("elastic-tee-", ""))
                # The world grain: elastic_hal_<world>_world_add_to_linker for every
                # world, and the shorter elastic_hal_<world>_add_to_linker where that
                # name is not already an interface's (storage is both).
                names = [f"elastic_hal_{short}_world_add_to_linker"]
                if short not in iface_names:
                    names.insert(0, f"elastic_hal_{short}_add_to_linker")
            for fname in names:
                world_fns.append((fname, wname))
                tables.append(
                    f"int {fname}(elastic_hal_linker *linker) {{\n"
                    f'  return ehal_linker_add_world(linker, "{wname}", world_{cid(wname)});\n}}\n')
        tables.append("const ehal_world_def ehal_worlds[] = {\n" +
                      "".join(f'  {{"{w}", world_{cid(w)}}},\n' for w, _, _ in worlds) + "  {NULL, NULL}};\n")
        tables.append("const ehal_world_alias ehal_world_aliases[] = {\n" +
                      "".join(f'  {{"{g}", "{h}"}},\n' for g, h in aliases) + "  {NULL, NULL}};\n")
        src += self.helpers + glue_src + tables

        pub = ["/* Generated by tools/witgen.py from wit/. Do not edit. */",
               "#ifndef ELASTIC_HAL_LINKER_H", "#define ELASTIC_HAL_LINKER_H", "",
               "#ifdef __cplusplus", 'extern "C" {', "#endif", "",
               "typedef struct elastic_hal_linker elastic_hal_linker;", "",
               "/* Per interface: only interfaces with at least one implemented function",
               " * exist here. Each adds the implemented functions of that interface. */"]
        for i in implemented_ifaces:
            pub.append(f"int elastic_hal_{cid(i.pkg.name)}_add_to_linker(elastic_hal_linker *linker);")
        pub += ["", "/* Per composed world: adds exactly the world's implemented interfaces.",
                " * elastic_hal_add_to_linker is everything (the elastic-tee-hal world). */"]
        for fname, wname in world_fns:
            pub.append(f"int {fname}(elastic_hal_linker *linker); /* {wname} */")
        pub += ["", "#ifdef __cplusplus", "}", "#endif", "#endif", ""]

        write(os.path.join(outdir, "ehal_bindings.h"), "\n".join(hdr))
        write(os.path.join(outdir, "ehal_glue.c"), "\n".join(src))
        write(os.path.join(outdir, "elastic_hal_linker.h"), "\n".join(pub))


# ----------------------------------------------------------------------------
# Guest side
# ----------------------------------------------------------------------------

class GuestGen:
    def __init__(self, pkgs, manifest):
        self.pkgs = pkgs
        self.manifest = manifest
        self.n = Namer("elastic", "elastic_string_t", "elastic_bytes_t")
        self.helpers, self.helper_names = [], set()

    # -- free functions for results that own memory (strings, lists, nested)
    def owns(self, t):
        if t is None:
            return False
        t2 = t.args[0] if t.kind == "alias" else t
        if t2.kind in ("string", "list"):
            return True
        if t2.kind == "record":
            return any(self.owns(ft) for _, ft in t2.fields)
        return any(self.owns(a) for a in t2.args)

    def free_code(self, t, expr, iface, depth=0):
        """C statements that free what a value of type t at lvalue expr owns."""
        if t is None or not self.owns(t):
            return []
        if t.kind == "alias":
            return self.free_code(t.args[0], expr, iface, depth)
        if t.kind == "string":
            return [f"elastic_string_free(&{expr});"]
        name = self.n.ctype(t, iface)
        if name == self.n.bytes_t:
            return [f"elastic_bytes_free(&{expr});"]
        if t.kind == "record" or t.kind in ("option", "result") or t.kind == "list":
            return [f"{name[:-2]}_free(&{expr});"]
        return []

    def emit_frees(self, iface, hdr, funcs_src):
        """void <type>_free(<type> *v) for every record, list, option and
        result of the interface that owns memory: it frees what the HAL
        allocated in it (recursively) and leaves it empty."""
        todo = [(self.n.ctype(iface.types[tn], iface), iface.types[tn]) for tn in iface.order
                if iface.types[tn].kind == "record"]
        todo += collect_anon(self.n, iface)
        for name, t in todo:
            if not self.owns(t):
                continue
            fn = f"{name[:-2]}_free"
            hdr.append(f"/* Frees what the HAL allocated in *v (recursively); *v is left empty. */")
            hdr.append(f"void {fn}({name} *v);")
            body = []
            if t.kind == "record":
                for fname, ft in t.fields:
                    body += self.free_code(ft, f"v->{cid(fname)}", iface)
            elif t.kind == "list":
                inner = self.free_code(t.args[0], "v->ptr[i]", iface)
                if inner:
                    body.append("for (size_t i = 0; i < v->len; i++) {")
                    body += ["  " + l for l in inner]
                    body.append("}")
                body.append("if (v->len) free(v->ptr);")
                body.append("v->ptr = NULL;")
                body.append("v->len = 0;")
            elif t.kind == "option":
                inner = self.free_code(t.args[0], "v->val", iface)
                body.append("if (v->is_some) {")
                body += ["  " + l for l in inner]
                body.append("}")
                body.append("v->is_some = false;")
            elif t.kind == "result":
                ok, err = t.args
                okc = self.free_code(ok, "v->val", iface) if ok is not None else []
                errc = self.free_code(err, "v->err", iface) if err is not None else []
                body.append("if (v->is_err) {")
                body += ["  " + l for l in errc]
                body.append("} else {")
                body += ["  " + l for l in okc]
                body.append("}")
            funcs_src.append(f"void {fn}({name} *v) {{\n" + "\n".join("  " + l for l in body) + "\n}\n")
        hdr.append("")

    def load_fn(self, t, iface):
        t = strip(t)
        ct = self.n.ctype(t, iface)
        name = f"load_{cid(iface.pkg.name)}_{self.n.tid(t)}"
        if name in self.helper_names:
            return name
        self.helper_names.add(name)
        body = []
        if t.kind == "prim":
            if t.name == "bool":
                body.append("  *out = src[0] != 0;")
            else:
                body.append(f"  memcpy(out, src, sizeof(*out));")
        elif t.kind == "enum":
            body.append(f"  memcpy(out, src, sizeof(*out));")
        elif t.kind in ("string", "list"):
            body.append("  uint32_t p, n;")
            body.append("  memcpy(&p, src, 4);")
            body.append("  memcpy(&n, src + 4, 4);")
            if t.kind == "list" and not is_bytes(t):
                el = t.args[0]
                es = size(el)
                body.append(f"  out->ptr = n ? malloc(sizeof(*out->ptr) * n) : NULL;")
                body.append("  out->len = n;")
                body.append("  if (n && !out->ptr) abort();")
                body.append(f"  for (uint32_t i = 0; i < n; i++) {self.load_fn(el, iface)}((const uint8_t *)(uintptr_t)p + (size_t)i * {es}, &out->ptr[i]);")
                body.append("  if (n) free((void *)(uintptr_t)p);")
            else:
                body.append("  out->ptr = (void *)(uintptr_t)p;")
                body.append("  out->len = n;")
        elif t.kind == "record":
            for (fname, ft), off in zip(t.fields, field_offsets(t)):
                body.append(f"  {self.load_fn(ft, iface)}(src + {off}, &out->{cid(fname)});")
        elif t.kind == "option":
            body.append("  out->is_some = src[0] != 0;")
            body.append(f"  if (out->is_some) {self.load_fn(t.args[0], iface)}(src + {payload_offset(t)}, &out->val);")
        elif t.kind == "result":
            ok, err = t.args
            body.append("  out->is_err = src[0] != 0;")
            if ok is not None:
                body.append(f"  if (!out->is_err) {self.load_fn(ok, iface)}(src + {payload_offset(t)}, &out->val);")
            if err is not None:
                body.append(f"  if (out->is_err) {self.load_fn(err, iface)}(src + {payload_offset(t)}, &out->err);")
        self.helpers.append(f"static void {name}(const uint8_t *src, {ct} *out) {{\n" + "\n".join(body) + "\n}\n")
        return name

    def lower_args(self, t, expr):
        """Flat core argument expressions for a parameter value."""
        t = strip(t)
        if t.kind in ("prim", "enum"):
            core = flatten(t)[0]
            if t.kind == "prim" and t.name == "bool":
                return [f"({expr} ? 1 : 0)"]
            return [f"({C_CORE[core]}){expr}"]
        if t.kind == "list" and not is_bytes(t):
            return self.lower_list_arg(t, expr)
        if t.kind in ("string", "list"):
            return [f"(uint32_t)(uintptr_t){expr}.ptr", f"(uint32_t){expr}.len"]
        if t.kind == "record":
            out = []
            for fname, ft in t.fields:
                out += self.lower_args(ft, f"{expr}.{cid(fname)}")
            return out
        raise WitError(f"guest: parameter type {t} not supported")

    def lower_list_arg(self, t, expr):
        """A list<record of scalars> parameter: its elements are stored in
        canonical layout in a temporary buffer (self.pre), freed after the
        call (self.post); the C structs' own layout is not relied on."""
        el = strip(t.args[0])
        scalar = ("prim", "enum")
        if el.kind != "record" or any(strip(ft).kind not in scalar for _, ft in el.fields):
            raise WitError("guest: list parameters other than list<u8> and lists of records "
                           "of scalars are not supported")
        buf = f"canon_{len(self.pre)}"
        es, ea = size(el), alignment(el)
        self.pre.append(f"  uint8_t *{buf} = {expr}.len ? malloc({expr}.len * {es}) : "
                        f"(uint8_t *)(uintptr_t){ea};")
        self.pre.append(f"  if (!{buf}) abort();")
        self.pre.append(f"  for (size_t i = 0; i < {expr}.len; i++) {{")
        for (fname, ft), off in zip(el.fields, field_offsets(el)):
            f = f"{expr}.ptr[i].{cid(fname)}"
            if strip(ft).kind == "prim" and strip(ft).name == "bool":
                self.pre.append(f"    {buf}[i * {es} + {off}] = {f} ? 1 : 0;")
            else:
                self.pre.append(f"    memcpy({buf} + i * {es} + {off}, &{f}, {size(ft)});")
        self.pre.append("  }")
        self.post.append(f"  if ({expr}.len) free({buf});")
        return [f"(uint32_t)(uintptr_t){buf}", f"(uint32_t){expr}.len"]

    def generate(self, outdir):
        ifaces = [i for p in self.pkgs for i in p.interfaces.values()]
        ifaces.sort(key=lambda i: i.pkg.name)
        hdr = ["/* Generated by tools/witgen.py from wit/. Do not edit.",
               " *",
               " * Guest bindings for the ELASTIC TEE HAL, for C workloads built for",
               " * wasm32-wasi.  Strings and lists returned to the guest are allocated",
               " * with malloc() (through cabi_realloc) and belong to the caller.",
               " * Functions returning result<T, string> return true on success and fill",
               " * *ret; on failure they return false and fill *err. */",
               "#ifndef ELASTIC_HAL_GUEST_H", "#define ELASTIC_HAL_GUEST_H", "",
               "#include <stdbool.h>", "#include <stddef.h>", "#include <stdint.h>", "",
               "#ifdef __cplusplus", 'extern "C" {', "#endif", "",
               "/* Marks what this HAL does not implement: calling it warns at compile",
               " * time, since the import would not resolve when the guest is run. */",
               "#ifndef ELASTIC_HAL_UNLINKED",
               '#define ELASTIC_HAL_UNLINKED __attribute__((deprecated("not implemented by this HAL: '
               'a guest that imports it does not link")))',
               "#endif", "",
               "typedef struct { char *ptr; size_t len; } elastic_string_t;",
               "typedef struct { uint8_t *ptr; size_t len; } elastic_bytes_t;", "",
               "/* Release a string or byte list the HAL returned. */",
               "void elastic_string_free(elastic_string_t *s);",
               "void elastic_bytes_free(elastic_bytes_t *b);",
               "/* A string view of a NUL-terminated C string (no copy). */",
               "elastic_string_t elastic_string(const char *s);", ""]
        src = ["/* Generated by tools/witgen.py from wit/. Do not edit. */",
               "#include <stdlib.h>", "#include <string.h>", "",
               '#include "elastic_hal_guest.h"', "",
               "/* Empty results carry a dummy aligned pointer, never a heap block. */",
               "void elastic_string_free(elastic_string_t *s) { if (s->len) free(s->ptr); s->ptr = NULL; s->len = 0; }",
               "void elastic_bytes_free(elastic_bytes_t *b) { if (b->len) free(b->ptr); b->ptr = NULL; b->len = 0; }",
               "elastic_string_t elastic_string(const char *s) { elastic_string_t r = {(char *)s, strlen(s)}; return r; }",
               "",
               "/* The canonical ABI allocator the host calls to return strings and lists. */",
               '__attribute__((export_name("cabi_realloc")))',
               "void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {",
               "  (void)old_size;",
               "  if (new_size == 0) return (void *)align;",
               "  void *p = realloc(old, new_size);",
               "  if (!p || ((uintptr_t)p & (align - 1))) abort();",
               "  return p;",
               "}", ""]
        funcs_src = []
        for iface in ifaces:
            hdr.append(f"/* ---- {iface.qualified} ---- */")
            emit_types(self.n, iface, hdr, "")
            self.emit_frees(iface, hdr, funcs_src)
            for f in iface.funcs:
                params, results = core_signature(f)
                imp = f"__elastic_import_{cid(iface.pkg.name)}_{cid(f.name)}"
                decl_params = ", ".join(f"{C_CORE[p]}" for p in params) or "void"
                ret_core = C_CORE[results[0]] if results else "void"
                src.append(f'__attribute__((import_module("{iface.qualified}"), import_name("{f.name}")))')
                src.append(f"extern {ret_core} {imp}({decl_params});")
                # public C API
                ps = []
                for pname, pt in f.params:
                    # a named scalar (a handle) keeps its typedef; a string
                    # alias is just a string
                    pc = strip(pt) if strip(pt).kind == "string" or (
                        strip(pt).kind == "prim" and pt.kind != "alias") else pt
                    ps.append(f"{self.n.ctype(pc, iface)} {cid(pname)}")
                rt = f.result
                srt = strip(rt) if rt is not None else None
                api_ret = "void"
                mode = "none"
                if srt is not None and srt.kind == "result" and srt.args[1] is not None:
                    api_ret = "bool"
                    mode = "result"
                    if srt.args[0] is not None:
                        ps.append(f"{self.n.ctype(srt.args[0], iface)} *ret")
                    ps.append(f"{self.n.ctype(srt.args[1], iface)} *err")
                elif srt is not None and len(flatten(rt)) <= MAX_FLAT_RESULTS:
                    api_ret = self.n.ctype(srt if srt.kind == "prim" else rt, iface)
                    mode = "direct"
                elif srt is not None and srt.kind == "option":
                    api_ret = "bool"
                    mode = "option"
                    ps.append(f"{self.n.ctype(srt.args[0], iface)} *ret")
                elif srt is not None:
                    mode = "area"
                    ps.append(f"{self.n.ctype(rt, iface)} *ret")
                proto = f"{api_ret} elastic_{cid(iface.pkg.name)}_{cid(f.name)}({', '.join(ps) or 'void'})"
                for d in f.doc:
                    hdr.append(f"/* {d} */")
                names = self.manifest.get(iface.name)
                if names is None or not ("*" in names or f.name in names):
                    hdr.append("/* Not implemented by this HAL: a guest that imports it does not link. */")
                    hdr.append("ELASTIC_HAL_UNLINKED " + proto + ";")
                else:
                    hdr.append(proto + ";")
                body = []
                cargs = []
                self.pre, self.post = [], []
                for pname, pt in f.params:
                    cargs += self.lower_args(pt, cid(pname))
                if self.pre and mode in ("direct", "none"):
                    raise WitError(f"guest: {f.name}: list parameters need a return area")
                body += self.pre
                if mode == "direct":
                    if srt.kind == "prim" and srt.name == "bool":
                        body.append(f"  return {imp}({', '.join(cargs)}) != 0;")
                    else:
                        body.append(f"  return ({api_ret}){imp}({', '.join(cargs)});")
                elif mode == "none":
                    body.append(f"  {imp}({', '.join(cargs)});")
                else:
                    sz, al = size(rt), alignment(rt)
                    body.append(f"  static_assert({al} <= 8, \"return area alignment\");")
                    body.append(f"  _Alignas(8) uint8_t area[{sz}];")
                    body.append(f"  {imp}({', '.join(cargs + ['(uint32_t)(uintptr_t)area'])});")
                    body += self.post
                    if mode == "area":
                        body.append(f"  {self.load_fn(rt, iface)}(area, ret);")
                    elif mode == "option":
                        body.append("  if (!area[0]) return false;")
                        body.append(f"  {self.load_fn(srt.args[0], iface)}(area + {payload_offset(srt)}, ret);")
                        body.append("  return true;")
                    else:
                        off = payload_offset(srt)
                        body.append("  if (area[0]) {")
                        body.append(f"    {self.load_fn(srt.args[1], iface)}(area + {off}, err);")
                        body.append("    return false;")
                        body.append("  }")
                        if srt.args[0] is not None:
                            body.append(f"  {self.load_fn(srt.args[0], iface)}(area + {off}, ret);")
                        else:
                            body.append("  (void)area;")
                        body.append("  return true;")
                funcs_src.append(proto + " {\n" + "\n".join(body) + "\n}\n")
            hdr.append("")
        hdr += ["#ifdef __cplusplus", "}", "#endif", "#endif", ""]
        src = ["/* Generated by tools/witgen.py from wit/. Do not edit. */",
               "#include <assert.h>"] + src[1:]
        src += self.helpers + funcs_src
        os.makedirs(os.path.join(outdir, "guest"), exist_ok=True)
        write(os.path.join(outdir, "guest", "elastic_hal_guest.h"), "\n".join(hdr))
        write(os.path.join(outdir, "guest", "elastic_hal_guest.c"), "\n".join(src))


def write(path, text):
    # Only touch files whose content changed, so builds stay incremental.
    try:
        with open(path, encoding="utf-8") as fh:
            if fh.read() == text:
                return
    except FileNotFoundError:
        pass
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


MANIFEST_OPTIONS = {"+state"}  # per-instance state hooks (see the header)


def read_manifest(path):
    """iface -> set of function names, "*" and options ("+state")."""
    out = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.split("#", 1)[0].split()
            if line:
                out[line[0]] = set(line[1:])
    return out


def main():
    ap = argparse.ArgumentParser(description="Generate C host glue and guest bindings from WIT.")
    ap.add_argument("--wit", required=True, help="WIT directory (with deps/)")
    ap.add_argument("--implemented", required=True, help="manifest of host-implemented functions")
    ap.add_argument("--wit-test", metavar="DIR",
                    help="test-only WIT packages (DIR/*.wit) to add, for the test build")
    ap.add_argument("-o", "--out", required=True, help="output directory")
    args = ap.parse_args()
    try:
        pkgs = load_packages(args.wit, args.wit_test)
        manifest = read_manifest(args.implemented)
        known = {i.name: i for p in pkgs for i in p.interfaces.values()}
        for name, funcs in manifest.items():
            if name not in known:
                raise WitError(f"manifest names unknown interface {name}")
            for fn in funcs - {"*"}:
                if fn.startswith("+"):
                    if fn not in MANIFEST_OPTIONS:
                        raise WitError(f"manifest: unknown option {fn} for {name}")
                elif fn not in [f.name for f in known[name].funcs]:
                    raise WitError(f"manifest names unknown function {name}.{fn}")
        os.makedirs(args.out, exist_ok=True)
        HostGen(pkgs, manifest).generate(args.out)
        GuestGen(pkgs, manifest).generate(args.out)
        # the Rust and AssemblyScript back ends (tools/witgen_rust.py,
        # tools/witgen_as.py) use this module's parser and ABI rules: make
        # `import witgen` find this very module
        sys.modules.setdefault("witgen", sys.modules[__name__])
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import witgen_rust
        witgen_rust.RustGen(pkgs, manifest).generate(args.out)
        import witgen_as
        witgen_as.AsGen(pkgs, manifest).generate(args.out)
    except WitError as e:
        print(f"witgen: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
