#!/usr/bin/env bash
# link.sh - import resolution ("elastic-hal check --world W"): the six
# worlds, refusal reasons, one line per problem, semver, both naming
# conventions, and run refusing an unresolved guest before it runs.
source "$(dirname "$0")/common.bash"

# Core signature in the compact form ("ii:i") -> WAT func type.
wat_sig() {
  local params=${1%%:*} results=${1#*:} out="" c i
  for ((i = 0; i < ${#params}; i++)); do
    c=${params:i:1}
    case $c in i) out+=" (param i32)" ;; I) out+=" (param i64)" ;; f) out+=" (param f32)" ;; F) out+=" (param f64)" ;; esac
  done
  for ((i = 0; i < ${#results}; i++)); do
    c=${results:i:1}
    case $c in i) out+=" (result i32)" ;; I) out+=" (result i64)" ;; f) out+=" (result f32)" ;; F) out+=" (result f64)" ;; esac
  done
  echo "$out"
}

# probe NAME "module#field#sig"... : a guest that only imports these.
probe() {
  local name=$1 spec text="(module" m f s rest
  shift
  for spec in "$@"; do
    m=${spec%%#*}
    rest=${spec#*#}
    f=${rest%%#*}
    s=${rest#*#}
    text+=$'\n'"  (import \"$m\" \"$f\" (func$(wat_sig "$s")))"
  done
  text+=$'\n  (memory (export "memory") 1)\n  (func (export "_start")))'
  wat_text "$name" "$text"
}

# check_world WORLD GUEST [runh|runt] : run check, output of both streams in $TMP/out.
check_world() {
  "${3:-runh}" check --world "$1" "$2"
  cat "$TMP/err" >>"$TMP/out"
}
unresolved_lines() { grep -c '^unresolved import ' "$TMP/out"; }

P=elastic:platform/platform@0.1.0
C=elastic:capabilities/capabilities@0.1.0
R=elastic:random/random@0.1.0
K=elastic:clock/clock@0.1.1
S=elastic:storage/storage@0.1.0
N=elastic:sockets/sockets@0.1.0  # a 0.1.0 guest links against 0.1.1 unchanged
N1=elastic:sockets/sockets@0.1.1
# test-only (tests/wit/unimplemented.wit): only the test build of the CLI
# (runt) has it, and no HAL implements it
U=test:unimplemented/unimplemented@0.1.0

# Every implemented function of each implemented interface, with the core
# signature the canonical ABI derives from the WIT (worked out by hand).
IMPL_platform=("$P#get-platform-info#i:")
IMPL_capabilities=("$C#list-capabilities#i:" "$C#has-capability#ii:i")
IMPL_random=("$R#get-random-bytes#ii:" "$R#get-secure-random#ii:" "$R#get-entropy-info#i:" "$R#reseed#iii:")
IMPL_clock=("$K#get-system-time#i:" "$K#get-monotonic-time#i:" "$K#resolution#i:" "$K#sleep#Ii:"
  "$K#get-timezone#i:" "$K#start-timer#i:" "$K#stop-timer#Ii:" "$K#read-timer#Ii:" "$K#destroy-timer#Ii:")
IMPL_storage=("$S#create-container#iii:" "$S#open-container#iii:" "$S#delete-container#Ii:"
  "$S#store-object#Iiiiii:" "$S#retrieve-object#Iiii:" "$S#delete-object#Iiii:" "$S#list-objects#Ii:"
  "$S#get-metadata#Iiii:" "$S#store-object-with-type#Iiiiiiii:" "$S#list-objects-with-metadata#Iiiii:"
  "$S#load-key-context#IIi:" "$S#get-container-version#Ii:")
IMPL_sockets=("$N#create-socket#ii:" "$N#bind#Iiiii:" "$N#connect#Iiiii:" "$N#listen#Iii:"
  "$N#accept#Ii:" "$N#send#Iiii:" "$N#receive#Iii:" "$N#close#Ii:"
  "$N1#poll#iiii:" "$N1#set-timeout#Iii:" "$N1#send-to#Iiiiiii:" "$N1#receive-from#Iii:"
  "$N1#local-address#Ii:" "$N1#peer-address#Ii:" "$N1#require-attested-peer#Iiiiiiiii:"
  "$N1#configure-tls#IiiiiiiIiiiiii:" "$N1#peer-certificate#Ii:" "$N1#alpn-protocol#Ii:")
IMPLEMENTED=(platform capabilities random clock storage sockets)

# world -> its implemented interfaces (from wit/complete.wit)
declare -A WORLD_IFACES=(
  [elastic-tee-hal]="platform capabilities random clock storage sockets"
  [elastic-tee-minimal]="platform capabilities random"
  [elastic-tee-attestation]="platform random"
  [elastic-tee-storage]="platform capabilities storage"
  [elastic-tee-network]="platform capabilities sockets"
  [elastic-tee-compute]="platform capabilities"
)
WORLDS=(elastic-tee-hal elastic-tee-minimal elastic-tee-attestation elastic-tee-storage
  elastic-tee-network elastic-tee-compute)

for w in "${WORLDS[@]}"; do
  specs=("wasi_snapshot_preview1#fd_write#iiii:i")
  for i in ${WORLD_IFACES[$w]}; do
    ref="IMPL_$i[@]"
    specs+=("${!ref}")
  done
  g=$(probe "ok-$w" "${specs[@]}")
  check_world "$w" "$g"
  check "$w: every implemented function of its interfaces (${WORLD_IFACES[$w]}) resolves" \
    eval 'rc_is 0 && [[ $(unresolved_lines) == 0 ]]'
  for i in "${IMPLEMENTED[@]}"; do
    [[ " ${WORLD_IFACES[$w]} " == *" $i "* ]] && continue
    ref="IMPL_$i[0]"
    spec=${!ref}
    g=$(probe "out-$w-$i" "$P#get-platform-info#i:" "$spec")
    check_world "$w" "$g"
    imp=${spec%#*}
    check "$w: $i is refused as not in the world" \
      eval 'rc_is 1 && [[ $(unresolved_lines) == 1 ]] && grep -qxF "unresolved import $imp: not in world $w" "$TMP/out"'
  done
done

# ---- refusal reasons ----
g=$(probe att "$P#attestation#iii:")
for w in elastic-tee-hal elastic-tee-attestation; do
  check_world "$w" "$g"
  check "$w: platform.attestation resolves" eval 'rc_is 0'
done
g=$(probe stor "$S#create-container#iii:")
for w in elastic-tee-hal elastic-tee-storage; do
  check_world "$w" "$g"
  check "$w: storage.create-container resolves" eval 'rc_is 0'
done
check_world elastic-tee-minimal "$g"
check "elastic-tee-minimal: storage.create-container is refused as not in the world" \
  eval 'rc_is 1 && grep -qxF "unresolved import $S#create-container: not in world elastic-tee-minimal" "$TMP/out"'
g=$(probe unimpl "$P#get-platform-info#i:" "$U#list-things#i:" "$U#close#Ii:")
check_world test-unimplemented "$g" runt
check "test-unimplemented (test build): the unimplemented interface's functions are refused as not implemented" \
  eval 'rc_is 1 && [[ $(unresolved_lines) == 2 ]] &&
    grep -q "^unresolved import $U#list-things: .*not implemented" "$TMP/out" &&
    grep -q "^unresolved import $U#close: .*not implemented" "$TMP/out"'
check_world elastic-tee-hal "$g" runt
check "elastic-tee-hal (test build): the unimplemented interface is refused as not in the world" \
  eval 'rc_is 1 && grep -qxF "unresolved import $U#close: not in world elastic-tee-hal" "$TMP/out"'
check_world elastic-tee-hal "$g"
check "elastic-hal (what is installed) knows no test-only interface: unknown interface" \
  eval 'rc_is 1 && grep -q "^unresolved import $U#close: .*unknown interface" "$TMP/out"'
runh check --world test-unimplemented "$g"
check "elastic-hal (what is installed) knows no test-only world" \
  eval 'rc_not0 && err_has "unknown world" && err_has test-unimplemented'

g=$(probe badsig1 "$C#has-capability#i:i")
check_world elastic-tee-hal "$g"
check "a wrong core signature (has-capability as i32->i32) is refused with 'signature'" \
  eval 'rc_is 1 && grep -q "^unresolved import $C#has-capability: .*signature" "$TMP/out"'
g=$(probe badsig2 "$K#sleep#ii:")
check_world elastic-tee-hal "$g"
check "a wrong core signature (sleep taking i32 for u64) is refused with 'signature'" \
  eval 'rc_is 1 && grep -q "^unresolved import $K#sleep: .*signature" "$TMP/out"'
g=$(probe badsig3 "$P#get-platform-info#:i")
check_world elastic-tee-hal "$g"
check "a wrong core signature (flattened result instead of a return pointer) is refused" \
  eval 'rc_is 1 && grep -q "^unresolved import $P#get-platform-info: .*signature" "$TMP/out"'
g=$(probe badsig4 "wasi_snapshot_preview1#fd_write#iii:i")
check_world elastic-tee-hal "$g"
check "a wrong WASI signature is refused with 'signature'" \
  eval 'rc_is 1 && grep -q "^unresolved import wasi_snapshot_preview1#fd_write: .*signature" "$TMP/out"'

g=$(probe unknown-iface "elastic:teleport/teleport@0.1.0#beam#i:")
check_world elastic-tee-hal "$g"
check "an unknown interface is refused" \
  eval 'rc_is 1 && grep -q "^unresolved import elastic:teleport/teleport@0.1.0#beam: .*unknown" "$TMP/out"'
g=$(probe unknown-mod "env#memcpy#iii:i")
check_world elastic-tee-hal "$g"
check "an unknown core module ('env') is refused" \
  eval 'rc_is 1 && grep -q "^unresolved import env#memcpy: " "$TMP/out"'
g=$(probe unknown-fn "$R#get-random-words#ii:")
check_world elastic-tee-hal "$g"
check "an unknown function of a known interface is refused" \
  eval 'rc_is 1 && grep -q "^unresolved import $R#get-random-words: " "$TMP/out"'
g=$(probe unknown-wasi "wasi_snapshot_preview1#fd_frobnicate#i:i")
check_world elastic-tee-hal "$g"
check "an unknown WASI function is refused" \
  eval 'rc_is 1 && grep -q "^unresolved import wasi_snapshot_preview1#fd_frobnicate: " "$TMP/out"'
g=$(probe wasi-only "wasi_snapshot_preview1#fd_write#iiii:i")
runh check --no-wasi "$g"
cat "$TMP/err" >>"$TMP/out"
check "check --no-wasi refuses WASI imports" \
  eval 'rc_is 1 && grep -q "^unresolved import wasi_snapshot_preview1#fd_write: " "$TMP/out"'
g=$(wat_text memimport '(module (import "env" "memory" (memory 1)) (func (export "_start")))')
check_world elastic-tee-hal "$g"
check "a memory import is refused" eval 'rc_is 1 && grep -q "import env#memory: only function imports are supported" "$TMP/out" "$TMP/err"'

g=$(probe several "$P#get-platform-info#i:" "$K#get-system-time#i:" "$P#attestation#iii:" \
  "$C#has-capability#i:i" "$R#get-random-bytes#ii:" "elastic:teleport/teleport@0.1.0#beam#i:")
check_world elastic-tee-minimal "$g"
check "several problems: one line each, naming import and reason (3 lines, exit 1)" \
  eval 'rc_is 1 && [[ $(unresolved_lines) == 3 ]] &&
    grep -qxF "unresolved import $K#get-system-time: not in world elastic-tee-minimal" "$TMP/out" &&
    ! grep -q "attestation" "$TMP/out" &&
    grep -q "^unresolved import $C#has-capability: .*signature" "$TMP/out" &&
    grep -q "^unresolved import elastic:teleport/teleport@0.1.0#beam: .*unknown" "$TMP/out" &&
    ! grep -q "get-platform-info\|get-random-bytes" "$TMP/out"'
check_world elastic-tee-hal "$g"
check "the same guest in elastic-tee-hal: only the 2 other problems remain" \
  eval 'rc_is 1 && [[ $(unresolved_lines) == 2 ]] && ! grep -q "get-system-time" "$TMP/out"'

# ---- semver ----
semver() { # semver EXPECT(0|1) MODULE DESCRIPTION
  local g
  mod=$2
  g=$(probe "semver-$RANDOM$RANDOM" "$mod#resolution#i:")
  check_world elastic-tee-hal "$g"
  if [[ $1 == 0 ]]; then
    check "$3" eval 'rc_is 0 && [[ $(unresolved_lines) == 0 ]]'
  else
    check "$3" eval 'rc_is 1 && [[ $(unresolved_lines) == 1 ]] && grep -qF "unresolved import $mod#resolution: " "$TMP/out"'
  fi
}
semver 0 elastic:clock/clock@0.1.1 "clock@0.1.1 resolves"
semver 0 elastic:clock/clock@0.1.0 "clock@0.1.0 resolves (served by 0.1.1)"
semver 1 elastic:clock/clock@0.1.5 "clock@0.1.5 is refused (newer than the 0.1.1 provided)"
semver 1 elastic:clock/clock@0.1.2 "clock@0.1.2 is refused (newer than the 0.1.1 provided)"
semver 1 elastic:clock/clock@0.2.0 "clock@0.2.0 is refused (incompatible minor in 0.x)"
semver 1 elastic:clock/clock@0.0.9 "clock@0.0.9 is refused (incompatible minor in 0.x)"
semver 1 elastic:clock/clock@1.0.0 "clock@1.0.0 is refused (incompatible major)"
semver 1 elastic:clock/clock@0.1.1-rc.1 "a pre-release version (0.1.1-rc.1) is refused"
# Malformed versions must not be read as a valid one.  (Fails while
# parse_import reads versions with strtoul, which takes "+0.1.1", "-0.1.1"
# and " 0.1.1" as 0.1.1, and stops reading after three components.)
accepted=()
for v in 0.1.1.5 0.1.1. +0.1.1 -0.1.1 " 0.1.1" 0..1 0.1.x; do
  g=$(probe "malformed-$RANDOM$RANDOM" "elastic:clock/clock@$v#resolution#i:")
  check_world elastic-tee-hal "$g"
  rc_is 1 || accepted+=("'$v'")
done
desc="malformed versions (0.1.1.5, 0.1.1., +0.1.1, -0.1.1, ' 0.1.1', 0..1, 0.1.x) are refused"
if ((${#accepted[@]} == 0)); then ok "$desc"; else not_ok "$desc" "resolved anyway: elastic:clock/clock@{${accepted[*]}}"; fi
semver 0 "cm32p2|elastic:clock/clock@0.1" "cm32p2|elastic:clock/clock@0.1 resolves"
semver 1 "cm32p2|elastic:clock/clock@0.2" "cm32p2|elastic:clock/clock@0.2 is refused"
semver 1 "cm32p2|elastic:clock/clock@1" "cm32p2|elastic:clock/clock@1 is refused"
g=$(probe semver-random "$R#get-random-bytes#ii:")
check_world elastic-tee-hal "$g"
check "random@0.1.0 resolves (provider 0.1.0)" rc_is 0
g=$(probe semver-random2 "elastic:random/random@0.1.1#get-random-bytes#ii:")
check_world elastic-tee-hal "$g"
check "random@0.1.1 is refused (newer than the 0.1.0 provided)" \
  eval 'rc_is 1 && grep -q "^unresolved import elastic:random/random@0.1.1#get-random-bytes: " "$TMP/out"'
g=$(probe cm-minimal "cm32p2|elastic:clock/clock@0.1#resolution#i:")
check_world elastic-tee-minimal "$g"
check "cm32p2|elastic:clock/clock@0.1 in elastic-tee-minimal: not in world" \
  eval 'rc_is 1 && grep -q "^unresolved import cm32p2|elastic:clock/clock@0.1#resolution: not in world elastic-tee-minimal" "$TMP/out"'

# ---- cm32p2 naming, for real ----
CM=$(wat cm32p2)
runh check "$CM"
check "the cm32p2 guest resolves" rc_is 0
runh run --state-dir "$STATE" "$CM"
check "the cm32p2 guest runs: cm32p2_initialize called clock through the cm32p2 name, results lowered via cm32p2_realloc" \
  eval 'rc_is 0 && no_sanitizer'

# ---- capabilities report what the guest's world links ----
CAPS=$(wat caps)
caps_case() { # WORLD NAME EXPECTED(0|1) [runt: with the test build]
  EXP=$3
  "${4:-runh}" run --state-dir "$STATE" --world "$1" "$CAPS" "$2"
  check "in $1, has-capability(\"$2\") is $3${4:+ (test build)}" eval 'rc_is $EXP && no_sanitizer'
}
caps_case elastic-tee-hal clock 1
caps_case elastic-tee-hal clock.get-timezone 1
caps_case elastic-tee-hal random 1
caps_case elastic-tee-hal wasi-preview1 1
caps_case elastic-tee-hal wasi-preview1.sealed-directories 0
runh run --state-dir "$STATE" --dir /d "$CAPS" wasi-preview1.sealed-directories
check "with --dir, has-capability(\"wasi-preview1.sealed-directories\") is 1" eval 'rc_is 1 && no_sanitizer'
caps_case elastic-tee-hal storage 1
caps_case elastic-tee-hal unimplemented 0 runt
caps_case elastic-tee-hal platform.attestation 1
caps_case elastic-tee-minimal random 1
caps_case elastic-tee-minimal clock 0
caps_case elastic-tee-minimal clock.resolution 0
caps_case elastic-tee-minimal storage 0
caps_case elastic-tee-storage random 0
caps_case elastic-tee-storage storage 1
caps_case elastic-tee-compute platform.get-platform-info 1
caps_case test-unimplemented platform.get-platform-info 1 runt
caps_case test-unimplemented unimplemented 0 runt
caps_case test-unimplemented unimplemented.close 0 runt
runh run --state-dir "$STATE" "$CAPS" $'\xff\xfe'
check "has-capability of an argv string that is not UTF-8 traps (abi)" eval 'trapped abi'

# ---- instantiation needs an exported memory ----
g=$(wat_text nomem '(module
  (import "elastic:random/random@0.1.0" "get-random-bytes" (func $r (param i32 i32)))
  (memory 1)
  (func (export "_start") (call $r (i32.const 16) (i32.const 0))))')
runh run --state-dir "$STATE" "$g"
check "a guest importing HAL functions but exporting no memory is refused before it runs (exit 1)" \
  eval 'rc_is 1 && err_has "memory" && ! err_has "trap ("'

# ---- run refuses an unresolved guest before anything runs ----
UN=$(wat unresolved)
runh run --state-dir "$STATE" --world elastic-tee-minimal "$UN"
check "run refuses an unresolved guest: non-zero exit, nothing from the guest" \
  eval 'rc_not0 && ! rc_is 134 && out_empty'
check "run names the unresolved import on stderr" \
  err_has "unresolved import $K#get-system-time: not in world elastic-tee-minimal"
runh run --state-dir "$STATE" "$UN"
check "the same guest in elastic-tee-hal runs and prints" \
  eval 'rc_is 0 && [[ $(grep -c "guest ran" "$TMP/out") == 1 ]]'

finish
