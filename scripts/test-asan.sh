#!/usr/bin/env bash
# ASan + UBSan: the native core tests (ctest) and the whole vitest suite against a sanitized addon.
# The addon is built by cmake-js into build-asan/ and selected with INTERPROC_NATIVE; the sanitizer
# runtimes must be preloaded into node (shared TOOLCHAIN.md section 7). Both parts run whatever the
# first gives (each prints its own summary line, which .ci/run counts); the exit status is non-zero
# when either failed.
set -uo pipefail
cd "$(dirname "$0")/.."

echo "== native core tests under ASan+UBSan"
# Leak checks on: the core's leaks are ours (a thread's robust-list record was one).
bash scripts/native-tests.sh build-asan-native -DINTERPROC_SANITIZE=address,undefined
native_rc=$?

echo "== vitest against the addon under ASan+UBSan"
vitest_rc=1
if npx cmake-js build -O build-asan --CDINTERPROC_SANITIZE=address,undefined >/dev/null; then
  addon="$PWD/build-asan/Release/interproc.node" # absolute: children run in other folders
  if [ "$(nm -D "$addon" | grep -c __asan_init)" -eq 0 ]; then
    echo "addon is not instrumented"
  elif npx tsc -p .; then
    # detect_leaks=0: node itself and vitest's native bundler report leaks that are not ours.
    # handle_sigbus=0: ASan's own SIGBUS reporter would be the disposition the library finds and
    # passes a foreign SIGBUS on to (test/shm/truncation.test.ts checks that one kills by SIGBUS).
    # allocator_may_return_null=1: a failed allocation returns null, as glibc's malloc does, instead of
    # aborting (bench/faults.cjs frame-memory-limit checks the library's answer to exactly that).
    # Longer watchdogs: an instrumented node starts and runs some 3x slower (a test that starts 20
    # children one after another needs more than the 60 s of vitest.config.mts).
    LD_PRELOAD="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libubsan.so)" \
      ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:handle_sigbus=0:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      INTERPROC_NATIVE="$addon" npx vitest run --testTimeout=240000 --hookTimeout=120000
    vitest_rc=$?
  fi
fi
[ "$native_rc" -eq 0 ] && [ "$vitest_rc" -eq 0 ]
