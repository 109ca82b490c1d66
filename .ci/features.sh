#!/usr/bin/env bash
# Feature matrix: every package builds with each of its features on its own
# and with all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-hack >/dev/null || cargo install cargo-hack --locked --quiet
cargo hack check --workspace --each-feature --no-dev-deps --quiet
cargo check --workspace --all-features --all-targets --quiet
# The closure API's default clock and random source depend on the runtime
# features: every combination a user may pick, tests included.
for features in std tokio embassy-time "embassy-time,std" "tokio,embassy-time"; do
  cargo check -p tenace --all-targets --features "testing,$features" --quiet
done
echo "feature matrix: ok"
