//! shapes.rs - a Rust guest over every shape of type the generated Rust
//! bindings lower and load (tests/cli/toolchains.sh): records of enums,
//! integers and strings, options in records, lists of records holding
//! records, list<record> and record parameters, void results' errors, and
//! handles that close on drop.  The same checks as the AssemblyScript shapes
//! guest (tests/cli/assemblyscript.sh), with the same expected lines.
use elastic_hal::{clock, communication, crypto, events, random, resources, sockets, storage};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{:02x}", x)).collect()
}

fn run() -> Result<(), String> {
    let ent = random::get_entropy_info()?;
    println!("entropy: {} {} {}", ent.source as u8, ent.quality, ent.available_bytes);
    let tz = clock::get_timezone()?;
    println!("timezone: {} {}", tz.name, tz.utc_offset_seconds);
    let t = clock::start_timer()?;
    clock::read_timer(&t)?;
    let raw = t.raw();
    clock::destroy_timer(t)?;
    let again = clock::destroy_timer(clock::Timer::from_raw(raw));
    println!("destroy-timer again: {}", again.err().map_or("ok".into(), |e| format!("error: {}", e)));

    let kp = crypto::generate_keypair()?;
    println!("keypair: {} {}", kp.public_key.len(), kp.private_key.len());
    let sig = crypto::sign(b"m", &kp.private_key)?;
    println!("verify: {} {}", crypto::verify(b"m", &sig, &kp.public_key)?,
             crypto::verify(b"x", &sig, &kp.public_key)?);
    let ctx = crypto::create_context()?;
    let d0 = crypto::describe_context(&ctx)?;
    println!("empty context: {} {}", if d0.algorithm.is_none() { "none" } else { "some" }, d0.exportable);
    crypto::generate_key(&ctx, crypto::KeyAlgorithm::EcdsaP256, true)?;
    let d1 = crypto::describe_context(&ctx)?;
    println!("context: {} {}", d1.algorithm.map_or("none".into(), |a| (a as u8).to_string()), d1.exportable);
    let public = crypto::get_public_key(&ctx)?;
    let csig = crypto::context_sign(&ctx, b"data")?;
    let valid = crypto::verify_signature(crypto::SignatureAlgorithm::EcdsaP256Sha256, &public, b"data", &csig)?;
    println!("ecdsa: {} {} {}", public.len(), csig.len(), valid);
    drop(ctx);
    let key = random::get_random_bytes(32)?;
    let aead = crypto::CipherAlgorithm::Chacha20Poly1305;
    let ct = crypto::encrypt_with_ad(b"secret", &key, aead, b"ad")?;
    let pt = crypto::decrypt_with_ad(&ct, &key, aead, b"ad")?;
    let forged = crypto::decrypt_with_ad(&ct, &key, aead, b"AD").is_ok();
    println!("aead: {} {} {}", ct.len(), String::from_utf8_lossy(&pt), if forged { "forged" } else { "refused" });
    let tag = crypto::mac(crypto::MacAlgorithm::HmacSha256, b"key", b"The quick brown fox jumps over the lazy dog")?;
    println!("hmac: {}", hex(&tag));

    let h = storage::create_container("shapes")?;
    storage::store_object_with_type(&h, "a", b"one", "text/plain")?;
    storage::store_object_with_type(&h, "b", b"two!", "application/x-\u{e9}")?;
    let mut names = storage::list_objects(&h)?;
    names.sort();
    println!("objects: {}", names.join(","));
    let md = storage::get_metadata(&h, "b")?;
    println!("metadata: {} {} {}", md.size, md.content_type, if md.created_at > 0 { "dated" } else { "undated" });
    let page = storage::list_objects_with_metadata(&h, "", 1)?;
    let o = &page.objects[0];
    println!("page: {} {} v{} {} next {}", page.objects.len(), o.key, o.version, o.metadata.content_type,
             if page.next_cursor.is_some() { "some" } else { "none" });
    if let Some(next) = &page.next_cursor {
        let p2 = storage::list_objects_with_metadata(&h, next, 10)?;
        println!("page 2: {} {} next {}", p2.objects.len(), p2.objects[0].key,
                 if p2.next_cursor.is_some() { "some" } else { "none" });
    }
    storage::delete_object(&h, "a")?;
    println!("after delete: {}", storage::list_objects(&h)?.join(","));

    println!("poll []: {}", sockets::poll(&[], 0)?.len());
    let s = sockets::create_socket(sockets::Protocol::Udp)?;
    let entries = [
        sockets::PollEntry { socket: s.raw(), readable: true, writable: true },
        sockets::PollEntry { socket: s.raw(), readable: false, writable: true },
    ];
    let pr = sockets::poll(&entries, 0)?;
    println!("poll: {} {}", pr.len(), pr.iter().all(|e| e.socket == s.raw()));
    drop(s);

    let req = resources::AllocationRequest { resource_type: resources::ResourceType::Storage, amount: 4096, priority: 1 };
    match resources::allocate(&req) {
        Ok(_) => println!("allocate: granted"),
        Err(e) => println!("allocate: error: {}", e),
    }

    let sub = events::subscribe_to(events::EventType::Storage, "", true)?;
    events::publish(events::EventType::Storage, 7, b"ev")?;
    for e in events::poll_envelopes(&sub)? {
        println!("envelope: {} {} {} {} {}", e.source, e.published, e.priority, e.event.event_type as u8,
                 String::from_utf8_lossy(&e.event.payload));
    }
    events::unsubscribe(sub)?;

    let m = communication::receive_message()?;
    println!("message: {}", if m.is_none() { "none" } else { "some" });
    Ok(())
}

fn main() {
    match run() {
        Ok(()) => println!("shapes done"),
        Err(e) => {
            eprintln!("shapes: {}", e);
            std::process::exit(1);
        }
    }
}
