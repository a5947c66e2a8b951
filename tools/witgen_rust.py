"""witgen's Rust back end: guest/elastic_hal.rs, bindings for Rust workloads.

One self-contained file (no crates from outside: a guest builds with Debian's
rustc alone), built for wasm32-wasi as a crate of its own (an rlib the
workload names with --extern elastic_hal=...) or included as a module.  It has a module per WIT package (elastic_hal::crypto,
elastic_hal::storage, ...) holding the interface's types and safe functions:

  string, list<u8>   &str and &[u8] in, String and Vec<u8> out (owned copies)
  result<T, E>       Result<T, E>; result<_, string> is Result<(), String>
  option, record     Option<T>; a struct with public fields
  enum               a Rust enum (Copy), cast to its discriminant for the ABI
  X-handle = u64     the raw value keeps the alias (XHandle, used inside
                     records and lists); where a function takes one, at the
                     top of a signature it is the owned type X: functions
                     take &X, and return X.  Where the
                     interface has a function that ends the handle (one
                     parameter, result<_, string>, named destroy-*, close,
                     close-* or unsubscribe), X calls it on drop, and the
                     function itself takes X by value.

Below the safe layer are the raw imports, with the core signatures of the
Canonical ABI (the same as the C bindings): return areas, (pointer, length)
pairs.  Strings and lists the HAL returns are allocated through the module's
exported cabi_realloc, which uses the C library's malloc so that freeing them
never depends on how large the HAL made the block; each is copied into an
owned Rust value and freed at once.
"""
import os

import witgen as w

KEYWORDS = {"as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn",
            "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
            "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
            "unsafe", "use", "where", "while", "async", "await", "dyn", "abstract", "become",
            "box", "do", "final", "macro", "override", "priv", "typeof", "unsized", "virtual",
            "yield", "try"}
RUST_PRIM = {"bool": "bool", "u8": "u8", "s8": "i8", "u16": "u16", "s16": "i16", "u32": "u32",
             "s32": "i32", "u64": "u64", "s64": "i64", "f32": "f32", "f64": "f64", "char": "char"}
RUST_CORE = {"i32": "i32", "i64": "i64", "f32": "f32", "f64": "f64"}
CLOSERS = ("destroy-", "close-")


def rid(name):
    n = name.replace("-", "_")
    return f"r#{n}" if n in KEYWORDS else n


def camel(name):
    return "".join(p[:1].upper() + p[1:] for p in name.split("-"))


def doc_lines(doc, indent):
    return [f"{indent}/// {d}".rstrip() for d in doc]


class RustGen:
    def __init__(self, pkgs, manifest):
        self.pkgs, self.manifest = pkgs, manifest
        self.namer = w.Namer("", "", "")  # for its type ids (loader names)

    # -- handles
    def handles(self, iface):
        """alias name -> (owned type name, closing function or None)."""
        out = {}
        for tn in iface.order:
            t = iface.types[tn]
            used = any(pt is t for f in iface.funcs for _, pt in f.params)
            if t.kind == "alias" and tn.endswith("-handle") and w.strip(t).kind == "prim" and used:
                closer = None
                for f in iface.funcs:
                    r = w.strip(f.result) if f.result is not None else None
                    if (len(f.params) == 1 and f.params[0][1] is t and r is not None
                            and r.kind == "result" and r.args[0] is None
                            and (f.name.startswith(CLOSERS) or f.name in ("close", "unsubscribe"))):
                        closer = f
                owned = camel(tn[:-len("-handle")])
                if owned in {camel(n) for n in iface.types}:
                    raise w.WitError(f"{iface.qualified}: Rust name {owned} of {tn} is taken")
                out[tn] = (owned, closer)
        return out

    def top_handle(self, t):
        """The owned type name when t is a handle alias, else None."""
        if t is not None and t.kind == "alias" and t.name in self.hs:
            return self.hs[t.name][0]
        return None

    # -- types
    def rtype(self, t):
        if t is None:
            return "()"
        if t.kind == "prim":
            return RUST_PRIM[t.name]
        if t.kind == "string":
            return "String"
        if t.kind in ("record", "enum", "alias"):
            return camel(t.name)
        if t.kind == "list":
            return f"Vec<{self.rtype(t.args[0])}>"
        if t.kind == "option":
            return f"Option<{self.rtype(t.args[0])}>"
        if t.kind == "result":
            return f"Result<{self.rtype(t.args[0])}, {self.rtype(t.args[1])}>"
        raise w.WitError(f"rust: no type for {t}")

    def ret_type(self, t):
        """The Rust type of a function's result: a handle at the top is owned."""
        h = self.top_handle(t)
        if h:
            return h
        if t is not None and t.kind in ("option", "result"):
            a = [self.top_handle(x) or self.rtype(x) for x in t.args]
            return f"Option<{a[0]}>" if t.kind == "option" else f"Result<{a[0]}, {a[1]}>"
        return self.rtype(t)

    def param_type(self, t):
        h = self.top_handle(t)
        if h:
            return f"&{h}"
        s = w.strip(t)
        if s.kind == "string":
            return "&str"
        if s.kind == "list":
            return "&[u8]" if w.is_bytes(s) else f"&[{self.rtype(s.args[0])}]"
        if s.kind == "record":
            return f"&{self.rtype(t)}"
        return self.rtype(t)

    def copyable(self, t):
        s = w.strip(t)
        if s.kind in ("prim", "enum"):
            return True
        if s.kind == "record":
            return all(self.copyable(ft) for _, ft in s.fields)
        return False

    def emit_types(self, iface, out):
        for tn in iface.order:
            t = iface.types[tn]
            name = camel(tn)
            if t.kind == "alias":
                out.append(f"    pub type {name} = {self.rtype(t.args[0])};")
                if tn in self.hs:
                    self.emit_handle(iface, tn, out)
            elif t.kind == "enum":
                base = {1: "u8", 2: "u16", 4: "u32"}[w.disc_size(len(t.cases))]
                out.append("    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]")
                out.append(f"    #[repr({base})]")
                out.append(f"    pub enum {name} {{")
                out += [f"        {camel(c)} = {i}," for i, c in enumerate(t.cases)]
                out.append("    }")
                out.append(f"    impl {name} {{")
                out.append(f"        fn from_disc(d: u32) -> {name} {{")
                out.append("            match d {")
                out += [f"                {i} => {name}::{camel(c)}," for i, c in enumerate(t.cases)]
                out.append(f'                _ => panic!("the HAL returned {tn} case {{}}", d),')
                out.append("            }")
                out.append("        }")
                out.append("    }")
            elif t.kind == "record":
                derive = "Debug, Clone, Copy, PartialEq" if self.copyable(t) else "Debug, Clone, PartialEq"
                out.append(f"    #[derive({derive})]")
                out.append(f"    pub struct {name} {{")
                out += [f"        pub {rid(fn)}: {self.rtype(ft)}," for fn, ft in t.fields]
                out.append("    }")
            out.append("")

    def emit_handle(self, iface, tn, out):
        owned, closer = self.hs[tn]
        raw = camel(tn)
        what = f"calls `{closer.name}` when dropped" if closer else "holds nothing to release"
        out.append(f"    /// An owned `{tn}`: it {what}.")
        out.append("    #[derive(Debug)]" if closer else "    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]")
        out.append(f"    pub struct {owned}({raw});")
        out.append(f"    impl {owned} {{")
        out.append(f"        /// Takes ownership of a raw handle (one from a record or list).")
        out.append(f"        pub fn from_raw(raw: {raw}) -> {owned} {{ {owned}(raw) }}")
        out.append(f"        pub fn raw(&self) -> {raw} {{ self.0 }}")
        if closer:
            out.append("        /// Gives up ownership: the handle is no longer released on drop.")
            out.append(f"        pub fn into_raw(self) -> {raw} {{ let r = self.0; core::mem::forget(self); r }}")
        out.append("    }")
        if closer:
            out.append(f"    impl Drop for {owned} {{")
            out.append(f"        fn drop(&mut self) {{ let _ = unsafe {{ {rid(closer.name)}_raw(self.0) }}; }}")
            out.append("    }")

    # -- loading values the HAL stored in guest memory
    def load(self, t, p):
        """A Rust expression reading a value of type t at *const u8 p."""
        s = w.strip(t)
        if s.kind == "prim":
            if s.name == "bool":
                return f"*{p} != 0"
            if s.name == "char":
                return f"rt::to_char(core::ptr::read_unaligned({p} as *const u32))"
            return f"core::ptr::read_unaligned({p} as *const {RUST_PRIM[s.name]})"
        if s.kind == "enum":
            base = {1: "u8", 2: "u16", 4: "u32"}[w.disc_size(len(s.cases))]
            return f"{camel(s.name)}::from_disc(core::ptr::read_unaligned({p} as *const {base}) as u32)"
        if s.kind == "string":
            return f"rt::take_string({p})"
        if s.kind == "list" and w.is_bytes(s):
            return f"rt::take_bytes({p})"
        # the rest through one loader function per type, written once
        name = f"load_{self.namer.tid(s)}"
        if name not in self.loader_names:
            self.loader_names.add(name)
            if s.kind == "list":
                el = s.args[0]
                body = [f"rt::take_list(p, {w.size(el)}, |e| {self.load(el, 'e')})"]
            elif s.kind == "record":
                body = [f"{camel(s.name)} {{"]
                body += [f"    {rid(fn)}: {self.load(ft, f'p.add({off})')},"
                         for (fn, ft), off in zip(s.fields, w.field_offsets(s))]
                body.append("}")
            elif s.kind in ("option", "result"):
                off = w.payload_offset(s)
                arms = [self.load(a, f"p.add({off})") if a is not None else "()" for a in s.args]
                if s.kind == "option":
                    body = ["if *p == 0 {", "    None", "} else {", f"    Some({arms[0]})", "}"]
                else:
                    body = ["if *p == 0 {", f"    Ok({arms[0]})", "} else {", f"    Err({arms[1]})", "}"]
            else:
                raise w.WitError(f"rust: cannot load {t}")
            self.loaders.append(f"    unsafe fn {name}(p: *const u8) -> {self.rtype(s)} {{\n" +
                                "".join(f"        {l}\n" for l in body) + "    }\n")
        return f"{name}({p})"

    def lift_direct(self, t, r):
        """A Rust expression for a one-core-value result r."""
        h = self.top_handle(t)
        s = w.strip(t)
        if s.kind == "prim":
            v = {"bool": f"{r} != 0", "char": f"rt::to_char({r} as u32)",
                 "f32": r, "f64": r}.get(s.name, f"{r} as {RUST_PRIM[s.name]}")
            return f"{h}({v})" if h else v
        if s.kind == "enum":
            return f"{camel(s.name)}::from_disc({r} as u32)"
        raise w.WitError(f"rust: cannot lift {t} directly")

    # -- lowering parameters
    def lower(self, t, expr, pre):
        """Core argument expressions for a parameter value (a reference for
        strings, lists and records)."""
        if self.top_handle(t):
            return [f"{expr}.0 as {RUST_CORE[w.flatten(t)[0]]}"]
        s = w.strip(t)
        if s.kind == "prim":
            core = RUST_CORE[w.flatten(s)[0]]
            if s.name in ("f32", "f64"):
                return [expr]
            return [f"{expr} as {core}"]
        if s.kind == "enum":
            return [f"{expr} as i32"]
        if s.kind == "string" or (s.kind == "list" and w.is_bytes(s)):
            return [f"{expr}.as_ptr() as i32", f"{expr}.len() as i32"]
        if s.kind == "list":
            el = w.strip(s.args[0])
            if el.kind != "record" or any(w.strip(ft).kind not in ("prim", "enum") for _, ft in el.fields):
                raise w.WitError("rust: list parameters other than list<u8> and lists of records "
                                 "of scalars are not supported")
            buf = f"canon{len(pre)}"
            es = w.size(el)
            pre.append(f"        let mut {buf} = vec![0u64; ({expr}.len() * {es} + 7) / 8];")
            pre.append(f"        for (i, e) in {expr}.iter().enumerate() {{")
            pre.append(f"            let at = ({buf}.as_mut_ptr() as *mut u8).add(i * {es});")
            for (fn, ft), off in zip(el.fields, w.field_offsets(el)):
                fs = w.strip(ft)
                if fs.kind == "enum":
                    base = {1: "u8", 2: "u16", 4: "u32"}[w.disc_size(len(fs.cases))]
                    val, ty = f"e.{rid(fn)} as {base}", base
                elif fs.name == "bool":
                    val, ty = f"e.{rid(fn)} as u8", "u8"
                elif fs.name == "char":
                    val, ty = f"e.{rid(fn)} as u32", "u32"
                else:
                    val, ty = f"e.{rid(fn)}", RUST_PRIM[fs.name]
                pre.append(f"            core::ptr::write_unaligned(at.add({off}) as *mut {ty}, {val});")
            pre.append("        }")
            return [f"{buf}.as_ptr() as i32", f"{expr}.len() as i32"]
        if s.kind == "record":
            out = []
            for fn, ft in s.fields:
                out += self.lower(ft, f"{expr}.{rid(fn)}", pre)
            return out
        raise w.WitError(f"rust: parameter type {t} not supported")

    # -- functions
    def emit_func(self, iface, f, out):
        params, results = w.core_signature(f)
        imp = f"{rid(f.name)}_raw"
        names = self.manifest.get(iface.name)
        linked = names is not None and ("*" in names or f.name in names)
        closes = next((h for h, (o, c) in self.hs.items() if c is f), None)

        decl = ", ".join(f"a{i}: {RUST_CORE[p]}" for i, p in enumerate(params))
        ret = f" -> {RUST_CORE[results[0]]}" if results else ""
        self.imports.append(f'        #[link_name = "{f.name}"]')
        self.imports.append(f"        pub fn {imp}({decl}){ret};")

        ps = []
        for pname, pt in f.params:
            ty = self.param_type(pt)
            if closes:
                ty = ty.lstrip("&")
            ps.append(f"{rid(pname)}: {ty}")
        rt = self.ret_type(f.result)
        out += doc_lines(f.doc, "    ")
        if not linked:
            out.append('    #[deprecated(note = "not implemented by this HAL: a guest that imports it '
                       'does not link")]')
        out.append(f"    pub fn {rid(f.name)}({', '.join(ps)}) -> {rt} {{")
        pre, args = [], []
        for pname, pt in f.params:
            args += self.lower(pt, rid(pname), pre)
        body = ["    unsafe {"] + pre
        if closes:
            body.append(f"        let {rid(f.params[0][0])} = core::mem::ManuallyDrop::new({rid(f.params[0][0])});")
        if f.result is None:
            body.append(f"        raw::{imp}({', '.join(args)})")
        elif results:
            body.append(f"        let r = raw::{imp}({', '.join(args)});")
            body.append(f"        {self.lift_direct(f.result, 'r')}")
        else:
            sz = w.size(f.result)
            body.append(f"        let mut area = rt::Area::<{sz}>::new();")
            body.append(f"        raw::{imp}({', '.join(args + ['area.ptr() as i32'])});")
            body.append("        let p = area.ptr() as *const u8;")
            v = self.load(f.result, "p")
            h = self.top_handle(f.result)
            s = f.result
            if h:
                v = f"{h}({v})"
            elif s.kind in ("option", "result") and any(self.top_handle(a) for a in s.args):
                wrap = [self.top_handle(a) for a in s.args]
                v = f"({v})" + (f".map({wrap[0]})" if wrap[0] else "") + \
                    (f".map_err({wrap[1]})" if len(wrap) > 1 and wrap[1] else "")
            body.append(f"        {v}")
        body.append("    }")
        out += ["    " + l if l else l for l in body]
        out.append("    }")
        out.append("")
        if closes:
            # the drop path: the raw call, its result ignored
            self.raw_closers.append(
                f"    unsafe fn {imp}(h: {camel(closes)}) -> i32 {{\n"
                f"        let mut area = rt::Area::<{w.size(f.result)}>::new();\n"
                f"        raw::{imp}(h as {RUST_CORE[w.flatten(f.params[0][1])[0]]}, area.ptr() as i32);\n"
                f"        let p = area.ptr() as *const u8;\n"
                f"        let _ = {self.load(f.result, 'p')};\n"
                f"        0\n    }}\n")

    def generate(self, outdir):
        ifaces = sorted((i for p in self.pkgs for i in p.interfaces.values()), key=lambda i: i.pkg.name)
        out = ["// Generated by tools/witgen.py from wit/. Do not edit.",
               "//",
               "// Rust bindings for ELASTIC TEE HAL workloads built for wasm32-wasi",
               "// (tools/witgen_rust.py says how WIT maps to Rust).  A crate of its own:",
               "//   rustc --edition 2021 --target wasm32-wasi -O --crate-type rlib \\",
               "//     --crate-name elastic_hal elastic_hal.rs -o libelastic_hal.rlib",
               "// and the workload with --extern elastic_hal=libelastic_hal.rlib (or",
               '// include it as a module: #[path = "elastic_hal.rs"] mod elastic_hal;).',
               "#![allow(dead_code, unused_imports, unused_unsafe, clippy::all)]",
               "",
               RUNTIME]
        for iface in ifaces:
            self.hs = self.handles(iface)
            self.imports, self.raw_closers = [], []
            self.loaders, self.loader_names = [], set()
            body = []
            self.emit_types(iface, body)
            for f in iface.funcs:
                self.emit_func(iface, f, body)
            out.append(f"/// `{iface.qualified}`")
            out.append(f"pub mod {rid(iface.pkg.name)} {{")
            out.append("    use super::rt;")
            out.append("")
            out += body
            out += self.raw_closers
            out += self.loaders
            out.append("    mod raw {")
            out.append(f'        #[link(wasm_import_module = "{iface.qualified}")]')
            out.append('        extern "C" {')
            out += ["    " + l for l in self.imports]
            out.append("        }")
            out.append("    }")
            out.append("}")
            out.append("")
        os.makedirs(os.path.join(outdir, "guest"), exist_ok=True)
        w.write(os.path.join(outdir, "guest", "elastic_hal.rs"), "\n".join(out))


# The module's small runtime: the allocator the HAL calls and the helpers that
# turn what it returned into owned Rust values.
RUNTIME = r'''mod rt {
    extern "C" {
        fn malloc(n: usize) -> *mut u8;
        fn realloc(p: *mut u8, n: usize) -> *mut u8;
        fn free(p: *mut u8);
        fn abort() -> !;
    }

    /// The Canonical ABI allocator through which the HAL returns strings
    /// and lists.  malloc aligns to 16, more than any WIT type needs.
    #[no_mangle]
    pub unsafe extern "C" fn cabi_realloc(old: *mut u8, _old_size: usize, align: usize,
                                          new_size: usize) -> *mut u8 {
        if new_size == 0 {
            return align as *mut u8;
        }
        let p = if old.is_null() { malloc(new_size) } else { realloc(old, new_size) };
        if p.is_null() || align > 16 || (p as usize) & (align - 1) != 0 {
            abort();
        }
        p
    }

    /// A return area, aligned for any result.
    #[repr(C, align(8))]
    pub struct Area<const N: usize>([u8; N]);
    impl<const N: usize> Area<N> {
        pub fn new() -> Self { Area([0; N]) }
        pub fn ptr(&mut self) -> *mut u8 { self.0.as_mut_ptr() }
    }

    /// The (pointer, length) at p; empty lists carry no block to free.
    unsafe fn ptr_len(p: *const u8) -> (*mut u8, usize) {
        let ptr = core::ptr::read_unaligned(p as *const u32) as usize as *mut u8;
        let len = core::ptr::read_unaligned(p.add(4) as *const u32) as usize;
        (ptr, len)
    }

    pub unsafe fn take_bytes(p: *const u8) -> Vec<u8> {
        let (ptr, len) = ptr_len(p);
        if len == 0 {
            return Vec::new();
        }
        let v = core::slice::from_raw_parts(ptr, len).to_vec();
        free(ptr);
        v
    }

    pub unsafe fn take_string(p: *const u8) -> String {
        match String::from_utf8(take_bytes(p)) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }

    pub fn to_char(c: u32) -> char {
        char::from_u32(c).unwrap_or('\u{fffd}')
    }

    pub unsafe fn take_list<T>(p: *const u8, size: usize, load: impl Fn(*const u8) -> T) -> Vec<T> {
        let (ptr, n) = ptr_len(p);
        let v = (0..n).map(|i| load(ptr.add(i * size))).collect();
        if n != 0 {
            free(ptr);
        }
        v
    }
}
'''
