#!/usr/bin/env bash
# Runs the networked firmware in qemu against the project's fault server,
# on each target, and checks the server's own counts:
#
#   thumbv7em-none-eabihf  mps2-an386   Cortex-M4F, LAN9118
#   thumbv7m-none-eabi     lm3s6965evb  Cortex-M3, Stellaris MAC, 64 KiB RAM
#
# For each target a fresh fault server (tests/src/bin/fault-server.rs)
# listens on a free port of 127.0.0.1. The firmware reaches it through
# qemu's user network (slirp) with `restrict=on`: the guest can reach
# nothing but one `guestfwd` address, 10.0.2.100:80 (its URL
# `http://10.0.2.100` comes on the semihosting command line; it has no
# DNS). For each connection the firmware opens there, slirp runs
# `fault-server relay 127.0.0.1:PORT`, which connects to the server and
# copies bytes both ways over its standard input and output, a socket
# pair with slirp. A socket pair cannot carry a reset: when the server
# resets a connection the relay ends, and the firmware sees a clean close
# (FIN) at that point in the response. So `reset` before the response
# reaches the firmware as a close before the head (an I/O failure, retried
# for a GET), and `reset-mid-body` as a body short of its Content-Length
# (truncated: an I/O failure after the request was sent, not replayed for
# a POST).

# qemu counts instructions (`-icount shift=4`): the time the firmware's own
# code takes is the same on every run, so the one-tick timing checks do not
# depend on the host's load; while the firmware sleeps (WFI), virtual time
# follows real time, so the server's answers arrive as they would.
#
# What reached the server is checked on the server's side, not taken from
# the firmware: the firmware prints `expect-server METHOD PATH MIN MAX` for
# each call it makes; after the run this script compares those with the
# counts the fault server prints when it stops (`count METHOD PATH N`, the
# requests it received in full), and fails on any request the firmware did
# not announce.
#
# Installs qemu-system-arm and the Rust targets if they are missing. Exits
# non-zero if a build fails, a firmware fails, faults, panics or hangs
# (180 s), does not print `N passed, 0 failed`, or a count is wrong.
#
# Usage: bash examples/firmware-net/run-qemu-net.sh [target...]
set -euo pipefail
cd "$(dirname "$0")"
. ../firmware/tools.sh

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(thumbv7em-none-eabihf thumbv7m-none-eabi)
ensure_qemu
ensure_targets "${targets[@]}"

root=$(cd ../.. && pwd)
host_target_dir=${CARGO_TARGET_DIR:-$root/target}
fw_target_dir=${CARGO_TARGET_DIR:-$PWD/target}

echo "== building the fault server"
(cd "$root" && cargo build --quiet -p tenace-tests --bin fault-server)
server_bin=$host_target_dir/debug/fault-server
# qemu splits -nic options at commas and the guestfwd command at spaces.
case "$server_bin" in
*[,\ ]*)
    echo "FAIL: the fault server's path has a comma or a space: $server_bin"
    exit 1
    ;;
esac

# Requests 0, 1, 2... in the order the firmware's tests make them; past
# the end the server answers `200 ok` (the frame-loss calls).
script=ok=hello                       # success_first_time
script+=,reset,reset,ok=recovered     # reset_before_response_recovers
script+=,retry-after=503:1,ok=served  # retry_after_503_on_opt_in
script+=,hang,ok=late                 # hang_cut_by_attempt_timeout
script+=,reset-mid-body               # post_reset_mid_body_not_replayed
script+=,reset,ok=back                # link_down_during_backoff

work=$(mktemp -d)
server_pid=
cleanup() {
    exec 3>&- 2>/dev/null || true
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Runs one target; prints its failures and returns their number (capped).
run_target() { # target
    local target=$1 machine cpu nic
    case "$target" in
    thumbv7em-none-eabihf) machine=mps2-an386 cpu=cortex-m4 nic=lan9118 ;;
    thumbv7m-none-eabi) machine=lm3s6965evb cpu=cortex-m3 nic=stellaris ;;
    *)
        echo "FAIL: no board for $target"
        return 1
        ;;
    esac
    echo "== $target ($machine, $nic)"
    if ! cargo build --release --quiet --target "$target"; then
        echo "FAIL: $target: build failed"
        return 1
    fi
    local elf=$fw_target_dir/$target/release/tenace-firmware-net
    local out=$work/$target.out counts=$work/$target.server

    # The server serves until its standard input (a FIFO held open here on
    # fd 3) closes, then prints its counts.
    rm -f "$work/ctl"
    mkfifo "$work/ctl"
    "$server_bin" serve "$script" <"$work/ctl" >"$counts" 2>&1 &
    server_pid=$!
    exec 3>"$work/ctl"
    local port=
    for _ in $(seq 1 100); do
        port=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$counts")
        [ -n "$port" ] && break
        sleep 0.1
    done
    if [ -z "$port" ]; then
        cat "$counts"
        echo "FAIL: $target: the fault server did not start"
        return 1
    fi
    echo "fault server on 127.0.0.1:$port, the firmware's http://10.0.2.100 (guestfwd)"

    local rc=0
    timeout 180 qemu-system-arm -cpu "$cpu" -machine "$machine" -nographic -monitor none \
        -serial none -icount shift=4 \
        -semihosting-config "enable=on,target=native,arg=tenace-firmware-net,arg=http://10.0.2.100" \
        -nic "user,model=$nic,restrict=on,guestfwd=tcp:10.0.2.100:80-cmd:$server_bin relay 127.0.0.1:$port" \
        -kernel "$elf" >"$out" 2>&1 || rc=$?
    cat "$out"
    exec 3>&-
    wait "$server_pid" || true
    server_pid=
    echo "-- the fault server's counts"
    cat "$counts"

    local failures=0 summary
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1 || true)
    if [ "$rc" -eq 124 ]; then
        echo "FAIL: $target: the firmware timed out after 180 s"
        failures=$((failures + 1))
    elif [ "$rc" -ne 0 ]; then
        echo "FAIL: $target: the firmware exited with status $rc"
        failures=$((failures + 1))
    fi
    if ! [[ "$summary" =~ ^[1-9][0-9]*\ passed,\ 0\ failed$ ]]; then
        echo "FAIL: $target: no 'N passed, 0 failed' line"
        failures=$((failures + 1))
    fi
    # Each announced call against the server's count; then any request the
    # firmware did not announce.
    local checked=0 method path min max n
    while read -r _ method path min max; do
        n=$(awk -v m="$method" -v p="$path" '$1 == "count" && $2 == m && $3 == p { print $4 }' "$counts")
        n=${n:-0}
        if [ "$n" -ge "$min" ] && [ "$n" -le "$max" ]; then
            echo "ok: server received $method $path $n time(s) (expected $min..$max)"
        else
            echo "FAIL: $target: server received $method $path $n time(s), expected $min..$max"
            failures=$((failures + 1))
        fi
        checked=$((checked + 1))
    done < <(grep -E '^expect-server ' "$out" || true)
    while read -r _ method path n; do
        if ! grep -qE "^expect-server $method $path " "$out"; then
            echo "FAIL: $target: server received $method $path $n time(s), which no test announced"
            failures=$((failures + 1))
        fi
    done < <(grep -E '^count ' "$counts" || true)
    if [ "$checked" -eq 0 ]; then
        echo "FAIL: $target: the firmware announced no call: the counts prove nothing"
        failures=$((failures + 1))
    fi
    if [ "$failures" -eq 0 ]; then
        echo "ok: $target: $summary; $checked server counts checked"
    fi
    return "$((failures > 100 ? 100 : failures))"
}

failed_targets=0
for target in "${targets[@]}"; do
    run_target "$target" || failed_targets=$((failed_targets + 1))
done
if [ "$failed_targets" -ne 0 ]; then
    echo "networked firmware: $failed_targets target(s) failed"
    exit 1
fi
echo "networked firmware: all targets passed"
