#!/usr/bin/env bash
# assemblyscript.sh - a guest written in AssemblyScript (examples/assemblyscript),
# compiled here with the pinned compiler (package-lock.json: assemblyscript)
# against the bindings witgen generates (BUILD/gen/guest/elastic_hal.ts,
# tools/witgen_as.py), links against the HAL and runs: WASI fd_write, platform
# info, capabilities, random bytes returned through the guest's cabi_realloc,
# a SHA-256 digest checked against the known one, the clock and a storage
# round trip.  Every function of the bindings is compiled too (asc compiles
# only what the entry reaches), without a warning, and its imports link; a
# second guest calls functions of other shapes (records and options nested
# in results, list<string>, list<record> parameters, enums in options).  The
# compiler must be installed (npm ci): without it this test fails, it does
# not skip.
source "$(dirname "$0")/common.bash"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
BINDINGS=$BUILD/gen/guest/elastic_hal.ts
EX=$TMP/example # a copy of examples/assemblyscript, the bindings next to index.ts
WASM=$TMP/hal_example.wasm
SHA_ABC=ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
mkdir -m 700 -p "$STATE"

# asc_quiet LOG: asc said nothing (no warning, no error)
asc_quiet() { ! grep -qE 'WARNING|ERROR' "$1"; }

# ---- the bindings, copied next to the example's sources ----
# (what examples/assemblyscript/README.md says to do)
mkdir -p "$EX"
cp -R "$ROOT/examples/assemblyscript/assembly" "$ROOT/examples/assemblyscript/asconfig.json" "$EX/"
ln -s "$ROOT/node_modules" "$EX/node_modules"
if [[ -s $BINDINGS ]] && cp "$BINDINGS" "$EX/assembly/elastic_hal.ts"; then
  ok "witgen generated the AssemblyScript bindings ($BINDINGS)"
else
  not_ok "witgen generated the AssemblyScript bindings ($BINDINGS)"
fi

# ---- compile (the command examples/assemblyscript/README.md gives) ----
if ver=$(cd "$EX" && npx --no-install asc --version 2>&1); then
  echo "# asc: $ver"
  if (cd "$EX" && npx --no-install asc assembly/index.ts -O3 --runtime incremental \
    --use abort=assembly/elastic_hal/halAbort -o "$WASM") >"$TMP/asc.log" 2>&1 &&
    [[ -s $WASM ]] && asc_quiet "$TMP/asc.log"; then
    ok "asc compiles examples/assemblyscript with the generated bindings, without a warning"
  else
    not_ok "asc compiles examples/assemblyscript with the generated bindings, without a warning" \
      "$(head -c 2000 "$TMP/asc.log")"
  fi
else
  not_ok "the AssemblyScript compiler is installed (npm ci)" "$ver"
fi

# ---- every function of the bindings ----
# An entry that takes every exported function as a value, so that asc
# compiles (and type-checks) each, and with it every import; in a directory
# of its own, without the example's asconfig.json (its -O3 would drop them).
ALLD=$TMP/all
mkdir -p "$ALLD/assembly"
ln -s "$ROOT/node_modules" "$ALLD/node_modules"
cp "$EX/assembly/elastic_hal.ts" "$ALLD/assembly/" 2>/dev/null
{
  echo 'import * as hal from "./elastic_hal";'
  echo 'export { cabi_realloc } from "./elastic_hal";'
  echo 'export function _start(): void {'
  awk '/^export namespace /{ns=$3"."; next} /^}/{ns=""; next}
       /^(  )?export function /{n=$0; sub(/^ *export function /, "", n); sub(/[(<].*/, "", n)
         print "  const f" i++ " = hal." ns n ";"}' "$ALLD/assembly/elastic_hal.ts"
  echo '}'
} >"$ALLD/assembly/all.ts"
n_funcs=$(grep -c '^  export function ' "$ALLD/assembly/elastic_hal.ts")
n_ext=$(grep -c '^  @external("elastic:' "$ALLD/assembly/elastic_hal.ts")
ALL=$TMP/all.wasm
if (cd "$ALLD" && npx --no-install asc assembly/all.ts --runtime incremental \
  --use abort=assembly/elastic_hal/halAbort -o "$ALL" -t "$TMP/all.wat") >"$TMP/asc-all.log" 2>&1 &&
  asc_quiet "$TMP/asc-all.log" &&
  n_imp=$(grep -c '(import "elastic:' "$TMP/all.wat") &&
  ((n_funcs > 0 && n_funcs == n_ext && n_imp == n_ext)); then
  ok "asc compiles all $n_funcs functions of the bindings without a warning (each imports its function)"
else
  not_ok "asc compiles all functions of the bindings without a warning (each imports its function)" \
    "functions: $n_funcs, @external: $n_ext, imports: ${n_imp:-?}" "$(head -c 2000 "$TMP/asc-all.log")"
fi
if [[ -s $ALL ]]; then
  runh check --world elastic-tee-hal "$ALL"
  check "check: all of them resolve in elastic-tee-hal, with the canonical ABI's core signatures" \
    eval 'rc_is 0 && out_has "all imports resolve in world elastic-tee-hal"'
else
  not_ok "check: all of them resolve in elastic-tee-hal: no module to check"
fi
# the test build's bindings mark what this HAL does not implement
UNL="@deprecated Not implemented by this HAL: a guest that imports it does not link."
if grep -qF "$UNL" "$BUILD/gen-test/guest/elastic_hal.ts" 2>/dev/null &&
  ! grep -qF "$UNL" "$BINDINGS"; then
  ok "functions this HAL does not implement (test:unimplemented) are marked as not linking"
else
  not_ok "functions this HAL does not implement (test:unimplemented) are marked as not linking"
fi

if [[ ! -s $WASM ]]; then
  not_ok "elastic-hal check: no module to check"
  not_ok "elastic-hal run: no module to run"
  finish
fi

# ---- link ----
runh check --world elastic-tee-hal "$WASM"
check "check: every import of the AssemblyScript module resolves in elastic-tee-hal (no env.abort)" \
  eval 'rc_is 0 && out_has "all imports resolve in world elastic-tee-hal"'

runh check --world elastic-tee-minimal "$WASM"
check "check: its storage imports do not resolve in elastic-tee-minimal" \
  eval 'rc_not0 && out_has "unresolved import elastic:storage/storage@0.1.1#store-object"'

# ---- run ----
runh run --state-dir "$STATE" "$WASM"
check "run: exits 0 after every check the guest makes" \
  eval 'rc_is 0 && out_has "all checks passed" && ! err_has "FAIL:" && no_sanitizer'
check "run: WASI fd_write and get-platform-info (a record of strings): 'platform: simulated'" \
  eval 'out_has "hello from AssemblyScript" && out_has "platform: simulated"'
check "run: list-capabilities and has-capability" \
  eval 'grep -qE "^capabilities: [0-9]+ of [0-9]+ supported \(random: yes\)$" "$TMP/out"'
check "run: get-random-bytes returns 32 bytes through cabi_realloc" \
  eval 'grep -qE "^random: [0-9a-f]{64}$" "$TMP/out"'
check "run: crypto hash: sha256(abc) = $SHA_ABC" out_has "sha256(abc): $SHA_ABC"
check "run: clock and a storage round trip (UTF-8 payload)" \
  eval 'grep -qE "^time: [0-9]+ s since the epoch$" "$TMP/out" &&
    out_has "storage: stored by AssemblyScript ✓ (version 1)"'

# the same workload again: the container now exists and is opened
runh run --state-dir "$STATE" "$WASM"
check "run again: open-container finds the container, the object's version is 2" \
  eval 'rc_is 0 && out_has "storage: stored by AssemblyScript ✓ (version 2)" && no_sanitizer'

# ---- more shapes: a guest of the test's own, built the same way ----
cat >"$EX/assembly/shapes.ts" <<'EOF'
import { clock, communication, crypto, events, print, random, resources, sockets, storage, toHex,
  utf8 } from "./elastic_hal";
export { cabi_realloc } from "./elastic_hal";

export function _start(): void {
  // records of an enum and integers, of a string and an s32; a void result's error
  const ent = random.getEntropyInfo().unwrap();
  print("entropy: " + ent.source.toString() + " " + ent.quality.toString() + " " +
    ent.availableBytes.toString());
  const tz = clock.getTimezone().unwrap();
  print("timezone: " + tz.name + " " + tz.utcOffsetSeconds.toString());
  const t = clock.startTimer().unwrap();
  clock.readTimer(t).unwrap();
  clock.destroyTimer(t).unwrap();
  const again = clock.destroyTimer(t);
  print("destroy-timer again: " + (again.ok ? "ok" : "error: " + again.error!));

  // a record of two lists, result<bool>, option<enum> in a record, enum parameters
  const kp = crypto.generateKeypair().unwrap();
  print("keypair: " + kp.publicKey.length.toString() + " " + kp.privateKey.length.toString());
  const sig = crypto.sign(utf8("m"), kp.privateKey).unwrap();
  print("verify: " + crypto.verify(utf8("m"), sig, kp.publicKey).unwrap().toString() + " " +
    crypto.verify(utf8("x"), sig, kp.publicKey).unwrap().toString());
  const ctx = crypto.createContext().unwrap();
  const d0 = crypto.describeContext(ctx).unwrap();
  print("empty context: " + (d0.algorithm === null ? "none" : "some") + " " + d0.exportable.toString());
  crypto.generateKey(ctx, crypto.KeyAlgorithm.EcdsaP256, true).unwrap();
  const d1 = crypto.describeContext(ctx).unwrap();
  const alg = d1.algorithm;
  print("context: " + (alg === null ? "none" : alg.value.toString()) + " " + d1.exportable.toString());
  const pub = crypto.getPublicKey(ctx).unwrap();
  const csig = crypto.contextSign(ctx, utf8("data")).unwrap();
  print("ecdsa: " + pub.length.toString() + " " + csig.length.toString() + " " +
    crypto.verifySignature(crypto.SignatureAlgorithm.EcdsaP256Sha256, pub, utf8("data"), csig)
      .unwrap().toString());
  crypto.destroyContext(ctx).unwrap();
  const key = random.getRandomBytes(32).unwrap();
  const aead = crypto.CipherAlgorithm.Chacha20Poly1305;
  const ct = crypto.encryptWithAd(utf8("secret"), key, aead, utf8("ad")).unwrap();
  const pt = crypto.decryptWithAd(ct, key, aead, utf8("ad")).unwrap();
  print("aead: " + ct.length.toString() + " " + String.UTF8.decode(pt.buffer) + " " +
    (crypto.decryptWithAd(ct, key, aead, utf8("AD")).ok ? "forged" : "refused"));
  print("hmac: " + toHex(crypto.mac(crypto.MacAlgorithm.HmacSha256, utf8("key"),
    utf8("The quick brown fox jumps over the lazy dog")).unwrap()));

  // list<string>, a record with a string, a page: list<record of a record>, option<string>
  const h = storage.createContainer("shapes").unwrap();
  storage.storeObjectWithType(h, "a", utf8("one"), "text/plain").unwrap();
  storage.storeObjectWithType(h, "b", utf8("two!"), "application/x-\u00e9").unwrap();
  const names = storage.listObjects(h).unwrap();
  names.sort();
  print("objects: " + names.join(","));
  const md = storage.getMetadata(h, "b").unwrap();
  print("metadata: " + md.size.toString() + " " + md.contentType + " " +
    (md.createdAt > 0 ? "dated" : "undated"));
  const page = storage.listObjectsWithMetadata(h, "", 1).unwrap();
  const next = page.nextCursor;
  print("page: " + page.objects.length.toString() + " " + page.objects[0].key + " v" +
    page.objects[0].version.toString() + " " + page.objects[0].metadata.contentType + " next " +
    (next === null ? "none" : "some"));
  if (next !== null) {
    const p2 = storage.listObjectsWithMetadata(h, next, 10).unwrap();
    print("page 2: " + p2.objects.length.toString() + " " + p2.objects[0].key + " next " +
      (p2.nextCursor === null ? "none" : "some"));
  }
  storage.deleteObject(h, "a").unwrap();
  print("after delete: " + storage.listObjects(h).unwrap().join(","));

  // list<record> parameters (copied to a canonical buffer) and results
  print("poll []: " + sockets.poll([], 0).unwrap().length.toString());
  const s = sockets.createSocket(sockets.Protocol.Udp).unwrap();
  const pr = sockets.poll([new sockets.PollEntry(s, true, true), new sockets.PollEntry(s, false, true)],
    0).unwrap();
  print("poll: " + pr.length.toString() + " " + (pr[0].socket == s && pr[1].socket == s).toString());
  sockets.close(s).unwrap();

  // a record parameter (refused: a lone workload has no room to grow; the
  // refusal names the amount passed)
  const a = resources.allocate(new resources.AllocationRequest(resources.ResourceType.Storage, 4096, 1));
  print("allocate: " + (a.ok ? "granted" : "error: " + a.error!));

  // events: a list of records holding a record
  const sub = events.subscribeTo(events.EventType.Storage, "", true).unwrap();
  events.publish(events.EventType.Storage, 7, utf8("ev")).unwrap();
  const env = events.pollEnvelopes(sub).unwrap();
  for (let i = 0; i < env.length; i++)
    print("envelope: " + env[i].source + " " + env[i].published.toString() + " " +
      env[i].priority.toString() + " " + env[i].event.eventType.toString() + " " +
      String.UTF8.decode(env[i].event.payload.buffer));
  events.unsubscribe(sub).unwrap();

  // result<option<record>, string>: none
  const m = communication.receiveMessage().unwrap();
  print("message: " + (m === null ? "none" : "some"));
  print("shapes done");
}
EOF
SHAPES=$TMP/shapes.wasm
if (cd "$EX" && npx --no-install asc assembly/shapes.ts -O3 --runtime incremental \
  --use abort=assembly/elastic_hal/halAbort -o "$SHAPES") >"$TMP/asc-shapes.log" 2>&1 &&
  [[ -s $SHAPES ]] && asc_quiet "$TMP/asc-shapes.log"; then
  ok "asc compiles a guest calling functions of other shapes"
else
  not_ok "asc compiles a guest calling functions of other shapes" "$(head -c 2000 "$TMP/asc-shapes.log")"
fi
mkdir -m 700 -p "$TMP/state2"
runh run --max-storage 1 --state-dir "$TMP/state2" "$SHAPES"
check "run: the shapes guest exits 0" eval 'rc_is 0 && out_has "shapes done" && no_sanitizer'
check "run: records of an enum and integers, of a string and an s32; a void result's error" \
  eval 'grep -qE "^entropy: [0-2] [0-9]+ [0-9]+$" "$TMP/out" &&
    grep -qE "^timezone: [^ ]+ -?[0-9]+$" "$TMP/out" &&
    grep -qE "^destroy-timer again: error: .+" "$TMP/out"'
check "run: crypto: a record of lists, result<bool>, option<key-algorithm> in a record, enums" \
  eval 'out_has "keypair: 32 32" && out_has "verify: true false" &&
    out_has "empty context: none false" && out_has "context: 5 true" &&
    out_has "ecdsa: 65 64 true" && out_has "aead: 34 secret refused"'
check "run: crypto mac: HMAC-SHA256 of the known vector" \
  out_has "hmac: f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
check "run: storage: list<string>, metadata, pages of nested records with option<string> cursors" \
  eval 'out_has "objects: a,b" && out_has "metadata: 4 application/x-é dated" &&
    shapes_pages_ok &&
    out_has "after delete: b"'
check "run: sockets poll: list<record> parameters, empty and not" \
  eval 'out_has "poll []: 0" && out_has "poll: 2 true"'
check "run: resources allocate: a record parameter (the refusal names 1 MiB + 4096 bytes)" \
  eval 'grep -qE "^allocate: error: .*1052672" "$TMP/out"'
check "run: events: envelopes (a record in a record in a list); an empty option" \
  eval 'out_has "envelope: shapes true 7 2 ev" && out_has "message: none"'

finish
