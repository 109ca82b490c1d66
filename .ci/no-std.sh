#!/usr/bin/env bash
# Builds the no_std crates for three microcontroller targets and proves that
# neither std nor alloc is linked. thumbv6m and riscv32imc have no
# compare-and-swap: the final binary picks portable-atomic's backend, here the
# single-core one.
set -euo pipefail
cd "$(dirname "$0")/.."
for target in thumbv6m-none-eabi thumbv7em-none-eabihf riscv32imc-unknown-none-elf; do
  flags=""
  case "$target" in
    thumbv6m-*|riscv32imc-*) flags="--cfg portable_atomic_unsafe_assume_single_core" ;;
  esac
  for features in "" "defmt" "embassy-time" "embassy-time,defmt"; do
    echo "tenace for $target ${features:+with $features}"
    RUSTFLAGS="$flags" cargo build --quiet -p tenace --target "$target" ${features:+--features "$features"}
  done
done
if [ -x transport-embedded/check-no-std.sh ] || [ -f transport-embedded/check-no-std.sh ]; then
  bash transport-embedded/check-no-std.sh
fi
