#!/usr/bin/env bash
# Installs what hyrun needs on a fresh Debian machine (run as root) and builds it.
#   scripts/setup.sh          runtime only: node deps + build (and crun/runc for containers)
#   scripts/setup.sh --test   also the toolchains and engines the tests start, and host preparation
set -euo pipefail
cd "$(dirname "$0")/.."

runtime_pkgs=(crun runc)
test_pkgs=(clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 wabt rustc libstd-rust-dev-wasm32 gcc
  podman buildah skopeo containerd docker-registry conmon uidmap fuse-overlayfs iproute2 jq hyperfine
  busybox-static python3 procps containernetworking-plugins libseccomp2 libsqlite3-0 util-linux zstd curl openssl)

pkgs=("${runtime_pkgs[@]}")
# npm (Debian's, with its node) only installs hyrun's dependencies, its own Node.js among them.
command -v npm >/dev/null || pkgs+=(npm)
[[ "${1:-}" == "--test" ]] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci also installs hyrun's own Node.js (the node-linux-<arch> package pinned in package-lock.json):
# the build, the CLI, the executor, the tests and the bench run on it; the system's node only runs npm.
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules ]]; then npm ci --no-audit --no-fund --loglevel=error; fi
case $(uname -m) in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
if ! node_modules/node-linux-$arch/bin/node --version >/dev/null 2>&1; then
  echo "setup: the pinned Node.js (npm package node-linux-$arch) is missing or does not run on this machine" >&2
  exit 1
fi
npm run --silent build

if [[ "${1:-}" == "--test" ]]; then
  # wasmtime, the benchmarks' reference peer: PyPI's `wasmtime` carries its engine. Optional (no
  # test needs it); without it `npm run bench` leaves its column out and says so.
  if ! python3 -c 'import wasmtime' 2>/dev/null; then
    python3 -m pip install --quiet wasmtime 2>/dev/null || python3 -m pip install --quiet --break-system-packages wasmtime 2>/dev/null ||
      echo 'setup: could not install the Python package wasmtime; npm run bench will run without its wasmtime column' >&2
  fi
  bash scripts/prepare-host.sh
fi
