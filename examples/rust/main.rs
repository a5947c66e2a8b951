//! A Rust workload on the ELASTIC TEE HAL, through the bindings tools/witgen.py
//! generates from the WIT (BUILD/gen/guest/elastic_hal.rs; installed under
//! share/elastic-hal/guest/).  Debian's rustc alone builds it, no cargo: the
//! bindings are a crate of their own.
//!
//!   rustc --edition 2021 --target wasm32-wasi -O --crate-type rlib \
//!     --crate-name elastic_hal build/gen/guest/elastic_hal.rs -o libelastic_hal.rlib
//!   rustc --edition 2021 --target wasm32-wasi -O -C strip=debuginfo \
//!     --extern elastic_hal=libelastic_hal.rlib examples/rust/main.rs -o notes.wasm
//!   build/elastic-hal run notes.wasm
//!
//! It keeps a note sealed: encrypts it under a key that never leaves the HAL,
//! stores it in encrypted storage, reads it back and checks it.
use elastic_hal::{capabilities, clock, crypto, platform, random, storage};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{:02x}", x)).collect()
}

fn run() -> Result<(), String> {
    let info = platform::get_platform_info();
    println!("platform: {} {}", info.platform_type, info.version);
    let caps = capabilities::list_capabilities();
    let n = caps.iter().filter(|c| c.supported).count();
    println!("capabilities: {} of {} supported", n, caps.len());

    let digest = crypto::hash(b"abc", crypto::HashAlgorithm::Sha256)?;
    println!("sha-256(abc): {}", hex(&digest));
    println!("random: {} bytes", random::get_random_bytes(32)?.len());

    // A key that stays in the HAL; the context destroys it when dropped.
    let ctx = crypto::create_context()?;
    crypto::generate_key(&ctx, crypto::KeyAlgorithm::Aes256Gcm, false)?;
    let note = "meet at the usual place";
    let sealed = crypto::context_encrypt(&ctx, note.as_bytes(), b"notes/1")?;
    match crypto::export_key(&ctx) {
        Ok(_) => return Err("a non-exportable key was exported".into()),
        Err(e) => println!("export refused: {}", e),
    }

    let container = storage::create_container("notes")?;
    storage::store_object(&container, "1", &sealed)?;
    let back = storage::retrieve_object(&container, "1")?;
    let plain = crypto::context_decrypt(&ctx, &back, b"notes/1")?;
    if plain != note.as_bytes() {
        return Err("the note did not survive the round trip".into());
    }
    println!("note: {}", String::from_utf8_lossy(&plain));
    if crypto::context_decrypt(&ctx, &back, b"notes/2").is_ok() {
        return Err("decryption under the wrong associated data succeeded".into());
    }

    // Dropping the context destroys it: its raw handle is dead afterwards.
    let raw = ctx.raw();
    drop(ctx);
    let stale = crypto::CryptoContext::from_raw(raw);
    let after = crypto::describe_context(&stale);
    let _ = stale.into_raw(); // not ours to destroy twice
    match after {
        Ok(_) => return Err("the context outlived its drop".into()),
        Err(e) => println!("after drop: {}", e),
    }

    let t = clock::get_system_time()?;
    let start = std::time::Instant::now();
    std::thread::sleep(std::time::Duration::from_millis(20));
    println!("time: {} s since the epoch; slept {} ms", t.seconds, start.elapsed().as_millis());
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("notes: {}", e);
        std::process::exit(1);
    }
}
