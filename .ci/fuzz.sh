#!/usr/bin/env bash
# Fuzzes every parser that reads what a server sends, and strategy
# construction from arbitrary numbers, for FUZZ_SECONDS each (CI: seconds;
# by hand: FUZZ_SECONDS=600 bash .ci/fuzz.sh). Prints executions per target;
# a crash fails the run and leaves its input in core/fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../core/fuzz"
seconds="${FUZZ_SECONDS:-15}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --quiet
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tenace-target}-fuzz"
cargo +nightly fuzz build -O
total=0
for target in retry_after http_date delay_hint strategy; do
  log=$(mktemp)
  cargo +nightly fuzz run -O "$target" -- -max_total_time="$seconds" -dict=dicts/http.dict 2>"$log" || {
    tail -30 "$log"; echo "fuzz target $target FAILED"; exit 1; }
  runs=$(grep -oE '^Done [0-9]+ runs' "$log" | grep -oE '[0-9]+')
  echo "fuzz $target: $runs executions in ${seconds}s, 0 crashes"
  total=$((total + runs))
  rm -f "$log"
done
echo "fuzz total: $total executions, 0 crashes"
