#!/usr/bin/env bash
# tls.sh - elastic:sockets over TLS and DTLS against OpenSSL's s_server and
# s_client and curl, on loopback (issue 9): both roles, TLS 1.2 and 1.3, DTLS 1.2, the
# verification failures a client must report (unknown CA, wrong name,
# expired), the operator's PKCS#12 identity, and a handshake that fails
# without stopping the server.
source "$(dirname "$0")/common.bash"

NET=$GUESTS/net_guest.wasm
S=$TMP/tls-state
C=$TMP/pki
mkdir -m 700 "$S" "$C"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# a CA, a server certificate for localhost (DNS name only), an expired one,
# a CA nobody trusts, and the identity as PKCS#12 with a password
ec() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "$@" 2>/dev/null; }
ec -x509 -keyout "$C/ca.key" -out "$C/ca.pem" -days 30 -subj /CN=ehal-test-ca
ec -x509 -keyout "$C/other.key" -out "$C/other.pem" -days 30 -subj /CN=another-ca
ec -keyout "$C/srv.key" -out "$C/srv.csr" -subj /CN=localhost
printf 'subjectAltName=DNS:localhost\n' >"$C/ext"
openssl x509 -req -in "$C/srv.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial -days 30 \
  -extfile "$C/ext" -out "$C/srv.pem" 2>/dev/null
openssl x509 -req -in "$C/srv.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial -days 0 \
  -extfile "$C/ext" -out "$C/expired.pem" 2>/dev/null
printf 'correct horse\n' >"$C/pw"
printf 'wrong\n' >"$C/badpw"
openssl pkcs12 -export -inkey "$C/srv.key" -in "$C/srv.pem" -certfile "$C/ca.pem" \
  -passout "file:$C/pw" -out "$C/srv.p12"
sleep 1 # the -days 0 certificate is now past its notAfter

# s_server ARGS... : OpenSSL's test server (-www: it answers GET / with a
# page that names the protocol and cipher) in the background, until ACCEPT
s_server() {
  : >"$TMP/s_server.out" # before the launch: no stale ACCEPT is read
  timeout 60 openssl s_server -accept "127.0.0.1:$P" -www -naccept 1 "$@" \
    >"$TMP/s_server.out" 2>&1 &
  PEER=$!
  for _ in $(seq 200); do grep -q ACCEPT "$TMP/s_server.out" 2>/dev/null && return 0; sleep 0.05; done
  echo "# s_server did not start: $(head -c 400 "$TMP/s_server.out")"
}
stop_peer() { kill "$PEER" 2>/dev/null; wait "$PEER" 2>/dev/null; }
GET=$'GET / HTTP/1.0\r\n\r\n'
client() { # client HOST [run options...]: the guest's TLS client to $P
  local host=$1
  shift
  runh run --state-dir "$S" --allow-connect "$host:$P" "$@" "$NET" tls-client "$host" "$P" "$GET"
}

# ---- the guest as a TLS client ----
P=$(free_port)
s_server -cert "$C/srv.pem" -key "$C/srv.key"
client localhost --tls-ca "$C/ca.pem"
check "client: s_server answers over TLS 1.3 (preferred)" \
  eval 'rc_is 0 && out_has "HTTP/1.0 200 ok" && out_has "TLSv1.3"'
stop_peer

P=$(free_port)
s_server -cert "$C/srv.pem" -key "$C/srv.key" -tls1_2
client localhost --tls-ca "$C/ca.pem"
check "client: a TLS 1.2 server, with an ECDHE AEAD suite" \
  eval 'rc_is 0 && out_has "TLSv1.2" && out_has "ECDHE-ECDSA-AES256-GCM-SHA384"'
stop_peer

P=$(free_port)
s_server -cert "$C/srv.pem" -key "$C/srv.key" -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA
client localhost --tls-ca "$C/ca.pem"
check "client: a server that offers only a CBC suite is refused" \
  eval 'rc_is 1 && out_has "connect localhost: TLS handshake failed"'
stop_peer

P=$(free_port)
s_server -cert "$C/srv.pem" -key "$C/srv.key"
client localhost
check "client: a CA the system does not trust (no --tls-ca): certificate verify failed" \
  eval 'rc_is 1 && out_has "certificate verify failed: unable to get local issuer certificate"'
stop_peer

P=$(free_port)
s_server -cert "$C/srv.pem" -key "$C/srv.key"
client localhost --tls-ca "$C/other.pem"
check "client: anchors that did not issue the certificate: certificate verify failed" \
  eval 'rc_is 1 && out_has "certificate verify failed: unable to get local issuer certificate"'
stop_peer

P=$(free_port)
s_server -cert "$C/srv.pem" -key "$C/srv.key"
client 127.0.0.1 --tls-ca "$C/ca.pem"
check "client: the certificate is for another name than the one connected to" \
  eval 'rc_is 1 && out_has "host name mismatch: the certificate is for localhost"'
stop_peer

P=$(free_port)
s_server -cert "$C/expired.pem" -key "$C/srv.key"
client localhost --tls-ca "$C/ca.pem"
check "client: an expired certificate" \
  eval 'rc_is 1 && out_has "certificate verify failed: certificate has expired"'
stop_peer

# ---- the guest as a TLS server ----
serve() { # serve N [run options...]: the guest's HTTPS server on $P
  local n=$1
  shift
  : >"$TMP/srv.out" # before the launch: no stale line is read
  "$EHAL" run --state-dir "$S" --allow-bind "127.0.0.1:$P" "$@" "$NET" https-server 127.0.0.1 \
    "$P" "$n" >"$TMP/srv.out" 2>"$TMP/srv.err" </dev/null &
  SRV=$!
  for _ in $(seq 400); do grep -q listening "$TMP/srv.out" 2>/dev/null && return 0; sleep 0.05; done
  echo "# the guest server did not start: $(cat "$TMP/srv.err")"
}
srv_wait() {
  for _ in $(seq 400); do kill -0 "$SRV" 2>/dev/null || break; sleep 0.05; done
  kill "$SRV" 2>/dev/null
  wait "$SRV"
  SRV_RC=$?
}
ID=(--tls-identity "$C/srv.p12" --tls-identity-password-file "$C/pw")

P=$(free_port)
serve 3 "${ID[@]}"
curl -s --max-time 10 --cacert "$C/ca.pem" "https://localhost:$P/" >"$TMP/c1" 2>&1
printf '%s' "$GET" | timeout 10 openssl s_client -connect "127.0.0.1:$P" -servername localhost \
  -CAfile "$C/ca.pem" -verify_return_error -verify_hostname localhost -tls1_2 -quiet \
  >"$TMP/c2" 2>&1
printf '%s' "$GET" | timeout 10 openssl s_client -connect "127.0.0.1:$P" -servername localhost \
  -CAfile "$C/ca.pem" -verify_return_error -verify_hostname localhost -tls1_3 -quiet \
  >"$TMP/c3" 2>&1
srv_wait
check "server: curl verifies the guest's identity (PKCS#12) and gets its answer" \
  grep -q "request 0 over TLS" "$TMP/c1"
check "server: openssl s_client over TLS 1.2" grep -q "request 1 over TLS" "$TMP/c2"
check "server: openssl s_client over TLS 1.3" grep -q "request 2 over TLS" "$TMP/c3"
check "server: the guest served all three" eval '[[ $SRV_RC == 0 ]] && grep -q "served 3" "$TMP/srv.out"'

P=$(free_port)
serve 2 "${ID[@]}"
curl -s --max-time 10 "https://localhost:$P/" >"$TMP/c4" 2>&1 # does not trust our CA
curl -s --max-time 10 --cacert "$C/ca.pem" "https://localhost:$P/" >"$TMP/c5" 2>&1
srv_wait
check "server: a client that rejects the certificate fails its handshake alone" \
  grep -q "accept: TLS handshake failed: tlsv1 alert unknown ca" "$TMP/srv.out"
check "server: and the next client is served" \
  eval 'grep -q "request 1 over TLS" "$TMP/c5" && grep -q "served 2" "$TMP/srv.out"'

P=$(free_port)
runh run --state-dir "$S" --allow-bind "127.0.0.1:$P" "$NET" https-server 127.0.0.1 "$P" 1
check "server: without an identity, listen says what the operator must give" \
  eval 'rc_is 1 && out_has "a TLS server needs an identity" && out_has "--tls-identity"'
runh run --state-dir "$S" --tls-identity "$C/srv.p12" --tls-identity-password-file "$C/badpw" \
  "$NET" https-server 127.0.0.1 "$P" 1
check "a wrong PKCS#12 password is a usage error before the guest runs" \
  eval 'rc_is 2 && err_has "wrong password" && out_empty'
runh run --state-dir "$S" --tls-ca "$C/nonexistent.pem" "$NET" tls-client localhost 1 x
check "trust anchors that do not load are a usage error" \
  eval 'rc_is 2 && err_has "cannot load trust anchors"'

# ---- the guest's own TLS settings (sockets 0.1.1 configure-tls) ----
hexof() { od -An -v -tx1 "$1" | tr -d ' \n'; }
ec -keyout "$C/cli.key" -out "$C/cli.csr" -subj /CN=a-client
openssl x509 -req -in "$C/cli.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial -days 30 \
  -out "$C/cli.pem" 2>/dev/null
P=$(free_port)
: >"$TMP/srv.out" # before the launch: no stale line is read
"$EHAL" run --state-dir "$S" --allow-bind "127.0.0.1:$P" "$NET" mtls-server 127.0.0.1 "$P" 2 \
  "$(hexof "$C/ca.pem")" "$(hexof "$C/srv.p12")" "correct horse" >"$TMP/srv.out" 2>"$TMP/srv.err" \
  </dev/null &
SRV=$!
for _ in $(seq 400); do grep -q listening "$TMP/srv.out" 2>/dev/null && break; sleep 0.05; done
curl -sS --max-time 10 --cacert "$C/ca.pem" "https://localhost:$P/" >"$TMP/m1" 2>&1
curl -sS --max-time 10 --cacert "$C/ca.pem" --cert "$C/cli.pem" --key "$C/cli.key" \
  "https://localhost:$P/" >"$TMP/m2" 2>&1
srv_wait
check "configure-tls: a server with the guest's own PKCS#12 identity (no --tls-identity)" \
  eval 'grep -q "mutual TLS" "$TMP/m2" || { cat "$TMP/m2" "$TMP/srv.out" "$TMP/srv.err" | sed "s/^/# /"; false; }'
check "mutual TLS: a client without a certificate is refused in the handshake" \
  eval 'grep -q "accept: TLS handshake failed" "$TMP/srv.out" && ! grep -q "mutual TLS" "$TMP/m1"'
check "mutual TLS: curl's client certificate reaches the guest (peer-certificate), ALPN http/1.1" \
  eval 'n=$(openssl x509 -in "$C/cli.pem" -outform DER | wc -c); grep -q "client certificate of $n bytes, alpn http/1.1" "$TMP/m2"'

P=$(free_port)
s_server -cert "$C/srv.pem" -key "$C/srv.key" -alpn "h2,http/1.1"
runh run --state-dir "$S" --allow-connect "localhost:$P" "$NET" config-client localhost "$P" \
  "$(hexof "$C/ca.pem")" "spdy/1,http/1.1"
check "configure-tls: a client with the guest's own anchors; ALPN agreed; peer-certificate" \
  eval 'n=$(openssl x509 -in "$C/srv.pem" -outform DER | wc -c); rc_is 0 && out_has "peer certificate: $n bytes, alpn: http/1.1"'
stop_peer
P=$(free_port)
s_server -cert "$C/srv.pem" -key "$C/srv.key"
runh run --state-dir "$S" --allow-connect "localhost:$P" "$NET" config-client localhost "$P" \
  "$(hexof "$C/other.pem")" ""
check "configure-tls: the guest's anchors replace the system's (another CA: refused)" \
  eval 'rc_is 1 && out_has "certificate verify failed"'
stop_peer
runh run --state-dir "$S" "$NET" config-client localhost 1 "$(printf 'not pem' | od -An -v -tx1 | tr -d ' \n')" ""
check "configure-tls: anchors that hold no certificate are an error" \
  eval 'rc_is 1 && out_has "configure-tls: the trust anchors hold no PEM certificate"'

# an identity whose key lives in a crypto context (imported, not exportable)
ec -keyout "$C/kc.key" -out "$C/kc.csr" -subj /CN=localhost
openssl x509 -req -in "$C/kc.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial -days 30 \
  -extfile "$C/ext" -out "$C/kc.pem" 2>/dev/null
scalar=$(openssl pkey -in "$C/kc.key" -outform DER | python3 -c '
import sys
d = sys.stdin.buffer.read()
i = d.index(bytes.fromhex("0420"))  # the private key OCTET STRING of 32 bytes
print(d[i + 2:i + 34].hex())')
P=$(free_port)
: >"$TMP/srv.out" # before the launch: no stale line is read
"$EHAL" run --state-dir "$S" --allow-bind "127.0.0.1:$P" "$NET" keyctx-server 127.0.0.1 "$P" \
  "$scalar" "$(cat "$C/kc.pem" "$C/ca.pem" | od -An -v -tx1 | tr -d ' \n')" \
  >"$TMP/srv.out" 2>"$TMP/srv.err" </dev/null &
SRV=$!
for _ in $(seq 400); do grep -q listening "$TMP/srv.out" 2>/dev/null && break; sleep 0.05; done
curl -sS --max-time 10 --cacert "$C/ca.pem" "https://localhost:$P/" >"$TMP/kc" 2>&1
srv_wait
check "configure-tls: a server identity from a crypto key context and a chain; curl verifies it" \
  eval 'grep -q "request 0 over TLS" "$TMP/kc" || { cat "$TMP/kc" "$TMP/srv.out" | sed "s/^/# /"; false; }'

# a peer that takes nothing for a second: sends come back partial, and
# every byte still arrives once, in order (what OpenSSL half-wrote is
# finished by the next send)
P=$(free_port)
rm -f "$TMP/peer.ready"
timeout 60 python3 -c '
import hashlib, socket, ssl, sys, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[2], sys.argv[3])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); open(sys.argv[4], "w").close()
c, _ = s.accept()
t = ctx.wrap_socket(c, server_side=True)
time.sleep(1.5)
h, n = hashlib.sha256(), 0
while True:
    d = t.recv(65536)
    if not d: break
    h.update(d); n += len(d)
print(n, h.hexdigest())' "$P" "$C/srv.pem" "$C/srv.key" "$TMP/peer.ready" >"$TMP/sink.out" 2>&1 &
PEER=$!
for _ in $(seq 200); do [[ -e $TMP/peer.ready ]] && break; sleep 0.05; done
runh run --state-dir "$S" --allow-connect "localhost:$P" --tls-ca "$C/ca.pem" "$NET" tls-stream \
  localhost "$P" 16
wait "$PEER"
want=$(python3 -c '
import hashlib
print(16 << 20, hashlib.sha256(bytes(i * 13 % 251 for i in range(16 << 20))).hexdigest())')
check "a slow TLS peer: partial sends, and all 16 MiB arrive once, in order" \
  eval 'rc_is 0 && grep -qE " [1-9][0-9]* partial sends" "$TMP/out" && [[ $(cat "$TMP/sink.out") == "$want" ]] ||
    { cat "$TMP/sink.out" | sed "s/^/# /"; false; }'

# ---- the example HTTPS server (examples/https) ----
P=$(free_port)
: >"$TMP/srv.out" # before the launch: no stale line is read
"$EHAL" run --state-dir "$S" --allow-bind "127.0.0.1:$P" "${ID[@]}" "$GUESTS/https_server.wasm" \
  127.0.0.1 "$P" 3 >"$TMP/srv.out" 2>"$TMP/srv.err" </dev/null &
SRV=$!
for _ in $(seq 400); do grep -q serving "$TMP/srv.out" 2>/dev/null && break; sleep 0.05; done
curl -s --max-time 10 --cacert "$C/ca.pem" "https://localhost:$P/a" "https://localhost:$P/b" \
  "https://localhost:$P/c" --parallel >"$TMP/ex" 2>&1
srv_wait
check "examples/https: curl gets three verified answers that name the platform" \
  eval '[[ $SRV_RC == 0 && $(grep -c "^platform: simulated" "$TMP/ex") == 3 ]] &&
    grep -q "answered 3 requests" "$TMP/srv.out"'

# ---- DTLS 1.2 over UDP ----
P=$(free_port)
: >"$TMP/s_server.out" # before the launch: no stale ACCEPT is read
{ printf 'pong-from-openssl\n'; sleep 15; } | timeout 20 openssl s_server -dtls1_2 \
  -accept "127.0.0.1:$P" -cert "$C/srv.pem" -key "$C/srv.key" -naccept 1 >"$TMP/s_server.out" 2>&1 &
PEER=$!
for _ in $(seq 200); do grep -q ACCEPT "$TMP/s_server.out" 2>/dev/null && break; sleep 0.05; done
runh run --state-dir "$S" --allow-connect "localhost:$P" --tls-ca "$C/ca.pem" "$NET" dtls-client \
  localhost "$P" "hello dtls"
check "DTLS client: s_server -dtls1_2 gets the datagram, the guest its answer" \
  eval 'rc_is 0 && out_has "got 18: pong-from-openssl" && grep -q "hello dtls" "$TMP/s_server.out"'
stop_peer

P=$(free_port)
: >"$TMP/s_server.out" # before the launch: no stale ACCEPT is read
{ printf 'x\n'; sleep 15; } | timeout 20 openssl s_server -dtls1_2 -accept "127.0.0.1:$P" \
  -cert "$C/srv.pem" -key "$C/srv.key" -naccept 1 >"$TMP/s_server.out" 2>&1 &
PEER=$!
for _ in $(seq 200); do grep -q ACCEPT "$TMP/s_server.out" 2>/dev/null && break; sleep 0.05; done
runh run --state-dir "$S" --allow-connect "localhost:$P" "$NET" dtls-client localhost "$P" x
check "DTLS client: an untrusted CA fails verification as over TLS" \
  eval 'rc_is 1 && out_has "certificate verify failed: unable to get local issuer certificate"'
stop_peer

P=$(free_port)
: >"$TMP/srv.out" # before the launch: no stale line is read
"$EHAL" run --state-dir "$S" --allow-bind "127.0.0.1:$P" "${ID[@]}" "$NET" dtls-server 127.0.0.1 \
  "$P" 2 >"$TMP/srv.out" 2>"$TMP/srv.err" </dev/null &
SRV=$!
for _ in $(seq 400); do grep -q listening "$TMP/srv.out" 2>/dev/null && break; sleep 0.05; done
# a datagram that is no ClientHello, and one from an address that never
# answers the cookie: neither makes the server keep state or stop
python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"\x16\xfe\xfd garbage", ("127.0.0.1", int(sys.argv[1])))' "$P"
for i in 1 2; do
  { printf 'ping%s\n' "$i"; sleep 2; } | timeout 10 openssl s_client -dtls1_2 \
    -connect "127.0.0.1:$P" -CAfile "$C/ca.pem" -verify_return_error -verify_hostname localhost \
    -quiet >"$TMP/d$i" 2>&1
done
srv_wait
check "DTLS server: s_client -dtls1_2 verifies the guest and gets its answer (cookie exchange first)" \
  grep -q "pong: ping1" "$TMP/d1"
check "DTLS server: a stray datagram before does no harm; the second client is served too" \
  eval 'grep -q "pong: ping2" "$TMP/d2" && grep -q "served 2" "$TMP/srv.out"'

runh info
check "capabilities: sockets.tls and sockets.dtls supported (attested TLS: ratls.sh)" \
  eval 'grep -qE "^sockets.tls +supported" "$TMP/out" && grep -qE "^sockets.dtls +supported" "$TMP/out"'

finish
