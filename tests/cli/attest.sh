#!/usr/bin/env bash
# attest.sh - `elastic-hal attest`: usage, the envelope it writes (with the
# CLI itself as the workload), and the simulated evidence checked with
# tools independent of the HAL (python3 for the binding, the openssl
# command for the signature and the chain).  Runs where no TEE is present
# (the simulated platform).
source "$(dirname "$0")/common.bash"

# ---- help and usage errors ----
runh attest --help
check "attest --help exits 0 and prints its usage" \
  eval 'rc_is 0 && out_has "Usage:" && out_has "--report-data" && out_has "--state-dir" && out_has "--world"'
runh attest --state-dir "$STATE" --report-data abc
check "attest --report-data with an odd number of digits: exit 2" eval 'rc_is 2 && out_empty'
runh attest --state-dir "$STATE" --report-data zz
check "attest --report-data that is not hex: exit 2" eval 'rc_is 2 && out_empty'
runh attest --state-dir "$STATE" --report-data "$(printf '%02x' $(seq 1 1025 | sed 's/.*/1/'))"
check "attest --report-data of 1025 bytes: exit 2 naming the limit" eval 'rc_is 2 && err_has "1024" && out_empty'
runh attest --state-dir "$STATE" --world no-such-world
check "attest --world with an unknown world: exit 2" eval 'rc_is 2 && err_has "no-such-world" && out_empty'
runh attest --state-dir "$STATE" --bogus
check "attest with an unknown option: exit 2" rc_is 2
runh attest --state-dir "$STATE" extra
check "attest with a stray argument: exit 2" rc_is 2

# ---- evidence to stdout ----
if [[ $(cat /sys/kernel/config/tsm/report/*/provider 2>/dev/null) != "" || -e /dev/sev-guest || -e /dev/tdx_guest ]]; then
  echo "# a TEE is present: the simulated-platform checks below may not apply"
fi
RD=00112233445566778899aabbccddeeff
runh attest --state-dir "$STATE" --report-data "$RD"
cp "$TMP/out" "$TMP/env1.json"
check "attest exits 0 and writes one JSON object to stdout" \
  eval 'rc_is 0 && python3 -m json.tool "$TMP/env1.json" >/dev/null && err_empty'

# Checks an envelope (argv: file, report-data hex, world, the CLI binary) and
# writes the report, its signed part, the signature (DER) and the
# certificates (PEM) into $TMP for openssl.
PYCHECK='import base64, hashlib, json, struct, sys
env = json.load(open(sys.argv[1]))
rd = bytes.fromhex(sys.argv[2]); world = sys.argv[3]
exe = hashlib.sha384(open(sys.argv[4], "rb").read()).digest()
out = sys.argv[5]
assert env["type"] == "elastic-hal-evidence" and env["version"] == 1, "type/version"
assert env["provider"] == "simulated", env["provider"]
assert env["evidence"]["format"] == "sev-snp-report"
b = env["binding"]
assert b["scheme"] == "elastic-hal-binding-v1"
assert b["report-data"] == rd.hex(), "report-data"
assert b["module-sha384"] == exe.hex(), "module-sha384 is not the CLI binary"
assert b["world"] == world and b["workload"] == "elastic-hal", (b["world"], b["workload"])
def lp(x): return struct.pack(">I", len(x)) + x
want = hashlib.sha512(b"ELASTIC-HAL-BINDING-V1\0" + lp(rd) + lp(exe) + lp(world.encode())
                      + lp(b"elastic-hal")).digest()
rep = base64.b64decode(env["evidence"]["data"], validate=True)
assert len(rep) == 1184, len(rep)
assert rep[0x50:0x90] == want, "REPORT_DATA is not the binding"
assert rep[0x90:0xC0] == exe, "MEASUREMENT is not the module SHA-384"
assert struct.unpack_from("<I", rep, 0)[0] == 2 and struct.unpack_from("<I", rep, 0x34)[0] == 1
assert not struct.unpack_from("<Q", rep, 8)[0] & (1 << 19), "debug policy"
open(out + "/signed.bin", "wb").write(rep[:0x2A0])
def der_int(x):
    v = x.to_bytes((x.bit_length() + 7) // 8 or 1, "big")
    if v[0] & 0x80: v = b"\0" + v
    return b"\x02" + bytes([len(v)]) + v
r = int.from_bytes(rep[0x2A0:0x2E8], "little"); s = int.from_bytes(rep[0x2E8:0x330], "little")
body = der_int(r) + der_int(s)
open(out + "/sig.der", "wb").write(b"\x30" + bytes([len(body)]) + body)
t = base64.b64decode(env["certificates"], validate=True)
guids = {"63da758d-e664-4564-adc5-f4b93be8accd": "vcek", "4ab7b379-bbac-4fe4-a02f-05aef327c782": "ask",
         "c0b406a4-a803-4952-9743-3fb6014cd0ae": "ark"}
seen = set(); i = 0
while True:
    g, off, ln = t[i:i + 16], *struct.unpack_from("<II", t, i + 16)
    if g == bytes(16) and off == 0 and ln == 0: break
    import uuid
    name = guids.get(str(uuid.UUID(bytes=g)))
    if name:
        pem = base64.encodebytes(t[off:off + ln]).decode()
        open(out + "/" + name + ".pem", "w").write("-----BEGIN CERTIFICATE-----\n" + pem + "-----END CERTIFICATE-----\n")
        seen.add(name)
    i += 24
assert seen == {"vcek", "ask", "ark"}, seen'
check "the envelope: simulated SNP report; binding of the report data, the CLI binary's SHA-384, elastic-tee-attestation, elastic-hal" \
  python3 -c "$PYCHECK" "$TMP/env1.json" "$RD" elastic-tee-attestation "$EHAL" "$TMP"
check "openssl: the report signature verifies with the VCEK from the certificate table" \
  eval 'openssl x509 -in "$TMP/vcek.pem" -pubkey -noout >"$TMP/vcek.pub" &&
        openssl dgst -sha384 -verify "$TMP/vcek.pub" -signature "$TMP/sig.der" "$TMP/signed.bin" >/dev/null'
check "openssl: the chain ARK -> ASK -> VCEK verifies" \
  eval 'openssl verify -CAfile "$TMP/ark.pem" -untrusted "$TMP/ask.pem" "$TMP/vcek.pem" >/dev/null'
check "openssl: every certificate's subject says SIMULATED" \
  eval 'for c in ark ask vcek; do openssl x509 -in "$TMP/$c.pem" -noout -subject | grep -q SIMULATED || exit 1; done'
check "the state directory holds the chain: directories 0700, private keys 0600" \
  eval '[[ $(stat -c %a "$STATE/attestation") == 700 && $(stat -c %a "$STATE/attestation/simulated") == 700 ]] &&
        for k in ark ask vcek; do [[ $(stat -c %a "$STATE/attestation/simulated/$k.key") == 600 ]] || exit 1; done'

# ---- the verifier of this build, where it has one (docs/verify.md) ----
runh verify --help
if rc_is 0; then
  runh verify "$TMP/env1.json"
  check "verify refuses the simulated envelope without --allow-simulated" \
    eval 'rc_is 1 && err_has "simulated"'
  runh verify --allow-simulated --expect-report-data "$RD" --expect-module "$EHAL" "$TMP/env1.json"
  check "verify --allow-simulated accepts it, with its report data and the CLI as the module" rc_is 0
  runh verify --allow-simulated --expect-world elastic-tee-attestation --expect-workload elastic-hal "$TMP/env1.json"
  check "verify --expect-world elastic-tee-attestation --expect-workload elastic-hal: attest's defaults are bound" rc_is 0

  # a guest linked with elastic-tee-attestation (and WASI) binds that world's name
  if G=$(wat attest); then
    runh run --world elastic-tee-attestation --workload attest-wl --state-dir "$STATE" "$G"
    cp "$TMP/out" "$TMP/guest.json"
    check "a guest in elastic-tee-attestation attests: exit 0, an envelope on stdout" \
      eval 'rc_is 0 && python3 -m json.tool "$TMP/guest.json" >/dev/null'
    runh verify --allow-simulated --expect-world elastic-tee-attestation --expect-workload attest-wl \
      --expect-report-data 6e6f6e6365 --expect-module "$G" "$TMP/guest.json"
    check "verify --expect-world elastic-tee-attestation --expect-workload attest-wl (and its report data, module): exit 0" \
      eval 'rc_is 0 && out_has "verified:" && err_empty'
    runh verify --allow-simulated --expect-world elastic-tee-minimal --expect-workload attest-wl "$TMP/guest.json"
    check "  ... --expect-world elastic-tee-minimal: exit 1, one line naming the world field" \
      eval 'rc_is 1 && [[ $(wc -l <"$TMP/err") == 1 ]] && err_has "verify: world: the bound world '"'elastic-tee-attestation'"' is not the expected '"'elastic-tee-minimal'"'"'
    runh verify --allow-simulated --expect-world elastic-tee-attestation --expect-workload attest "$TMP/guest.json"
    check "  ... --expect-workload attest: exit 1, one line naming the workload field" \
      eval 'rc_is 1 && [[ $(wc -l <"$TMP/err") == 1 ]] && err_has "verify: workload: the bound workload '"'attest-wl'"' is not the expected '"'attest'"'"'
    runh verify --allow-simulated --expect-world elastic-tee-attestation,x "$TMP/guest.json"
    check "  ... --expect-world with a suffix: exit 1 (exact match)" eval 'rc_is 1 && err_has "verify: world:"'
    runh verify --allow-simulated --json --expect-world elastic-tee-attestation --expect-workload attest-wl "$TMP/guest.json"
    check "  ... --json: the world and workload checks pass" \
      eval 'rc_is 0 && python3 -c "import json, sys
d = json.load(open(sys.argv[1])); c = {k[\"check\"]: k[\"status\"] for k in d[\"checks\"]}
assert c[\"world\"] == \"pass\" and c[\"workload\"] == \"pass\", c" "$TMP/out"'
    runh run --state-dir "$STATE" "$G"
    cp "$TMP/out" "$TMP/guest-hal.json"
    runh verify --allow-simulated --expect-world elastic-tee-hal --expect-workload attest "$TMP/guest-hal.json"
    check "run's defaults: world elastic-tee-hal (WASI is no part of it), workload from the file name" rc_is 0
  else
    not_ok "the attest.wat guest compiles"
  fi
else
  ok "verify refuses the simulated envelope without --allow-simulated # SKIP no verify command"
  ok "verify --allow-simulated accepts it # SKIP no verify command"
fi

# ---- -o FILE, defaults, reuse ----
runh attest --state-dir "$STATE" -o "$TMP/env2.json" --world elastic-tee-hal
check "attest -o FILE: exit 0, nothing on stdout" eval 'rc_is 0 && out_empty && [[ -s $TMP/env2.json ]]'
check "attest -o FILE --world elastic-tee-hal: the file holds the envelope, empty report data, that world" \
  python3 -c "$PYCHECK" "$TMP/env2.json" "" elastic-tee-hal "$EHAL" "$TMP"
PYSAME='import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert a["certificates"] == b["certificates"], "the chain changed"'
check "a second run reuses the state directory's chain" python3 -c "$PYSAME" "$TMP/env1.json" "$TMP/env2.json"
runh verify --help
if rc_is 0; then
  runh verify --allow-simulated --expect-world elastic-tee-hal "$TMP/env2.json"
  check "verify --expect-world elastic-tee-hal accepts attest --world elastic-tee-hal's envelope" rc_is 0
fi
mkdir -p "$TMP/xdg"
XDG_STATE_HOME=$TMP/xdg runh attest
check "without --state-dir: \$XDG_STATE_HOME/elastic-hal/attestation" \
  eval 'rc_is 0 && [[ -d $TMP/xdg/elastic-hal/attestation/simulated ]]'
runh attest --state-dir "$STATE" -o "$TMP/no-such-dir/env.json"
check "attest -o into a missing directory: exit 1 naming the file" \
  eval 'rc_is 1 && err_has "no-such-dir" && out_empty'
touch "$TMP/not-a-dir"
runh attest --state-dir "$TMP/not-a-dir/state"
check "attest with an unusable state directory: exit 1, no envelope" eval 'rc_is 1 && out_empty'

finish
