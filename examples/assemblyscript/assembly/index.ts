// index.ts - an AssemblyScript workload for the ELASTIC TEE HAL: prints where
// it runs, asks the HAL for capabilities, random bytes, a SHA-256 digest, the
// time and a round trip through encrypted storage, and checks what it gets.
// Exit status 0 when every check passes, 1 on the first that fails.
//
// Build and run: see ../README.md.

import {
  exit,
  getPlatformInfo,
  getRandomBytes,
  getSystemTime,
  hasCapability,
  hash,
  HashAlgorithm,
  listCapabilities,
  openContainer,
  createContainer,
  print,
  printErr,
  retrieveObject,
  storeObject,
  toHex,
  utf8,
} from "./elastic_hal";

// The host allocates returned strings and lists through this export.
export { cabi_realloc } from "./elastic_hal";

function fail(what: string): void {
  printErr("FAIL: " + what);
  exit(1);
}

function sameBytes(a: Uint8Array, b: Uint8Array): bool {
  if (a.length != b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] != b[i]) return false;
  return true;
}

// A WASI command: the HAL's `run` calls _start.
export function _start(): void {
  print("hello from AssemblyScript");

  // elastic:platform - a record of two strings and a bool, read from a return area
  const info = getPlatformInfo();
  print("platform: " + info.platformType);
  print("attestation: " + (info.attestationSupport ? "supported" : "unsupported"));
  if (info.platformType.length == 0) fail("empty platform type");

  // elastic:capabilities - a list of records, and a bool result
  const caps = listCapabilities();
  let supported = 0;
  let listsRandom = false;
  for (let i = 0; i < caps.length; i++) {
    if (caps[i].supported) supported++;
    if (caps[i].featureName == "random") listsRandom = caps[i].supported;
  }
  const hasRandom = hasCapability("random");
  print("capabilities: " + supported.toString() + " of " + caps.length.toString() +
    " supported (random: " + (hasRandom ? "yes" : "no") + ")");
  if (!hasRandom || !listsRandom) fail("random is not a supported capability");
  if (hasCapability("no-such-feature")) fail("has-capability(no-such-feature) is true");

  // elastic:random - result<list<u8>, string>, the list allocated through cabi_realloc
  const r1 = getRandomBytes(32);
  if (!r1.ok) fail("get-random-bytes: " + r1.error!);
  const r2 = getRandomBytes(32).unwrap();
  if (r1.value.length != 32 || r2.length != 32) fail("get-random-bytes returned the wrong length");
  if (sameBytes(r1.value, r2)) fail("two calls of get-random-bytes returned the same bytes");
  print("random: " + toHex(r1.value));

  // elastic:crypto - SHA-256 of "abc" (FIPS 180-2, appendix B.1)
  const expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  const digest = hash(utf8("abc"), HashAlgorithm.Sha256);
  if (!digest.ok) fail("hash: " + digest.error!);
  const hex = toHex(digest.value);
  print("sha256(abc): " + hex);
  if (hex != expected) fail("sha256(abc) is " + hex + ", expected " + expected);
  // and of nothing: an empty list argument
  const empty = toHex(hash(new Uint8Array(0), HashAlgorithm.Sha256).unwrap());
  if (empty != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    fail("sha256() is " + empty);

  // elastic:clock - result<record { u64, u32 }, string>
  const now = getSystemTime().unwrap();
  print("time: " + now.seconds.toString() + " s since the epoch");
  if (now.seconds < 1600000000 || now.nanoseconds >= 1000000000) fail("implausible system time");

  // elastic:storage - a round trip through an (encrypted) container
  let container = openContainer("as-example");
  if (!container.ok) container = createContainer("as-example");
  const handle = container.unwrap();
  const payload = utf8("stored by AssemblyScript \u2713"); // non-ASCII on purpose
  const version = storeObject(handle, "greeting", payload).unwrap();
  const back = retrieveObject(handle, "greeting").unwrap();
  if (!sameBytes(back, payload)) fail("storage returned different bytes");
  print("storage: " + String.UTF8.decode(back.buffer) + " (version " + version.toString() + ")");

  print("all checks passed");
}
