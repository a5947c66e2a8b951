#!/usr/bin/env bash
# ratls.sh - attested TLS (issue 9): a guest's TLS server with
# --tls-identity attested presents a certificate whose CMW extension carries
# the platform's evidence for the certificate's own key; openssl s_client
# fetches it and `elastic-hal verify` checks evidence, binding and key
# together, and refuses a copy of the evidence on another key.
source "$(dirname "$0")/common.bash"

NET=$GUESTS/net_guest.wasm
S=$TMP/ratls-state
mkdir -m 700 "$S"
P=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

: >"$TMP/srv.out" # before the launch: no stale line is read
"$EHAL" run --state-dir "$S" --allow-bind "127.0.0.1:$P" --tls-identity attested "$NET" \
  https-server 127.0.0.1 "$P" 1 >"$TMP/srv.out" 2>"$TMP/srv.err" </dev/null &
SRV=$!
for _ in $(seq 400); do grep -q listening "$TMP/srv.out" 2>/dev/null && break; sleep 0.05; done
{ printf 'GET / HTTP/1.0\r\n\r\n'; sleep 2; } | timeout 10 openssl s_client -connect "127.0.0.1:$P" \
  >"$TMP/s_client.out" 2>&1
wait "$SRV"
SRV_RC=$?
openssl x509 -in "$TMP/s_client.out" -outform PEM -out "$TMP/att.pem" 2>/dev/null
check "the attested server answers over TLS with a self-signed certificate" \
  eval '[[ $SRV_RC == 0 && -s $TMP/att.pem ]] && grep -q "request 0 over TLS" "$TMP/s_client.out" &&
    openssl x509 -in "$TMP/att.pem" -noout -subject | grep -q "elastic-hal attested workload net_guest"'
check "its certificate has the CMW extension (id-pe-cmw), not critical" \
  eval 'openssl x509 -in "$TMP/att.pem" -noout -text | grep -qE "^ +1\.3\.6\.1\.5\.5\.7\.1\.35: *$"'

runh verify "$TMP/att.pem"
check "verify: simulated evidence is refused without --allow-simulated" \
  eval 'rc_is 1 && err_has "simulated"'
runh verify --allow-simulated --expect-module "$NET" --expect-workload net_guest \
  --expect-world elastic-tee-hal "$TMP/att.pem"
check "verify: evidence, binding (module, world, workload) and key check out" \
  eval 'rc_is 0 && out_has "verified"'
openssl x509 -in "$TMP/att.pem" -outform DER -out "$TMP/att.der"
runh verify --allow-simulated --json "$TMP/att.der"
check "verify: the DER form too; --json shows the key-binding check" \
  eval 'rc_is 0 && out_has "\"check\": \"key-binding\"" && out_has "SHA-256 of the certificate"'
runh verify --allow-simulated --expect-module "$GUESTS/hello.wasm" "$TMP/att.pem"
check "verify: another module is refused" eval 'rc_is 1 && err_has "module"'
runh verify --allow-simulated --expect-workload other "$TMP/att.pem"
check "verify: another workload is refused" eval 'rc_is 1 && err_has "workload"'

# the evidence copied into a certificate for another key, validly
# self-signed: the evidence does not name that key
python3 - "$TMP/att.der" >"$TMP/cmw.hex" <<'PY'
import sys
der = open(sys.argv[1], "rb").read()
oid = bytes.fromhex("06082b06010505070123")
i = der.index(oid) + len(oid)
if der[i] == 0x01:  # a critical flag, if any
    i += 3
assert der[i] == 0x04
n, i = der[i + 1], i + 2
if n & 0x80:
    k = n & 0x7f
    n, i = int.from_bytes(der[i:i + k], "big"), i + k
print(der[i:i + n].hex())
PY
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/thief.key" \
  -out "$TMP/thief.pem" -days 1 -subj "/CN=elastic-hal attested workload net_guest" \
  -addext "1.3.6.1.5.5.7.1.35=DER:$(cat "$TMP/cmw.hex")" 2>/dev/null
runh verify --allow-simulated "$TMP/thief.pem"
check "verify: the same evidence on another (validly self-signed) key is refused" \
  eval 'rc_is 1 && err_has "report-data"'
cp "$TMP/att.der" "$TMP/flip.der"
python3 -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 1
open(sys.argv[1], "wb").write(b)' "$TMP/flip.der"
runh verify --allow-simulated "$TMP/flip.der"
check "verify: a byte changed in the certificate is refused" eval 'rc_is 1'
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/plain.key" \
  -out "$TMP/plain.pem" -days 1 -subj /CN=plain 2>/dev/null
runh verify --allow-simulated "$TMP/plain.pem"
check "verify: a certificate without evidence is not attested" \
  eval 'rc_is 1 && err_has "not attested"'

# ---- a guest client that requires an attested peer ----
MOD=$(sha384sum "$NET" | cut -d" " -f1)
# serve_attested N: the attested HTTPS server for N clients
serve_attested() {
  P=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  : >"$TMP/srv.out" # before the launch: no stale line is read
  "$EHAL" run --state-dir "$S" --allow-bind "127.0.0.1:$P" --tls-identity attested "$NET" \
    https-server 127.0.0.1 "$P" "$1" >"$TMP/srv.out" 2>"$TMP/srv.err" </dev/null &
  SRV=$!
  for _ in $(seq 400); do grep -q listening "$TMP/srv.out" 2>/dev/null && break; sleep 0.05; done
}
client() { # client SIM MODULE WORKLOAD
  runh run --state-dir "$TMP/client-state" --allow-connect "127.0.0.1:$P" "$NET" attested-client \
    127.0.0.1 "$P" "$@"
}
mkdir -m 700 "$TMP/client-state"
serve_attested 4
client 1 "$MOD" net_guest
check "client: the peer proves its module and workload in the handshake; data flows" \
  eval 'rc_is 0 && out_has "attested peer accepted" && out_has "request 0 over TLS"'
client 0 "$MOD" net_guest
check "client: simulated evidence is refused unless the policy allows it" \
  eval 'rc_is 1 && out_has "attested peer refused: simulated"'
client 1 "$(sha384sum "$GUESTS/hello.wasm" | cut -d" " -f1)" -
check "client: a peer running another module is refused" \
  eval 'rc_is 1 && out_has "attested peer refused: module"'
client 1 - another-workload
check "client: a peer that is another workload is refused" \
  eval 'rc_is 1 && out_has "attested peer refused: workload"'
kill "$SRV" 2>/dev/null
wait "$SRV" 2>/dev/null

# a server with an ordinary certificate (OpenSSL's own, from a CA) is no
# attested peer
C=$TMP/pki
mkdir -p "$C"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/k" -out "$C/c" \
  -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
P=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
: >"$TMP/s_server.out" # before the launch: no stale ACCEPT is read
timeout 30 openssl s_server -accept "127.0.0.1:$P" -www -naccept 1 -cert "$C/c" -key "$C/k" \
  >"$TMP/s_server.out" 2>&1 &
PEER=$!
for _ in $(seq 200); do grep -q ACCEPT "$TMP/s_server.out" 2>/dev/null && break; sleep 0.05; done
client 1 - -
check "client: a server without evidence in its certificate is refused" \
  eval 'rc_is 1 && out_has "attested peer refused: cmw" && out_has "not attested"'
kill "$PEER" 2>/dev/null
wait "$PEER" 2>/dev/null
runh run --state-dir "$S" "$NET" attested-client 127.0.0.1 1 1 nothex -
check "client: a malformed policy is an error before connecting" \
  eval 'rc_is 1 && out_has "require-attested-peer: module-sha384 must be 96 hex digits"'

# ---- the attested pair of examples/ ----
P=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
: >"$TMP/srv.out" # before the launch: no stale line is read
"$EHAL" run --state-dir "$S" --allow-bind "127.0.0.1:$P" --tls-identity attested \
  "$GUESTS/https_server.wasm" 127.0.0.1 "$P" 1 >"$TMP/srv.out" 2>"$TMP/srv.err" </dev/null &
SRV=$!
for _ in $(seq 400); do grep -q serving "$TMP/srv.out" 2>/dev/null && break; sleep 0.05; done
runh run --state-dir "$TMP/client-state" --allow-connect "127.0.0.1:$P" \
  "$GUESTS/attested_client.wasm" 127.0.0.1 "$P" "$(sha384sum "$GUESTS/https_server.wasm" | cut -d" " -f1)" \
  allow-simulated
wait "$SRV"
check "examples/attested: the client accepts the https_server example by its module hash" \
  eval 'rc_is 0 && out_has "the peer proved its code and platform" && out_has "hello over TLS"'

runh info
check "capabilities: sockets.attested-tls supported" \
  eval 'grep -qE "^sockets.attested-tls +supported" "$TMP/out"'

finish
