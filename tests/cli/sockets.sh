#!/usr/bin/env bash
# sockets.sh - elastic:sockets over TCP and UDP against peers this project
# did not write (curl, Python's socket module), on loopback, every wait
# bounded: both roles, the operator's policy, per-workload limits and
# handles, time bounds, hostile arguments (issue 9).  TLS: tls.sh.
source "$(dirname "$0")/common.bash"

NET=$GUESTS/net_guest.wasm
S=$TMP/net-state
mkdir -m 700 "$S"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# peer SCRIPT ARGS... : a Python peer in the background; it writes
# $TMP/peer.ready once it listens (or is bound)
peer() {
  rm -f "$TMP/peer.ready"
  timeout 60 python3 -c "$1" "${@:2}" "$TMP/peer.ready" >"$TMP/peer.out" 2>&1 &
  PEER=$!
  for _ in $(seq 200); do [[ -e $TMP/peer.ready ]] && return 0; sleep 0.05; done
  echo "# the peer did not start: $(cat "$TMP/peer.out")"
}

TCP_ECHO='
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(); open(sys.argv[3], "w").close()
c, _ = s.accept(); data = c.recv(65536); c.sendall(b"echo:" + data); c.close()'

UDP_ECHO='
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], int(sys.argv[2])))
open(sys.argv[3], "w").close()
data, peer = s.recvfrom(65536); s.sendto(b"echo:" + data, peer)'

SILENT='
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(); open(sys.argv[3], "w").close()
c, _ = s.accept(); time.sleep(20)'

# ---- TCP client ----
P=$(free_port)
peer "$TCP_ECHO" 127.0.0.1 "$P"
runh run --state-dir "$S" --allow-connect "127.0.0.1:$P" "$NET" tcp-client 127.0.0.1 "$P" hello
check "TCP client: a Python echo server gets the message and the guest its answer" \
  eval 'rc_is 0 && out_has "echo:hello" && out_has "[closed by peer]"'
wait "$PEER"

P=$(free_port)
peer "$TCP_ECHO" 127.0.0.1 "$P"
runh run --state-dir "$S" --allow-connect "localhost:$P" "$NET" tcp-client localhost "$P" by-name
check "a host name in the guest's address and in the rule (resolved by the HAL)" \
  eval 'rc_is 0 && out_has "echo:by-name"'
kill "$PEER" 2>/dev/null
wait "$PEER" 2>/dev/null

if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
  P=$(free_port)
  peer "$TCP_ECHO" ::1 "$P"
  runh run --state-dir "$S" --allow-connect "[::1]:$P" "$NET" tcp-client ::1 "$P" six
  check "IPv6: a client to [::1] under an [::1] rule" eval 'rc_is 0 && out_has "echo:six"'
  kill "$PEER" 2>/dev/null
  wait "$PEER" 2>/dev/null
else
  ok "IPv6: skipped, this machine has no ::1 # SKIP"
fi

runh run --state-dir "$S" "$NET" tcp-client 127.0.0.1 9 x
check "without --allow-connect nothing is reachable; the error names the policy" \
  eval 'rc_is 1 && out_has "connect 127.0.0.1:9 refused: not allowed by --allow-connect"'
runh run --state-dir "$S" --allow-connect 192.0.2.1:9 "$NET" tcp-client ::ffff:127.0.0.1 9 x
check "an IPv4-mapped IPv6 address is checked as the IPv4 address it is" \
  eval 'rc_is 1 && out_has "refused: not allowed by --allow-connect"'
runh run --state-dir "$S" --allow-connect 10.0.0.1 "$NET" tcp-client 127.0.0.1 9 x
check "a malformed rule is a usage error, before anything runs" \
  eval 'rc_is 2 && err_has "--allow-connect 10.0.0.1: not a rule" && out_empty'

# ---- TCP server, with curl as the client ----
# serve ARGS... : the guest as a server in the background; waits for its
# "listening" line
serve() {
  : >"$TMP/srv.out" # before the launch: no stale line is read
  "$EHAL" run --state-dir "$S" "$@" >"$TMP/srv.out" 2>"$TMP/srv.err" </dev/null &
  SRV=$!
  for _ in $(seq 400); do grep -q listening "$TMP/srv.out" 2>/dev/null && return 0; sleep 0.05; done
  echo "# the guest server did not start: $(cat "$TMP/srv.err")"
}
srv_done() { # srv_done: wait for the guest server; SRV_RC its status
  SRV_RC=timeout
  for _ in $(seq 600); do
    if ! kill -0 "$SRV" 2>/dev/null; then
      wait "$SRV"
      SRV_RC=$?
      return
    fi
    sleep 0.05
  done
  kill "$SRV"
}

P=$(free_port)
serve --allow-bind "127.0.0.1:$P" "$NET" http-server 127.0.0.1 "$P" 2
curl -s --max-time 10 "http://127.0.0.1:$P/a" >"$TMP/c1" 2>&1
curl -s --max-time 10 "http://127.0.0.1:$P/b" >"$TMP/c2" 2>&1
srv_done
check "TCP server: curl gets two HTTP answers from the guest" \
  eval '[[ $SRV_RC == 0 ]] && grep -q "request 0" "$TMP/c1" && grep -q "request 1" "$TMP/c2" &&
    grep -q "served 2" "$TMP/srv.out"'

P=$(free_port)
serve --allow-bind "127.0.0.1:$P" "$NET" http-server 127.0.0.1 "$P" 1000
curl -s --max-time 120 -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$P/[1-1000]" \
  >"$TMP/seq" 2>&1
srv_done
check "1,000 sequential connections against one guest server" \
  eval '[[ $SRV_RC == 0 && $(grep -c "^200$" "$TMP/seq") == 1000 ]]'

P=$(free_port)
serve --allow-bind "127.0.0.1:$P" "$NET" hold-server 127.0.0.1 "$P" 100
urls=()
for i in $(seq 100); do urls+=("http://127.0.0.1:$P/$i"); done
curl -s --max-time 60 --parallel --parallel-max 100 --parallel-immediate -o /dev/null \
  -w '%{http_code}\n' "${urls[@]}" >"$TMP/par" 2>&1
srv_done
check "100 concurrent connections: the guest holds all 100 open, then answers each" \
  eval '[[ $SRV_RC == 0 && $(grep -c "^200$" "$TMP/par") == 100 ]] &&
    grep -q "held and served 100" "$TMP/srv.out"'

P=$(free_port)
runh run --state-dir "$S" --allow-bind "127.0.0.1:$P" "$NET" trap-listening 127.0.0.1 "$P"
check "a guest that traps with a listening socket: trap, exit 134" trapped
serve --allow-bind "127.0.0.1:$P" "$NET" http-server 127.0.0.1 "$P" 1
curl -s --max-time 10 "http://127.0.0.1:$P/" >"$TMP/c3" 2>&1
srv_done
check "its port is free at once for the next workload" \
  eval '[[ $SRV_RC == 0 ]] && grep -q "request 0" "$TMP/c3"'

runh run --state-dir "$S" --timeout 1 --allow-bind "127.0.0.1:$P" "$NET" http-server 127.0.0.1 \
  "$P" 1
check "--timeout ends a guest blocked in accept (trap interrupted)" trapped interrupted
runh run --state-dir "$S" --allow-bind "127.0.0.1:1-1023" "$NET" http-server 127.0.0.1 "$P" 1
check "bind outside the --allow-bind range is refused" \
  eval 'rc_is 1 && out_has "bind 127.0.0.1:$P refused: not allowed by --allow-bind"'

# ---- UDP ----
P=$(free_port)
peer "$UDP_ECHO" 127.0.0.1 "$P"
runh run --state-dir "$S" --allow-connect "127.0.0.1:$P" "$NET" udp-client 127.0.0.1 "$P" dgram
check "UDP client: a datagram to a Python echo peer and its answer" \
  eval 'rc_is 0 && out_has "sent 5, got 10: echo:dgram"'
wait "$PEER"

P=$(free_port)
serve_udp() {
  : >"$TMP/srv.out" # before the launch: no stale line is read
  "$EHAL" run --state-dir "$S" --allow-bind "127.0.0.1:$P" "$NET" udp-server 127.0.0.1 "$P" 2 \
    >"$TMP/srv.out" 2>"$TMP/srv.err" </dev/null &
  SRV=$!
  for _ in $(seq 400); do grep -q bound "$TMP/srv.out" 2>/dev/null && return 0; sleep 0.05; done
}
serve_udp
python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for m in (b"first", b"second"): s.sendto(m, ("127.0.0.1", int(sys.argv[1])))' "$P"
srv_done
check "UDP server: the guest receives whole datagrams from a Python peer" \
  eval '[[ $SRV_RC == 0 ]] && grep -q "datagram 0: first" "$TMP/srv.out" &&
    grep -q "datagram 1: second" "$TMP/srv.out"'

# ---- time bounds ----
P=$(free_port)
peer "$SILENT" 127.0.0.1 "$P"
start=$(date +%s%N)
runh run --state-dir "$S" --socket-timeout 1 --allow-connect "127.0.0.1:$P" "$NET" silent \
  127.0.0.1 "$P"
ms=$((($(date +%s%N) - start) / 1000000))
check "a peer that connects and never speaks: receive times out (${ms} ms, bound 1 s)" \
  eval 'rc_is 1 && out_has "receive: timed out" && ((ms < 10000))'
kill "$PEER" 2>/dev/null
wait "$PEER" 2>/dev/null

# ---- 0.1.1: set-timeout, send-to/receive-from, poll, addresses ----
P=$(free_port)
peer "$SILENT" 127.0.0.1 "$P"
start=$(date +%s%N)
runh run --state-dir "$S" --allow-connect "127.0.0.1:$P" "$NET" silent-300 127.0.0.1 "$P"
ms=$((($(date +%s%N) - start) / 1000000))
check "set-timeout 300 ms bounds that one socket's receive (${ms} ms; node default 30 s)" \
  eval 'rc_is 1 && out_has "receive: timed out" && ((ms < 5000))'
kill "$PEER" 2>/dev/null
wait "$PEER" 2>/dev/null

P=$(free_port)
: >"$TMP/srv.out" # before the launch: no stale line is read
"$EHAL" run --state-dir "$S" --allow-bind "127.0.0.1:$P" --allow-connect "127.0.0.1:*" "$NET" \
  udp-echo 127.0.0.1 "$P" 2 >"$TMP/srv.out" 2>"$TMP/srv.err" </dev/null &
SRV=$!
for _ in $(seq 400); do grep -q bound "$TMP/srv.out" 2>/dev/null && break; sleep 0.05; done
python3 -c '
import socket, sys
for m in (b"one", b"two"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(10)
    s.sendto(m, ("127.0.0.1", int(sys.argv[1]))); print(s.recvfrom(100)[0].decode())' "$P" \
  >"$TMP/udp.out" 2>&1
srv_done
check "UDP server with receive-from and send-to: two peers (two ports) each get their answer" \
  eval '[[ $SRV_RC == 0 ]] && grep -qx "echo:one" "$TMP/udp.out" && grep -qx "echo:two" "$TMP/udp.out" &&
    grep -q "bound: 127.0.0.1 port $P" "$TMP/srv.out" && [[ $(grep -c "answered: 127.0.0.1 port" "$TMP/srv.out") == 2 ]]'

P=$(free_port)
: >"$TMP/srv.out" # before the launch: no stale line is read
"$EHAL" run --state-dir "$S" --allow-bind "127.0.0.1:$P" "$NET" udp-echo 127.0.0.1 "$P" 1 \
  >"$TMP/srv.out" 2>"$TMP/srv.err" </dev/null &
SRV=$!
for _ in $(seq 400); do grep -q bound "$TMP/srv.out" 2>/dev/null && break; sleep 0.05; done
python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b"x", ("127.0.0.1", int(sys.argv[1])))' "$P"
srv_done
check "send-to a peer --allow-connect does not allow is refused (receiving from it is not)" \
  eval 'grep -q "send-to 127.0.0.1:[0-9]* refused: not allowed by --allow-connect" "$TMP/srv.out"'

P=$(free_port)
serve --allow-bind "127.0.0.1:$P" "$NET" poll-echo 127.0.0.1 "$P" 3
# three clients connect first, then speak in reverse order: a server that
# blocked on the first would never answer
python3 -c '
import socket, sys, time
cs = [socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) for _ in range(3)]
time.sleep(0.3)
for i in (2, 1, 0):
    cs[i].sendall(b"c%d" % i); print(cs[i].recv(100).decode())' "$P" >"$TMP/poll.out" 2>&1
srv_done
check "poll: one single-threaded guest serves three clients in the order they speak" \
  eval '[[ $SRV_RC == 0 ]] && [[ $(tr "\n" " " <"$TMP/poll.out") == "echo:c2 echo:c1 echo:c0 " ]] &&
    grep -q "served 3 with poll" "$TMP/srv.out"'

P=$(free_port)
peer "$TCP_ECHO" 127.0.0.1 "$P"
runh run --state-dir "$S" --allow-connect "127.0.0.1:$P" "$NET" addresses 127.0.0.1 "$P"
check "local-address and peer-address of a connected socket" \
  eval 'rc_is 0 && out_has "peer: 127.0.0.1 port $P" && grep -qE "^local: 127.0.0.1 port [1-9]" "$TMP/out"'
kill "$PEER" 2>/dev/null
wait "$PEER" 2>/dev/null

# ---- hostile arguments and limits ----
runh run --state-dir "$S" --max-sockets 4 --allow-connect 192.0.2.1:9 \
  --allow-bind 127.0.0.1:0 "$NET" hostile
check "hostile run ends normally" eval 'rc_is 0 && no_sanitizer'
expect_line() { check "hostile: $1" out_has "$1"; }
expect_line "handle 0: invalid socket handle"
expect_line "forged handle: invalid socket handle"
expect_line "close again (stale handle): invalid socket handle"
expect_line "receive unconnected: receive: the socket is not connected"
expect_line "listen unbound: listen: bind the socket first"
expect_line "connect refused by policy: connect 127.0.0.1:22 refused: not allowed by --allow-connect"
expect_line "connect name resolving elsewhere: connect localhost:9 ("
expect_line "bind refused by policy: bind 0.0.0.0:80 refused: not allowed by --allow-bind"
expect_line "host with a space: connect: invalid address"
expect_line "host with a control byte: connect: invalid address"
expect_line "empty host: connect: invalid address"
expect_line "poll a stale handle: poll: entry 0: invalid socket handle"
expect_line "peer-address of a stale handle: invalid socket handle"
expect_line "set-timeout of a stale handle: invalid socket handle"
expect_line "huge max-len: limit exceeded: receive of 4294967295 bytes"
expect_line "max-len 0: receive: max-len must be at least 1"
expect_line "sockets made: 4"
expect_line "one more: limit exceeded: open sockets (at most 4 per workload)"
runh run --state-dir "$S" "$NET" bad-utf8
check "a host string that is not UTF-8 traps the guest alone" \
  eval 'trapped abi && err_has "not valid UTF-8"'

runh info
check "capabilities: sockets.tcp and sockets.udp supported" \
  eval 'grep -qE "^sockets.tcp +supported" "$TMP/out" && grep -qE "^sockets.udp +supported" "$TMP/out"'

finish
