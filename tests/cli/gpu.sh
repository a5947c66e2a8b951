#!/usr/bin/env bash
# gpu.sh - elastic:gpu on Vulkan, with Mesa's lavapipe driver selected
# explicitly (a CPU adapter: every machine has one); where a real GPU is the
# first adapter instead, the same tests run on it.  Results are checked in
# the guest against the CPU; hostile handles, ranges, shaders and a shader
# that never ends; GPU memory zeroed between workloads (issue 10).
source "$(dirname "$0")/common.bash"

GPU=$GUESTS/gpu_guest.wasm
S=$TMP/gpu-state
mkdir -m 700 "$S"
LVP=${EHAL_GPU_DRIVER:-/usr/share/vulkan/icd.d/lvp_icd.x86_64.json}
if [[ ! -r $LVP ]]; then
  not_ok "lavapipe's ICD manifest is at $LVP (tools/setup.sh installs mesa-vulkan-drivers)"
  finish
fi
gpu() { runh run --state-dir "$S" --gpu-driver "$LVP" "$@"; }

# ---- adapters ----
runh info --gpu-driver "$LVP"
check "info names the Vulkan adapter in use" eval 'rc_is 0 && out_has "gpu:       llvmpipe"'
runh info --json --gpu-driver "$LVP"
check "info --json lists it with its type" \
  eval 'rc_is 0 && python3 -c "import json,sys; a=json.load(open(sys.argv[1]))[\"gpu_adapters\"]; assert a[0][\"type\"] == \"cpu\"" "$TMP/out"'
runh info --gpu-driver "$LVP"
cp "$TMP/out" "$TMP/out.txt"
check "capabilities: gpu, gpu.vulkan, gpu.spirv, gpu.adapter and the 0.1.1 calls supported" \
  eval 'for c in gpu gpu.vulkan gpu.spirv gpu.adapter gpu.create-bind-group gpu.submit; do grep -qE "^$c +supported" "$TMP/out.txt" || return 1; done'
runh info --gpu-driver /dev/null
check "with no usable driver: gpu.adapter unsupported, gpu still linked, and why" \
  eval 'rc_is 0 && grep -qE "^gpu.adapter +unsupported" "$TMP/out" && out_has "gpu:       none"'

gpu "$GPU" info
check "the guest sees the adapter, its limits and features" \
  eval 'rc_is 0 && out_has "adapters: 1" && out_has "type: cpu" && out_has "limits: invocations"'

# ---- computations checked against the CPU ----
gpu "$GPU" vecadd 100000
check "vector add over 100000 floats with 0.1.0 calls only (dispatch binds in creation order)" \
  eval 'rc_is 0 && out_has "vecadd 100000: ok"'
gpu "$GPU" reduce 1000003
check "reduction of 1000003 integers: bind group, push constants, submit, wait-fence" \
  eval 'rc_is 0 && out_has "reduce 1000003: ok"'
check "a bound buffer and a pipeline with a bind group are not destroyed under it" \
  eval 'out_has "refused: destroy-buffer of a bound buffer" && out_has "refused: destroy-pipeline with a bind group"'
gpu "$GPU" matmul 100
check "100 x 100 matrix product in workgroup-memory tiles (n not a multiple of 16)" \
  eval 'rc_is 0 && out_has "matmul 100: ok"'
gpu "$GPU" scale
check "a uniform buffer beside a storage buffer; kinds swapped refused" \
  eval 'rc_is 0 && out_has "scale: ok" && out_has "refused: bind group with the buffer kinds swapped"'
gpu "$GPU" copy
check "copy-buffer copies a range; past the end, overlapping and across devices refused" \
  eval 'rc_is 0 && out_has "copy: ok" && out_has "refused: copy past the end" && out_has "refused: overlapping copy" && out_has "refused: copy across devices"'
gpu "$GPU" features
check "create-device-with-features enables what the adapter offers; a plain device has none" \
  eval 'rc_is 0 && out_has "features: ok" && out_has "plain device: f16 0 f64 0 int64 0"'

# ---- the guest is hostile ----
gpu "$GPU" hostile
check "hostile calls all refused, none accepted, the host unharmed" \
  eval 'rc_is 0 && out_has "hostile: done" && ! out_has "ACCEPTED" && no_sanitizer'
for what in "forged handle" "handle 0" "vertex buffer" "index buffer" "empty buffer" \
  "write past the end" "offset 2^64-1" "read past the end" "2^64-1 bytes" "device table" \
  "3 bytes" "junk after a SPIR-V header" "using an image" "too few buffers" \
  "2^32-1 workgroups" "65535 x 65535" "misaligned offset" "range past the buffer" "binding 0 twice" \
  "without them" "forged fence" "twice:" "destroyed device" "private array" "byte 1020" \
  "2^30 calls"; do
  check "hostile: refused: $what" eval 'grep -F "refused:" "$TMP/out" | grep -qF -- "$what"'
done
check "hostile: a buffer past the workload's GPU memory is 'limit exceeded'" \
  eval 'out_has "64 MiB buffer number 17: limit exceeded:"'
check "hostile: a grid past --gpu-max-workgroups is 'limit exceeded'" \
  eval 'grep -F "65535 x 65535" "$TMP/out" | grep -qF "limit exceeded: a grid of 4294836225 workgroups"'
check "hostile: SPIR-V that uses images is refused by name" \
  eval 'out_has "images, samplers and other opaque resources are not supported"'
gpu --gpu-max-memory 8 "$GPU" zeros 16384
check "--gpu-max-memory bounds the workload's GPU memory" \
  eval 'rc_is 1 && out_has "limit exceeded: create-buffer" && out_has "--gpu-max-memory"'
gpu --gpu-max-buffers 2 "$GPU" vecadd 64
check "--gpu-max-buffers bounds the workload's buffers" \
  eval 'rc_is 1 && out_has "limit exceeded: create-buffer: at most 2 buffers"'

gpu "$GPU" mutate 400 12345
check "400 corrupted SPIR-V modules: each refused or built, the host unharmed" \
  eval 'rc_is 0 && out_has "mutate: 400 modules" && no_sanitizer'
gpu "$GPU" oob
check "a shader writing and reading far outside its buffer is contained (robust buffer access)" \
  eval 'rc_is 0 && out_has "oob:" && no_sanitizer'

for idx in 100000000 4000000000; do
  gpu "$GPU" oob-local "$idx"
  check "workgroup and private arrays indexed at $idx: clamped, the host unharmed" \
    eval 'rc_is 0 && out_has "oob-local $idx: shared deadbeef private deadbeef" && no_sanitizer'
done
runh run --state-dir "$S" --gpu-driver "$LVP" --world elastic-tee-compute "$GUESTS/gpu_matmul.wasm" 80
check "examples/gpu-matmul on the elastic-tee-compute world: correct" \
  eval 'rc_is 0 && out_has "80 x 80 product: correct"'

start=$(date +%s)
gpu --gpu-timeout 1 "$GPU" spin
end=$(date +%s)
check "a shader that never ends: the dispatch is stopped at --gpu-timeout, the device lost" \
  eval 'out_has "spin: dispatch: timed out (the GPU timeout, --gpu-timeout): the work was stopped and the device is lost"'
check "after it, a new device on the same adapter computes again (vecadd)" \
  eval 'rc_is 0 && out_has "vecadd 1000: ok"'
check "calls on the lost device fail with what to do" \
  eval 'out_has "the device was lost (work ran past the GPU timeout): destroy it and create another"'
check "the host process ends on its own, soon after (in $((end - start)) s)" \
  eval '[[ $RC != timeout && $((end - start)) -lt 30 ]] && no_sanitizer'

start=$(date +%s)
gpu --gpu-timeout 20 "$GPU" spin-exit
end=$(date +%s)
check "a guest that exits with a never-ending shader in flight: its work is stopped at exit" \
  eval 'rc_is 0 && out_has "spin-exit: submitted" && [[ $((end - start)) -lt 10 ]] && no_sanitizer'

gpu --gpu-timeout 1 "$GPU" spin-nowait 2500
check "a never-ending shader no one waits for is stopped at the timeout (the watchdog)" \
  eval 'rc_is 0 && out_has "spin-nowait: wait-fence: timed out (the GPU timeout, --gpu-timeout): the work was stopped" && out_has "vecadd 1000: ok"'

gpu "$GPU" trap
check "a guest trapping with GPU objects live: trap reported, the host cleans up" trapped

# ---- confidentiality: one workload's GPU data never reaches another ----
gpu "$GPU" zeros 16384
check "a fresh buffer reads as zeros, and so does one made after a destroyed one" \
  eval 'rc_is 0 && out_has "fresh buffer: 0 nonzero bytes" && out_has "after destroy and create: 0 nonzero bytes"'

finish
