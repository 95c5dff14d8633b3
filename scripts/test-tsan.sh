#!/usr/bin/env bash
# ThreadSanitizer: the native core tests (ctest), built with -fsanitize=thread into build-tsan-native.
# TSan checks the threads of one process; what the suites do across processes (forked children on a
# shared mapping) it cannot see. Suppressions, each with its reason: native/test/tsan.supp. A report
# makes the program exit with 66 (a forked case's child too), so ctest fails it.
set -euo pipefail
cd "$(dirname "$0")/.."
export TSAN_OPTIONS="suppressions=$PWD/native/test/tsan.supp second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
bash scripts/native-tests.sh build-tsan-native -DINTERPROC_SANITIZE=thread
