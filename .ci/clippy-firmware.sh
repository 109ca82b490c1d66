#!/usr/bin/env bash
# rustfmt and clippy for the firmware crate (examples/firmware), which is
# outside the host workspace and so not covered by `cargo fmt --all` or
# `cargo clippy --workspace`. Called by .ci/run's clippy step.
set -euo pipefail
cd "$(dirname "$0")/../examples/firmware"
cargo fmt --check
for target in thumbv7m-none-eabi thumbv6m-none-eabi riscv32imc-unknown-none-elf; do
    cargo clippy --release --all-targets --target "$target" -- -D warnings
    cargo clippy --release --all-targets --target "$target" --no-default-features --features engine -- -D warnings
done
