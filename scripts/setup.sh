#!/usr/bin/env bash
# Installs what caf-raft needs on Debian 12 (only what is missing) and builds
# it into ./build. Idempotent and quiet when everything is present.
#
# Environment:
#   RAFT_WERROR=ON|OFF      warnings as errors (default OFF; CI sets ON)
#   RAFT_BUILD_TYPE=...     CMake build type (default RelWithDebInfo)
#   RAFT_JOBS=N             parallel build jobs (default: number of CPUs)
#   RAFT_VERBOSE=1          show the configure and build output
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$here/build"
packages=(cmake g++ make libcaf-dev libboost-serialization-dev catch2)

say() { printf 'setup: %s\n' "$*"; }

# -- packages -------------------------------------------------------------------
is_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=()
for p in "${packages[@]}"; do
  is_installed "$p" || missing+=("$p")
done

if ((${#missing[@]} > 0)); then
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    say "missing packages: ${missing[*]}; run this script as root (or install sudo)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package lists only when one of the packages has no install
  # candidate (e.g. a fresh container with empty /var/lib/apt/lists).
  need_update=0
  for p in "${missing[@]}"; do
    candidate="$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')"
    if [ -z "$candidate" ] || [ "$candidate" = "(none)" ]; then
      need_update=1
      break
    fi
  done
  if ((need_update)); then
    say "apt-get update"
    "${sudo[@]}" apt-get update -qq
  fi
  say "installing ${missing[*]}"
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# -- configure and build ---------------------------------------------------------
build_type="${RAFT_BUILD_TYPE:-RelWithDebInfo}"
werror="${RAFT_WERROR:-OFF}"
jobs="${RAFT_JOBS:-$(nproc 2>/dev/null || echo 2)}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

run_logged() {
  if [ "${RAFT_VERBOSE:-0}" = 1 ]; then
    "$@"
  elif ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    say "failed: $*" >&2
    exit 1
  fi
}

if [ ! -f "$build/CMakeCache.txt" ]; then
  say "building into $build ($build_type, RAFT_WERROR=$werror, $jobs jobs)"
fi
run_logged cmake -S "$here" -B "$build" \
  -DCMAKE_BUILD_TYPE="$build_type" -DRAFT_WERROR="$werror"
run_logged cmake --build "$build" --parallel "$jobs"
