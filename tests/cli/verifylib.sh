#!/usr/bin/env bash
# verifylib.sh - the verifier as a library a relying party links alone:
# libelastic-hal-verify installed into a DESTDIR with its header and
# elastic-hal-verify.pc, a small relying-party program built against it
# through pkg-config, which needs neither SQLite nor the wasm2c runtime,
# and which verifies the real SEV-SNP report of ../shared/testdata (read in
# place; tampered copies go to $TMP) and refuses what it must.
source "$(dirname "$0")/common.bash"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "$BUILD" && pwd)
TD=$ROOT/../shared/testdata/attestation
REPORT=$TD/snp/milan-report.bin
VCEK=$TD/snp/milan-vcek.der
QUOTE=$TD/tdx/quote-v4-spr.dat
NOW=2023-06-20T00:00:00Z

DEST=$TMP/dest
if DESTDIR=$DEST cmake --install "$B" --prefix /opt/ehal-test >"$TMP/install.log" 2>&1; then
  ok "cmake --install --prefix /opt/ehal-test into a DESTDIR"
else
  not_ok "cmake --install --prefix /opt/ehal-test into a DESTDIR" "$(tail -5 "$TMP/install.log")"
fi
PC=$(find "$DEST" -name elastic-hal-verify.pc | head -1)
SO=$(find "$DEST" -name 'libelastic-hal-verify.so' | head -1)
AR=$(find "$DEST" -name 'libelastic-hal-verify.a' | head -1)
HDR=$(find "$DEST" -name elastic_hal_verify.h | head -1)
check "elastic-hal-verify.pc is installed next to elastic-hal.pc and names the prefix" \
  eval '[[ -n $PC && -f $(dirname "$PC")/elastic-hal.pc ]] && grep -qx "prefix=/opt/ehal-test" "$PC"'
check "the shared and static libraries and the header are installed" \
  eval '[[ -n $SO && -n $AR && -n $HDR ]]'

# A relying party: RP [--debug] [--simulated] [--trailing] [--vcek F] [--now T]
#   [--report-data HEX] [--module F] [--world W] [--workload W] [--json] FILE
# Prints "verified" or "refused: REASON"; exit 0 / 1 (2: usage, 3: API misuse).
cat >"$TMP/rp.c" <<'EOF'
#include <elastic_hal_verify.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  unsigned char *b = NULL;
  size_t cap = 0, got;
  *len = 0;
  do {
    unsigned char *nb = f ? realloc(b, cap += 1 << 20) : NULL;
    if (!nb) break;
    b = nb;
    *len += got = fread(b + *len, 1, cap - *len, f);
  } while (got);
  if (f) fclose(f);
  return b;
}

int main(int argc, char **argv) {
  int v = 0;
  if (strcmp(elastic_hal_verify_version(&v), ELASTIC_HAL_VERIFY_VERSION) ||
      v != ELASTIC_HAL_VERIFY_VERSION_NUMBER)
    return 3;
  elastic_hal_verify_options *o = elastic_hal_verify_options_new();
  unsigned flags = 0;
  int json = 0, i;
  for (i = 1; i < argc - 1; i++) {
    const char *a = argv[i];
    int bad = 0;
    if (!strcmp(a, "--debug")) {
      flags |= ELASTIC_HAL_VERIFY_ALLOW_DEBUG;
    } else if (!strcmp(a, "--simulated")) {
      flags |= ELASTIC_HAL_VERIFY_ALLOW_SIMULATED;
    } else if (!strcmp(a, "--trailing")) {
      flags |= ELASTIC_HAL_VERIFY_ALLOW_TRAILING;
    } else if (!strcmp(a, "--json")) {
      json = 1;
    } else if (!strcmp(a, "--vcek")) {
      bad = elastic_hal_verify_options_set_vcek_file(o, argv[++i]);
    } else if (!strcmp(a, "--now")) {
      int64_t t;
      bad = elastic_hal_verify_parse_time(argv[++i], &t) || elastic_hal_verify_options_set_now(o, t);
    } else if (!strcmp(a, "--report-data")) {
      const char *h = argv[++i];
      unsigned char rd[64];
      size_t n = strlen(h) / 2;
      for (size_t k = 0; k < n && k < sizeof rd; k++) sscanf(h + 2 * k, "%2hhx", &rd[k]);
      bad = elastic_hal_verify_options_expect_report_data(o, rd, n);
    } else if (!strcmp(a, "--module")) {
      size_t n;
      unsigned char *m = slurp(argv[++i], &n);
      bad = !m || elastic_hal_verify_options_expect_module(o, m, n);
      free(m);
    } else if (!strcmp(a, "--world")) {
      bad = elastic_hal_verify_options_expect_world(o, argv[++i]);
    } else if (!strcmp(a, "--workload")) {
      bad = elastic_hal_verify_options_expect_workload(o, argv[++i]);
    } else {
      return 2;
    }
    if (bad) return 3;
  }
  if (i != argc - 1 || elastic_hal_verify_options_set_flags(o, flags)) return 2;
  size_t len;
  unsigned char *buf = slurp(argv[argc - 1], &len);
  if (!buf) return 2;
  elastic_hal_verify_result *r = NULL;
  int rc = elastic_hal_verify(buf, len, o, &r);
  free(buf);
  elastic_hal_verify_options_free(o); /* the result does not need the options */
  if (json)
    puts(elastic_hal_verify_result_json(r));
  else if (rc == 0 && elastic_hal_verify_result_ok(r))
    printf("verified %d %02x%02x\n", (int)elastic_hal_verify_result_kind(r),
           elastic_hal_verify_result_measurement(r)[0], elastic_hal_verify_result_measurement(r)[1]);
  else
    printf("refused: %s\n", elastic_hal_verify_result_reason(r));
  elastic_hal_verify_result_free(r);
  return rc == 0 ? 0 : 1;
}
EOF

flags=$(PKG_CONFIG_SYSROOT_DIR=$DEST PKG_CONFIG_PATH=$(dirname "$PC") pkg-config --cflags --libs elastic-hal-verify 2>&1)
# a sanitizer build's library needs its runtime in the program too
san=""
grep -q '^EHAL_SANITIZE:BOOL=ON' "$B/CMakeCache.txt" 2>/dev/null && san="-fsanitize=address,undefined"
LIBDIR=$(dirname "$SO")
# shellcheck disable=SC2086
if cc $san -std=c11 -Wall -Wextra -Werror "$TMP/rp.c" $flags -o "$TMP/rp" 2>"$TMP/cc.err"; then
  ok "a relying party builds against the installed header with pkg-config elastic-hal-verify"
else
  not_ok "a relying party builds against the installed header with pkg-config elastic-hal-verify" \
    "flags: $flags" "$(head -5 "$TMP/cc.err")"
fi
check "pkg-config elastic-hal-verify names the verifier alone: not -lelastic-hal, not sqlite3" \
  eval '[[ $flags == *-lelastic-hal-verify* ]] && ! grep -qE -- "-lelastic-hal( |$)|sqlite" <<<"$flags"'

# what the program and the library need and give
LD_LIBRARY_PATH=$LIBDIR ldd "$TMP/rp" >"$TMP/ldd.rp" 2>&1
ldd "$SO" >"$TMP/ldd.so" 2>&1
check "the relying party needs libelastic-hal-verify, and neither libelastic-hal nor libsqlite3" \
  eval 'grep -q "libelastic-hal-verify.so.0 => $LIBDIR" "$TMP/ldd.rp" &&
        ! grep -qE "libsqlite3|libelastic-hal\.so" "$TMP/ldd.rp" "$TMP/ldd.so"'
# (into files: "nm | grep -q" under pipefail fails when grep stops reading early)
nm -D --defined-only "$SO" | awk '{print $3}' >"$TMP/exports"
nm -D --undefined-only "$SO" | awk '{print $2}' >"$TMP/imports"
others=$(grep -v -e '^elastic_hal_verify' -e '^_init$' -e '^_fini$' "$TMP/exports" | head -5)
check "libelastic-hal-verify.so exports only elastic_hal_verify* (no ehal_*, no wasm_rt_*)" \
  eval '[[ -z $others ]] && grep -qx elastic_hal_verify "$TMP/exports"' ||
  echo "# also exported: $others"
check "libelastic-hal-verify.so needs no symbol of SQLite, the wasm2c runtime or the HAL" \
  eval '! grep -qE "^(sqlite3_|wasm_rt_|ehal_|elastic_hal_)" "$TMP/imports"'
check "the installed header compiles as C++ (C linkage kept)" \
  eval 'printf "#include <elastic_hal_verify.h>\nint f() { return elastic_hal_verify_result_ok(0); }\n" |
        c++ -x c++ -c -I"$(dirname "$HDR")" - -o "$TMP/hdr.o" && nm -u "$TMP/hdr.o" >"$TMP/hdr.syms" &&
        grep -qw elastic_hal_verify_result_ok "$TMP/hdr.syms"'

# runrp ARGS... : the relying party, as runh runs the CLI
runrp() { LD_LIBRARY_PATH=$LIBDIR EHAL=$TMP/rp runh "$@"; }

# ---- the real SEV-SNP report ----
runrp --debug --vcek "$VCEK" --now $NOW "$REPORT"
check "the real Milan report with its VCEK (debug allowed): verified, SEV-SNP, its measurement" \
  eval 'rc_is 0 && out_has "verified 1 b07a" && no_sanitizer'
runrp --vcek "$VCEK" --now $NOW "$REPORT"
check "the real Milan report without ALLOW_DEBUG: refused, saying debug" \
  eval 'rc_is 1 && out_has "refused: policy:" && out_has "debug"'
runrp --debug --vcek "$VCEK" --now 2031-01-01T00:00:00Z "$REPORT"
check "the real Milan report after its VCEK expired: refused" eval 'rc_is 1 && out_has "expired"'
runrp --debug --now $NOW "$REPORT"
check "a raw report without a VCEK: refused" eval 'rc_is 1 && out_has "refused: key:"'
runrp --debug --vcek "$VCEK" --now $NOW --report-data 0102030405 "$REPORT"
check "expect_report_data 0102030405 (zero-padded to 64 bytes): verified" rc_is 0
runrp --debug --vcek "$VCEK" --now $NOW --report-data 01020304 "$REPORT"
check "expect_report_data of another value: refused" eval 'rc_is 1 && out_has "report-data"'
runrp --debug --vcek "$VCEK" --now $NOW --world elastic-tee-attestation "$REPORT"
check "expect_world on a raw report (which names no world): refused" eval 'rc_is 1 && out_has "world"'
python3 -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[0x90] ^= 1
open(sys.argv[2], "wb").write(b)' "$REPORT" "$TMP/tampered.bin"
runrp --debug --vcek "$VCEK" --now $NOW "$TMP/tampered.bin"
check "a copy with one flipped MEASUREMENT bit: refused, by the signature" \
  eval 'rc_is 1 && out_has "refused: signature:"'
runrp --debug --vcek "$VCEK" --now $NOW --json "$REPORT"
check "the JSON result: ok, kind sev-snp, product milan, every check passed or skipped" \
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is True and d["kind"] == "sev-snp" and d["product"] == "milan", d
assert all(c["status"] in ("pass", "skipped") for c in d["checks"]), d["checks"]' "$TMP/out"

# ---- the real TDX quote ----
runrp --now $NOW "$QUOTE"
check "the real TDX quote as shipped (trailing text): refused" eval 'rc_is 1 && out_has "trailing-data"'
runrp --trailing --now $NOW "$QUOTE"
check "the real TDX quote with ALLOW_TRAILING: verified, TDX" eval 'rc_is 0 && out_has "verified 2 "'

# ---- an envelope from the simulated platform ----
runh attest --state-dir "$STATE" --report-data 0a0b0c -o "$TMP/env.json"
if rc_is 0; then
  runrp "$TMP/env.json"
  check "a simulated envelope without ALLOW_SIMULATED: refused" eval 'rc_is 1 && out_has "simulated"'
  runrp --simulated --report-data 0a0b0c --module "$EHAL" --world elastic-tee-attestation \
    --workload elastic-hal "$TMP/env.json"
  check "the simulated envelope with its report-data, module, world and workload: verified" \
    eval 'rc_is 0 && out_has "verified 3 "'
  runrp --simulated --workload someone-else "$TMP/env.json"
  check "the simulated envelope expecting another workload: refused" \
    eval 'rc_is 1 && out_has "refused: workload:"'
else
  not_ok "elastic-hal attest gives an envelope for the library to verify" "$(last_diag)"
fi

# ---- the static library, with the libraries pkg-config --static names ----
sflags=$(PKG_CONFIG_SYSROOT_DIR=$DEST PKG_CONFIG_PATH=$(dirname "$PC") pkg-config --static --cflags --libs elastic-hal-verify 2>&1)
# shellcheck disable=SC2086
if cc $san -std=c11 "$TMP/rp.c" ${sflags//-lelastic-hal-verify/$AR} -o "$TMP/rp-static" 2>"$TMP/cc.err"; then
  EHAL=$TMP/rp-static runh --debug --vcek "$VCEK" --now $NOW "$REPORT"
  check "a relying party linked with libelastic-hal-verify.a verifies the Milan report" \
    eval 'rc_is 0 && out_has "verified 1 " && ldd "$TMP/rp-static" >"$TMP/ldd.static" &&
          ! grep -qE "sqlite|elastic-hal" "$TMP/ldd.static"'
else
  not_ok "a relying party links with libelastic-hal-verify.a" "flags: $sflags" "$(head -5 "$TMP/cc.err")"
fi

finish
