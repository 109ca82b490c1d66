#!/usr/bin/env bash
# Size report: what tenace adds to a firmware. Builds the probe firmware
# (src/probe.rs: one call over the flaky link) with and without the engine
# for each target, prints text/data/bss and the difference, checks that the
# engine build links no soft-float routines, and runs the engine build in
# qemu to print the size of its retry future.
#
# Release profile of this package: opt-level "s", lto, codegen-units 1,
# panic abort.
#
# Usage: bash examples/firmware/size-report.sh
set -euo pipefail
cd "$(dirname "$0")"
. ./tools.sh

targets=(thumbv7em-none-eabihf thumbv6m-none-eabi thumbv7m-none-eabi)
ensure_targets "${targets[@]}"
ensure_llvm_tools
ensure_qemu

target_dir=${CARGO_TARGET_DIR:-target}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Builds one variant of the firmware and keeps a copy of the ELF.
build() { # target name cargo-feature-args...
    local target=$1 name=$2
    shift 2
    cargo build --release --quiet --target "$target" "$@"
    cp "$target_dir/$target/release/tenace-firmware" "$work/$target.$name.elf"
}

# "text data bss" of an ELF (Berkeley format).
sizes() {
    "$LLVM_SIZE" -B "$1" | awk 'NR == 2 { print $1, $2, $3 }'
}

# Soft-float routines from compiler-builtins (AEABI names and libgcc names).
soft_float='__aeabi_([fd](add|sub|mul|div|rsub|cmp[a-z]*|2[a-z0-9]+)|[iu]?[il]2[fd]|[cd]?[cf]cmp[a-z]*|[fd]2[a-z0-9]+)|__(add|sub|mul|div|neg|pow[id]?)[sdt]f[23]|__(eq|ne|lt|le|gt|ge|unord|cmp)[sdt]f2|__(fix|fixuns)[sdt]f[sdt]i|__float(un)?[sdt]i[sdt]f|__(extend|trunc)[sdt]f[sdt]f2'

# Code from compiler-builtins (memcpy, memmove, 64-bit division...) that a
# build links: "address size name" per routine, one line each.
builtins() {
    "$LLVM_NM" -C -S --defined-only --radix=d "$1" \
        | awk 'NF == 4 && $4 ~ /^(compiler_builtins::|__aeabi_|__u?(div|mod|mul)[a-z0-9]*[34]$|__udivmoddi4|mem(cpy|move|set|cmp)$)/ { print $1, $2 + 0, $4 }' \
        | sort -u -k1,1
}

# Bytes of compiler-builtins routines in $1 and not in $2, and their names.
new_builtins() {
    local names
    names=$(comm -23 <(builtins "$1" | awk '{ print $3 }' | sort -u) <(builtins "$2" | awk '{ print $3 }' | sort -u))
    builtins "$1" | awk -v names="$names" '
        BEGIN { n = split(names, list, "\n"); for (i = 1; i <= n; i++) wanted[list[i]] = 1 }
        ($3 in wanted) { total += $2 }
        END { print total + 0 }'
}

printf '%-22s %-8s %8s %6s %6s\n' target build text data bss
status=0
declare -A future
for target in "${targets[@]}"; do
    build "$target" baseline --no-default-features
    build "$target" engine --no-default-features --features engine
    build "$target" tests
    read -r bt bd bb <<<"$(sizes "$work/$target.baseline.elf")"
    read -r et ed eb <<<"$(sizes "$work/$target.engine.elf")"
    read -r tt td tb <<<"$(sizes "$work/$target.tests.elf")"
    printf '%-22s %-8s %8d %6d %6d\n' "$target" baseline "$bt" "$bd" "$bb"
    printf '%-22s %-8s %8d %6d %6d\n' "$target" engine "$et" "$ed" "$eb"
    printf '%-22s %-8s %+8d %+6d %+6d\n' "$target" "tenace" $((et - bt)) $((ed - bd)) $((eb - bb))
    printf '%-22s %-8s %8d %6d %6d\n' "$target" "tests" "$tt" "$td" "$tb"
    if [ "$("$LLVM_NM" "$work/$target.engine.elf" | wc -l)" -lt 50 ]; then
        echo "FAIL: $target: llvm-nm lists almost no symbols; the checks below would prove nothing"
        status=1
    fi
    read -r bytes <<<"$(new_builtins "$work/$target.engine.elf" "$work/$target.baseline.elf")"
    echo "  of the engine's text, $bytes bytes are compiler-builtins routines the baseline did not" \
        "link (memcpy/memmove, 64-bit division), which most firmware already has"
    for variant in engine tests; do
        found=$("$LLVM_NM" --defined-only "$work/$target.$variant.elf" | awk '{ print $NF }' \
            | grep -E "^($soft_float)$" | sort -u | tr '\n' ' ' || true)
        if [ -n "$found" ]; then
            echo "  soft-float routines in the $variant build: $found"
            status=1
        fi
    done
    # The size of the retry future, printed by the engine probe at run time.
    out=$(timeout 60 cargo run --release --quiet --target "$target" --no-default-features \
        --features engine 2>&1) || { echo "$out"; echo "FAIL: $target: the probe failed"; status=1; }
    future[$target]=$(sed -n 's/^retry future: \([0-9]*\) bytes$/\1/p' <<<"$out")
done
echo
for target in "${targets[@]}"; do
    echo "retry future ($target): ${future[$target]:-?} bytes" \
        "(tenace::retry, Policy<ExponentialBackoff>, SeededRng, the probe's transport and clock)"
done
if [ "$status" -eq 0 ]; then
    echo "soft-float check: no soft-float routines in the engine or test builds"
fi
exit "$status"
