#!/usr/bin/env bash
# Runs the core's unit and integration tests under Miri (nightly), bounded.
# Proptests run 4 cases each here: Miri checks for undefined behaviour, the
# host run checks the properties.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup component add --toolchain nightly miri rust-src
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tenace-target}-miri"
PROPTEST_CASES=4 MIRIFLAGS="-Zmiri-disable-isolation" \
  timeout 900 cargo +nightly miri test -p tenace --lib --tests
