#!/usr/bin/env bash
# Install what building, running and testing elastic-hal needs on Debian
# (bookworm or later).  Idempotent: installs only what is missing.
set -euo pipefail

PKGS=(build-essential cmake python3 pkg-config libssl-dev libjson-c-dev libsqlite3-dev wabt clang lld wasi-libc
      libclang-rt-14-dev-wasm32 libclang-rt-14-dev librust-blake3-dev nodejs npm openssl sqlite3 curl
      libvulkan-dev mesa-vulkan-drivers glslang-tools spirv-tools)
# The tests also build guests with the other toolchains (docs/writing-guests.md):
# C++ (libc++ for wasm32-wasi) and Rust (Debian's rustc and its wasm32 std).
if [[ "${1:-}" == "--tests" ]]; then
  PKGS+=(libc++-14-dev-wasm32 libc++abi-14-dev-wasm32 rustc libstd-rust-dev-wasm32)
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Debian's nodejs may come without npm when node was installed another way.
if [[ " ${missing[*]} " == *" npm "* ]] && command -v npm >/dev/null; then
  missing=("${missing[@]/npm}")
fi
if [[ " ${missing[*]} " == *" nodejs "* ]] && command -v node >/dev/null; then
  missing=("${missing[@]/nodejs}")
fi
read -r -a missing <<<"${missing[*]}"

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=()
  [[ $(id -u) -eq 0 ]] || SUDO=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ "${1:-}" == "--tests" ]]; then
  # The WIT parser and component tools (jco), AssemblyScript and the SQLite
  # amalgamation that better-sqlite3 ships (the sqlite guest builds from its
  # sources), pinned by package-lock.json.  No install scripts: none of them
  # needs one, and better-sqlite3's native addon is never built or loaded.
  if [[ ! -x node_modules/.bin/jco || ! -x node_modules/.bin/asc ||
        ! -f node_modules/better-sqlite3/deps/sqlite3/sqlite3.c ]]; then
    echo "setup: npm ci (jco, AssemblyScript, better-sqlite3's SQLite; pinned by package-lock.json)" >&2
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  fi
fi
