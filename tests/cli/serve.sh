#!/usr/bin/env bash
# serve.sh - deployments of many workloads (issue 12): elastic-hal serve and
# status, messages between workloads (plain and sealed, the sender always
# the runtime's word), policy refusals, bounded queues, events in priority
# order with overflow, faults kept to one workload, restarts, a graceful
# stop, and manifests with every kind of error.
source "$(dirname "$0")/common.bash"

G=$GUESTS/deploy_guest.wasm
LOGS=$TMP/logs
mkdir -m 700 -p "$STATE"

# manifest NAME JSON : writes $TMP/NAME.json
manifest() { printf '%s\n' "$2" >"$TMP/$1.json"; }
# serve NAME [OPTIONS...] : runs the deployment to its end
serve() {
  local n=$1
  shift
  runh serve --state-dir "$STATE" --log-dir "$LOGS/$n" "$@" "$TMP/$n.json"
}
log() { cat "$LOGS/$1/$2.log" 2>/dev/null; }
log_has() { grep -qF -- "$3" "$LOGS/$1/$2.log" 2>/dev/null; }
log_line() { grep -xqF -- "$3" "$LOGS/$1/$2.log" 2>/dev/null; }
diag_logs() { for f in "$LOGS/$1"/*.log; do echo "== $f"; head -c 1500 "$f"; done; last_diag; }
# wl NAME ARGS-JSON [EXTRA-JSON] : one workload of deploy_guest
wl() { printf '{"name": "%s", "module": "%s", "args": %s%s}' "$1" "$G" "$2" "${3:+, $3}"; }

# ---- messages both ways, sealed or not; the sender is the runtime's word ----
manifest pair "{\"name\": \"pair\", \"workloads\": [
  $(wl alice '["list", "send:bob:hello", "send:bob:secret:enc", "recvn:2:5000", "send:carol:x", "send:alice:self"]' '"policy": {"message": ["bob"]}'),
  $(wl bob '["list", "echo:2:5000"]' '"policy": {"message": ["alice", "carol"]}'),
  $(wl carol '["list", "recv:5000", "send:bob:nope"]')]}"
serve pair
if rc_is 0 && log_line pair alice "workloads bob" && log_line pair bob "workloads alice,carol" &&
  log_line pair carol "workloads "; then
  ok "list-workloads lists exactly whom the policy lets each workload message"
else not_ok "list-workloads follows the policy" "$(diag_logs pair)"; fi
if log_line pair bob "msg alice bob 0 5 hello" && log_line pair bob "msg alice bob 1 6 secret" &&
  log_line pair alice "msg bob alice 0 10 echo:hello" &&
  log_line pair alice "msg bob alice 1 11 echo:secret"; then
  ok "messages both ways, plain and sealed, each with its true sender and recipient"
else not_ok "messages both ways" "$(diag_logs pair)"; fi
if log_line pair alice "error: no workload 'carol' that alice may message (see list-workloads)" &&
  log_line pair alice "error: no workload 'alice' that alice may message (see list-workloads)" &&
  log_line pair carol "error: no workload 'bob' that carol may message (see list-workloads)"; then
  ok "the policy refuses: a workload not allowed, itself, a workload with no allowance"
else not_ok "policy refusals" "$(diag_logs pair)"; fi
check "carol, sent nothing, received nothing" log_line pair carol "none"
check "the exit summary lists every workload" err_has_re "alice +1 +0  exited 0"

# ---- large messages: 1 MiB is the bound, sealed or not ----
manifest big "{\"name\": \"big\", \"workloads\": [
  $(wl alice '["big:bob:1048576:enc", "big:bob:1048576", "big:bob:1048577", "big:bob:1048577:enc"]' '"policy": {"message": ["bob"]}'),
  $(wl bob '["recvn:2:10000"]')]}"
serve big
if rc_is 0 && log_line big bob "big alice 1 1048576 ok" && log_line big bob "big alice 0 1048576 ok" &&
  [[ $(grep -c "error: message of 1048577 bytes: the maximum is 1048576" "$LOGS/big/alice.log") == 2 ]]; then
  ok "1 MiB messages arrive whole (sealed and plain); 1 MiB + 1 is refused"
else not_ok "large messages" "$(diag_logs big)"; fi

# ---- no workload can pose as another ----
manifest pose "{\"name\": \"pose\", \"workloads\": [
  $(wl bob '["sub:platform", "recv:8000", "recv:100"]' '"policy": {"events-from": ["bob"]}'),
  $(wl mallory '["sleep:300", "badsub:1", "badsub:4294967297", "subto:platform:bob:0", "subto:platform:nobody:0", "send:bob:i-am-alice", "send:bob:also-alice:enc"]' '"policy": {"message": ["bob"]}'),
  $(wl alice '["exit:0"]')]}"
serve pose
if rc_is 0 && log_line pose bob "msg mallory bob 0 10 i-am-alice" && ! log_has pose bob "msg alice"; then
  ok "a message says who sent it: the runtime's name for the sender, never the guest's"
else not_ok "the sender cannot be forged" "$(diag_logs pose)"; fi
if [[ $(grep -c "error: no subscription" "$LOGS/pose/mallory.log") == 4 ]] &&
  ! log_has pose mallory "someone else's"; then
  ok "another workload's subscription handle is no handle here (poll and unsubscribe refused)"
else not_ok "subscription handles are per workload" "$(diag_logs pose)"; fi
if log_line pose mallory "error: no workload 'bob' whose events mallory may hear (the deployment's policy)" &&
  log_line pose mallory "error: no workload 'nobody' whose events mallory may hear (the deployment's policy)"; then
  ok "subscribing to a workload it may not hear is refused exactly as one that does not exist"
else not_ok "event policy" "$(diag_logs pose)"; fi

# ---- bounded queues: full is a clear error, never a silent drop ----
manifest full "{\"name\": \"full\", \"limits\": {\"queue-messages\": 5, \"queue-bytes\": 1048640}, \"workloads\": [
  $(wl alice '["flood:bob:10", "flood:carol:300000"]' '"policy": {"message": ["bob", "carol"]}'),
  $(wl bob '["sleep:1500", "recvn:10:100"]'),
  $(wl carol '["sleep:1500", "recvn:20:100"]')]}"
serve full
if rc_is 0 && log_line full alice "queued 5" &&
  log_has full alice "error: queue of 'bob' is full (5 messages, 50 bytes; at most 5 and 1048640)" &&
  [[ $(grep -c "^msg alice bob" "$LOGS/full/bob.log") == 5 ]]; then
  ok "a queue full in messages refuses the next with a clear error; the 5 queued arrive"
else not_ok "message queue bound" "$(diag_logs full)"; fi
if log_line full alice "queued 3" && log_has full alice "error: queue of 'carol' is full (3 messages, 900000 bytes" &&
  [[ $(grep -c "^big alice 0 300000" "$LOGS/full/carol.log") == 3 ]]; then
  ok "a queue full in bytes refuses the next; the 3 queued arrive"
else not_ok "byte queue bound" "$(diag_logs full)"; fi

# ---- a recipient's queue is shared: one sender cannot keep the others out ----
manifest share "{\"name\": \"share\", \"limits\": {\"queue-messages\": 4}, \"workloads\": [
  $(wl alice '["flood:bob:10"]' '"policy": {"message": ["bob"]}'),
  $(wl carol '["sleep:300", "flood:bob:10"]' '"policy": {"message": ["bob"]}'),
  $(wl bob '["sleep:1000", "recvn:10:100"]')]}"
serve share
if rc_is 0 && log_line share alice "queued 2" && log_line share carol "queued 2" &&
  log_has share alice "error: alice's share of the queue of 'bob' is full (2 messages" &&
  [[ $(grep -c "^msg carol bob" "$LOGS/share/bob.log") == 2 ]]; then
  ok "each sender gets its share of a recipient's queue; the next sender still gets through"
else not_ok "queue shares" "$(diag_logs share)"; fi

# ---- events: priority order, published events only to those who ask, overflow ----
manifest ev "{\"name\": \"ev\", \"limits\": {\"event-queue\": 4}, \"workloads\": [
  $(wl pub '["recv:8000", "publish:storage:1:low", "publish:storage:200:high", "publish:storage:50:mid", "send:sub:go", "recv:8000", "publish:gpu:9:a", "publish:gpu:9:b", "publish:gpu:9:c", "publish:gpu:9:d", "publish:gpu:9:e", "publish:gpu:9:f", "send:sub:go", "publish:crypto:0:x", "publish:crypto:0:" ]' '"policy": {"message": ["sub"]}'),
  $(wl sub '["subto:storage:pub:1", "send:pub:ready", "recv:8000", "poll:3:2000", "subto:gpu:-:1", "send:pub:ready", "recv:8000", "poll:5:2000"]' '"policy": {"message": ["pub"], "events-from": ["pub"]}'),
  $(wl old '["sub:storage", "sleep:1500", "poll0:1:200"]' '"policy": {"events-from": ["*"]}')]}"
serve ev
order=$(grep '^event storage' "$LOGS/ev/sub.log" | awk '{print $5 "/" $6}' | tr '\n' ' ')
if rc_is 0 && [[ $order == "200/high 50/mid 1/low " ]] && log_line ev sub "event storage pub 1 200 high"; then
  ok "poll returns higher priority first, with the true source and published set"
else not_ok "event priority order (got '$order')" "$(diag_logs ev)"; fi
if log_line ev sub 'event gpu sub 0 255 {"event":"overflow","dropped":2}' &&
  [[ $(grep -c '^event gpu pub 1 9' "$LOGS/ev/sub.log") == 4 ]] &&
  log_line ev sub "event gpu pub 1 9 a" && log_line ev sub "event gpu pub 1 9 d"; then
  ok "a full subscription counts what it dropped and says so in an overflow event, first"
else not_ok "event overflow" "$(diag_logs ev)"; fi
if log_line ev old "polled 0"; then
  ok "a 0.1.0 subscription hears the HAL's own events, never what a workload publishes"
else not_ok "published events stay out of 0.1.0 subscriptions" "$(diag_logs ev)"; fi

# ---- the HAL's own events: keys, containers, attestation ----
manifest hal "{\"name\": \"hal\", \"workloads\": [
  $(wl watcher '["sub:crypto", "subto:storage:keeper:0", "subto:platform:keeper:0", "send:keeper:go", "use:0", "poll:1:8000", "use:1", "poll:2:8000", "use:2", "poll:1:8000"]' '"policy": {"message": ["keeper"], "events-from": ["keeper"]}'),
  $(wl keeper '["recv:8000", "key", "container:box", "attest", "sleep:200"]')]}"
serve hal
if rc_is 0 && log_line hal watcher 'event crypto keeper 0 128 {"event":"key-created","workload":"keeper","algorithm":"aes256-gcm"}' &&
  log_line hal watcher 'event storage keeper 0 128 {"event":"container-created","workload":"keeper","container":"box"}' &&
  log_line hal watcher 'event storage keeper 0 128 {"event":"container-deleted","workload":"keeper","container":"box"}' &&
  log_line hal watcher 'event platform keeper 0 128 {"event":"attestation-produced","workload":"keeper"}'; then
  ok "the HAL's events: key created, container created and deleted, attestation produced"
else not_ok "the HAL's own events" "$(diag_logs hal)"; fi

# ---- resources: memory and storage granted, enforced and given back ----
manifest res "{\"name\": \"res\", \"limits\": {\"memory-mib\": 28}, \"workloads\": [
  $(wl a '["avail:memory", "grow:62", "grow:1", "alloc:memory:2000000:10", "grow:31", "grow:1", "dealloc:0", "avail:memory", "alloc:cpu:1:1", "avail:cpu", "alloc:network:5:1", "dealloc:x", "fill:1500", "alloc:storage:1048576:10", "fill:1500", "dealloc:1", "sleep:800", "alloc:memory:4194304:200"]' '"limits": {"memory-mib": 4, "memory-max-mib": 12, "storage-mib": 1, "storage-max-mib": 3, "priority": 50}'),
  $(wl b '["sleep:300", "alloc:memory:5242880:200", "avail:memory", "alloc:memory:4194304:200", "sleep:1500"]' '"limits": {"memory-mib": 4, "memory-max-mib": 12, "priority": 200}'),
  $(wl w '["sub:platform", "poll:100:2500"]' '"limits": {"memory-mib": 4}, "policy": {"events-from": ["*"]}'),
  $(wl n '["avail:network", "alloc:network:65536:10", "avail:network", "alloc:network:200000:10", "dealloc:0", "avail:network"]' '"limits": {"memory-mib": 4, "network-kib": 64, "network-max-kib": 256}')]}"
serve res
if rc_is 0 && log_line res a "available 8388608" && log_line res a "grow 2" && log_line res a "grow -1" &&
  log_line res a "granted 2031616" && log_line res a "grow 64" &&
  [[ $(grep -c "^grow -1" "$LOGS/res/a.log") == 2 ]] &&
  log_has res a "error: the workload's memory has grown to 95 pages, past the 64 it would keep"; then
  ok "memory: grow fails (-1) past the bound; a grant (whole pages) raises it; memory in use is not given back"
else not_ok "memory grants" "$(diag_logs res)"; fi
if log_has res a "error: limit exceeded: workload 'a' would store 1538048 bytes, over its quota of 1048576 bytes" &&
  log_line res a "granted 1048576" && log_line res a "stored" &&
  log_line res a "error: the workload stores 1538048 bytes, more than the 1048576 it would keep"; then
  ok "storage: a grant raises the quota; a grant the stored bytes need is not given back"
else not_ok "storage grants" "$(diag_logs res)"; fi
if log_has res a "error: cpu allocations are not supported on this node" &&
  [[ $(grep -c "error: cpu allocations are not supported" "$LOGS/res/a.log") == 2 ]] &&
  log_has res a "error: this workload's network is not metered (no bandwidth budget): nothing to grant" &&
  log_line res a "error: no allocation with that id (held by this workload)"; then
  ok "cpu requests and network requests of an unmetered workload are refused, saying why; an unknown allocation id is refused"
else not_ok "unsupported resources" "$(diag_logs res)"; fi
if log_line res b "granted 5242880" && log_line res b "available 3145728" &&
  log_has res a "error: refused under contention: less than a quarter of the deployment's memory would be left, which only requests of priority 128 or more may take (this one has 50)" &&
  log_has res b "error: refused: b would hold 13631488 bytes of memory, above its ceiling of 12582912"; then
  ok "the deployment's total: the last quarter goes to high priority; a ceiling is a ceiling"
else not_ok "contention and ceilings" "$(diag_logs res)"; fi
if log_line res n "available 196608" && log_line res n "granted 65536" && log_line res n "available 131072" &&
  log_has res n "error: refused: n would hold 331072 bytes/s of network, above its ceiling of 262144" &&
  log_line res n "deallocated" && [[ $(grep -c "^available 196608" "$LOGS/res/n.log") == 2 ]]; then
  ok "network: a metered workload's bandwidth budget is granted, bounded and given back"
else not_ok "network grants" "$(diag_logs res)"; fi
if log_has res w '{"event":"resource-granted","workload":"b","resource":"memory","amount":5242880}' &&
  log_has res w '{"event":"resource-refused","workload":"a","resource":"memory","amount":4194304}'; then
  ok "grants and refusals are platform events"
else not_ok "resource events" "$(diag_logs res)"; fi

# ---- a workload's log is bounded: it rotates, whatever the workload writes ----
manifest spew "{\"name\": \"spew\", \"limits\": {\"log-mib\": 1}, \"workloads\": [$(wl talker '["spew:5000"]')]}"
serve spew
size=$(stat -c %s "$LOGS/spew/talker.log" 2>/dev/null || echo 0)
size1=$(stat -c %s "$LOGS/spew/talker.log.1" 2>/dev/null || echo 0)
if rc_is 0 && log_line spew talker "spewed" && ((size <= 1048576 + 65536 && size1 <= 1048576 + 65536 && size1 > 0)); then
  ok "5000 KiB of output in 1 MiB logs: the log rotates, at most twice the bound on disk"
else not_ok "log rotation ($size, $size1 bytes)" "$(last_diag)"; fi

# ---- a relay that lies: sealed messages open only as (true sender, this workload) ----
python3 "$(dirname "$0")/fake_supervisor.py" capture "$EHAL" "$STATE" "$G" "$TMP/sealed" >"$TMP/cap.out" 2>&1
python3 "$(dirname "$0")/fake_supervisor.py" relay "$EHAL" "$STATE" "$G" "$TMP/sealed" >"$TMP/out" 2>"$TMP/err"
RC=$?
if rc_is 0 && [[ -s $TMP/sealed ]] && ! grep -q secret "$TMP/sealed" &&
  [[ $(sed -n 1p "$TMP/out") == "msg alice bob 1 6 secret" ]] &&
  [[ $(sed -n 2p "$TMP/out") == "error: an encrypted message from 'mallory' did not authenticate and was dropped" ]] &&
  [[ $(sed -n 3p "$TMP/out") == "error: an encrypted message from 'alice' did not authenticate and was dropped" ]] &&
  [[ $(sed -n 4p "$TMP/out") == "msg alice bob 1 6 secret" ]] &&
  [[ $(sed -n 5p "$TMP/out") == "msg alice bob 0 5 plain" ]]; then
  ok "a relay sees only ciphertext; relayed as another sender or altered, a sealed message does not open"
else not_ok "sealed messages against a lying relay" "$(cat "$TMP/cap.out" "$TMP/out" "$TMP/err")"; fi

# ---- the bandwidth budget: the sockets keep to it ----
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
peer_1mib() { # a server that sends 1 MiB to each of 2 clients, then closes
  timeout 60 python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4); open(sys.argv[2], "w").close()
for _ in range(2):
    c, _ = s.accept(); c.recv(2); c.sendall(b"a" * 1048576); c.shutdown(socket.SHUT_WR)
    c.recv(1); c.close()' "$port" "$TMP/peer.ready" &
  for ((i = 0; i < 100; i++)); do [[ -e $TMP/peer.ready ]] && break; sleep 0.05; done
}
runh compile --cache --state-dir "$STATE" "$GUESTS/net_guest.wasm" # not timed below
rm -f "$TMP/peer.ready"
peer_1mib
t0=$(date +%s%N)
runh run --state-dir "$STATE" --allow-connect "127.0.0.1:$port" "$GUESTS/net_guest.wasm" tcp-client 127.0.0.1 "$port" hi
fast=$((($(date +%s%N) - t0) / 1000000))
fast_bytes=$(wc -c <"$TMP/out")
t0=$(date +%s%N)
runh run --state-dir "$STATE" --max-network-rate 256 --allow-connect "127.0.0.1:$port" "$GUESTS/net_guest.wasm" tcp-client 127.0.0.1 "$port" hi
slow=$((($(date +%s%N) - t0) / 1000000))
if rc_is 0 && ((fast_bytes >= 1048576 && $(wc -c <"$TMP/out") >= 1048576 && slow >= 2500 && slow > fast + 1500)); then
  ok "1 MiB at a budget of 256 KiB/s takes ${slow} ms (unmetered: ${fast} ms)"
else not_ok "the bandwidth budget (${slow} ms metered, ${fast} ms not)" "$(last_diag)"; fi
wait

# ---- a workload alone (run) is a deployment of one ----
runh run --state-dir "$STATE" "$G" list send:bob:x sub:crypto key poll:1:1000 recv:0
if rc_is 0 && out_has "workloads " && out_has "error: no workload 'bob' that deploy_guest may message" &&
  out_has 'event crypto deploy_guest 0 128 {"event":"key-created","workload":"deploy_guest","algorithm":"aes256-gcm"}' &&
  out_has "none"; then
  ok "run alone: nobody to message, and its own events heard"
else not_ok "run as a deployment of one" "$(last_diag)"; fi
runh run --state-dir "$STATE" --channel 0 "$G" list
check "run --channel refuses an fd that is not a socket" rc_is 2
runh run --state-dir "$STATE" --channel 9 "$G" list </dev/null
check "run --channel refuses a closed fd" rc_is 2

# wait_for FILE TEXT : up to 30 s for TEXT to appear in FILE
wait_for() {
  local i
  for ((i = 0; i < 300; i++)); do
    grep -qF -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
# serve_bg NAME : starts the deployment in the background (pid in SERVE_PID)
serve_bg() {
  "$EHAL" serve --state-dir "$STATE" --log-dir "$LOGS/$1" "$TMP/$1.json" >"$TMP/out" 2>"$TMP/err" </dev/null &
  SERVE_PID=$!
}
# serve_wait : waits for it (at most 60 s), RC its status
serve_wait() {
  local i
  for ((i = 0; i < 600; i++)); do
    kill -0 "$SERVE_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$SERVE_PID" 2>/dev/null; then
    kill -9 "$SERVE_PID"
    RC=timeout
  else
    wait "$SERVE_PID"
    RC=$?
  fi
}

# ---- faults stay in their workload: a trap, a loop, kill -9; restarts ----
manifest faults "{\"name\": \"faults\", \"workloads\": [
  $(wl watcher '["sub:platform", "poll:1000:9000"]' '"policy": {"events-from": ["*"]}'),
  $(wl crasher '["sleep:300", "trap"]' '"restart": "on-failure", "max-restarts": 2'),
  $(wl looper '["loop"]'),
  $(wl alice '["send:bob:one", "recv:9000", "sleep:3000", "send:bob:two", "recv:9000"]' '"policy": {"message": ["bob"]}'),
  $(wl bob '["echo:2:9000"]' '"policy": {"message": ["alice"]}')]}"
serve_bg faults
wait_for "$LOGS/faults/looper.log" looping
"$EHAL" status --state-dir "$STATE" faults >"$TMP/status" 2>&1
srv=$?
"$EHAL" status --state-dir "$STATE" --json >"$TMP/status.json" 2>&1
lpid=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print([w["pid"] for w in d["workloads"] if w["name"]=="looper"][0])' "$TMP/status.json" 2>/dev/null)
if ((srv == 0)) && grep -qE '^looper +running +[0-9]+ +1 ' "$TMP/status" && [[ $lpid -gt 0 ]]; then
  ok "status shows the running deployment (table, and JSON when only one runs)"
else not_ok "status of a running deployment" "$(cat "$TMP/status" "$TMP/status.json")"; fi
kill -9 "$lpid" 2>/dev/null
serve_wait
if log_line faults alice "msg bob alice 0 8 echo:one" && log_line faults alice "msg bob alice 0 8 echo:two"; then
  ok "alice and bob keep exchanging while others trap, loop and are killed"
else not_ok "fault isolation" "$(diag_logs faults)"; fi
if rc_is 1 && err_has_re "crasher +3 +2  trapped" && err_has_re "looper +1 +0  killed by signal 9" &&
  err_has_re "alice +1 +0  exited 0"; then
  ok "on-failure restarts a trapping workload up to its limit; serve exits 1 with the summary"
else not_ok "restart policy and summary" "$(last_diag)"; fi
if log_has faults watcher '{"event":"workload-trapped","workload":"crasher","run":1}' &&
  log_has faults watcher '{"event":"workload-restarted","workload":"crasher","restarts":2}' &&
  log_has faults watcher '{"event":"workload-started","workload":"crasher","run":3,' &&
  log_has faults watcher '{"event":"workload-stopped","workload":"looper","run":1,"status":137}'; then
  ok "platform events say who started, trapped, stopped and restarted"
else not_ok "lifecycle events" "$(diag_logs faults)"; fi
runh status --state-dir "$STATE" faults
check "status of a deployment that ended: exit 1, says it is not running" \
  eval 'rc_is 1 && err_has "deployment '"'"'faults'"'"' is not running"'

# ---- SIGTERM: workloads hear it, get the grace period, then are killed ----
manifest stop "{\"name\": \"stop\", \"stop-timeout\": 2, \"workloads\": [
  $(wl looper '["loop"]'),
  $(wl waiter '["sub:platform", "poll:1:30000"]')]}"
serve_bg stop
wait_for "$LOGS/stop/looper.log" looping && wait_for "$LOGS/stop/waiter.log" "sub "
start=$(date +%s%N)
kill -TERM "$SERVE_PID"
serve_wait
took=$((($(date +%s%N) - start) / 1000000))
if rc_is 0 && log_has stop waiter '"event":"deployment-stopping","workload":"waiter","grace-ms":2000' &&
  err_has_re "waiter +1 +0  exited 0" && err_has_re "looper +1 +0  stopped" && ((took >= 1500 && took < 10000)); then
  ok "SIGTERM: a workload that listens ends itself; one that does not is killed after the grace (${took} ms)"
else not_ok "graceful stop (${took} ms)" "$(diag_logs stop)"; fi

# ---- manifests with every kind of error: all reported, nothing started ----
manifest bad "{\"name\": \"bad\", \"typo\": 1, \"workloads\": [
  {\"name\": \"Bad Name\", \"module\": \"$G\"},
  {\"name\": \"a\", \"module\": \"missing.wasm\", \"world\": \"no-such-world\", \"restart\": \"always\",
   \"limits\": {\"memory-mib\": 0, \"timeout\": -1, \"bogus\": 1},
   \"policy\": {\"message\": [\"ghost\"], \"events-from\": [\"phantom\"], \"allow-connect\": [\"nonsense\"]},
   \"env\": {\"A=B\": \"x\"}, \"args\": [1]},
  {\"name\": \"a\", \"module\": \"$G\"},
  {\"module\": \"$G\"}]}"
serve bad
errs=(
  "bad.json: typo: unknown key"
  "bad.json: workload #1: name: 'Bad Name' is not a workload name"
  "bad.json: workload a: module: missing.wasm: No such file or directory"
  "bad.json: workload a: world: unknown world 'no-such-world'"
  "bad.json: workload a: restart: must be \"never\" or \"on-failure\", not 'always'"
  "bad.json: workload a: memory-mib: must be a whole number from 1 to 4096"
  "bad.json: workload a: timeout: must be a number of seconds"
  "bad.json: workload a: limits.bogus: unknown key"
  "bad.json: workload a: policy.message: no workload named 'ghost' in this deployment"
  "bad.json: workload a: policy.events-from: no workload named 'phantom' in this deployment"
  "bad.json: workload a: policy: "
  "bad.json: workload a: env: 'A=B' must be a name without '='"
  "bad.json: workload a: args: item 0 must be a string"
  "bad.json: workload a: name: used by two workloads"
  "bad.json: workload #4: name: missing"
)
missing=()
for e in "${errs[@]}"; do err_has "$e" || missing+=("$e"); done
if rc_is 1 && ((${#missing[@]} == 0)) && err_has "nothing started" && [[ ! -e $LOGS/bad ]]; then
  ok "a manifest with every kind of error: each reported with file, workload and key; nothing starts"
else not_ok "manifest errors" "missing: ${missing[*]}" "$(last_diag)"; fi
printf '{"workloads": [\n  {"name": "a",\n   "module": "x.wasm"\n  ]\n}\n' >"$TMP/syntax.json"
runh serve --state-dir "$STATE" "$TMP/syntax.json"
check "a manifest that is not JSON: the line is named" eval 'rc_is 1 && err_has_re "syntax.json: line [45]: not valid JSON"'
manifest linkfail "{\"workloads\": [$(wl solo '[]' '"world": "elastic-tee-minimal"')]}"
serve linkfail
check "a module whose imports do not resolve in its world is refused before anything starts" \
  eval 'rc_is 1 && err_has "linkfail.json: workload solo: module: unresolved import elastic:communication/communication@0.1.1#" && [[ ! -e $LOGS/linkfail ]]'
runh serve --state-dir "$STATE" --check "$TMP/pair.json"
check "serve --check: the manifest and its modules pass, nothing runs" \
  eval 'rc_is 0 && out_has "3 workloads, every module links in its world"'
runh serve --state-dir "$STATE"
check "serve without a manifest is a usage error" rc_is 2

# ---- the example deployment (make deploy-demo) ----
runh serve --state-dir "$STATE" --log-dir "$LOGS/example" "$GUESTS/deploy.json"
if rc_is 0 && log_has example store "store: 4 summaries, read back from encrypted storage:" &&
  [[ $(grep -c "sealed in transit: yes" "$LOGS/example/store.log") == 4 ]] &&
  log_has example sensor "sensor: 20 readings published"; then
  ok "the example deployment: sensor events, aggregator summaries, sealed messages, stored"
else not_ok "examples/deploy" "$(diag_logs example)"; fi

# ---- the audit log: chained, authenticated, checked by audit verify ----
AUD=$STATE/audit
serve pair # a second run of the deployment continues its chain
runh audit verify --state-dir "$STATE" "$AUD/pair.log"
n_pair=$(wc -l <"$AUD/pair.log")
if rc_is 0 && out_has "$n_pair records of deployment 'pair', every mac and link verifies" && ((n_pair >= 14)) &&
  grep -q '"workload":"alice","event":"message-refused","detail":{"recipient":"carol"}' "$AUD/pair.log" &&
  grep -q '"workload":"bob","event":"workload-stopped","detail":{"run":1,"status":0}' "$AUD/pair.log" &&
  grep -q '"workload":"keeper","event":"key-created","detail":{"algorithm":"aes256-gcm"}' "$AUD/hal.log" &&
  grep -q '"workload":"keeper","event":"attestation-produced"' "$AUD/hal.log" &&
  grep -q '"workload":"b","event":"resource-granted"' "$AUD/res.log" &&
  grep -q '"workload":"mallory","event":"subscription-refused","detail":{"source":"bob"}' "$AUD/pose.log"; then
  ok "the audit log records starts, exits, refusals, keys, attestation and grants, and verifies across runs"
else not_ok "audit log contents" "$(last_diag)" "$(head -c 2000 "$AUD/pair.log")"; fi
# tamper CASE SED-OR-AWK-PROGRAM... : a changed copy of pair.log, verified
tamper() {
  "${@:2}" "$AUD/pair.log" >"$TMP/t-$1.log"
  runh audit verify --state-dir "$STATE" --deployment pair "$TMP/t-$1.log"
}
tamper edit sed '3s/"run":1/"run":2/'
check "an edited record is caught: its mac" eval 'rc_is 1 && out_has "BROKEN at record 3: its mac does not verify"'
tamper drop sed '4d'
check "a removed record is caught: the chain" eval 'rc_is 1 && out_has "BROKEN at record 4: the chain is broken"'
tamper swap awk 'NR==5{x=$0; next} NR==6{print; print x; next} {print}'
check "reordered records are caught" eval 'rc_is 1 && out_has "BROKEN at record 5: the chain is broken"'
tamper forge awk '{print} NR==2{sub(/"mac":"[0-9a-f]+"/, "\"mac\":\"" sprintf("%064d", 0) "\""); print}'
check "an inserted record without the key is caught" eval 'rc_is 1 && out_has "BROKEN at record 3: its mac does not verify"'
mkdir -m 700 "$TMP/other"
runh audit verify --state-dir "$TMP/other" "$AUD/pair.log"
check "another node's key verifies nothing of it" eval 'rc_is 1 && out_has "BROKEN at record 1: its mac does not verify"'
cp "$AUD/pair.log" "$TMP/noisy.log"
runh audit verify --state-dir "$STATE" "$TMP/noisy.log"
check "another deployment's whole log, under this one's name, does not verify" \
  eval 'rc_is 1 && out_has "BROKEN at record 1: its mac does not verify"'
: >"$TMP/empty.log"
runh audit verify --state-dir "$STATE" --deployment pair "$TMP/empty.log"
check "an empty log does not verify" eval 'rc_is 1 && err_has "holds no record"'
runh audit verify --state-dir "$STATE" "$TMP/missing.log"
check "audit verify of a missing file: exit 1, says so" eval 'rc_is 1 && err_has "missing.log"'
runh audit
check "audit without verify is a usage error" rc_is 2
manifest noisy "{\"name\": \"noisy\", \"workloads\": [$(wl spammer '["refusals:100"]')]}"
serve noisy
runh audit verify --state-dir "$STATE" "$AUD/noisy.log"
if rc_is 0 && log_line noisy spammer "refused 100" &&
  [[ $(grep -c '"event":"message-refused"' "$AUD/noisy.log") == 20 ]] &&
  grep -q '"workload":"spammer","event":"records-suppressed","detail":{"refusals":80,"other":0}' "$AUD/noisy.log" &&
  grep -q '"workload":"spammer","event":"workload-stopped"' "$AUD/noisy.log"; then
  ok "a workload's actions add at most 20 audit records a second; the rest are counted in one"
else not_ok "audit rate limit" "$(last_diag)" "$(cat "$AUD/noisy.log" | cut -c1-150 | tail -5)"; fi
printf '{"seq":99,"partial' >>"$AUD/noisy.log"
serve noisy
if rc_is 1 && err_has "its last record does not verify (it does not end with a whole record): move the file away" &&
  ! grep -q "started" "$TMP/err"; then
  ok "an audit log whose end does not verify: nothing starts until the operator moves it away"
else not_ok "audit log fails closed" "$(last_diag)"; fi

# every workload's log and the supervisor's stderr, clean under the sanitizers
if grep -rlE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$LOGS" "$TMP/err" >"$TMP/san" 2>/dev/null; then
  not_ok "no sanitizer report in any workload's log" "$(cat "$TMP/san")"
else ok "no sanitizer report in any workload's log"; fi

finish
