/*
 * A C++ workload on the ELASTIC TEE HAL: the generated C bindings
 * (elastic_hal_guest.h, extern "C" for C++) under small RAII wrappers.  It
 * signs a message with an Ed25519 key that never leaves the HAL and checks
 * the signature with the public key alone.
 *
 * Build (Debian: clang, lld, wasi-libc, libc++-14-dev-wasm32, libc++abi-14-dev-wasm32):
 *   clang --target=wasm32-wasi -O2 -c build/gen/guest/elastic_hal_guest.c -o guest.o
 *   clang++ --target=wasm32-wasi -O2 -fno-exceptions -I build/gen/guest \
 *     examples/cpp/main.cpp guest.o -o signer.wasm
 *   build/elastic-hal run signer.wasm -- "a message"
 */
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "elastic_hal_guest.h"

namespace hal {

/* Takes ownership of what the HAL returned, freeing it as it goes. */
static std::string take(elastic_string_t &s) {
  std::string out(s.ptr, s.len);
  elastic_string_free(&s);
  return out;
}

static std::vector<uint8_t> take(elastic_bytes_t &b) {
  std::vector<uint8_t> out(b.ptr, b.ptr + b.len);
  elastic_bytes_free(&b);
  return out;
}

static elastic_bytes_t view(const std::vector<uint8_t> &v) {
  return {const_cast<uint8_t *>(v.data()), v.size()};
}

static elastic_bytes_t view(const std::string &s) {
  return {reinterpret_cast<uint8_t *>(const_cast<char *>(s.data())), s.size()};
}

/* Every call's error, as a value: no exceptions in this build. */
struct Error {
  std::string message;
  bool failed = false;
  void set(elastic_string_t &e) {
    message = take(e);
    failed = true;
  }
};

/* A crypto context, destroyed with its key when it goes out of scope. */
class Context {
 public:
  explicit Context(Error &err) {
    elastic_string_t e;
    live_ = elastic_crypto_create_context(&handle_, &e);
    if (!live_) err.set(e);
  }
  Context(const Context &) = delete;
  Context &operator=(const Context &) = delete;
  ~Context() {
    elastic_string_t e;
    if (live_ && !elastic_crypto_destroy_context(handle_, &e)) elastic_string_free(&e);
  }
  bool generate(elastic_crypto_key_algorithm_t alg, Error &err) {
    elastic_string_t e;
    if (elastic_crypto_generate_key(handle_, alg, false, &e)) return true;
    err.set(e);
    return false;
  }
  std::vector<uint8_t> public_key(Error &err) {
    elastic_bytes_t out;
    elastic_string_t e;
    if (elastic_crypto_get_public_key(handle_, &out, &e)) return take(out);
    err.set(e);
    return {};
  }
  std::vector<uint8_t> sign(const std::string &msg, Error &err) {
    elastic_bytes_t out;
    elastic_string_t e;
    if (elastic_crypto_context_sign(handle_, view(msg), &out, &e)) return take(out);
    err.set(e);
    return {};
  }

 private:
  elastic_crypto_crypto_context_handle_t handle_ = 0;
  bool live_ = false;
};

static bool verify(const std::vector<uint8_t> &pub, const std::string &msg,
                   const std::vector<uint8_t> &sig, Error &err) {
  bool valid = false;
  elastic_string_t e;
  if (!elastic_crypto_verify_signature(ELASTIC_CRYPTO_SIGNATURE_ALGORITHM_ED25519, view(pub),
                                       view(msg), view(sig), &valid, &e))
    err.set(e);
  return valid;
}

}  // namespace hal

static std::string hex(const std::vector<uint8_t> &v) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : v) s += {digits[b >> 4], digits[b & 15]};
  return s;
}

int main(int argc, char **argv) {
  std::string msg = argc > 1 ? argv[1] : "hello from C++";
  hal::Error err;
  elastic_platform_platform_info_t info;
  elastic_platform_get_platform_info(&info);
  std::printf("platform: %s\n", hal::take(info.platform_type).c_str());
  elastic_platform_platform_info_free(&info);

  hal::Context ctx(err);
  if (err.failed || !ctx.generate(ELASTIC_CRYPTO_KEY_ALGORITHM_ED25519, err)) {
    std::fprintf(stderr, "signer: %s\n", err.message.c_str());
    return 1;
  }
  std::vector<uint8_t> pub = ctx.public_key(err);
  std::vector<uint8_t> sig = ctx.sign(msg, err);
  if (err.failed) {
    std::fprintf(stderr, "signer: %s\n", err.message.c_str());
    return 1;
  }
  std::printf("public key: %s\n", hex(pub).c_str());
  std::printf("signature: %zu bytes\n", sig.size());
  bool good = hal::verify(pub, msg, sig, err);
  bool forged = hal::verify(pub, msg + "!", sig, err);
  std::printf("verify: %s, altered message: %s\n", good ? "valid" : "INVALID",
              forged ? "VALID" : "invalid");
  return good && !forged && !err.failed ? 0 : 1;
}
