#!/usr/bin/env bash
# tenace against the retry crates users would otherwise pick, in one run:
# criterion benches (quick mode), the report (its own timing, callgrind
# instruction counts, allocations per call, future sizes), the flash build
# for thumbv7em-none-eabihf and thumbv6m-none-eabi, and the hyper throughput
# bench if it exists. Prints one table (markdown) and writes it to
# $CARGO_TARGET_DIR/tenace-bench.md and, with what the figures mean, to
# bench/README.md, and updates the README's short comparison
# (bench/summary.py).
#
# Usage: bash bench/run.sh [--no-criterion] [--no-callgrind] [--no-flash]
# About 3-5 minutes on 2 cores once dependencies are built.
set -euo pipefail
cd "$(dirname "$0")/.."

criterion=1 callgrind=1 flash=1
for arg in "$@"; do
    case "$arg" in
        --no-criterion) criterion=0 ;;
        --no-callgrind) callgrind=0 ;;
        --no-flash) flash=0 ;;
        *) echo "usage: bash bench/run.sh [--no-criterion] [--no-callgrind] [--no-flash]" >&2; exit 2 ;;
    esac
done

target_dir=${CARGO_TARGET_DIR:-$PWD/target}
export CARGO_TARGET_DIR=$target_dir
start=$(date +%s)
log() { echo "[bench $(($(date +%s) - start)) s] $*" >&2; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

report_args=(--criterion "$target_dir/criterion")

# The contenders are built as a release binary that ships would be: fat LTO
# and one codegen unit, so each crate gets its best cross-crate inlining
# (without it, tower::retry is not compiled away and the figures move with
# how the code happens to be split into units).
lto() {
    CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
        CARGO_PROFILE_BENCH_LTO=fat CARGO_PROFILE_BENCH_CODEGEN_UNITS=1 "$@"
}

if [ "$criterion" = 1 ]; then
    rm -f "$target_dir/criterion-throughput.log"
    log "criterion benches (quick mode)"
    # Results land in $CARGO_TARGET_DIR/criterion; the report reads them.
    lto cargo bench --quiet -p tenace-bench --bench retry -- --quick --noplot >"$target_dir/criterion-retry.log" 2>&1 \
        || { cat "$target_dir/criterion-retry.log" >&2; exit 1; }
    log "hyper throughput bench (quick mode)"
    cargo bench --quiet -p tenace-bench --bench hyper_throughput -- --quick --noplot >"$target_dir/criterion-throughput.log" 2>&1 \
        || log "the hyper throughput bench failed: see $target_dir/criterion-throughput.log"
fi

if [ "$callgrind" = 1 ]; then
    if ! command -v valgrind >/dev/null 2>&1; then
        log "installing valgrind"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends valgrind >/dev/null
    fi
    report_args+=(--callgrind)
fi

if [ "$flash" = 1 ]; then
    log "flash: thumbv7em-none-eabihf and thumbv6m-none-eabi"
    CARGO_TARGET_DIR="$target_dir/flash" python3 bench/flash/measure.py --out "$target_dir/flash.md" >/dev/null
    report_args+=(--flash "$target_dir/flash.md")
fi

log "report"
lto cargo build --quiet --release -p tenace-bench --bin report
{
    echo "Built with lto = \"fat\", codegen-units = 1 (bench/run.sh)."
    echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg); $(rustc --version); $(date -u +%Y-%m-%d)"
    echo
    "$target_dir/release/report" "${report_args[@]}"
    if [ "$criterion" = 1 ] && [ -f "$target_dir/criterion-throughput.log" ]; then
        grep -h 'loopback GET' "$target_dir/criterion-throughput.log" || true
    fi
} | tee "$target_dir/tenace-bench.md"

# bench/README.md: what the figures are, then this run's tables.
{
    cat <<'EOF'
# tenace's benchmarks

Written by `bash bench/run.sh` (the figures below are its last run; the
first lines say when and on what machine). The contenders are the retry
crates a Rust user would otherwise pick: backon, tower::retry and
tokio-retry2 for a retried operation, reqwest with reqwest-retry and a bare
hyper-util client for HTTP.

- **Time** (ns per call) moves with the machine's load; each figure is the
  lowest median of several rounds, and the ratios are taken within one run.
- **Instructions** are counted by callgrind and do not move with the load:
  they are the figures to compare across runs.
- **Future sizes** are `size_of_val` of a call's future on x86_64.
- **Flash** is the text a firmware gains by making one retried call
  (`bench/flash`, built for thumbv7em-none-eabihf and thumbv6m-none-eabi
  with opt-level "s" and LTO).

Run it all (about 5 minutes on 2 cores once the dependencies are built), or
skip parts:

```sh
bash bench/run.sh [--no-criterion] [--no-callgrind] [--no-flash]
```

EOF
    cat "$target_dir/tenace-bench.md"
} > bench/README.md
python3 bench/summary.py "$target_dir/tenace-bench.md" README.md
log "done in $(($(date +%s) - start)) s; tables in $target_dir/tenace-bench.md and bench/README.md"
