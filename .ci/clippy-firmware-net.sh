#!/usr/bin/env bash
# rustfmt and clippy for the networked firmware (examples/firmware-net),
# which is outside the host workspace and so not covered by `cargo fmt
# --all` or `cargo clippy --workspace`. Called by .ci/run's clippy step.
set -euo pipefail
cd "$(dirname "$0")/../examples/firmware-net"
cargo fmt --check
for target in thumbv7em-none-eabihf thumbv7m-none-eabi; do
    cargo clippy --release --all-targets --target "$target" -- -D warnings
done
