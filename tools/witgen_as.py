"""witgen's AssemblyScript back end: guest/elastic_hal.ts, bindings for
AssemblyScript workloads.

One self-contained file for asc (pinned in package.json), copied next to the
workload's sources and imported from there.  It has a namespace per WIT
package (crypto, storage, ...) holding the interface's types and functions:

  string             string in and out (UTF-8 on the wire)
  list<u8>           Uint8Array in and out; other lists Array<T>
  record             a class with public fields (a constructor taking them
                     all, in order)
  enum               an AssemblyScript enum whose values are the discriminants
  option<T>          T | null where T is a reference type, Some<T> | null
                     where it is a scalar (or itself nullable)
  result<T, string>  Result<T> (ok, value, error; unwrap() aborts with the
                     error); result<_, string> is VoidResult
  X-handle = u64     a type alias of u64: raw handles (AssemblyScript has no
                     destructors, so nothing closes one behind your back)
  char               u32, the code point

Below each namespace's functions are the raw imports, with the core signatures
of the Canonical ABI (the same as the C and Rust bindings): one static return
area, (pointer, length) pairs.  Strings and lists the HAL returns are
allocated through the module's exported cabi_realloc, over AssemblyScript's
unmanaged heap; each is copied into a managed value and its block freed at
once (empty ones carry no block).  The file also holds the WASI helpers a
workload needs (print, printErr, exit, and halAbort, which replaces
AssemblyScript's env.abort import: build with
--use abort=assembly/elastic_hal/halAbort).
"""
import os
import re

import witgen as w

KEYWORDS = {"break", "case", "catch", "class", "const", "continue", "debugger", "default",
            "delete", "do", "else", "enum", "export", "extends", "false", "finally", "for",
            "function", "if", "import", "in", "instanceof", "new", "null", "return", "super",
            "switch", "this", "throw", "true", "try", "typeof", "var", "void", "while", "with",
            "implements", "interface", "let", "package", "private", "protected", "public",
            "static", "yield", "type", "declare", "namespace", "abstract", "as", "is", "of",
            "readonly", "keyof", "module", "get", "set", "async", "await", "constructor",
            "from", "any", "never", "unknown", "undefined"}
AS_PRIM = {"bool": "bool", "u8": "u8", "s8": "i8", "u16": "u16", "s16": "i16", "u32": "u32",
           "s32": "i32", "u64": "u64", "s64": "i64", "f32": "f32", "f64": "f64", "char": "u32"}
# Names the generated code uses inside the namespaces (builtins, the runtime
# below, AssemblyScript's types): a WIT name that would shadow one gets a "_".
RESERVED = {"load", "store", "heap", "memory", "changetype", "isReference", "unreachable",
            "String", "Uint8Array", "Array", "ArrayBuffer", "Error", "RET", "Result",
            "VoidResult", "Some", "takeString", "takeBytes", "checkCase", "print", "printErr",
            "exit", "halAbort", "toHex", "utf8", "cabi_realloc", "bool", "string", "usize",
            "isize", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "f32", "f64", "v128"}
LOCAL = re.compile(r"^(enc|canon|at|el|i)[0-9]+$")  # the wrappers' own locals
UNLINKED = "Not implemented by this HAL: a guest that imports it does not link."


def ident(name):
    n = name[:1].lower() + name[1:]
    return n + "_" if n in KEYWORDS or n in RESERVED or LOCAL.match(n) else n


def camel(name):
    """lowerCamel for functions, fields and parameters."""
    parts = name.split("-")
    return ident(parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:]))


def pascal(name):
    """UpperCamel for types and enum cases."""
    n = "".join(p[:1].upper() + p[1:] for p in name.split("-"))
    return n + "_" if n in RESERVED else n


def snake(name):
    return name.replace("-", "_")


def wit_type(t):
    """A type as the WIT spells it (for doc comments)."""
    if t is None:
        return "_"
    if t.kind == "prim":
        return t.name
    if t.kind == "string":
        return "string"
    if t.kind in ("record", "enum", "alias"):
        return t.name
    if t.kind in ("list", "option"):
        return f"{t.kind}<{wit_type(t.args[0])}>"
    ok, err = t.args
    if err is None:
        return "result" if ok is None else f"result<{wit_type(ok)}>"
    return f"result<{wit_type(ok)}, {wit_type(err)}>"


def wit_sig(f):
    ps = ", ".join(f"{n}: {wit_type(t)}" for n, t in f.params)
    return f"{f.name}: func({ps})" + (f" -> {wit_type(f.result)}" if f.result is not None else "")


def doc_block(lines, indent):
    lines = [l.replace("*/", "*\\/") for l in lines]
    if len(lines) == 1:
        return [f"{indent}/** {lines[0]} */"]
    return [f"{indent}/**"] + [f"{indent} * {l}".rstrip() for l in lines] + [f"{indent} */"]


def disc_type(t):
    return {1: "u8", 2: "u16", 4: "u32"}[w.disc_size(len(t.cases))]


def at(p, off):
    return f"{p} + {off}" if off else p


class AsGen:
    def __init__(self, pkgs, manifest):
        self.pkgs, self.manifest = pkgs, manifest
        self.namer = w.Namer("", "", "")  # for its type ids (loader names)

    # -- types
    def is_ref(self, t):
        return w.strip(t).kind not in ("prim", "enum")

    def astype(self, t):
        if t.kind == "prim":
            return AS_PRIM[t.name]
        if t.kind == "string":
            return "string"
        if t.kind in ("record", "enum", "alias"):
            return pascal(t.name)
        if t.kind == "list":
            return "Uint8Array" if w.is_bytes(t) else f"Array<{self.astype(t.args[0])}>"
        if t.kind == "option":
            inner = t.args[0]
            if self.is_ref(inner) and w.strip(inner).kind != "option":
                return f"{self.astype(inner)} | null"
            return f"Some<{self.astype(inner)}> | null"
        if t.kind == "result":
            ok, err = t.args
            if err is None or w.strip(err).kind != "string":
                raise w.WitError(f"assemblyscript: only result<T, string> is supported, not {wit_type(t)}")
            return "VoidResult" if ok is None else f"Result<{self.astype(ok)}>"
        raise w.WitError(f"assemblyscript: no type for {t}")

    def emit_types(self, iface, out):
        for tn in iface.order:
            t = iface.types[tn]
            name = pascal(tn)
            if t.kind == "alias":
                out.append(f"  /** WIT `type {tn} = {wit_type(t.args[0])}`. */")
                out.append(f"  export type {name} = {self.astype(t.args[0])};")
            elif t.kind == "enum":
                out.append(f"  /** WIT enum `{tn}`: the values are the discriminants. */")
                out.append(f"  export enum {name} {{")
                out += [f"    {pascal(c)} = {i}," for i, c in enumerate(t.cases)]
                out.append("  }")
            elif t.kind == "record":
                out.append(f"  /** WIT record `{tn}`. */")
                out.append(f"  export class {name} {{")
                out.append("    constructor(")
                out += [f"      public {camel(fn)}: {self.astype(ft)}," for fn, ft in t.fields]
                out.append("    ) {}")
                out.append("  }")
            out.append("")

    # -- loading values the HAL stored in guest memory
    def load(self, t, p):
        """An expression reading a value of type t at address p (a usize)."""
        s = w.strip(t)
        if s.kind == "prim":
            if s.name == "bool":
                return f"load<u8>({p}) != 0"
            return f"load<{AS_PRIM[s.name]}>({p})"
        if s.kind == "enum":
            return f"<{pascal(s.name)}>checkCase(load<{disc_type(s)}>({p}), {len(s.cases)}, \"{s.name}\")"
        if s.kind == "string":
            return f"takeString({p})"
        if s.kind == "list" and w.is_bytes(s):
            return f"takeBytes({p})"
        # the rest through one loader function per type, written once
        name = f"load_{self.namer.tid(s)}"
        if name not in self.loader_names:
            self.loader_names.add(name)
            ty = self.astype(s)
            if s.kind == "list":
                el = s.args[0]
                body = ["const ptr = <usize>load<u32>(p);",
                        "const n = load<u32>(p, 4);",
                        f"const out = new Array<{self.astype(el)}>();",
                        f"for (let i: u32 = 0; i < n; i++) out.push({self.load(el, f'ptr + <usize>i * {w.size(el)}')});",
                        "if (n != 0) heap.free(ptr);",
                        "return out;"]
            elif s.kind == "record":
                body = [f"return new {pascal(s.name)}("]
                body += [f"  {self.load(ft, at('p', off))},"
                         for (_, ft), off in zip(s.fields, w.field_offsets(s))]
                body.append(");")
            elif s.kind == "option":
                v = self.load(s.args[0], at("p", w.payload_offset(s)))
                if not ty.startswith("Some<"):
                    body = ["if (load<u8>(p) == 0) return null;", f"return {v};"]
                else:
                    inner = self.astype(s.args[0])
                    body = ["if (load<u8>(p) == 0) return null;", f"return new Some<{inner}>({v});"]
            elif s.kind == "result":
                off = w.payload_offset(s)
                err = f"takeString({at('p', off)})"
                if s.args[0] is None:
                    body = [f"if (load<u8>(p) != 0) return new VoidResult({err});",
                            "return new VoidResult(null);"]
                else:
                    ok = self.astype(s.args[0])
                    body = [f"if (load<u8>(p) != 0) return Result.err<{ok}>({err});",
                            f"return Result.ok<{ok}>({self.load(s.args[0], at('p', off))});"]
            else:
                raise w.WitError(f"assemblyscript: cannot load {wit_type(t)}")
            self.loaders.append(f"  function {name}(p: usize): {ty} {{\n" +
                                "".join(f"    {l}\n" for l in body) + "  }\n")
        return f"{name}({p})"

    def lift_direct(self, t, r):
        """An expression for a one-core-value result r."""
        s = w.strip(t)
        if s.kind == "prim":
            if s.name == "bool":
                return f"{r} != 0"
            return r if s.name in ("f32", "f64") else f"<{AS_PRIM[s.name]}>{r}"
        if s.kind == "enum":
            return f"<{pascal(s.name)}>checkCase(<u32>{r}, {len(s.cases)}, \"{s.name}\")"
        raise w.WitError(f"assemblyscript: cannot lift {wit_type(t)} directly")

    # -- lowering parameters
    def lower(self, t, expr, pre):
        """Core argument expressions for a parameter value; statements that
        must run first (UTF-8 encodings, canonical buffers) go to pre."""
        s = w.strip(t)
        if s.kind in ("prim", "enum"):
            core = w.flatten(s)[0]
            return [expr] if core in ("f32", "f64") else [f"<{core}>{expr}"]
        if s.kind == "string":
            buf = f"enc{len(pre)}"
            pre.append(f"const {buf} = String.UTF8.encode({expr});")
            return [f"<i32>changetype<usize>({buf})", f"{buf}.byteLength"]
        if s.kind == "list" and w.is_bytes(s):
            return [f"<i32>{expr}.dataStart", f"{expr}.length"]
        if s.kind == "list":
            return self.lower_list(s, expr, pre)
        if s.kind == "record":
            out = []
            for fn, ft in s.fields:
                out += self.lower(ft, f"{expr}.{camel(fn)}", pre)
            return out
        raise w.WitError(f"assemblyscript: parameter type {wit_type(t)} not supported")

    def lower_list(self, s, expr, pre):
        """A list<record of scalars>: its elements stored in canonical layout
        in a temporary buffer (a managed ArrayBuffer, 16-aligned, that the
        local keeps alive until the call)."""
        el = w.strip(s.args[0])
        if el.kind != "record" or any(w.strip(ft).kind not in ("prim", "enum") for _, ft in el.fields):
            raise w.WitError("assemblyscript: list parameters other than list<u8> and lists of "
                             "records of scalars are not supported")
        k, es = len(pre), w.size(el)
        buf, i, e, a = f"canon{k}", f"i{k}", f"el{k}", f"at{k}"
        pre.append(f"const {buf} = new ArrayBuffer({expr}.length * {es});")
        pre.append(f"for (let {i} = 0; {i} < {expr}.length; {i}++) {{")
        pre.append(f"  const {e} = {expr}[{i}];")
        pre.append(f"  const {a} = changetype<usize>({buf}) + <usize>{i} * {es};")
        for (fn, ft), off in zip(el.fields, w.field_offsets(el)):
            fs = w.strip(ft)
            v = f"{e}.{camel(fn)}"
            if fs.kind == "enum":
                ty, v = disc_type(fs), f"<{disc_type(fs)}>{v}"
            elif fs.name == "bool":
                ty, v = "u8", f"{v} ? 1 : 0"
            else:
                ty = AS_PRIM[fs.name]
            pre.append(f"  store<{ty}>({at(a, off)}, {v});")
        pre.append("}")
        return [f"<i32>changetype<usize>({buf})", f"{expr}.length"]

    # -- functions
    def emit_func(self, iface, f, out):
        params, results = w.core_signature(f)
        imp = f"{snake(f.name)}_raw"
        names = self.manifest.get(iface.name)
        linked = names is not None and ("*" in names or f.name in names)

        decl = ", ".join(f"a{i}: {p}" for i, p in enumerate(params))
        self.imports.append(f'  @external("{iface.qualified}", "{f.name}")')
        self.imports.append(f"  declare function {imp}({decl}): {results[0] if results else 'void'};")

        doc = [f"`{wit_sig(f)}`"]
        if f.doc:
            doc += [""] + f.doc
        if not linked:
            doc += ["", f"@deprecated {UNLINKED}"]
        out += doc_block(doc, "  ")
        ps = ", ".join(f"{camel(n)}: {self.astype(t)}" for n, t in f.params)
        rt = self.astype(f.result) if f.result is not None else "void"
        out.append(f"  export function {camel(f.name)}({ps}): {rt} {{")
        pre, args = [], []
        for pname, pt in f.params:
            args += self.lower(pt, camel(pname), pre)
        body = list(pre)
        if f.result is None:
            body.append(f"{imp}({', '.join(args)});")
        elif results:
            call = f"{imp}({', '.join(args)})"
            body.append(f"return {self.lift_direct(f.result, call)};")
        else:
            body.append(f"{imp}({', '.join(args + ['<i32>RET'])});")
            body.append(f"return {self.load(f.result, 'RET')};")
        out += [f"    {l}" for l in body]
        out.append("  }")
        out.append("")

    def area_size(self, ifaces):
        """The largest return area any function needs (the static RET)."""
        n = 8
        for iface in ifaces:
            for f in iface.funcs:
                if f.result is not None and not w.core_signature(f)[1]:
                    if w.alignment(f.result) > 8:
                        raise w.WitError(f"{f.name}: a return area aligned to more than 8")
                    n = max(n, w.align_to(w.size(f.result), 8))
        return n

    def generate(self, outdir):
        ifaces = sorted((i for p in self.pkgs for i in p.interfaces.values()), key=lambda i: i.pkg.name)
        out = ["// Generated by tools/witgen.py from wit/. Do not edit.",
               "//",
               "// AssemblyScript bindings for ELASTIC TEE HAL workloads (tools/witgen_as.py",
               "// says how WIT maps to AssemblyScript).  Copy this file next to the",
               "// workload's sources (assembly/elastic_hal.ts) and, in the entry file:",
               '//   import { crypto, print } from "./elastic_hal";',
               '//   export { cabi_realloc } from "./elastic_hal";',
               "// Build with asc ... --runtime incremental --use abort=assembly/elastic_hal/halAbort",
               "// (the HAL provides no env.abort).",
               "",
               RUNTIME.replace("@RET_SIZE@", str(self.area_size(ifaces)))]
        seen = {}
        for iface in ifaces:
            ns = camel(iface.pkg.name)
            if ns in seen:
                raise w.WitError(f"assemblyscript: {iface.qualified} and {seen[ns]} share namespace {ns}")
            seen[ns] = iface.qualified
            self.imports, self.loaders, self.loader_names = [], [], set()
            body = []
            self.emit_types(iface, body)
            for f in iface.funcs:
                self.emit_func(iface, f, body)
            out.append("// " + "-" * 75)
            out.append(f"/** `{iface.qualified}` */")
            out.append(f"export namespace {ns} {{")
            out += body
            out += self.loaders
            out += self.imports
            out.append("}")
            out.append("")
        os.makedirs(os.path.join(outdir, "guest"), exist_ok=True)
        w.write(os.path.join(outdir, "guest", "elastic_hal.ts"), "\n".join(out))


# The module's small runtime: the allocator the HAL calls, the helpers that
# turn what it returned into managed values, the result types, and WASI.
RUNTIME = r'''// ---------------------------------------------------------------------------
// WASI preview 1 (the HAL implements stdout/stderr, proc_exit, clocks, ...)

@external("wasi_snapshot_preview1", "fd_write")
declare function wasi_fd_write(fd: u32, iovs: usize, iovsLen: u32, nwritten: usize): u16;

@external("wasi_snapshot_preview1", "proc_exit")
declare function wasi_proc_exit(code: u32): void;

function writeAll(fd: u32, text: string): void {
  const buf = String.UTF8.encode(text);
  const iov = memory.data(8, 4); // one ciovec: buf, buf_len
  const nwritten = memory.data(4, 4);
  let ptr = changetype<usize>(buf);
  let left = <u32>buf.byteLength;
  while (left > 0) {
    store<u32>(iov, <u32>ptr);
    store<u32>(iov, left, 4);
    if (wasi_fd_write(fd, iov, 1, nwritten) != 0) return;
    const n = load<u32>(nwritten);
    if (n == 0) return;
    ptr += n;
    left -= n;
  }
}

/** Print a line on stdout (WASI fd_write to fd 1). */
export function print(line: string): void {
  writeAll(1, line + "\n");
}

/** Print a line on stderr (fd 2). */
export function printErr(line: string): void {
  writeAll(2, line + "\n");
}

/** End the program with this exit status (WASI proc_exit). */
export function exit(code: u32): void {
  wasi_proc_exit(code);
  unreachable(); // proc_exit does not return
}

/** Replaces AssemblyScript's env.abort (`--use abort=assembly/elastic_hal/halAbort`):
 *  failed assertions, thrown errors and unwrap() of an error end up here. */
export function halAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = "abort: " + (message !== null ? message : "(no message)");
  if (fileName !== null) text += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  printErr(text);
  wasi_proc_exit(1);
  unreachable();
}

/** Lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  const digits = "0123456789abcdef";
  let s = "";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    s += digits.charAt(b >> 4) + digits.charAt(b & 15);
  }
  return s;
}

/** The UTF-8 bytes of a string, as a Uint8Array. */
export function utf8(text: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(text));
}

// ---------------------------------------------------------------------------
// Canonical ABI plumbing

/** The allocator the HAL calls to place returned strings and lists in this
 *  module's memory.  Re-export it from the entry file. */
export function cabi_realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  if (newSize == 0) return align; // a dummy, suitably aligned pointer
  // heap blocks are 16-byte aligned; nothing in the HAL's WIT needs more
  if (align == 0 || align > 16 || (align & (align - 1)) != 0) unreachable();
  return oldPtr == 0 ? heap.alloc(newSize) : heap.realloc(oldPtr, newSize);
}

// One return area, reused by every call (the module is single-threaded and
// each wrapper reads it before the next call): 8-aligned, as large as the
// largest the HAL's functions need.
const RET: usize = memory.data(@RET_SIZE@, 8);

/** A string the HAL returned (pointer, length at `at`): copied and freed. */
function takeString(at: usize): string {
  const ptr = <usize>load<u32>(at);
  const len = <usize>load<u32>(at, 4);
  if (len == 0) return "";
  const s = String.UTF8.decodeUnsafe(ptr, len);
  heap.free(ptr);
  return s;
}

/** A list<u8> the HAL returned (pointer, length at `at`): copied and freed. */
function takeBytes(at: usize): Uint8Array {
  const ptr = <usize>load<u32>(at);
  const len = load<u32>(at, 4);
  const out = new Uint8Array(<i32>len);
  if (len != 0) {
    memory.copy(out.dataStart, ptr, <usize>len);
    heap.free(ptr);
  }
  return out;
}

/** An enum's discriminant, checked against its number of cases. */
function checkCase(d: u32, cases: u32, what: string): i32 {
  if (d >= cases) throw new Error("the HAL returned " + what + " case " + d.toString());
  return <i32>d;
}

/** The outcome of a function returning result<T, string>: `ok` and `value`,
 *  or `error`.  `unwrap()` gives the value, or aborts with the error. */
export class Result<T> {
  private constructor(private readonly _value: T, public readonly error: string | null) {}

  static ok<T>(value: T): Result<T> {
    return new Result<T>(value, null);
  }

  static err<T>(error: string): Result<T> {
    if (isReference<T>()) return new Result<T>(changetype<T>(0), error);
    return new Result<T>(<T>0, error);
  }

  get ok(): bool {
    return this.error === null;
  }

  /** The value; only meaningful when ok. */
  get value(): T {
    return this._value;
  }

  unwrap(): T {
    const e = this.error;
    if (e !== null) throw new Error(e);
    return this._value;
  }
}

/** The outcome of a function returning result<_, string>: `ok`, or `error`.
 *  `unwrap()` aborts with the error. */
export class VoidResult {
  constructor(public readonly error: string | null) {}

  get ok(): bool {
    return this.error === null;
  }

  unwrap(): void {
    const e = this.error;
    if (e !== null) throw new Error(e);
  }
}

/** An option<T> whose T is a scalar: `Some<T> | null`, null for none. */
export class Some<T> {
  constructor(public readonly value: T) {}
}
'''
