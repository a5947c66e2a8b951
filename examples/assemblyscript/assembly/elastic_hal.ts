// elastic_hal.ts - AssemblyScript bindings for the parts of the ELASTIC TEE HAL
// (and of WASI preview 1) that examples/assemblyscript/assembly/index.ts uses.
//
// The HAL's interfaces are WIT (wit/deps/*.wit); a guest reaches them as core
// imports under the Component Model's canonical ABI: import module = the
// interface's qualified name ("elastic:random/random@0.1.0"), import field =
// the function's name ("get-random-bytes").  The core signature of each
// import is the one the generated C bindings declare
// (build/gen/guest/elastic_hal_guest.c); the rules used below:
//
//   string / list<u8> argument   two i32: pointer and length (UTF-8 for strings)
//   u64 argument or handle       one i64
//   a result too big for one     an extra i32 argument last: a return area the
//     core value                 host writes (8-aligned here):
//       result<T, string>          byte 0: 0 = ok, 1 = error; the payload at
//                                  the payload's alignment (+4 for strings and
//                                  lists, +8 for u64 and records with u64)
//       string / list<T>           pointer (u32), length (u32, in elements)
//       record                     fields in order, each at its alignment
//   bool result                  one i32
//
// Strings and lists the host returns are allocated in this module's memory
// through the exported cabi_realloc (below, over AssemblyScript's unmanaged
// heap); the wrappers copy them into managed strings / Uint8Arrays and free
// the raw block.  An empty string or list carries a dummy pointer, never a
// heap block, so only non-empty ones are freed.
//
// The entry file must re-export cabi_realloc (AssemblyScript exports only
// what the entry file exports) and the module must export its memory (asc
// does by default).  Build with `--use abort=assembly/elastic_hal/halAbort`
// so that the module does not import env.abort, which the HAL does not
// provide.

// ---------------------------------------------------------------------------
// WASI preview 1 (the HAL implements stdout/stderr, proc_exit, clocks, ...)

@external("wasi_snapshot_preview1", "fd_write")
declare function wasi_fd_write(fd: u32, iovs: usize, iovsLen: u32, nwritten: usize): u16;

@external("wasi_snapshot_preview1", "proc_exit")
declare function wasi_proc_exit(code: u32): void;

// ---------------------------------------------------------------------------
// Core imports of the HAL (canonical ABI lowering)

@external("elastic:platform/platform@0.1.1", "get-platform-info")
declare function __platform_get_platform_info(ret: usize): void;

@external("elastic:capabilities/capabilities@0.1.0", "has-capability")
declare function __capabilities_has_capability(ptr: usize, len: usize): u32;

@external("elastic:capabilities/capabilities@0.1.0", "list-capabilities")
declare function __capabilities_list_capabilities(ret: usize): void;

@external("elastic:random/random@0.1.0", "get-random-bytes")
declare function __random_get_random_bytes(length: u32, ret: usize): void;

@external("elastic:crypto/crypto@0.1.1", "hash")
declare function __crypto_hash(ptr: usize, len: usize, algorithm: u32, ret: usize): void;

@external("elastic:clock/clock@0.1.1", "get-system-time")
declare function __clock_get_system_time(ret: usize): void;

@external("elastic:storage/storage@0.1.1", "create-container")
declare function __storage_create_container(namePtr: usize, nameLen: usize, ret: usize): void;

@external("elastic:storage/storage@0.1.1", "open-container")
declare function __storage_open_container(namePtr: usize, nameLen: usize, ret: usize): void;

@external("elastic:storage/storage@0.1.1", "store-object")
declare function __storage_store_object(
  container: u64, keyPtr: usize, keyLen: usize, dataPtr: usize, dataLen: usize, ret: usize): void;

@external("elastic:storage/storage@0.1.1", "retrieve-object")
declare function __storage_retrieve_object(container: u64, keyPtr: usize, keyLen: usize, ret: usize): void;

// ---------------------------------------------------------------------------
// Canonical ABI plumbing

/** The allocator the host calls to place returned strings and lists in this
 *  module's memory.  Re-export it from the entry file. */
export function cabi_realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  if (newSize == 0) return align; // a dummy, suitably aligned pointer
  // heap blocks are 16-byte aligned; nothing in the HAL's WIT needs more
  if (align == 0 || align > 16 || (align & (align - 1)) != 0) unreachable();
  return oldPtr == 0 ? heap.alloc(newSize) : heap.realloc(oldPtr, newSize);
}

// One return area, reused by every call (the module is single-threaded and
// each wrapper reads it before the next call).  24 bytes, 8-aligned: the
// largest return area of the functions bound here.
const RET: usize = memory.data(24, 8);

/** A string the host returned (pointer, length at `at`): copied and freed. */
function takeString(at: usize): string {
  const ptr = load<u32>(at);
  const len = load<u32>(at, 4);
  if (len == 0) return "";
  const s = String.UTF8.decodeUnsafe(<usize>ptr, <usize>len);
  heap.free(<usize>ptr);
  return s;
}

/** A list<u8> the host returned (pointer, length at `at`): copied and freed. */
function takeBytes(at: usize): Uint8Array {
  const ptr = load<u32>(at);
  const len = load<u32>(at, 4);
  const out = new Uint8Array(<i32>len);
  if (len != 0) {
    memory.copy(out.dataStart, <usize>ptr, <usize>len);
    heap.free(<usize>ptr);
  }
  return out;
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

/** A result<list<u8>, string> the host wrote at RET (payload at +4). */
function bytesResult(): Result<Uint8Array> {
  if (load<u8>(RET) != 0) return Result.err<Uint8Array>(takeString(RET + 4));
  return Result.ok<Uint8Array>(takeBytes(RET + 4));
}

/** A result<u64, string> the host wrote at RET (payload at +8). */
function u64Result(): Result<u64> {
  if (load<u8>(RET) != 0) return Result.err<u64>(takeString(RET + 8));
  return Result.ok<u64>(load<u64>(RET, 8));
}

// ---------------------------------------------------------------------------
// WASI helpers

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

// ---------------------------------------------------------------------------
// elastic:platform/platform

export class PlatformInfo {
  constructor(
    public readonly platformType: string,
    public readonly version: string,
    public readonly attestationSupport: bool,
  ) {}
}

/** get-platform-info: func() -> platform-info */
export function getPlatformInfo(): PlatformInfo {
  __platform_get_platform_info(RET); // record: string @0, string @8, bool @16
  const platformType = takeString(RET);
  const version = takeString(RET + 8);
  return new PlatformInfo(platformType, version, load<u8>(RET, 16) != 0);
}

// ---------------------------------------------------------------------------
// elastic:capabilities/capabilities

export class CapabilityInfo {
  constructor(
    public readonly featureName: string,
    public readonly supported: bool,
    public readonly version: string,
  ) {}
}

/** has-capability: func(feature-name: string) -> bool */
export function hasCapability(featureName: string): bool {
  const name = String.UTF8.encode(featureName);
  return __capabilities_has_capability(changetype<usize>(name), <usize>name.byteLength) != 0;
}

/** list-capabilities: func() -> list<capability-info> */
export function listCapabilities(): CapabilityInfo[] {
  __capabilities_list_capabilities(RET);
  const ptr = <usize>load<u32>(RET);
  const len = load<u32>(RET, 4);
  const out = new Array<CapabilityInfo>();
  // capability-info: string @0, bool @8, string @12; 20 bytes, 4-aligned
  for (let i: u32 = 0; i < len; i++) {
    const row = ptr + <usize>i * 20;
    const name = takeString(row);
    const supported = load<u8>(row, 8) != 0;
    out.push(new CapabilityInfo(name, supported, takeString(row + 12)));
  }
  if (len != 0) heap.free(ptr);
  return out;
}

// ---------------------------------------------------------------------------
// elastic:random/random

/** get-random-bytes: func(length: u32) -> result<list<u8>, string> */
export function getRandomBytes(length: u32): Result<Uint8Array> {
  __random_get_random_bytes(length, RET);
  return bytesResult();
}

// ---------------------------------------------------------------------------
// elastic:crypto/crypto

/** enum hash-algorithm */
export enum HashAlgorithm {
  Sha256 = 0,
  Sha512 = 1,
  Blake3 = 2,
}

/** hash: func(data: list<u8>, algorithm: hash-algorithm) -> result<list<u8>, string> */
export function hash(data: Uint8Array, algorithm: HashAlgorithm): Result<Uint8Array> {
  __crypto_hash(data.dataStart, <usize>data.length, <u32>algorithm, RET);
  return bytesResult();
}

// ---------------------------------------------------------------------------
// elastic:clock/clock

export class SystemTime {
  constructor(public readonly seconds: u64, public readonly nanoseconds: u32) {}
}

/** get-system-time: func() -> result<system-time, string> */
export function getSystemTime(): Result<SystemTime> {
  __clock_get_system_time(RET); // ok: system-time { seconds: u64 @8, nanoseconds: u32 @16 }
  if (load<u8>(RET) != 0) return Result.err<SystemTime>(takeString(RET + 8));
  return Result.ok<SystemTime>(new SystemTime(load<u64>(RET, 8), load<u32>(RET, 16)));
}

// ---------------------------------------------------------------------------
// elastic:storage/storage (containers are namespaced by the workload's name)

/** create-container: func(name: string) -> result<container-handle, string> */
export function createContainer(name: string): Result<u64> {
  const s = String.UTF8.encode(name);
  __storage_create_container(changetype<usize>(s), <usize>s.byteLength, RET);
  return u64Result();
}

/** open-container: func(name: string) -> result<container-handle, string> */
export function openContainer(name: string): Result<u64> {
  const s = String.UTF8.encode(name);
  __storage_open_container(changetype<usize>(s), <usize>s.byteLength, RET);
  return u64Result();
}

/** store-object: func(container, key: string, data: list<u8>) -> result<object-handle, string> */
export function storeObject(container: u64, key: string, data: Uint8Array): Result<u64> {
  const k = String.UTF8.encode(key);
  __storage_store_object(container, changetype<usize>(k), <usize>k.byteLength,
    data.dataStart, <usize>data.length, RET);
  return u64Result();
}

/** retrieve-object: func(container, key: string) -> result<list<u8>, string> */
export function retrieveObject(container: u64, key: string): Result<Uint8Array> {
  const k = String.UTF8.encode(key);
  __storage_retrieve_object(container, changetype<usize>(k), <usize>k.byteLength, RET);
  return bytesResult();
}

// ---------------------------------------------------------------------------
// Small helpers

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
