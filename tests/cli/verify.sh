#!/usr/bin/env bash
# verify.sh - "elastic-hal verify": usage errors, exit statuses, the one-line
# reason, --json, on the real artefacts in ../shared/testdata (read in place;
# tampered copies go to $TMP) and, when "elastic-hal attest" exists, on an
# envelope from the simulated platform.
source "$(dirname "$0")/common.bash"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TD=$ROOT/../shared/testdata/attestation
REPORT=$TD/snp/milan-report.bin
VCEK=$TD/snp/milan-vcek.der
QUOTE=$TD/tdx/quote-v4-spr.dat
NOW=2023-06-20T00:00:00Z

# exactly one line on stderr: "elastic-hal: verify: REASON"
one_line() {
  [[ $(wc -l <"$TMP/err") -eq 1 ]] && grep -qE '^elastic-hal: verify: .+' "$TMP/err" && no_sanitizer
}
json_ok() { # json_ok true|false : stdout is a result with that verdict
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is (sys.argv[2] == "true"), d["ok"]
assert isinstance(d["reason"], str) and d["reason"]
assert all(c["status"] in ("pass", "fail", "skipped") for c in d["checks"])' "$TMP/out" "$1"
}
json_has() { # json_has PYTHON-EXPRESSION-ON-d
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
checks = {c["check"]: c["status"] for c in d["checks"]}
assert eval(sys.argv[2]), sys.argv[2]' "$TMP/out" "$1"
}

# ---- usage ----
runh verify --help
check "verify --help: exit 0, usage on stdout" eval 'rc_is 0 && out_has "Usage: elastic-hal verify" && out_has "--allow-simulated"'
runh verify
check "verify without FILE: exit 2" eval 'rc_is 2 && err_has "FILE"'
runh verify "$REPORT" "$REPORT"
check "verify with two FILEs: exit 2" rc_is 2
runh verify --bogus "$REPORT"
check "verify with an unknown option: exit 2 naming it" eval 'rc_is 2 && err_has "--bogus"'
runh verify --now yesterday "$REPORT"
check "--now that is not RFC 3339: exit 2" eval 'rc_is 2 && err_has "yesterday"'
runh verify --product naples "$REPORT"
check "--product naples: exit 2" eval 'rc_is 2 && err_has "naples"'
runh verify --vmpl 4 "$REPORT"
check "--vmpl 4: exit 2" rc_is 2
runh verify --expect-report-data xyz "$REPORT"
check "--expect-report-data that is not hex: exit 2" rc_is 2
runh verify "$REPORT" --now
check "--now without its argument: exit 2" eval 'rc_is 2 && err_has "needs an argument"'

# ---- the real SEV-SNP report ----
runh verify --now $NOW --vcek "$VCEK" --allow-debug "$REPORT"
check "real Milan report with its VCEK (debug allowed): exit 0, 'verified' on stdout" \
  eval 'rc_is 0 && out_has "verified: SEV-SNP report version 2 (milan)" && err_empty'
runh verify --now $NOW --vcek "$VCEK" "$REPORT"
check "real Milan report without --allow-debug: exit 1, one line saying debug" \
  eval 'rc_is 1 && one_line && err_has "debug" && out_empty'
runh verify --now $NOW --vcek "$VCEK" --allow-debug --product genoa "$REPORT"
check "real Milan report with --product genoa: exit 1, one line naming Genoa" \
  eval 'rc_is 1 && one_line && err_has "Genoa"'
runh verify --now 2031-01-01T00:00:00Z --vcek "$VCEK" --allow-debug "$REPORT"
check "real Milan report after the VCEK expired: exit 1, one line" eval 'rc_is 1 && one_line && err_has "expired"'
runh verify --now $NOW --allow-debug "$REPORT"
check "a raw report without --vcek: exit 1, one line asking for it" eval 'rc_is 1 && one_line && err_has "--vcek"'
runh verify --now $NOW --vcek "$VCEK" --allow-debug --expect-report-data 0102030405 "$REPORT"
check "--expect-report-data 0102030405 (zero-padded): exit 0" rc_is 0
runh verify --now $NOW --vcek "$VCEK" --allow-debug --expect-report-data 01020304 "$REPORT"
check "--expect-report-data of another value: exit 1" eval 'rc_is 1 && one_line && err_has "report-data"'
runh verify --now $NOW --vcek "$VCEK" --allow-debug --expect-world elastic-tee-hal "$REPORT"
check "--expect-world on a raw report: exit 1, one line: it needs an envelope" \
  eval 'rc_is 1 && one_line && err_has "--expect-world needs an envelope"'
runh verify --now $NOW --vcek "$VCEK" --allow-debug --expect-workload w "$REPORT"
check "--expect-workload on a raw report: exit 1, one line: it needs an envelope" \
  eval 'rc_is 1 && one_line && err_has "--expect-workload needs an envelope"'
runh verify --expect-world
check "--expect-world without its argument: exit 2" eval 'rc_is 2 && err_has "needs an argument"'
runh verify --now $NOW --vcek "$VCEK" --allow-debug --json "$REPORT"
check "--json on success: exit 0, a passing result" eval 'rc_is 0 && json_ok true && err_empty'
check "--json fields: kind, product, version, measurement, checks" \
  json_has 'd["kind"] == "sev-snp" and d["product"] == "milan" and d["version"] == 2 and d["report"]["measurement"].startswith("b07af962") and checks["signature"] == "pass" and checks["chain"] == "pass" and checks["tcb"] == "pass" and d["report"]["policy"]["debug"] is True'
runh verify --now $NOW --vcek "$VCEK" --json "$REPORT"
check "--json on failure: exit 1, a failing result on stdout and one line on stderr" \
  eval 'rc_is 1 && json_ok false && one_line && json_has "checks[\"policy\"] == \"fail\""'
python3 -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[0x90] ^= 1
open(sys.argv[2], "wb").write(b)' "$REPORT" "$TMP/tampered.bin"
runh verify --now $NOW --vcek "$VCEK" --allow-debug "$TMP/tampered.bin"
check "a report with one flipped MEASUREMENT bit: exit 1, one line about the signature" \
  eval 'rc_is 1 && one_line && err_has "signature"'
python3 -c "$PYRUN" "$TMP/rc" "$EHAL" verify --now $NOW --vcek "$VCEK" --allow-debug - <"$REPORT" >"$TMP/out" 2>"$TMP/err"
RC=$(cat "$TMP/rc")
check "FILE '-' reads the evidence from standard input" eval 'rc_is 0 && out_has "verified:"'

# ---- the real TDX quote ----
runh verify --now $NOW "$QUOTE"
check "real TDX quote file as shipped (non-zero bytes after the quote): exit 1, one line" \
  eval 'rc_is 1 && one_line && err_has "trailing-data"'
runh verify --now $NOW --allow-trailing-data "$QUOTE"
check "real TDX quote with --allow-trailing-data: exit 0" eval 'rc_is 0 && out_has "verified: TDX quote version 4"'
head -c 4935 "$QUOTE" >"$TMP/quote.dat"
runh verify --now $NOW "$TMP/quote.dat"
check "the quote proper: exit 0" rc_is 0
{ cat "$TMP/quote.dat"; head -c 4096 /dev/zero; } >"$TMP/quote-padded.dat"
runh verify --now $NOW "$TMP/quote-padded.dat"
check "the quote with 4 KiB of zero padding: exit 0" rc_is 0
runh verify --now $NOW --collateral "$TD/tdx" --json "$TMP/quote.dat"
check "with --collateral: CRLs and collateral signatures pass, TCB status matches no level: exit 1" \
  eval 'rc_is 1 && one_line && err_has "tcb-status" && json_ok false && json_has "checks[\"tcb-info\"] == \"pass\" and checks[\"qe-identity\"] == \"pass\" and checks[\"pck-chain\"] == \"pass\" and d[\"tcb_status\"] == \"NoMatchingLevel\""'
python3 -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[0x400] ^= 0x80
open(sys.argv[2], "wb").write(b)' "$TMP/quote.dat" "$TMP/quote-bad.dat"
runh verify --now $NOW "$TMP/quote-bad.dat"
check "a quote with a flipped QE report byte: exit 1, one line" eval 'rc_is 1 && one_line'

# ---- not evidence ----
runh verify "$TMP/no-such-file"
check "a missing FILE: exit 1, one line" eval 'rc_is 1 && one_line && err_has "no-such-file"'
runh verify --json "$TMP/no-such-file"
check "a missing FILE with --json: still a JSON result" eval 'rc_is 1 && json_ok false'
: >"$TMP/empty"
runh verify "$TMP/empty"
check "an empty FILE: exit 1, one line" eval 'rc_is 1 && one_line'
head -c 3000 /dev/urandom >"$TMP/noise"
runh verify "$TMP/noise"
check "random bytes: exit 1, one line" eval 'rc_is 1 && one_line'
printf '{"type": "elastic-hal-evidence", "version": 1}' >"$TMP/partial.json"
runh verify "$TMP/partial.json"
check "an envelope missing members: exit 1, one line" eval 'rc_is 1 && one_line && err_has "envelope"'

# ---- an envelope from the simulated platform (when attest is built) ----
runh attest --help
if rc_is 0; then
  runh attest --state-dir "$STATE" --report-data 0a0b0c -o "$TMP/env.json"
  check "attest writes an envelope" eval 'rc_is 0 && [[ -s $TMP/env.json ]]'
  runh verify "$TMP/env.json"
  check "simulated evidence without --allow-simulated: exit 1, one line saying simulated" \
    eval 'rc_is 1 && one_line && err_has "simulated"'
  runh verify --allow-simulated --expect-report-data 0a0b0c --expect-module "$EHAL" "$TMP/env.json"
  check "simulated envelope with --allow-simulated, its report-data and module: exit 0" rc_is 0
  runh verify --allow-simulated --expect-report-data 0a0b0d "$TMP/env.json"
  check "  ... another report-data: exit 1" eval 'rc_is 1 && one_line && err_has "report-data"'
  runh verify --allow-simulated --expect-module "$REPORT" "$TMP/env.json"
  check "  ... another module: exit 1" eval 'rc_is 1 && one_line && err_has "module"'
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); d["binding"]["workload"] += "x"
json.dump(d, open(sys.argv[2], "w"))' "$TMP/env.json" "$TMP/env-bad.json"
  runh verify --allow-simulated "$TMP/env-bad.json"
  check "  ... a changed workload name: exit 1, the binding fails" eval 'rc_is 1 && one_line && err_has "binding"'
else
  ok "simulated envelope round trip # SKIP elastic-hal attest is not built"
fi

finish
