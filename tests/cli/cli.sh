#!/usr/bin/env bash
# cli.sh - the elastic-hal command line: help, usage errors, info, compile,
# the compile cache, and what a WASI command sees (args, env, exit status).
source "$(dirname "$0")/common.bash"

# ---- help, version, usage errors ----
# (Under ASan, run's --help and usage-error exits and check's unknown-world
# exit currently fail: LeakSanitizer reports what cmd_run/cmd_check allocated
# before returning early, and turns the status into 1.)
runh --help
check "--help exits 0 and prints usage" eval 'rc_is 0 && out_has "Usage:" && out_has "run" && out_has "compile" && out_has "check" && out_has "info"'
runh --version
check "--version exits 0 and prints the version" eval 'rc_is 0 && grep -qE "^elastic-hal [0-9]+\.[0-9]+\.[0-9]+" "$TMP/out"'
for cmd in run compile check info; do
  runh "$cmd" --help
  check "$cmd --help exits 0 and prints its usage" eval 'rc_is 0 && out_has "Usage:" && out_has "$cmd"'
done
runh
check "no command: exit 2 with usage on stderr" eval 'rc_is 2 && err_has "Usage:"'
runh frobnicate
check "unknown command: exit 2" eval 'rc_is 2 && err_has "frobnicate"'
runh --bogus-option
check "unknown global option: exit 2" rc_is 2
runh run
check "run without GUEST: exit 2" rc_is 2
runh run --state-dir "$TMP/state" --bogus x.wasm
check "run with an unknown option: exit 2" rc_is 2
runh run --state-dir "$TMP/state" --env NOEQUALS x.wasm
check "run --env without '=': exit 2" rc_is 2
runh run --state-dir "$TMP/state" --world no-such-world "$GUESTS/hello.wasm"
check "run with an unknown world: exit 2 naming it" eval 'rc_is 2 && err_has "no-such-world" && out_empty'
runh run --state-dir "$TMP/state" --max-memory lots "$GUESTS/hello.wasm"
check "run --max-memory with a non-number: exit 2" eval 'rc_is 2 && out_empty'
# (fails while --max-sleep-ms is read with a bare strtoul: "soon" becomes 0,
# which the runtime then replaces with its 10 s default)
runh run --state-dir "$TMP/state" --max-sleep-ms soon "$GUESTS/hello.wasm"
check "run --max-sleep-ms with a non-number: exit 2" eval 'rc_is 2 && out_empty'
runh compile
check "compile without arguments: exit 2" rc_is 2
runh compile "$GUESTS/hello.wasm"
check "compile without -o: exit 2" rc_is 2
runh check
check "check without GUEST: exit 2" rc_is 2
runh check --world no-such-world "$GUESTS/hello.wasm"
check "check with an unknown world: exit 2" rc_is 2
runh info --bogus
check "info with an unknown option: exit 2" rc_is 2

# ---- info ----
runh info
cp "$TMP/out" "$TMP/info.txt"
check "info exits 0" rc_is 0
check "info names the simulated platform" eval 'grep -qE "^platform: +simulated" "$TMP/out"'
check "info lists random as supported" eval 'grep -qE "^random +supported" "$TMP/out"'
check "info lists every interface of wit/, implemented or not (sockets)" \
  eval 'grep -qE "^sockets +(un)?supported" "$TMP/out"'
check "info lists no test-only interface (tests/wit/unimplemented.wit)" \
  eval '! grep -q "unimplemented" "$TMP/out"'
runt info
check "info of the test build lists the test-only interface as unsupported" \
  eval 'rc_is 0 && grep -qE "^unimplemented +unsupported" "$TMP/out"'
runh info --json
cp "$TMP/out" "$TMP/info.json"
check "info --json exits 0" rc_is 0
check "info --json is valid JSON" python3 -m json.tool "$TMP/info.json" /dev/null
PYINFO='import json, sys
d = json.load(open(sys.argv[1]))
caps = {c["name"]: c["supported"] for c in d["capabilities"]}
want = {"random": True, "storage": True, "platform.attestation": True,
        "platform.get-platform-info": True, "clock": True, "platform.simulated": True,
        "platform.tdx": False}
bad = [k for k, v in want.items() if caps.get(k) is not v]
assert "sockets" in caps and "unimplemented" not in caps
assert d["platform"] == "simulated", d["platform"]
assert all(isinstance(c["version"], str) and c["version"] for c in d["capabilities"])
assert not bad, bad
assert len(caps) == len(d["capabilities"]), "duplicate capability names"'
check "info --json: platform simulated; random, storage, platform.attestation supported; tdx unsupported; sockets listed" \
  python3 -c "$PYINFO" "$TMP/info.json"

# ---- running, compiling, caching ----
ECHO=$(wat echo)
runh run --state-dir "$STATE" "$ECHO"
cp "$TMP/out" "$TMP/echo1.out"
check "first run of a .wasm exits 0; stderr is no terminal: no progress on it" \
  eval 'rc_is 0 && err_empty'
runh run --progress --state-dir "$TMP/state-progress" "$ECHO"
check "with --progress, a first run reports its compile steps on stderr" \
  eval 'rc_is 0 && grep -qE "^elastic-hal: .*(translat|compil)" "$TMP/err"'
# on a terminal (script(1) gives the run one): one line rewritten in place,
# erased once the module is ready
script -qec "$EHAL run --state-dir $TMP/state-tty $ECHO ttyrun" /dev/null >"$TMP/tty.out" 2>&1
check "on a terminal, the compile's progress shows on one line, erased when done" \
  eval 'grep -q "compiling" "$TMP/tty.out" && grep -q $'"'"'\r\033\[K'"'"' "$TMP/tty.out" &&
    grep -q ttyrun "$TMP/tty.out"'
runh run --state-dir "$STATE" "$ECHO"
check "second run of the same .wasm: cache hit, nothing on stderr" eval 'rc_is 0 && err_empty'
check "second run prints the same output" cmp -s "$TMP/out" "$TMP/echo1.out"
check "the cache lives under --state-dir" eval '[[ -n $(ls -A "$STATE/cache" 2>/dev/null) ]]'

runh compile --state-dir "$STATE" "$ECHO" -o "$TMP/echo.so"
check "compile -o writes an artifact" eval 'rc_is 0 && [[ -s $TMP/echo.so ]]'
runh compile --state-dir "$STATE" "$ECHO" "$GUESTS/hello.wasm" -o "$TMP/deploy"
check "compile of several modules writes one artifact each into the directory -o names" \
  eval 'rc_is 0 && [[ $(ls "$TMP/deploy" | grep -c "\.art$") == 2 && -s $TMP/deploy/hello.art ]]'
runh run --state-dir "$STATE" "$TMP/deploy/hello.art"
check "... and they run without compiling" eval 'rc_is 0 && out_has platform: && err_empty'
runh run --state-dir "$STATE" "$TMP/echo.so" one two
cp "$TMP/out" "$TMP/art.out"
check "run of the artifact exits 0 without compiling" eval 'rc_is 0 && err_empty'
runh run --state-dir "$STATE" "$ECHO" one two
check "artifact and .wasm print the same output (argv[0] aside)" \
  eval 'rc_is 0 && diff <(tail -n +2 "$TMP/art.out") <(tail -n +2 "$TMP/out") >/dev/null && [[ -s $TMP/out ]]'
runh check --state-dir "$STATE" "$TMP/echo.so"
check "check accepts a compiled artifact" rc_is 0
printf 'not wasm' >"$TMP/junk.wasm"
runh compile "$TMP/junk.wasm" -o "$TMP/junk.so"
check "compile of a non-WebAssembly file fails (exit 1)" eval 'rc_is 1 && [[ ! -e $TMP/junk.so ]]'
runh run --state-dir "$STATE" "$TMP/no-such-file.wasm"
check "run of a missing file: exit 1 naming it" eval 'rc_is 1 && err_has "no-such-file.wasm"'
runh check "$TMP/no-such-file.wasm"
check "check of a missing file: exit 1" rc_is 1
runh run --state-dir "$STATE" "$TMP/junk.wasm"
check "run of a file that is neither WebAssembly nor an artifact: exit 1, no signal" \
  eval 'rc_is 1 && [[ -s $TMP/err ]] && out_empty'
: >"$TMP/empty.wasm"
runh run --state-dir "$STATE" "$TMP/empty.wasm"
check "run of an empty file: exit 1, no signal" rc_is 1
printf '\0asm\1\0\0\0\1\377\377\377\377\17' >"$TMP/truncated.wasm"
runh run --state-dir "$STATE" "$TMP/truncated.wasm"
check "run of a malformed .wasm (section length beyond the file): exit 1, no signal" rc_is 1
runh check "$TMP/truncated.wasm"
check "check of a malformed .wasm: exit 1, no signal" rc_is 1
: >"$TMP/plainfile"
runh run --state-dir "$TMP/plainfile/state" "$ECHO"
check "run with a state directory that cannot be created (under a file): exit 1 with a message" \
  eval 'rc_is 1 && [[ -s $TMP/err ]] && out_empty'

# concurrent first runs of one .wasm share the cache safely
rm -rf "$TMP/state2"
for i in 1 2 3 4; do
  python3 -c "$PYRUN" "$TMP/rc.$i" "$EHAL" run --progress --state-dir "$TMP/state2" "$ECHO" 4 >"$TMP/out.$i" 2>"$TMP/err.$i" </dev/null &
done
wait
RC=""
for i in 1 2 3 4; do RC+="$(cat "$TMP/rc.$i") "; done
check "four concurrent first runs of the same .wasm all succeed" \
  eval '[[ $RC == "4 4 4 4 " ]] && cmp -s "$TMP/out.1" "$TMP/out.4" && [[ $(ls "$TMP/state2/cache" | grep -c "\.art$") == 1 ]]'
COMPILES=$(cat "$TMP"/err.[1-4] | grep -c "translating")
check "they compile the module once; the others wait for it ($COMPILES compiles)" \
  eval '((COMPILES == 1))'

# ---- the hello example ----
runh run --state-dir "$STATE" "$GUESTS/hello.wasm"
check "hello example exits 0" rc_is 0
check "hello example prints 'platform:    simulated'" out_has "platform:    simulated"
SOCKETS=no
grep -qE "^sockets +supported" "$TMP/info.txt" && SOCKETS=yes
check "hello example sees random supported and sockets as info reports it ($SOCKETS)" \
  out_has "random: yes, sockets: $SOCKETS"

# ---- what the guest sees ----
runh run --state-dir "$STATE" "$ECHO" alpha "b c" ""
check "args reach the guest (argv[0] is the guest, then the arguments)" \
  eval 'rc_is 0 && [[ $(grep -c "^arg " "$TMP/out") == 4 ]] && grep -qx "arg $ECHO" "$TMP/out" && grep -qx "arg alpha" "$TMP/out" && grep -qx "arg b c" "$TMP/out" && grep -qx "arg " "$TMP/out"'
check "no --env: the guest's environment is empty" eval '! grep -q "^env " "$TMP/out"'
EHAL_TEST_HOST_SECRET=leak HOME=/nonexistent-home runh run --state-dir "$STATE" --env K=V --env EMPTY= -e "X=a=b" "$ECHO"
check "--env K=V is visible to the guest, in order" \
  eval 'rc_is 0 && diff <(grep "^env " "$TMP/out") <(printf "env K=V\nenv EMPTY=\nenv X=a=b\n") >/dev/null'
check "the host's environment is not inherited" eval '! grep -qE "EHAL_TEST_HOST_SECRET|HOME|PATH" "$TMP/out"'
runh run --state-dir "$STATE" "$ECHO" 7
check "proc_exit(7) becomes exit status 7" eval 'rc_is 7 && no_sanitizer'
runh run --state-dir "$STATE" "$ECHO" 0
check "proc_exit(0) becomes exit status 0" rc_is 0
runh run --state-dir "$STATE" "$ECHO" 255
check "proc_exit(255) becomes exit status 255" rc_is 255
runh run --state-dir "$STATE" --workload other-name "$ECHO" 3
check "--workload is accepted" rc_is 3
runh run --state-dir "$STATE" --world elastic-tee-minimal "$ECHO" 5
check "a WASI-only guest runs in every world (minimal)" rc_is 5

finish
