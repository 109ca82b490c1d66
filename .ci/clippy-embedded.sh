#!/usr/bin/env bash
# clippy for tenace-embedded as firmware builds it: thumb targets, with defmt
# and TLS (defmt cannot link on the host, so only a cross build checks it).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo clippy -p tenace-embedded --no-deps --target thumbv7em-none-eabihf --features defmt,tls -- -D warnings
RUSTFLAGS="--cfg portable_atomic_unsafe_assume_single_core" \
  cargo clippy -p tenace-embedded --no-deps --target thumbv6m-none-eabi --features defmt -- -D warnings
