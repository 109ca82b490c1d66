#!/usr/bin/env bash
# tenace and tenace-embedded on microcontrollers.
#
# 1. tenace-embedded builds for thumbv6m-none-eabi, thumbv7em-none-eabihf and
#    riscv32imc-unknown-none-elf, without features, with `defmt`, with `tls`
#    and with both.
# 2. Neither tenace nor tenace-embedded links `std` or `alloc`: nostd-check/
#    is a `#![no_std]` staticlib with its own panic handler, built with
#    panic=abort, whose exported functions instantiate the whole call path.
#    Linking it fails with "duplicate lang item `panic_impl`" if anything
#    links std, and "no global memory allocator found" if anything links
#    alloc. It is built core-only and with tenace-embedded, with and without
#    defmt, for the three targets.
# 3. Negative controls: the same check with `extern crate alloc` / `extern
#    crate std` added must fail with those messages, so a passing check means
#    something.
#
# thumbv6m and riscv32imc have no compare-and-swap: the binary picks
# portable-atomic's backend; here the single-core one (a cfg for the library
# builds, a feature in nostd-check).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
probe="$here/nostd-check/Cargo.toml"

for target in thumbv6m-none-eabi thumbv7em-none-eabihf riscv32imc-unknown-none-elf; do
  flags=""
  case "$target" in
    thumbv6m-*|riscv32imc-*) flags="--cfg portable_atomic_unsafe_assume_single_core" ;;
  esac
  for features in "" "defmt" "tls" "tls,defmt"; do
    echo "tenace-embedded for $target ${features:+with $features}"
    RUSTFLAGS="$flags" cargo build --quiet -p tenace-embedded --target "$target" \
      ${features:+--features "$features"}
  done
  # "" and "defmt": the core alone.
  for features in "" "defmt" "embedded" "embedded,defmt" "embedded,tls,defmt"; do
    echo "no std, no alloc: $target [${features:-core}]"
    cargo build --quiet --manifest-path "$probe" --target "$target" \
      --no-default-features ${features:+--features "$features"}
  done
done

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
expect_failure() { # message, cargo args...
  local message="$1"
  shift
  if cargo build --quiet --manifest-path "$probe" "$@" >"$log" 2>&1; then
    echo "negative control passed but must fail: $*" >&2
    exit 1
  fi
  if ! grep -q "$message" "$log"; then
    echo "negative control failed without \"$message\": $*" >&2
    cat "$log" >&2
    exit 1
  fi
  echo "negative control: \"$message\" as expected"
}
expect_failure "no global memory allocator found" --target thumbv7em-none-eabihf --features canary-alloc
# std exists on the host only: the probe itself builds there, and fails once
# std is linked.
cargo build --quiet --manifest-path "$probe"
expect_failure "duplicate lang item" --features canary-std
echo "no std, no alloc: ok"
