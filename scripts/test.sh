#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build and run every test twice: the CI build (warnings are errors) and the
# AddressSanitizer + UndefinedBehaviorSanitizer build.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

for preset in ci asan; do
  echo "== $preset: configure and build" >&2
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j"$jobs"
  echo "== $preset: test" >&2
  ctest --preset "$preset" -j"$jobs"
done
