# Shared by run-qemu-tests.sh and size-report.sh: installs what the
# firmware needs, idempotently. Source it; it defines functions only.

# Runs a command as root (directly if we are root, else through sudo).
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# qemu-system-arm. On Debian 12 it comes from bookworm-backports: the
# release's own package would replace the machine's qemu-utils 10.0 (also
# from backports) with 7.2. Elsewhere, the distribution's package.
ensure_qemu() {
    ensure_qemu_system qemu-system-arm qemu-system-arm
}

# qemu-system-riscv32, from Debian's qemu-system-riscv (bookworm-backports
# on Debian 12, as for ensure_qemu).
ensure_qemu_riscv() {
    ensure_qemu_system qemu-system-riscv32 qemu-system-riscv
}

# Installs Debian package $2 unless command $1 exists.
ensure_qemu_system() { # command package
    local cmd=$1 pkg=$2
    command -v "$cmd" >/dev/null 2>&1 && return 0
    local dir=/etc/apt/sources.list.d
    if ! grep -qs '^VERSION_CODENAME=bookworm' /etc/os-release || [ ! -f "$dir/debian.sources" ]; then
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "$pkg" >/dev/null
        command -v "$cmd" >/dev/null 2>&1
        return
    fi
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list "$dir"; then
        echo "adding bookworm-backports to apt sources" >&2
        # The first stanza of debian.sources (the main archive), for backports.
        awk 'BEGIN { RS = ""; ORS = "\n" } NR == 1 { print; exit }' "$dir/debian.sources" \
            | sed 's/^Suites:.*/Suites: bookworm-backports/' \
            | as_root tee "$dir/backports.sources" >/dev/null
    fi
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -t bookworm-backports "$pkg" >/dev/null
    command -v "$cmd" >/dev/null 2>&1
}

# The firmware's Rust targets.
ensure_targets() {
    rustup target add "$@" >/dev/null 2>&1 || rustup target add "$@"
}

# llvm-size and llvm-nm (Debian's llvm package), as $LLVM_SIZE / $LLVM_NM.
ensure_llvm_tools() {
    LLVM_SIZE=$(command -v llvm-size || command -v llvm-size-19 || command -v llvm-size-16 \
        || command -v llvm-size-14 || true)
    LLVM_NM=$(command -v llvm-nm || command -v llvm-nm-19 || command -v llvm-nm-16 \
        || command -v llvm-nm-14 || true)
    if [ -z "$LLVM_SIZE" ] || [ -z "$LLVM_NM" ]; then
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends llvm >/dev/null
        LLVM_SIZE=$(command -v llvm-size || command -v llvm-size-14)
        LLVM_NM=$(command -v llvm-nm || command -v llvm-nm-14)
    fi
    export LLVM_SIZE LLVM_NM
}
