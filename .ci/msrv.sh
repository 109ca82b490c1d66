#!/usr/bin/env bash
# Builds the three library crates with the oldest Rust they declare
# (`rust-version` in the workspace Cargo.toml), with no features and with
# every public feature, against the committed Cargo.lock. Its own target
# directory: a second compiler's artefacts would evict the main build's.
set -euo pipefail
cd "$(dirname "$0")/.."
msrv=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
case "$msrv" in *.*.*) ;; *) msrv="$msrv.0" ;; esac
rustup toolchain install "$msrv" --profile minimal
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tenace-target}-msrv"
libs=(-p tenace -p tenace-hyper -p tenace-embedded)
# One crate at a time: built together, the adapters would turn on the
# core's features.
for lib in tenace tenace-hyper tenace-embedded; do
  echo "rust $msrv: $lib with its default features"
  cargo "+$msrv" check --locked --quiet -p "$lib"
done
# Every public feature of each crate; never tenace's `__embassy-mock`.
features=tenace/std,tenace/tokio,tenace/embassy-time,tenace/alloc,tenace/testing,tenace/log,tenace/defmt
features+=,tenace-hyper/json,tenace-hyper/rustls,tenace-hyper/tower
features+=,tenace-embedded/tls,tenace-embedded/defmt
echo "rust $msrv: the libraries with $features"
cargo "+$msrv" check --locked --quiet "${libs[@]}" --features "$features"
echo "msrv $msrv: ok"
