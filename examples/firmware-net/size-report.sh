#!/usr/bin/env bash
# What the networked firmware costs, on each target: total flash and RAM
# of the release build (opt-level "s", lto, codegen-units 1, panic abort),
# flash by crate (symbols named after each crate), and the largest statics
# in RAM.
#
# With LTO, code inlined into a caller counts where it lands: most of the
# client's request path is inlined into the test suite's functions, so the
# tenace and tenace-embedded lines are lower bounds. The request future's
# size (the client's per-call RAM, in the suite task's static future) is
# printed by the firmware at run time with the response buffer it uses
# (`request future: N bytes, response buffer: M bytes`).
#
# Usage: bash examples/firmware-net/size-report.sh [target...]
set -euo pipefail
cd "$(dirname "$0")"
. ../firmware/tools.sh

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(thumbv7em-none-eabihf thumbv7m-none-eabi)
ensure_targets "${targets[@]}"
ensure_llvm_tools
fw_target_dir=${CARGO_TARGET_DIR:-$PWD/target}

# "size type name" per defined symbol of $1, legacy-mangled names made
# readable.
symbols() {
    "$LLVM_NM" -C -S --defined-only --radix=d "$1" | awk '
        NF >= 4 {
            name = $4
            for (i = 5; i <= NF; i++) name = name " " $i
            gsub(/\$LT\$/, "<", name); gsub(/\$GT\$/, ">", name); gsub(/\$u20\$/, " ", name)
            gsub(/\$C\$/, ",", name); gsub(/\$u7b\$/, "{", name); gsub(/\$u7d\$/, "}", name)
            gsub(/\.\./, "::", name); gsub(/::h[0-9a-f]+$/, "", name)
            sub(/^_</, "<", name)
            print $2 + 0, $3, name
        }'
}

report() { # target
    local target=$1 board
    case "$target" in
    thumbv7em-none-eabihf) board="mps2-an386, Cortex-M4F, LAN9118" ;;
    thumbv7m-none-eabi) board="lm3s6965evb, Cortex-M3, Stellaris MAC" ;;
    *) board=unknown ;;
    esac
    cargo build --release --quiet --target "$target"
    local elf=$fw_target_dir/$target/release/tenace-firmware-net text data bss
    read -r text data bss <<<"$("$LLVM_SIZE" -B "$elf" | awk 'NR == 2 { print $1, $2, $3 }')"
    if [ "$text" -lt 10000 ]; then
        echo "FAIL: $elf has $text bytes of text: not the firmware"
        return 1
    fi
    echo "networked firmware ($target, $board):" \
        "flash $((text + data)) B (text $text, data $data), RAM $((data + bss)) B (data $data, bss $bss)"
    # Flash by crate: the first `crate::` in each symbol's name.
    echo "  flash by crate (text and rodata symbols):"
    symbols "$elf" | awk '
        $2 ~ /^[tTrR]$/ {
            name = $3
            for (i = 4; i <= NF; i++) name = name " " $i
            crate = "other"
            if (match(name, /[a-z_][a-z0-9_]*::/)) crate = substr(name, RSTART, RLENGTH - 2)
            if (crate == "tenace") group = "tenace (engine)"
            else if (crate == "tenace_embedded") group = "tenace-embedded (adapter)"
            else if (crate ~ /^(reqwless|httparse|nourl|heapless|embedded_io_async|embedded_io)$/) group = "reqwless and its parsers"
            else if (crate ~ /^(embassy_net|smoltcp|managed)$/) group = "embassy-net and smoltcp"
            else if (crate == "tenace_firmware_net") group = "firmware (driver, tests, inlined client code)"
            else group = "core, runtime, executor"
            bytes[group] += $1
            total += $1
        }
        END {
            for (g in bytes) printf "    %7d B  %s\n", bytes[g], g
            printf "    %7d B  total in symbols\n", total
        }' | sort -rn
    echo "  largest statics in RAM:"
    symbols "$elf" | awk '$2 ~ /^[bBdD]$/ && $1 >= 64 {
            name = $3
            for (i = 4; i <= NF; i++) name = name " " $i
            printf "    %7d B  %s\n", $1, name
        }' | sort -rn
}

status=0
for target in "${targets[@]}"; do
    report "$target" || status=1
done
exit "$status"
