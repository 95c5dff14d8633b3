#!/usr/bin/env bash
# ASan + UBSan: the native core tests (ctest) and the whole vitest suite against a sanitized addon.
# The addon is built by cmake-js into build-asan/ and selected with INTERPROC_NATIVE; the sanitizer
# runtimes must be preloaded into node (shared TOOLCHAIN.md section 7).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== native core tests under ASan+UBSan"
bash scripts/native-tests.sh build-asan-native -DINTERPROC_SANITIZE=address,undefined

echo "== addon under ASan+UBSan"
npx cmake-js build -O build-asan --CDINTERPROC_SANITIZE=address,undefined >/dev/null
addon="$PWD/build-asan/Release/interproc.node"  # absolute: children run in other folders
[ "$(nm -D "$addon" | grep -c __asan_init)" -gt 0 ] || { echo "addon is not instrumented"; exit 1; }
npx tsc -p .
# Leak checks are off: node itself and vitest's native bundler report leaks that are not ours.
LD_PRELOAD="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libubsan.so)" \
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
INTERPROC_NATIVE="$addon" npx vitest run
