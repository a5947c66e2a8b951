//! fs_std.rs - Rust's std::fs on the sealed filesystem (std only, no crates;
//! builds with Debian's rustc 1.63 for wasm32-wasi):
//! `elastic-hal run --dir /data fs_std.wasm ARGS`.
//!
//!   DIR                  every std::fs call and its error cases, as TAP lines
//!   persist DIR write    write DIR/persist.bin with known contents
//!   persist DIR check    check DIR/persist.bin holds them
use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

// WASI preview 1 errno values (raw_os_error on wasm32-wasi)
const EEXIST: i32 = 20;
const EINVAL: i32 = 28;
const EISDIR: i32 = 31;
const ENOENT: i32 = 44;
const ENOTDIR: i32 = 54;
const ENOTEMPTY: i32 = 55;
const ENOTSUP: i32 = 58;
const EPERM: i32 = 63;
const ENOTCAPABLE: i32 = 76;

struct Tap {
    n: u32,
    failed: u32,
}

impl Tap {
    fn ok(&mut self, cond: bool, desc: &str) {
        self.n += 1;
        println!(
            "{} {} - {}",
            if cond { "ok" } else { "not ok" },
            self.n,
            desc
        );
        if !cond {
            self.failed += 1;
        }
    }
    /// a Result that must be Ok and satisfy `f`; the error is in the line
    fn check<T>(&mut self, r: io::Result<T>, f: impl FnOnce(&T) -> bool, desc: &str) {
        match r {
            Ok(v) => {
                let c = f(&v);
                self.ok(c, desc)
            }
            Err(e) => self.ok(
                false,
                &format!("{} (error: {} {:?})", desc, e, e.raw_os_error()),
            ),
        }
    }
    /// a Result that must be Err with one of the errnos (or the ErrorKind)
    fn fails<T>(&mut self, r: io::Result<T>, kind: Option<ErrorKind>, errnos: &[i32], desc: &str) {
        match r {
            Ok(_) => self.ok(false, &format!("{} (succeeded)", desc)),
            Err(e) => {
                let c = kind.map_or(false, |k| e.kind() == k)
                    || e.raw_os_error().map_or(false, |n| errnos.contains(&n));
                self.ok(
                    c,
                    &format!("{} ({:?}, errno {:?})", desc, e.kind(), e.raw_os_error()),
                )
            }
        }
    }
}

fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len)
        .map(|i| ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) >> 13) as u8)
        .collect()
}

fn read_all(p: &Path) -> io::Result<Vec<u8>> {
    let mut v = Vec::new();
    File::open(p)?.read_to_end(&mut v)?;
    Ok(v)
}

fn names(d: &Path) -> io::Result<Vec<String>> {
    let mut v = Vec::new();
    for e in fs::read_dir(d)? {
        v.push(e?.file_name().to_string_lossy().into_owned());
    }
    v.sort();
    Ok(v)
}

fn conformance(dir: &Path) -> Tap {
    let mut t = Tap { n: 0, failed: 0 };
    let f = dir.join("file.txt");

    // ---- files: create, write, read, seek ----
    t.check(
        File::create(&f).and_then(|mut h| h.write_all(b"hello, sealed world")),
        |_| true,
        "File::create, write_all",
    );
    t.check(
        fs::read_to_string(&f),
        |s| s == "hello, sealed world",
        "fs::read_to_string",
    );
    t.fails(
        OpenOptions::new().write(true).create_new(true).open(&f),
        Some(ErrorKind::AlreadyExists),
        &[EEXIST],
        "create_new on an existing file: AlreadyExists",
    );
    let r = (|| -> io::Result<(u64, String, u64, u64, String)> {
        let mut h = OpenOptions::new().read(true).write(true).open(&f)?;
        let a = h.seek(SeekFrom::Start(7))?;
        let mut s = [0u8; 6];
        h.read_exact(&mut s)?;
        let b = h.seek(SeekFrom::Current(0))?;
        let c = h.seek(SeekFrom::End(-5))?;
        let mut rest = String::new();
        h.read_to_string(&mut rest)?;
        Ok((a, String::from_utf8_lossy(&s).into_owned(), b, c, rest))
    })();
    t.check(
        r,
        |(a, s, b, c, rest)| *a == 7 && s == "sealed" && *b == 13 && *c == 14 && rest == "world",
        "Seek: SeekFrom::Start, Current, End; read_exact, read_to_string",
    );
    let r = (|| -> io::Result<(u64, u64)> {
        let mut h = OpenOptions::new().read(true).write(true).open(&f)?;
        h.seek(SeekFrom::End(0))?;
        let back = h.seek(SeekFrom::Current(-5))?;
        h.write_all(b"WORLD")?;
        let e = h.seek(SeekFrom::Current(0))?;
        Ok((back, e))
    })();
    t.check(
        r,
        |&(b, e)| b == 14 && e == 19,
        "SeekFrom::Current backwards, then write_all",
    );
    t.check(
        fs::read(&f),
        |v| v == b"hello, sealed WORLD",
        "... overwrites in place",
    );
    t.fails(
        File::open(&f).and_then(|mut h| h.seek(SeekFrom::Current(-100))),
        Some(ErrorKind::InvalidInput),
        &[EINVAL],
        "seeking before the start: InvalidInput (EINVAL)",
    );
    t.fails(
        File::open(&f).and_then(|mut h| h.write(b"x")),
        None,
        &[8 /* EBADF */, ENOTCAPABLE],
        "write on a file opened read-only fails",
    );

    // append, truncate
    t.check(
        OpenOptions::new().append(true).open(&f).and_then(|mut h| {
            h.write_all(b" + more")?;
            h.seek(SeekFrom::Start(0))?;
            h.write_all(b"!")
        }),
        |_| true,
        "OpenOptions::append: write_all, seek, write_all",
    );
    t.check(
        fs::read(&f),
        |v| v == b"hello, sealed WORLD + more!",
        "... every write goes to the end",
    );
    t.check(
        OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&f)
            .and_then(|h| h.metadata()),
        |m| m.len() == 0,
        "OpenOptions::truncate empties",
    );
    t.check(
        OpenOptions::new()
            .write(true)
            .create(true)
            .open(dir.join("made.txt"))
            .and_then(|h| h.metadata()),
        |m| m.is_file() && m.len() == 0,
        "OpenOptions::create makes a missing file",
    );
    t.check(
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(dir.join("new.txt")),
        |_| true,
        "create_new on a missing name creates it",
    );

    // set_len, metadata, sync
    let r = (|| -> io::Result<(u64, u64, Vec<u8>)> {
        let mut h = OpenOptions::new().read(true).write(true).open(&f)?;
        h.write_all(b"0123456789")?;
        h.set_len(4)?;
        let a = h.metadata()?.len();
        h.set_len(8)?;
        let b = h.metadata()?.len();
        let mut v = Vec::new();
        h.seek(SeekFrom::Start(0))?;
        h.read_to_end(&mut v)?;
        Ok((a, b, v))
    })();
    t.check(
        r,
        |(a, b, v)| *a == 4 && *b == 8 && v == b"0123\0\0\0\0",
        "set_len shrinks, then grows with zeros",
    );
    let r = (|| -> io::Result<()> {
        let mut h = OpenOptions::new().write(true).open(&f)?;
        h.write_all(b"sync")?;
        h.sync_data()?;
        h.sync_all()
    })();
    t.check(r, |_| true, "sync_data, sync_all");
    let now = SystemTime::now();
    t.check(
        fs::metadata(&f),
        |m| {
            m.is_file()
                && !m.is_dir()
                && m.len() == 8
                && m.modified().map_or(false, |mt| {
                    let d = now.duration_since(mt).unwrap_or_else(|e| e.duration());
                    d < Duration::from_secs(600)
                })
        },
        "fs::metadata: is_file, len, modified is about now",
    );
    t.check(
        fs::metadata(dir),
        |m| m.is_dir() && !m.is_file(),
        "fs::metadata of the directory: is_dir",
    );
    t.check(
        File::open(&f).and_then(|h| h.metadata()),
        |m| m.is_file() && m.len() == 8,
        "File::metadata",
    );
    t.check(
        fs::symlink_metadata(&f),
        |m| m.is_file(),
        "fs::symlink_metadata",
    );
    let r = (|| -> io::Result<bool> {
        let h = File::open(&f)?;
        let past = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        // File::set_modified is not in 1.63: check accessed/created don't panic
        let m = h.metadata()?;
        let _ = m.accessed();
        Ok(m.modified()? > past)
    })();
    t.check(r, |&b| b, "modified is after 2001");

    // fs::write / fs::read, copy
    t.check(
        fs::write(dir.join("w.bin"), b"written"),
        |_| true,
        "fs::write",
    );
    t.check(fs::read(dir.join("w.bin")), |v| v == b"written", "fs::read");
    t.check(
        fs::write(dir.join("w.bin"), b"ok"),
        |_| true,
        "fs::write over an existing file",
    );
    t.check(
        fs::read(dir.join("w.bin")),
        |v| v == b"ok",
        "... truncates it",
    );
    t.check(
        fs::copy(dir.join("w.bin"), dir.join("copy.bin")),
        |&n| n == 2,
        "fs::copy returns the length",
    );
    t.check(
        fs::read(dir.join("copy.bin")),
        |v| v == b"ok",
        "... and the copy holds the bytes",
    );

    // ---- errors ----
    t.fails(
        File::open(dir.join("missing")),
        Some(ErrorKind::NotFound),
        &[ENOENT],
        "File::open of a missing file: NotFound",
    );
    t.fails(
        fs::metadata(dir.join("missing")),
        Some(ErrorKind::NotFound),
        &[ENOENT],
        "fs::metadata of a missing file: NotFound",
    );
    t.fails(
        fs::remove_file(dir.join("missing")),
        Some(ErrorKind::NotFound),
        &[ENOENT],
        "fs::remove_file of a missing file: NotFound",
    );
    t.fails(
        fs::read_dir(dir.join("missing")),
        Some(ErrorKind::NotFound),
        &[ENOENT],
        "fs::read_dir of a missing directory: NotFound",
    );
    t.fails(
        File::create(dir.join("no/such/file")),
        Some(ErrorKind::NotFound),
        &[ENOENT],
        "File::create under a missing directory: NotFound",
    );
    t.fails(
        File::open(f.join("x")),
        None,
        &[ENOTDIR],
        "a file as a directory: ENOTDIR",
    );

    // ---- directories ----
    let d = dir.join("sub");
    t.check(fs::create_dir(&d), |_| true, "fs::create_dir");
    t.fails(
        fs::create_dir(&d),
        Some(ErrorKind::AlreadyExists),
        &[EEXIST],
        "fs::create_dir again: AlreadyExists",
    );
    t.fails(
        OpenOptions::new().write(true).open(&d),
        None,
        &[EISDIR],
        "a directory opened for writing: EISDIR",
    );
    t.fails(
        File::create(&d),
        None,
        &[EISDIR],
        "File::create on a directory: EISDIR",
    );
    t.check(
        fs::create_dir_all(dir.join("a/b/c/d")),
        |_| true,
        "fs::create_dir_all makes every level",
    );
    t.check(
        fs::create_dir_all(dir.join("a/b")),
        |_| true,
        "fs::create_dir_all of existing ones: Ok",
    );
    t.check(
        fs::metadata(dir.join("a/b/c/d")),
        |m| m.is_dir(),
        "... the deepest is a directory",
    );
    t.fails(
        fs::create_dir_all(f.join("x")),
        None,
        &[ENOTDIR, EEXIST],
        "fs::create_dir_all through a file fails",
    );
    t.check(
        fs::write(d.join("inner"), b"i"),
        |_| true,
        "a file in the new directory",
    );
    t.fails(
        fs::remove_dir(&d),
        None,
        &[ENOTEMPTY],
        "fs::remove_dir of a non-empty directory: ENOTEMPTY",
    );
    t.fails(
        fs::remove_file(&d),
        None,
        &[EISDIR, EPERM],
        "fs::remove_file of a directory: EISDIR",
    );
    t.fails(
        fs::remove_dir(&f),
        None,
        &[ENOTDIR],
        "fs::remove_dir of a file: ENOTDIR",
    );

    let want: Vec<String> = [
        "a", "copy.bin", "file.txt", "made.txt", "new.txt", "sub", "w.bin",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    t.check(
        names(dir),
        |v| *v == want,
        &format!("fs::read_dir: names {:?}", want),
    );
    let r = (|| -> io::Result<(usize, usize)> {
        let (mut files, mut dirs) = (0, 0);
        for e in fs::read_dir(dir)? {
            let e = e?;
            let ft = e.file_type()?;
            if ft.is_dir() {
                dirs += 1
            } else if ft.is_file() {
                files += 1
            }
            if e.path() != dir.join(e.file_name()) {
                return Err(io::Error::new(ErrorKind::Other, "DirEntry::path"));
            }
        }
        Ok((files, dirs))
    })();
    t.check(
        r,
        |&(fi, di)| fi == 5 && di == 2,
        "DirEntry::file_type, path: 5 files, 2 directories",
    );
    let r = (|| -> io::Result<usize> {
        for i in 0..300 {
            fs::write(
                d.join(format!("many-{:03}-with-a-longer-name", i)),
                format!("{}", i),
            )?;
        }
        Ok(fs::read_dir(&d)?.count())
    })();
    t.check(r, |&n| n == 301, "fs::read_dir of 301 entries");
    t.check(
        fs::read_to_string(d.join("../sub/many-123-with-a-longer-name")),
        |s| s == "123",
        "'..' inside the preopen",
    );

    // remove
    t.check(
        fs::remove_file(dir.join("made.txt")),
        |_| true,
        "fs::remove_file",
    );
    t.fails(
        fs::metadata(dir.join("made.txt")),
        Some(ErrorKind::NotFound),
        &[ENOENT],
        "... it is gone",
    );
    t.check(
        fs::remove_dir(dir.join("a/b/c/d")),
        |_| true,
        "fs::remove_dir of an empty directory",
    );
    t.check(
        fs::write(dir.join("a/b/c/f"), b"f"),
        |_| true,
        "a file deep in a tree",
    );
    t.check(
        fs::remove_dir_all(dir.join("a")),
        |_| true,
        "fs::remove_dir_all of a tree",
    );
    t.fails(
        fs::metadata(dir.join("a")),
        Some(ErrorKind::NotFound),
        &[ENOENT],
        "... it is gone",
    );
    t.check(
        fs::remove_dir_all(&d),
        |_| true,
        "fs::remove_dir_all of 301 entries",
    );
    t.fails(
        fs::metadata(&d),
        Some(ErrorKind::NotFound),
        &[ENOENT],
        "... it is gone",
    );

    // rename
    let g = dir.join("renamed.txt");
    t.check(fs::write(&f, b"first"), |_| true, "fs::write for rename");
    t.check(fs::rename(&f, &g), |_| true, "fs::rename a file");
    t.check(
        fs::read(&g).and_then(|v| Ok((v, fs::metadata(&f).is_err()))),
        |(v, gone)| v == b"first" && *gone,
        "... the new name has the bytes, the old one is gone",
    );
    t.check(
        fs::write(dir.join("other"), b"second").and_then(|_| fs::rename(dir.join("other"), &g)),
        |_| true,
        "fs::rename over an existing file",
    );
    t.check(fs::read(&g), |v| v == b"second", "... replaces it");
    t.check(
        fs::create_dir_all(dir.join("d1/x")).and_then(|_| fs::write(dir.join("d1/x/y"), b"y")),
        |_| true,
        "a tree to rename",
    );
    t.check(
        fs::rename(dir.join("d1"), dir.join("d2")),
        |_| true,
        "fs::rename a directory",
    );
    t.check(
        fs::read(dir.join("d2/x/y")).and_then(|v| Ok((v, fs::metadata(dir.join("d1")).is_err()))),
        |(v, gone)| v == b"y" && *gone,
        "... its contents moved with it",
    );
    t.fails(
        fs::rename(dir.join("d2"), dir.join("d2/x/z")),
        None,
        &[EINVAL],
        "fs::rename a directory into itself: EINVAL",
    );
    t.fails(
        fs::rename(&g, dir.join("d2")),
        None,
        &[EISDIR],
        "fs::rename a file over a directory: EISDIR",
    );
    t.fails(
        fs::rename(dir.join("missing"), dir.join("x")),
        Some(ErrorKind::NotFound),
        &[ENOENT],
        "fs::rename of a missing name: NotFound",
    );

    // ---- links, escaping ----
    #[allow(deprecated)]
    let r = fs::soft_link("renamed.txt", dir.join("link"));
    t.fails(
        r,
        Some(ErrorKind::Unsupported),
        &[ENOTSUP, EPERM],
        "symbolic links are refused (ENOTSUP)",
    );
    t.fails(
        fs::hard_link(&g, dir.join("hard")),
        Some(ErrorKind::Unsupported),
        &[ENOTSUP, EPERM],
        "hard links are refused (ENOTSUP)",
    );
    t.fails(
        fs::read_link(&g),
        None,
        &[EINVAL, ENOTSUP],
        "fs::read_link of a file: EINVAL",
    );
    t.fails(
        File::open(dir.join("../../etc/passwd")),
        None,
        &[ENOTCAPABLE, ENOENT, EPERM],
        "'..' above the preopen never escapes",
    );
    // std refuses this itself (no preopen matches: an error without an
    // errno) or the HAL does (ENOTCAPABLE, ENOENT)
    let r = File::open("/etc/passwd");
    t.ok(
        r.as_ref().err().map_or(false, |e| {
            matches!(e.raw_os_error(), None | Some(ENOTCAPABLE) | Some(ENOENT))
        }),
        &format!("a path outside any preopen is refused ({:?})", r.err()),
    );
    t.check(
        fs::canonicalize(&g).map(|_| ()).or_else(|e| {
            if e.kind() == ErrorKind::Unsupported || e.raw_os_error() == Some(ENOTSUP) {
                Ok(())
            } else {
                Err(e)
            }
        }),
        |_| true,
        "fs::canonicalize: Ok or Unsupported, not a crash",
    );

    // ---- a large file, in pieces ----
    let big = dir.join("big.bin");
    let data = pattern(1 << 20, 7);
    let r = (|| -> io::Result<()> {
        let mut h = File::create(&big)?;
        let mut off = 0;
        let mut step = 1000;
        while off < data.len() {
            let end = (off + step).min(data.len());
            h.write_all(&data[off..end])?;
            off = end;
            step = step * 3 / 2 + 17;
        }
        h.sync_all()
    })();
    t.check(r, |_| true, "1 MiB written in pieces of growing sizes");
    t.check(
        fs::metadata(&big),
        |m| m.len() == 1 << 20,
        "... its length is 1 MiB",
    );
    t.check(
        read_all(&big),
        |v| *v == data,
        "... read_to_end gives it back, every byte",
    );
    let r = (|| -> io::Result<bool> {
        let mut h = OpenOptions::new().read(true).write(true).open(&big)?;
        h.seek(SeekFrom::Start(500_000))?;
        h.write_all(b"PATCH")?;
        let mut b = [0u8; 4096];
        h.seek(SeekFrom::Start(4096 * 122))?;
        h.read_exact(&mut b)?;
        let mut want = data[4096 * 122..4096 * 123].to_vec();
        want[500_000 - 4096 * 122..500_000 - 4096 * 122 + 5].copy_from_slice(b"PATCH");
        Ok(b[..] == want[..])
    })();
    t.check(r, |&b| b, "an overwrite in the middle, read back around it");
    t.check(
        fs::copy(&big, dir.join("big2.bin"))
            .and_then(|n| Ok((n, read_all(&dir.join("big2.bin"))?))),
        |(n, v)| {
            *n == 1 << 20 && v[..500_000] == data[..500_000] && &v[500_000..500_005] == b"PATCH"
        },
        "fs::copy of 1 MiB",
    );
    t.check(
        fs::remove_file(&big),
        |_| true,
        "fs::remove_file of the big file",
    );
    t
}

const PERSIST: &str = "persist.bin";

fn persist(dir: &Path, mode: &str) -> i32 {
    let p: PathBuf = dir.join(PERSIST);
    let data = pattern(300_000, 42);
    match mode {
        "write" => {
            let r = fs::create_dir_all(dir.join("kept/dir"))
                .and_then(|_| File::create(&p))
                .and_then(|mut h| {
                    h.write_all(&data)?;
                    h.sync_all()
                });
            match r {
                Ok(()) => {
                    println!("written {} bytes", data.len());
                    0
                }
                Err(e) => {
                    println!("write failed: {}", e);
                    1
                }
            }
        }
        "check" => match read_all(&p) {
            Ok(v)
                if v == data
                    && fs::metadata(dir.join("kept/dir")).map_or(false, |m| m.is_dir()) =>
            {
                println!("persisted {} bytes", v.len());
                0
            }
            Ok(v) => {
                println!("mismatch: {} bytes", v.len());
                1
            }
            Err(e) => {
                println!("check failed: {}", e);
                1
            }
        },
        _ => 2,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let code = match args.len() {
        2 => {
            let t = conformance(Path::new(&args[1]));
            println!("1..{}", t.n);
            if t.failed > 0 {
                1
            } else {
                0
            }
        }
        4 if args[1] == "persist" => persist(Path::new(&args[2]), &args[3]),
        _ => {
            eprintln!("usage: fs_std DIR | fs_std persist DIR write|check");
            2
        }
    };
    std::process::exit(code);
}
