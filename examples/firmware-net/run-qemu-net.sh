#!/usr/bin/env bash
# Runs the networked firmware in qemu's mps2-an386 (Cortex-M4F) against the
# project's fault server, and checks the server's own counts.
#
# The fault server (tests/src/bin/fault-server.rs) listens on a free port of
# 127.0.0.1. The firmware reaches it through qemu's user network (slirp) at
# 10.0.2.2:PORT, which slirp connects to the host's loopback with a real
# TCP socket of its own, so a reset from the server reaches the firmware as
# a reset. (A `restrict=on` network with a `guestfwd=...-cmd:` relay would
# carry every reset as a clean close: the relay talks to slirp over a pipe.)
# The firmware makes no other connection and has no DNS; its URL comes on
# the semihosting command line.
#
# The firmware prints `expect-server METHOD PATH MIN MAX` for each call it
# makes; after the run this script compares those with the server's
# `count METHOD PATH N` lines, and fails on any request the firmware did
# not announce.
#
# Installs qemu-system-arm and the Rust target if they are missing. Exits
# non-zero if a build fails, the firmware fails, faults, panics or hangs
# (180 s), does not print `N passed, 0 failed`, or a count is wrong.
#
# Usage: bash examples/firmware-net/run-qemu-net.sh
set -euo pipefail
cd "$(dirname "$0")"
. ../firmware/tools.sh

target=thumbv7em-none-eabihf
ensure_qemu
ensure_targets "$target"

root=$(cd ../.. && pwd)
host_target_dir=${CARGO_TARGET_DIR:-$root/target}
fw_target_dir=${CARGO_TARGET_DIR:-$PWD/target}

echo "== building the fault server and the firmware"
(cd "$root" && cargo build --quiet -p tenace-tests --bin fault-server)
cargo build --release --quiet --target "$target"
server_bin=$host_target_dir/debug/fault-server
elf=$fw_target_dir/$target/release/tenace-firmware-net

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

# The server serves until its standard input (a FIFO held open here on fd
# 3) closes, then prints its counts.
mkfifo "$work/ctl"
"$server_bin" serve "$script" <"$work/ctl" >"$work/server.out" 2>&1 &
server_pid=$!
exec 3>"$work/ctl"
port=
for _ in $(seq 1 100); do
    port=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/server.out")
    [ -n "$port" ] && break
    sleep 0.1
done
if [ -z "$port" ]; then
    cat "$work/server.out"
    echo "FAIL: the fault server did not start"
    exit 1
fi
echo "== fault server on 127.0.0.1:$port, the firmware's http://10.0.2.2:$port"

rc=0
timeout 180 qemu-system-arm -cpu cortex-m4 -machine mps2-an386 -nographic -monitor none \
    -serial none \
    -semihosting-config "enable=on,target=native,arg=tenace-firmware-net,arg=http://10.0.2.2:$port" \
    -nic user,model=lan9118 \
    -kernel "$elf" >"$work/firmware.out" 2>&1 || rc=$?
cat "$work/firmware.out"

exec 3>&-
wait "$server_pid" || true
server_pid=
echo "== the fault server's counts"
cat "$work/server.out"

failures=0
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$work/firmware.out" | tail -n 1 || true)
if [ "$rc" -eq 124 ]; then
    echo "FAIL: the firmware timed out after 180 s"
    failures=$((failures + 1))
elif [ "$rc" -ne 0 ]; then
    echo "FAIL: the firmware exited with status $rc"
    failures=$((failures + 1))
fi
if ! [[ "$summary" =~ ^[1-9][0-9]*\ passed,\ 0\ failed$ ]]; then
    echo "FAIL: no 'N passed, 0 failed' line"
    failures=$((failures + 1))
fi

# Each announced call against the server's count; then any request the
# firmware did not announce.
checked=0
while read -r _ method path min max; do
    n=$(awk -v m="$method" -v p="$path" '$1 == "count" && $2 == m && $3 == p { print $4 }' "$work/server.out")
    n=${n:-0}
    if [ "$n" -ge "$min" ] && [ "$n" -le "$max" ]; then
        echo "ok: server received $method $path $n time(s) (expected $min..$max)"
    else
        echo "FAIL: server received $method $path $n time(s), expected $min..$max"
        failures=$((failures + 1))
    fi
    checked=$((checked + 1))
done < <(grep -E '^expect-server ' "$work/firmware.out" || true)
while read -r _ method path n; do
    if ! grep -qE "^expect-server $method $path " "$work/firmware.out"; then
        echo "FAIL: server received $method $path $n time(s), which no test announced"
        failures=$((failures + 1))
    fi
done < <(grep -E '^count ' "$work/server.out" || true)
if [ "$checked" -eq 0 ]; then
    echo "FAIL: the firmware announced no call: the counts prove nothing"
    failures=$((failures + 1))
fi

if [ "$failures" -ne 0 ]; then
    echo "networked firmware: $failures failure(s)"
    exit 1
fi
echo "networked firmware ($target): $summary; $checked server counts checked"
