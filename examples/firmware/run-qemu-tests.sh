#!/usr/bin/env bash
# Runs tenace's firmware test suite in qemu on a Cortex-M3 (lm3s6965evb,
# thumbv7m-none-eabi), a Cortex-M0 (BBC micro:bit, thumbv6m-none-eabi) and
# a RISC-V core (qemu's virt machine, riscv32imc-unknown-none-elf).
# Installs qemu-system-arm, qemu-system-riscv32 and the Rust targets if they
# are missing.
# Exits non-zero if a build fails, a run fails, faults, panics or hangs
# (120 s), or does not print `N passed, 0 failed`.
#
# Usage: bash examples/firmware/run-qemu-tests.sh [target...]
set -euo pipefail
cd "$(dirname "$0")"
. ./tools.sh

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(thumbv7m-none-eabi thumbv6m-none-eabi riscv32imc-unknown-none-elf)

for target in "${targets[@]}"; do
    case "$target" in
    riscv32*) ensure_qemu_riscv ;;
    *) ensure_qemu ;;
    esac
done
ensure_targets "${targets[@]}"

failures=0
for target in "${targets[@]}"; do
    echo "== $target"
    if ! cargo build --release --target "$target"; then
        echo "FAIL: $target: build failed"
        failures=$((failures + 1))
        continue
    fi
    out=$(mktemp)
    rc=0
    timeout 120 cargo run --release --quiet --target "$target" >"$out" 2>&1 || rc=$?
    cat "$out"
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1 || true)
    rm -f "$out"
    if [ "$rc" -eq 124 ]; then
        echo "FAIL: $target: timed out after 120 s"
        failures=$((failures + 1))
    elif [ "$rc" -ne 0 ]; then
        echo "FAIL: $target: exit status $rc"
        failures=$((failures + 1))
    elif ! [[ "$summary" =~ ^[1-9][0-9]*\ passed,\ 0\ failed$ ]]; then
        echo "FAIL: $target: no 'N passed, 0 failed' line"
        failures=$((failures + 1))
    else
        echo "ok: $target: $summary"
    fi
done

if [ "$failures" -ne 0 ]; then
    echo "firmware tests: $failures target(s) failed"
    exit 1
fi
echo "firmware tests: all targets passed"
