#!/usr/bin/env bash
# Builds native/core on its own (no Node headers) with its C++ tests and benchmarks, and runs ctest.
# Usage: scripts/native-tests.sh [build-dir] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-native}
shift || true
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$dir" -j 2 >/dev/null
ctest --test-dir "$dir" --output-on-failure
